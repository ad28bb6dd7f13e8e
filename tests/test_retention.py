"""Retention of raw police exports (etl.retention, `buurtbeeld opruimen`): what is older than the
setting goes from every place a file was put; what is younger, other kinds, and the warehouse stay."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from buurtbeeld.settings import Settings, get_settings
from cli import cli
from etl import retention
from warehouse.db import get_engine, upgrade
from warehouse.models import LoadBatch

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _file(path: Path, age_days: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Straat;Postcode;X;Y\nDorpsstraat 1;9711AA;233000;582000\n")
    stamp = (NOW - timedelta(days=age_days)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _batch(settings: Settings, kind: str, sha: str, age_days: float) -> None:
    with get_engine(settings.warehouse_url).begin() as conn:
        conn.execute(
            insert(LoadBatch).values(
                kind=kind, file_name=f"{sha[:6]}.csv", sha256=sha, status="loaded", run_by="test",
                started_at=NOW - timedelta(days=age_days),
            )
        )  # fmt: skip


def test_only_raw_police_exports_older_than_the_setting_are_deleted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", archive_retention_days=91)
    upgrade(settings.warehouse_url)
    archive, quarantine = settings.archive_dir, settings.quarantine_dir
    old_day, new_day = (NOW - timedelta(days=100)).date(), (NOW - timedelta(days=10)).date()
    received_old = _file(archive / "ontvangen" / "bvh" / old_day.isoformat() / "bvh_2026-W33.csv")
    received_new = _file(archive / "ontvangen" / "bvh" / new_day.isoformat() / "bvh_2026-W47.csv")
    cbs_old = _file(archive / "ontvangen" / "buurten" / old_day.isoformat() / "wijkenbuurten_2024.gpkg")
    refused_old = _file(quarantine / "bvh" / "bvh_kapot.csv", age_days=120)
    refused_new = _file(quarantine / "bvh" / "bvh_kapot2.csv", age_days=5)
    # Content copies: one export loaded 100 days ago only, one loaded then and again 3 days ago,
    # a CBS file loaded long ago.
    copies = {}
    for sha, kind, ages in (("aa" * 32, "bvh", [100]), ("bb" * 32, "bvh", [100, 3]), ("cc" * 32, "buurten", [300])):
        copies[sha] = _file(archive / sha[:2] / f"{sha}.csv")
        for age in ages:
            _batch(settings, kind, sha, age)

    dry = retention.purge(settings, NOW, dry_run=True)
    assert received_old.exists() and refused_old.exists() and copies["aa" * 32].exists()
    assert set(dry.folders) == {received_old.parent}
    assert set(dry.files) == {refused_old, copies["aa" * 32]}

    done = retention.purge(settings, NOW)
    assert (set(done.folders), set(done.files)) == (set(dry.folders), set(dry.files))
    assert not received_old.parent.exists() and not refused_old.exists() and not copies["aa" * 32].exists()
    kept = [received_new, cbs_old, refused_new, copies["bb" * 32], copies["cc" * 32]]
    assert all(p.exists() for p in kept)
    assert len(retention.purge(settings, NOW)) == 0  # nothing left to do


def test_opruimen_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BUURTBEELD_ARCHIVE_RETENTION_DAYS", "30")
    monkeypatch.delenv("BUURTBEELD_WAREHOUSE_URL", raising=False)
    get_settings.cache_clear()  # the CLI reads its settings from this environment
    request.addfinalizer(get_settings.cache_clear)
    settings = Settings()
    upgrade(settings.warehouse_url)
    old = _file(settings.archive_dir / "ontvangen" / "bvh" / "2020-01-06" / "bvh_2020-W02.csv")
    proef = CliRunner().invoke(cli, ["opruimen", "--proef"])
    assert proef.exit_code == 0 and old.exists(), proef.output
    assert "zou verwijderen" in proef.output and "ouder dan 30 dagen" in proef.output
    result = CliRunner().invoke(cli, ["opruimen"])
    assert result.exit_code == 0 and not old.exists(), result.output
    assert "Verwijderd: 1 map(pen) en 0 bestand(en)" in result.output
