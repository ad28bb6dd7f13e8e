"""Dump and restore of the warehouse database itself, for etl.backup (which adds the files around it).

SQLite: the sqlite3 online backup API, so the copy is consistent while the dashboard reads and a load
writes (WAL); a file copy could catch a half-written page or miss what is still in the -wal file.
PostgreSQL: `pg_dump --format=custom`, read from the same snapshot as the row counts and the Alembic
revision written to the manifest, and `pg_restore` into the target database.

Only the warehouse's own tables are dumped: the whole database of the URL, or only the schema named by a
`search_path` option in the URL (as the tests use one schema per test).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.engine import URL, make_url

from warehouse.db import get_engine

SQLITE_FILE = "warehouse.sqlite"
PG_FILE = "warehouse.pgdump"
# A dump of a large warehouse takes minutes, not hours; a hung pg_dump must not block the nightly run.
TOOL_TIMEOUT = 3 * 3600
# Where Debian and Ubuntu put the client tools of each PostgreSQL version (<version>/bin/).
PG_LIB = Path("/usr/lib/postgresql")


class BackupError(Exception):
    """A backup or restore that cannot be done; the (Dutch) text says why and what to do."""


@dataclass
class DatabaseState:
    """What the manifest records of a database: its dialect, schema revision and row count per table."""

    dialect: str
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def data_rows(self) -> int:
        """Rows apart from Alembic's bookkeeping: a migrated but never loaded warehouse has none."""
        return sum(n for name, n in self.tables.items() if name != "alembic_version")


def dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Een SQLite-warehouse in het geheugen kan niet worden geback-upt of teruggezet.")
    return Path(database)


# --- reading the state of a database -----------------------------------------------------------------


def state(url: str) -> DatabaseState:
    """Revision and row counts of the warehouse at `url` (no tables: an empty state)."""
    if dialect(url) == "sqlite" and not sqlite_path(url).exists():
        return DatabaseState("sqlite", None)  # never create the file just by looking
    with get_engine(url).connect() as conn:
        return _state(conn)


def _state(conn: Connection) -> DatabaseState:
    names = sorted(inspect(conn).get_table_names())
    quote = conn.dialect.identifier_preparer.quote
    tables = {name: int(conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()) for name in names}
    revision = None
    if "alembic_version" in names:
        heads = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
        revision = ",".join(heads) or None
    return DatabaseState(conn.dialect.name, revision, tables)


def _sqlite_state(path: Path) -> DatabaseState:
    """The state of a SQLite file outside the engine cache (the backup copy), opened read-only."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = sorted(
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        )
        tables = {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}
        revision = None
        if "alembic_version" in names:
            revision = ",".join(sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))) or None
    finally:
        conn.close()
    return DatabaseState("sqlite", revision, tables)


# --- dump ------------------------------------------------------------------------------------------


def dump(url: str, folder: Path) -> tuple[Path, DatabaseState]:
    """Write the warehouse into `folder`; returns the file and the state of exactly what it holds."""
    if dialect(url) == "sqlite":
        return _dump_sqlite(sqlite_path(url), folder / SQLITE_FILE)
    if dialect(url) == "postgresql":
        return _dump_postgres(url, folder / PG_FILE)
    raise BackupError(f"Backup van een {dialect(url)}-warehouse wordt niet ondersteund (alleen SQLite en PostgreSQL).")


def _dump_sqlite(source: Path, target: Path) -> tuple[Path, DatabaseState]:
    if not source.is_file():
        raise BackupError(f"Er is geen warehouse om te backuppen: {source} bestaat niet.")
    src = sqlite3.connect(source, timeout=300)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # one step: a consistent snapshot; WAL readers and the writer go on meanwhile
        # The copy is one plain file (no -wal beside it), so it can be checksummed and moved as it is.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    return target, _sqlite_state(target)


def _dump_postgres(url: str, target: Path) -> tuple[Path, DatabaseState]:
    tool = find_tool("pg_dump")
    schema = _search_schema(make_url(url))
    engine = get_engine(url)
    # The counts and the dump must describe the same data even while a load commits: the dump reads the
    # snapshot this REPEATABLE READ transaction exports, and the transaction stays open until it is done.
    with _libpq(url) as conninfo, engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        found = _state(conn)
        command = [tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"]
        command += [f"--schema={schema}"] if schema else []
        _run([*command, f"--dbname={conninfo}"], "pg_dump")
        conn.rollback()
    return target, found


# --- restore ---------------------------------------------------------------------------------------


def restore(url: str, database_file: Path) -> DatabaseState:
    """Replace the warehouse at `url` by the dump; returns the state of the restored database."""
    kind = dialect(url)
    if kind == "sqlite":
        get_engine(url).dispose()  # this process's idle pooled connections would block the switch below
        _restore_sqlite(database_file, sqlite_path(url))
    elif kind == "postgresql":
        _restore_postgres(url, database_file)
    else:
        raise BackupError(f"Terugzetten in een {kind}-warehouse wordt niet ondersteund.")
    get_engine(url).dispose()  # pooled connections of this process must not hold on to the old file
    return state(url)


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=300)
    try:
        # The backup API refuses to write into a WAL database of another page size; in rollback mode
        # it takes the source's. Another process that holds the file open keeps it in WAL: then it
        # works as long as the page sizes agree (both made by this code), else the message below.
        with contextlib.suppress(sqlite3.OperationalError):
            dst.execute("PRAGMA journal_mode=DELETE")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(
            f"Het SQLite-warehouse {target} kon niet worden overschreven ({exc}). Stop het dashboard en de "
            "scheduler en probeer het opnieuw."
        ) from exc
    finally:
        dst.close()
        src.close()


def _restore_postgres(url: str, source: Path) -> None:
    tool = find_tool("pg_restore")
    # Tables the dump does not have (a newer schema migrated into the target before the restore) would
    # survive --clean and make the next `db upgrade` fail: the target's tables go first, in one transaction.
    with get_engine(url).begin() as conn:
        existing = MetaData()
        existing.reflect(conn)
        existing.drop_all(conn)
    # --no-owner/--no-privileges: the roles of the old server need not exist on the new one; the
    # restoring user owns everything. One transaction: a restore that fails halfway leaves no half warehouse.
    with _libpq(url) as conninfo:
        _run(
            [
                tool,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={conninfo}",
                str(source),
            ],
            "pg_restore",
        )


# --- the PostgreSQL client tools -------------------------------------------------------------------


def find_tool(name: str) -> str:
    """pg_dump or pg_restore: from PATH, else the newest Debian/Ubuntu install under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        PG_LIB.glob(f"*/bin/{name}"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"{name} is niet gevonden (niet op PATH en niet onder /usr/lib/postgresql). Installeer de "
        "PostgreSQL-clienttools (Debian/Ubuntu: apt-get install postgresql-client), minstens de versie van de server."
    )


@contextmanager
def _libpq(url: str) -> Iterator[str]:
    """The libpq connection URI of a SQLAlchemy URL. The password goes into a private passfile for the
    duration of the call, not onto a command line that `ps` shows to every user of the machine."""
    parsed = make_url(url)
    with tempfile.TemporaryDirectory(prefix="buurtbeeld-pg-") as tmp:
        query = {**parsed.query, "connect_timeout": "10"}  # an unreachable server fails within seconds
        if parsed.password:
            passfile = Path(tmp) / "pgpass"
            secret = str(parsed.password).replace("\\", "\\\\").replace(":", "\\:")
            passfile.write_text(f"*:*:*:*:{secret}\n")
            passfile.chmod(0o600)  # libpq ignores a passfile others can read
            query["passfile"] = str(passfile)
        # URL.create, not parsed.set: set() takes password=None as "unchanged".
        plain = URL.create("postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, query)
        yield plain.render_as_string(hide_password=False)


def _search_schema(url: URL) -> str | None:
    """The first schema of a `-csearch_path=...` option in the URL, if any."""
    options = url.query.get("options", "")
    options = " ".join(options) if isinstance(options, tuple) else options
    match = re.search(r"-c\s*search_path\s*=\s*([^\s,]+)", options)
    return match.group(1).strip('"') if match else None


def _run(command: list[str], name: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{name} was na {TOOL_TIMEOUT // 3600} uur nog niet klaar en is gestopt.") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = " / ".join(lines[-3:]) or f"code {done.returncode}"
        raise BackupError(f"{name} mislukte: {reason}")
