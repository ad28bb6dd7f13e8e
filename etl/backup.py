"""Backups of a whole Buurtbeeld deployment, and restoring one (`buurtbeeld backup`/`restore`, DAG
warehouse_backup).

A backup is one folder `buurtbeeld-<UTC time>` under the setting `backup_dir`:

    manifest.json           created_at, version, dialect, Alembic revision, rows per table, sha256 per file
    warehouse.sqlite        the SQLite warehouse (online backup API), or
    warehouse.pgdump        PostgreSQL, pg_dump --format=custom
    archive/, quarantine/   the file folders (raw exports, their content copies, rejects reports)
    secrets/                the hash and session secret files from the data dir, and an accounts file
                            there: without the hash secret re-loads no longer recognise earlier incidents

The secrets and the raw police exports make a backup as sensitive as the deployment itself: folders are
0700 and files 0600. A backup is written under a `.partial` name and renamed when complete, so a
crashed run never looks like a backup to `restore` or to the pruning.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from buurtbeeld.settings import Settings
from etl.extract import sha256_of
from warehouse import backup as database
from warehouse.backup import BackupError

MANIFEST = "manifest.json"
FORMAT = 1
NAME = re.compile(r"^buurtbeeld-\d{8}T\d{6}Z(-\d+)?$")
SECRET_FILES = ("hash_secret", "session_secret")  # what Settings._secret generates into the data dir
# A .partial folder this old belongs to a run that died; a younger one may still be written.
STALE_PARTIAL = timedelta(days=1)


@dataclass
class Backup:
    path: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())


@dataclass
class Restored:
    """What a restore did, and what the user still has to do (Dutch lines for the CLI)."""

    manifest: dict[str, Any]
    files: int
    notes: list[str] = field(default_factory=list)


# --- making a backup -------------------------------------------------------------------------------


def make_backup(settings: Settings, folder: Path | None = None) -> Backup:
    """Back up warehouse, archive, quarantine and secret files into a new folder under `folder`
    (default: the setting backup_dir); returns it with its manifest."""
    parent = (folder or settings.backup_dir).expanduser().resolve()
    _private_dir(parent)
    now = datetime.now(UTC)
    final = _free_name(parent, f"buurtbeeld-{now:%Y%m%dT%H%M%SZ}")
    work = parent / f".{final.name}.partial"
    _private_dir(work)
    try:
        db_file, found = database.dump(settings.warehouse_url, work)
        db_file.chmod(0o600)
        files = [db_file]
        files += _copy_tree(settings.archive_dir, work / "archive")
        files += _copy_tree(settings.quarantine_dir, work / "quarantine")
        secrets = _secret_files(settings)
        for name, source in secrets.items():
            files.append(_copy_file(source, work / name))
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "version": _version(),
            "dialect": found.dialect,
            "alembic_revision": found.revision,
            "database_file": db_file.name,
            "tables": found.tables,
            # Where each secret file goes back to, relative to the data dir.
            "secrets": {name: str(source.relative_to(settings.data_dir)) for name, source in secrets.items()},
            # A fingerprint (not the key) of the hash secret the warehouse's voorval hashes were made
            # with: a restore can then warn when the new machine is configured with another one.
            "hash_secret_fingerprint": _fingerprint(settings),
            "files": {str(f.relative_to(work)): sha256_of(f) for f in files},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        (work / MANIFEST).chmod(0o600)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Backup(final, manifest)


def prune(settings: Settings, now: datetime | None = None) -> list[Path]:
    """Delete complete backups in backup_dir beyond the newest `backup_keep`, and partial ones left by
    a run that died; returns what was deleted."""
    done = backups(settings)
    gone = done[: max(len(done) - settings.backup_keep, 0)]
    limit = (now or datetime.now(UTC)) - STALE_PARTIAL
    for p in settings.backup_dir.glob(".buurtbeeld-*.partial"):
        if datetime.fromtimestamp(p.stat().st_mtime, UTC) < limit:
            gone.append(p)
    for path in gone:
        shutil.rmtree(path)
    return gone


def backups(settings: Settings) -> list[Path]:
    """The complete backups in backup_dir, oldest first."""
    parent = settings.backup_dir
    found = parent.iterdir() if parent.is_dir() else []
    return sorted(p for p in found if p.is_dir() and NAME.match(p.name) and (p / MANIFEST).is_file())


# --- restoring -------------------------------------------------------------------------------------


def verify(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in `folder`, after checking every file against its sha256."""
    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise BackupError(f"{folder} is geen Buurtbeeld-backup: {MANIFEST} ontbreekt.")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        files: dict[str, str] = dict(manifest["files"])
        missing = [k for k in ("tables", "database_file", "dialect", "alembic_revision") if k not in manifest]
        if missing:
            raise KeyError(", ".join(missing))
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"De backup {folder} is beschadigd: {MANIFEST} is onleesbaar ({exc}).") from None
    if manifest.get("format", FORMAT) > FORMAT:
        raise BackupError(f"De backup {folder} is gemaakt met een nieuwere Buurtbeeld ({manifest.get('version')}).")
    for name, expected in sorted(files.items()):
        path = folder / name
        if not _inside(path, folder):
            raise BackupError(f"De backup {folder} is beschadigd: {name} ligt buiten de backup.")
        if not path.is_file():
            raise BackupError(f"De backup {folder} is onvolledig: {name} ontbreekt. Er is niets gewijzigd.")
        if sha256_of(path) != expected:
            raise BackupError(
                f"De backup {folder} is beschadigd: {name} heeft niet de controlesom uit {MANIFEST}. "
                "Er is niets gewijzigd; neem een andere backup."
            )
    if not {manifest["database_file"], *manifest.get("secrets", {})} <= set(files):
        raise BackupError(f"De backup {folder} is beschadigd: niet elk bestand staat met controlesom in {MANIFEST}.")
    return manifest


def restore(settings: Settings, source: Path, overwrite: bool = False) -> Restored:
    """Put the backup at `source` (folder or .tar of one) back: verified first, then the warehouse, the
    folders and the secret files, then checked against the manifest."""
    with _unpacked(source) as folder:
        manifest = verify(folder)
        url = settings.warehouse_url
        if manifest["dialect"] != database.dialect(url):
            raise BackupError(
                f"Deze backup is van een {manifest['dialect']}-warehouse; BUURTBEELD_WAREHOUSE_URL wijst naar "
                f"{database.dialect(url)}. Er is niets gewijzigd."
            )
        present = database.state(url)
        if present.data_rows and not overwrite:
            raise BackupError(
                f"Het warehouse bevat al gegevens ({present.data_rows} rijen). Terugzetten vervangt ze door de "
                "backup: gebruik --ja als dat de bedoeling is. Er is niets gewijzigd."
            )
        restored = database.restore(url, folder / manifest["database_file"])
        count = 0
        for name in manifest["files"]:
            top, _, rest = name.partition("/")
            target = {"archive": settings.archive_dir, "quarantine": settings.quarantine_dir}.get(top)
            if target is not None and rest:
                if not _inside(target / rest, target):
                    raise BackupError(f"De backup {folder} is beschadigd: {name} ligt buiten {top}/.")
                # Merged into what is there: files that came later stay (retention removes old ones).
                _copy_file(folder / name, target / rest, private=False)
                count += 1
        for name, relative in manifest.get("secrets", {}).items():
            target = settings.data_dir / relative
            if not _inside(target, settings.data_dir):
                raise BackupError(f"De backup noemt een geheim buiten de datamap: {relative}.")
            _copy_file(folder / name, target)
            count += 1
    result = Restored(manifest, count)
    _check(settings, manifest, restored, result)
    return result


def _check(settings: Settings, manifest: dict[str, Any], restored: database.DatabaseState, out: Restored) -> None:
    if restored.revision != manifest["alembic_revision"] or restored.tables != manifest["tables"]:
        differ = sorted(
            t
            for t in set(restored.tables) | set(manifest["tables"])
            if restored.tables.get(t) != manifest["tables"].get(t)
        )
        raise BackupError(
            "Het teruggezette warehouse klopt niet met de backup "
            f"(schema {restored.revision} tegen {manifest['alembic_revision']}; tabellen {', '.join(differ) or '-'}). "
            "Zet de backup opnieuw terug met --ja."
        )
    heads = _code_heads(settings.warehouse_url)
    revision = manifest["alembic_revision"]
    if revision is None or set(revision.split(",")) != heads:
        if revision is None:
            out.notes.append("De backup heeft geen schemaversie: voer nu 'buurtbeeld db upgrade' uit.")
        elif set(revision.split(",")) <= _known_revisions(settings.warehouse_url):
            out.notes.append(
                f"De backup heeft een ouder schema ({revision}) dan deze versie: voer nu 'buurtbeeld db upgrade' uit."
            )
        else:
            out.notes.append(
                f"De backup heeft een schema ({revision}) dat deze versie niet kent (gemaakt met Buurtbeeld "
                f"{manifest.get('version')}): gebruik die versie, of een nieuwere, en voer 'buurtbeeld db upgrade' uit."
            )
    expected = manifest.get("hash_secret_fingerprint")
    if expected and _fingerprint(settings) != expected:
        out.notes.append(
            "Let op: de hash-sleutel (BUURTBEELD_HASH_SECRET) is een andere dan bij de backup. Zet de oude "
            "sleutel terug, anders herkennen nieuwe ladingen eerdere incidenten niet."
        )


@contextmanager
def _unpacked(source: Path) -> Iterator[Path]:
    """The backup folder itself, or a .tar of one unpacked into a private temporary folder."""
    if source.is_dir():
        yield source
        return
    if not source.is_file() or not tarfile.is_tarfile(source):
        raise BackupError(f"{source} is geen backup (een map of een .tar van een map met {MANIFEST}).")
    with tempfile.TemporaryDirectory(prefix="buurtbeeld-restore-") as tmp:
        with tarfile.open(source) as tar:
            tar.extractall(tmp, filter="data")  # no paths outside tmp, no devices, no setuid bits
        root = Path(tmp)
        inner = [p for p in root.iterdir() if p.is_dir()]
        yield root if (root / MANIFEST).is_file() else inner[0] if len(inner) == 1 else root


# --- helpers ---------------------------------------------------------------------------------------


def _code_heads(url: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from warehouse.db import alembic_config

    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def _known_revisions(url: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from warehouse.db import alembic_config

    return {s.revision for s in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()}


def _secret_files(settings: Settings) -> dict[str, Path]:
    """Secret files in the data dir that the settings read: name in the backup -> file."""
    found = {f"secrets/{name}": settings.data_dir / name for name in SECRET_FILES}
    if settings.users_file is not None:
        users = settings.users_file.expanduser().resolve()
        if _inside(users, settings.data_dir):
            found[f"secrets/{users.name}"] = users
    return {name: path for name, path in found.items() if path.is_file()}


def _fingerprint(settings: Settings) -> str | None:
    """A one-way fingerprint of the configured hash secret, without generating one."""
    if settings.hash_secret is not None:
        key = settings.hash_secret.get_secret_value().encode()
    elif (settings.data_dir / "hash_secret").is_file():
        key = (settings.data_dir / "hash_secret").read_text().strip().encode()
    else:
        return None
    return hashlib.blake2b(key, digest_size=8, person=b"buurtbeeld-bkp").hexdigest()


def _copy_tree(source: Path, target: Path) -> list[Path]:
    if not source.is_dir():
        return []
    return [_copy_file(path, target / path.relative_to(source)) for path in sorted(source.rglob("*")) if path.is_file()]


def _copy_file(source: Path, target: Path, private: bool = True) -> Path:
    if private:
        _private_dir(target.parent)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    if private:
        target.chmod(0o600)
    return target


def _private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by the owner only."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for p in [path, *missing]:
        p.chmod(0o700)


def _free_name(parent: Path, name: str) -> Path:
    candidate, n = parent / name, 1
    while candidate.exists() or (parent / f".{candidate.name}.partial").exists():
        n += 1
        candidate = parent / f"{name}-{n}"
    return candidate


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _version() -> str:
    try:
        return version("buurtbeeld")
    except PackageNotFoundError:
        return "onbekend"


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


__all__ = ["Backup", "BackupError", "Restored", "backups", "make_backup", "prune", "restore", "size", "verify"]
