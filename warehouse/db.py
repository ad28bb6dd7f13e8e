"""Engines, transactions and schema migrations for the warehouse (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary constant shared by every loader: one advisory lock serialises all loads on PostgreSQL.
_LOAD_LOCK_KEY = 4_242_017
LOCK_WAIT, STATEMENT_LIMIT = "30min", "1h"


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A concurrent writer waits (up to 5 min) instead of failing: loads queue up.
        engine = create_engine(url, connect_args={"timeout": 300})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            # 16 KB pages (default 4 KB) for a new warehouse; an existing one keeps its own (WAL fixes
            # it). Fewer, fuller B-tree pages: a first 1M-incident load took 66 s instead of 72 s.
            # 64 KB pages gained 3 s more, but every random lookup of the dashboard reads a page.
            cur.execute("PRAGMA page_size=16384")
            cur.execute("PRAGMA journal_mode=WAL")  # readers (dashboard) never block the weekly load
            # 64 MB page cache (default 8 MB): a million-row load updates random-order indexes (the
            # voorval hash), which thrash a small cache; 128 MB was no faster (20.4 s vs 20.2 s to write
            # 1M incidents). Temp tables and sorts spill to a file: in memory they held 150 MB more
            # at the load's peak, for no measurable gain in speed.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=FILE")
            cur.close()

        return engine
    # A database that does not answer fails within seconds instead of hanging a scheduled task.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def is_current(url: str) -> bool:
    """True when the warehouse schema is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with get_engine(url).connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads


def table_names(url: str) -> list[str]:
    return inspect(get_engine(url)).get_table_names()


@contextmanager
def load_transaction(url: str) -> Iterator[Connection]:
    """One transaction for one file's load, serialised against every other load.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the database write lock, taken by a
    no-op write before anything is read, so the second loader waits (busy timeout) and then sees
    what the first committed; a read first would pin an old snapshot that cannot be written from.
    """
    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # A load waits at most LOCK_WAIT for another one (or a lock a crashed client left), and no
            # statement of a load runs longer than STATEMENT_LIMIT: a hung load fails and alerts.
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
            conn.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_LIMIT}'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOAD_LOCK_KEY})
        else:
            conn.execute(text("DELETE FROM load_batch WHERE 0"))
        yield conn
