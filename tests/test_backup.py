"""Backup and restore (etl.backup, warehouse.backup, `buurtbeeld backup`/`restore`): a loaded gemeente goes
into a backup and comes back whole in a new, empty warehouse, on SQLite and on PostgreSQL; a damaged
backup and a non-empty target are refused without changing anything."""

from __future__ import annotations

import tarfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from buurtbeeld.settings import Settings, get_settings
from cli import cli
from etl.backup import MANIFEST, backups, make_backup, prune, restore, verify
from etl.load_bvh import load_bvh
from tests.helpers import snapshot
from tests.synthetic import WEEKS, counts_file, setup_city
from warehouse.backup import BackupError, state
from warehouse.db import alembic_config, get_engine, upgrade


def _load_city(settings: Settings, folder: Path) -> None:
    """The synthetic gemeente (buurten, stadsdelen) and four weeks of counts: every kind of row the
    warehouse holds after a load, and raw files in the archive."""
    codes = setup_city(settings, folder)
    out = load_bvh(counts_file(folder / "bvh_2025-W01.csv", codes, WEEKS[52:56], 1, None), settings)
    assert out.status == "loaded", out.message


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def loaded(tmp_path: Path) -> Settings:
    """A loaded SQLite deployment whose hash secret is a file in the data dir (as when it is not set)."""
    settings = Settings(data_dir=tmp_path / "bron" / "var", warehouse_url=f"sqlite:///{tmp_path / 'bron.sqlite'}")
    upgrade(settings.warehouse_url)
    settings.hashing_key()  # generates data_dir/hash_secret
    _load_city(settings, tmp_path / "bestanden")
    (settings.quarantine_dir / "bvh").mkdir(parents=True, exist_ok=True)
    (settings.quarantine_dir / "bvh" / "bvh_kapot.csv").write_text("kapot\n")
    return settings


def _new(tmp_path: Path, name: str) -> Settings:
    return Settings(data_dir=tmp_path / name / "var", warehouse_url=f"sqlite:///{tmp_path / name / 'w.sqlite'}")


def test_sqlite_backup_comes_back_whole_in_a_new_warehouse(loaded: Settings, tmp_path: Path) -> None:
    made = make_backup(loaded)
    m = made.manifest
    assert made.path.parent == loaded.backup_dir and made.path.name.startswith("buurtbeeld-")
    assert m["dialect"] == "sqlite" and m["version"] and m["created_at"]
    assert m["alembic_revision"] is not None and m["alembic_revision"] == state(loaded.warehouse_url).revision
    assert m["tables"] == state(loaded.warehouse_url).tables and m["tables"]["weekly_count"] > 0
    assert {"warehouse.sqlite", "secrets/hash_secret", "quarantine/bvh/bvh_kapot.csv"} <= set(m["files"])
    assert any(name.startswith("archive/") for name in m["files"])  # the content copies of the loads
    # It holds the secrets: readable by the owner only, all the way down.
    for path in [made.path.parent, made.path, *made.path.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path

    target = _new(tmp_path, "nieuw")
    done = restore(target, made.path)
    assert done.notes == []  # same schema, same hash secret
    assert snapshot(target.warehouse_url) == snapshot(loaded.warehouse_url)
    assert state(target.warehouse_url).tables == m["tables"]  # bookkeeping (batches, rejects) too
    assert _files(target.archive_dir) == _files(loaded.archive_dir)
    assert _files(target.quarantine_dir) == _files(loaded.quarantine_dir)
    assert target.hashing_key() == loaded.hashing_key()
    assert (target.data_dir / "hash_secret").stat().st_mode & 0o077 == 0

    # A .tar of the backup folder (to move it to another machine) restores the same.
    tar = tmp_path / "backup.tar"
    with tarfile.open(tar, "w") as out:
        out.add(made.path, arcname=made.path.name)
    again = _new(tmp_path, "uit-tar")
    restore(again, tar)
    assert snapshot(again.warehouse_url) == snapshot(loaded.warehouse_url)


@pytest.mark.parametrize("damaged", ["warehouse.sqlite", "archive", "manifest"])
def test_a_damaged_backup_is_refused_and_nothing_changes(loaded: Settings, tmp_path: Path, damaged: str) -> None:
    made = make_backup(loaded)
    if damaged == "manifest":
        (made.path / MANIFEST).write_text("{ kapot")
        name = MANIFEST
    else:
        name = next(n for n in made.manifest["files"] if n.startswith(damaged))
        data = bytearray((made.path / name).read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit of one byte
        (made.path / name).write_bytes(bytes(data))
    target = _new(tmp_path, "nieuw")
    upgrade(target.warehouse_url)  # a new machine: `migrate` ran, nothing loaded
    before = Path(make_url(target.warehouse_url).database).read_bytes()
    with pytest.raises(BackupError, match="beschadigd") as refused:
        restore(target, made.path)
    assert name in str(refused.value)
    assert Path(make_url(target.warehouse_url).database).read_bytes() == before
    assert not target.archive_dir.exists() and not (target.data_dir / "hash_secret").exists()


def test_restore_refuses_a_warehouse_with_data_unless_told(loaded: Settings, tmp_path: Path) -> None:
    made = make_backup(loaded)
    other = _new(tmp_path, "ander")
    upgrade(other.warehouse_url)
    codes = setup_city(other, tmp_path / "ander-bestanden")
    later = counts_file(tmp_path / "ander-bestanden" / "bvh_2025-W09.csv", codes, WEEKS[60:62], 2, None)
    assert load_bvh(later, other).status == "loaded"
    before = snapshot(other.warehouse_url)
    assert before != snapshot(loaded.warehouse_url)
    with pytest.raises(BackupError, match="--ja"):
        restore(other, made.path)
    assert snapshot(other.warehouse_url) == before
    restore(other, made.path, overwrite=True)
    assert snapshot(other.warehouse_url) == snapshot(loaded.warehouse_url)


def test_an_older_schema_says_to_upgrade(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    old = _new(tmp_path, "oud")
    head = ScriptDirectory.from_config(alembic_config(old.warehouse_url)).get_current_head()
    previous = ScriptDirectory.from_config(alembic_config(old.warehouse_url)).get_revision(head).down_revision
    upgrade(old.warehouse_url, str(previous))
    made = make_backup(old)
    assert made.manifest["alembic_revision"] == previous
    done = restore(_new(tmp_path, "nieuw"), made.path)
    assert len(done.notes) == 1 and "buurtbeeld db upgrade" in done.notes[0]


def test_prune_keeps_the_newest_and_removes_dead_partial_runs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", backup_keep=2)
    upgrade(settings.warehouse_url)
    made = [make_backup(settings).path for _ in range(3)]
    dead = settings.backup_dir / ".buurtbeeld-20260101T000000Z.partial"
    running = settings.backup_dir / ".buurtbeeld-20260102T000000Z.partial"
    dead.mkdir()
    running.mkdir()
    gone = prune(settings, now=datetime.now(UTC) + timedelta(hours=30))
    assert set(gone) == {made[0], dead, running}  # both are old by `now`
    assert backups(settings) == made[1:]
    assert prune(settings) == []


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[pytest.MonkeyPatch]:
    request.addfinalizer(get_settings.cache_clear)
    yield monkeypatch


def _use(env: pytest.MonkeyPatch, settings: Settings) -> None:
    env.setenv("BUURTBEELD_DATA_DIR", str(settings.data_dir))
    env.setenv("BUURTBEELD_WAREHOUSE_URL", settings.warehouse_url)
    env.delenv("BUURTBEELD_HASH_SECRET", raising=False)
    env.delenv("BUURTBEELD_BACKUP_DIR", raising=False)
    get_settings.cache_clear()  # the CLI reads its settings from this environment


def test_backup_and_restore_on_the_command_line(loaded: Settings, tmp_path: Path, env: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    _use(env, loaded)
    made = runner.invoke(cli, ["backup", "--naar", str(tmp_path / "elders")])
    assert made.exit_code == 0, made.output
    [folder] = [p for p in (tmp_path / "elders").iterdir()]
    assert f"Backup gemaakt: {folder}" in made.output and "geheime sleutel" in made.output
    assert verify(folder)["tables"] == state(loaded.warehouse_url).tables

    # Into a migrated, empty warehouse (a new machine after `migrate`): no --ja needed.
    target = _new(tmp_path, "nieuw")
    upgrade(target.warehouse_url)
    _use(env, target)
    done = runner.invoke(cli, ["restore", str(folder)])
    assert done.exit_code == 0, done.output
    assert "Teruggezet: de backup van" in done.output and "gecontroleerd" in done.output
    assert snapshot(target.warehouse_url) == snapshot(loaded.warehouse_url)

    # Now it holds data: refused without --ja, a clear message and no traceback.
    refused = runner.invoke(cli, ["restore", str(folder)])
    assert refused.exit_code == 1 and "--ja" in refused.output and "Traceback" not in refused.output
    assert runner.invoke(cli, ["restore", str(folder), "--ja"]).exit_code == 0

    damaged = folder / "warehouse.sqlite"
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    broken = runner.invoke(cli, ["restore", str(folder), "--ja"])
    assert broken.exit_code == 1 and "warehouse.sqlite" in broken.output and "beschadigd" in broken.output
    missing = runner.invoke(cli, ["restore", str(tmp_path / "bestaat-niet")])
    assert missing.exit_code == 1 and "geen backup" in missing.output and "Traceback" not in missing.output


def test_backup_without_a_warehouse_is_a_message(tmp_path: Path, env: pytest.MonkeyPatch) -> None:
    _use(env, _new(tmp_path, "leeg"))
    result = CliRunner().invoke(cli, ["backup"])
    assert result.exit_code == 1 and "Er is geen warehouse om te backuppen" in result.output, result.output
    assert not list((tmp_path / "leeg" / "var" / "backups").iterdir())  # no partial left behind


# --- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture
def second_database(pg_url: str) -> Iterator[str]:
    """A new, empty database on the same server, with the same search_path schema as pg_url (a dump of
    one schema restores into that schema); dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    yield url
    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.postgres
def test_postgresql_dump_restores_into_a_new_database(pg_url: str, second_database: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    source = Settings(data_dir=tmp_path / "bron", warehouse_url=pg_url, hash_secret="test-secret")
    _load_city(source, tmp_path / "bestanden")
    made = make_backup(source)
    assert made.manifest["dialect"] == "postgresql" and "warehouse.pgdump" in made.manifest["files"]
    assert made.manifest["tables"] == state(pg_url).tables

    target = Settings(data_dir=tmp_path / "doel", warehouse_url=second_database, hash_secret="test-secret")
    done = restore(target, made.path)
    assert done.notes == []
    assert snapshot(second_database) == snapshot(pg_url)
    assert state(second_database).tables == made.manifest["tables"]
    assert _files(target.archive_dir) == _files(source.archive_dir)

    # Now it holds data: refused, and with --ja replaced by the same again.
    with pytest.raises(BackupError, match="--ja"):
        restore(target, made.path)
    restore(target, made.path, overwrite=True)
    assert snapshot(second_database) == snapshot(pg_url)


@pytest.mark.postgres
def test_a_missing_pg_dump_is_named(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(pg_url)
    # Neither on PATH nor in a Debian install folder (the machine's real ones are hidden).
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("warehouse.backup.PG_LIB", tmp_path / "geen")
    settings = Settings(data_dir=tmp_path / "var", warehouse_url=pg_url, hash_secret="test-secret")
    with pytest.raises(BackupError, match="pg_dump is niet gevonden"):
        make_backup(settings)
    assert not [p for p in settings.backup_dir.iterdir()]
