"""The Airflow DAGs: parsed as the dag-processor parses them, and run end to end with dag.test() against
a temporary warehouse (SQLite; one run on PostgreSQL) and a SQLite Airflow metadata database.

Each Airflow call runs in a subprocess (tests/dag_runner.py): Airflow configures logging, its own
SQLAlchemy session and settings for the whole process, which must not leak into the other tests."""

from __future__ import annotations

import importlib.util
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from buurtbeeld.settings import Settings
from tests.conftest import IN_CI, Airflow
from tests.helpers import batches, count, snapshot
from tests.synthetic import WEEKS, counts_file, setup_city, write_city, write_kerncijfers
from warehouse.db import get_engine, upgrade
from warehouse.models import AreaAnalysis, LoadBatch

pytestmark = pytest.mark.slow

if importlib.util.find_spec("airflow") is None:
    if IN_CI:
        raise RuntimeError("CI=true but Airflow is not installed (python3 dev.py test installs the airflow extra)")
    pytest.skip("Airflow is not installed (uv sync --extra airflow)", allow_module_level=True)


class Webhook:
    """A chat webhook on loopback that keeps every alert posted to it (the JSON bodies)."""

    def __init__(self) -> None:
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def titles(self) -> list[str]:
        return [r["titel"] for r in self.received]


@pytest.fixture
def webhook() -> Any:
    hook = Webhook()
    yield hook
    hook.server.shutdown()


@pytest.fixture
def airflow(tmp_path: Path, metadata: Path) -> Airflow:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    upgrade(url)
    return Airflow(tmp_path, url, metadata)


def test_every_dag_parses_with_retries_tags_and_a_timezone(airflow: Airflow) -> None:
    facts = airflow.call("parse")
    assert {f: v["errors"] for f, v in facts["files"].items() if v["errors"]} == {}
    assert set(facts["dags"]) == {
        "bvh_weekly",
        "indicators_load",
        "buurten_load",
        "monthly_analyses",
        "archief_opruimen",
        "warehouse_backup",
    }
    for dag_id, dag in facts["dags"].items():
        assert "buurtbeeld" in dag["tags"], dag_id
        assert dag["min_retries"] >= 2 and dag["callbacks"] and dag["timeouts"], dag_id
        assert dag["owner"] == ["functioneel-beheer"], dag_id
        assert dag["timezone"] == "Europe/Amsterdam", (dag_id, dag)
        assert dag["doc"] and dag["max_active_runs"] == 1 and dag["catchup"] is False, dag_id
    assert facts["dags"]["monthly_analyses"]["schedule"] == "AssetOrTimeSchedule"
    # Parsing imports no Buurtbeeld module (so no database access) and no pandas.
    assert facts["imported"] == []
    assert "_defaults.py" not in {f for f, v in facts["files"].items() if v["dags"]}


def test_bvh_weekly_loads_files_reports_failures_and_reruns_idempotently(airflow: Airflow, tmp_path: Path) -> None:
    settings, url = airflow.settings, airflow.settings.warehouse_url
    gpkg, stadsdelen, codes = write_city(tmp_path / "bron")
    airflow.drop("buurten", gpkg)
    assert airflow.run("buurten_load")["state"] == "success"
    airflow.drop("stadsdelen", stadsdelen)  # no DAG of its own: loaded with buurten via the CLI normally
    from etl.load_stadsdelen import load_stadsdelen

    assert load_stadsdelen(airflow.inbox / "stadsdelen" / stadsdelen.name, settings).ok
    assert [b.status for b in batches(url)] == ["loaded", "loaded"]
    assert not list((airflow.inbox / "buurten").iterdir())  # filed away
    assert list((settings.archive_dir / "ontvangen" / "buurten").rglob(gpkg.name))

    week1 = counts_file(tmp_path / "bron" / "bvh_2025-W01.csv", codes, WEEKS[52:53], 1, None)
    week2 = counts_file(tmp_path / "bron" / "bvh_2025-W02.csv", codes, WEEKS[53:54], 2, None)
    airflow.drop("bvh", week1, week2)
    first = airflow.run("bvh_weekly")
    assert first["state"] == "success", first
    assert first["tasks"]["warehouse_bijgewerkt"] == "success"
    assert [b.status for b in batches(url)][-2:] == ["loaded", "loaded"]
    assert not list((airflow.inbox / "bvh").iterdir())
    loaded = snapshot(url)

    # A bad file next to a good one: the good one loads, the bad one is refused and quarantined with
    # its rejects report, the warehouse holds exactly the good one's rows, and the run fails.
    bad = tmp_path / "bron" / "bvh_2025-W03_kapot.csv"
    bad.write_text("Buurtcode;Week;Categorie;Aantal\n" + "".join(f"{c};2025-W03;Overlast;veel\n" for c in codes))
    week4 = counts_file(tmp_path / "bron" / "bvh_2025-W04.csv", codes, WEEKS[55:56], 4, None)
    airflow.drop("bvh", bad, week4)
    second = airflow.run("bvh_weekly")
    assert second["state"] == "failed", second
    assert second["tasks"]["resultaat"] == "failed" and second["tasks"]["opbergen"] == "success"
    statuses = [(b.file_name, b.status) for b in batches(url)][-2:]
    assert statuses == [(bad.name, "refused"), (week4.name, "loaded")]
    assert (settings.quarantine_dir / "bvh" / bad.name).exists()
    [report] = (settings.quarantine_dir / "bvh").glob("afkeuringen_*.xlsx")
    import openpyxl

    book = openpyxl.load_workbook(report)
    assert book["Afgekeurd"].max_row == len(codes) + 1  # every row of the bad file, with its reason
    with_week4 = snapshot(url)
    assert with_week4 != loaded
    assert count(url, "weekly_count", iso_year=2025, iso_week=3) == 0  # nothing of the refused file

    # Re-running a week (the file put back in the inbox) changes nothing.
    n_batches = len(batches(url))
    airflow.drop("bvh", week4)
    third = airflow.run("bvh_weekly")
    assert third["state"] == "success", third
    assert third["tasks"]["warehouse_bijgewerkt"] == "skipped"  # no asset event: nothing new
    assert len(batches(url)) == n_batches and snapshot(url) == with_week4  # recognised by content hash

    # 100 days later the raw police exports go from the archive (both copies) and quarantine; the
    # CBS file and the warehouse stay.
    long_ago = datetime.now(UTC) - timedelta(days=100)
    received = settings.archive_dir / "ontvangen" / "bvh"
    for folder in list(received.iterdir()):
        folder.rename(received / long_ago.date().isoformat())
    for path in (settings.quarantine_dir / "bvh").iterdir():
        os.utime(path, (long_ago.timestamp(), long_ago.timestamp()))
    with get_engine(url).begin() as conn:
        conn.execute(update(LoadBatch).where(LoadBatch.kind == "bvh").values(started_at=long_ago))
    bvh_copies, before = {b.sha256 for b in batches(url) if b.kind == "bvh"}, snapshot(url)
    assert all(list(settings.archive_dir.glob(f"{sha[:2]}/{sha}.*")) for sha in bvh_copies)
    assert airflow.run("archief_opruimen")["state"] == "success"
    assert not list(received.iterdir()) and not list((settings.quarantine_dir / "bvh").iterdir())
    assert not [sha for sha in bvh_copies if list(settings.archive_dir.glob(f"{sha[:2]}/{sha}.*"))]
    assert list((settings.archive_dir / "ontvangen" / "buurten").rglob(gpkg.name))
    assert snapshot(url) == before


def test_bvh_weekly_waits_for_a_late_file_until_it_is_complete(tmp_path: Path, metadata: Path, webhook: Any) -> None:
    """The inbox protocol under a running DAG: the run is started before the police file exists, the
    file then arrives in two writes; a temporary download sits beside it and a junk file lands too.
    The run loads the whole file (not the half it could have seen), leaves the temporary file alone,
    quarantines the junk with its reason, and a later re-run by name finds the file in the archive."""
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    upgrade(url)
    airflow = Airflow(
        tmp_path,
        url,
        metadata,
        AIRFLOW__BUURTBEELD__INBOX_POKE_SECONDS="1",
        BUURTBEELD_INBOX_SETTLE_SECONDS="4",
        BUURTBEELD_ALERT_WEBHOOK_URL=webhook.url,
    )
    gpkg, _, codes = write_city(tmp_path / "bron")
    from etl.load_buurten import load_buurten

    assert load_buurten(gpkg, 2024, airflow.settings).ok
    folder = airflow.inbox / "bvh"
    folder.mkdir(parents=True, exist_ok=True)
    assert airflow.run("bvh_weekly")["tasks"]["wacht_op_bestanden"] == "skipped"  # empty, not the delivery day

    source = counts_file(tmp_path / "bron" / "bvh_2025-W01.csv", codes, WEEKS[52:53], 1, None)
    lines = source.read_text().splitlines(keepends=True)
    run = airflow.start("bvh_weekly", wachten=True)
    time.sleep(6)  # the run is looking at an empty inbox by now
    (folder / "bvh_2025-W02.csv.filepart").write_text("half")
    (folder / "notities.docx").write_text("geen export")
    target = folder / source.name
    target.write_text("".join(lines[: len(lines) // 2]))
    time.sleep(2)  # less than the settle time: the half file must not count
    with target.open("a") as f:
        f.write("".join(lines[len(lines) // 2 :]))
    result = airflow.finish(run)
    assert result["state"] == "success", result
    [batch] = [b for b in batches(url) if b.kind == "bvh"]
    assert batch.status == "loaded" and batch.rows_loaded == len(lines) - 1, batch
    assert sorted(p.name for p in folder.iterdir()) == ["bvh_2025-W02.csv.filepart"]
    reason = airflow.settings.quarantine_dir / "bvh" / "notities.docx.reden.txt"
    assert "onbekend bestandstype '.docx'" in reason.read_text()
    assert webhook.titles().count("Buurtbeeld: bestand in quarantaine") == 1  # one alert, many looks

    again = airflow.run("bvh_weekly", bestand=source.name)  # the inbox holds no such file any more
    assert again["state"] == "success" and again["tasks"]["warehouse_bijgewerkt"] == "skipped", again
    assert [b.status for b in batches(url) if b.kind == "bvh"] == ["loaded"]  # recognised: unchanged


def test_monthly_analyses_after_a_load(airflow: Airflow, tmp_path: Path) -> None:
    url = airflow.settings.warehouse_url
    gpkg, stadsdelen, codes = write_city(tmp_path / "bron")
    airflow.drop("buurten", gpkg)
    assert airflow.run("buurten_load", jaar=2024)["state"] == "success"
    from etl.load_stadsdelen import load_stadsdelen

    assert load_stadsdelen(stadsdelen, airflow.settings).ok
    airflow.drop("indicatoren", write_kerncijfers(tmp_path / "bron"))
    indicators = airflow.run("indicators_load", periode="2024")
    assert indicators["state"] == "success", indicators
    assert count(url, "indicator_value") > len(codes) * 5
    assert batches(url)[-1].kind == "indicatoren" and batches(url)[-1].status == "loaded"
    airflow.drop("bvh", counts_file(tmp_path / "bron" / "aantallen_2024_2025.csv", codes, WEEKS, 1, codes[0]))
    assert airflow.run("bvh_weekly")["state"] == "success"
    run = airflow.run("monthly_analyses")
    assert run["state"] == "success", run
    mapped = [t for t in run["tasks"] if t.startswith("analyseren[")]
    assert len(mapped) == 5  # four stadsdelen and the overview
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(AreaAnalysis.month, AreaAnalysis.area_level)).all()
    assert {m for m, _ in rows} == {"2025-12"}
    assert sum(level == "buurt" for _, level in rows) == len(codes)
    # The next run finds nothing due and is skipped, not failed.
    again = airflow.run("monthly_analyses")
    assert again["state"] == "success" and again["tasks"]["te_analyseren"] == "skipped"
    # A backfill of three months, as ops would start it after loading old exports.
    backfill = airflow.run("monthly_analyses", maand="2025-09", tot_maand="2025-11")
    assert backfill["state"] == "success", backfill
    assert len([t for t in backfill["tasks"] if t.startswith("analyseren[")]) == 3 * 5
    with get_engine(url).connect() as conn:
        months = {m for (m,) in conn.execute(select(AreaAnalysis.month).where(AreaAnalysis.superseded_at.is_(None)))}
    assert months == {"2025-09", "2025-10", "2025-11", "2025-12"}


def test_a_missing_week_is_alerted_once_and_its_month_waits(tmp_path: Path, metadata: Path, webhook: Any) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    upgrade(url)
    airflow = Airflow(tmp_path, url, metadata, BUURTBEELD_ALERT_WEBHOOK_URL=webhook.url)
    codes = setup_city(airflow.settings, tmp_path / "bron")
    history = counts_file(tmp_path / "bron" / "bvh_2024_2025.csv", codes, WEEKS, 1, None)
    weeks = [(2026, w) for w in range(2, 6)]  # January 2026 is ISO weeks 1-5: week 1 never came
    airflow.drop("bvh", history, counts_file(tmp_path / "bron" / "bvh_2026-W02-W05.csv", codes, weeks, 2, None))
    run = airflow.run("bvh_weekly")
    assert run["state"] == "success" and run["tasks"]["leveringen_controleren"] == "success", run
    [missing] = [r["fout"] for r in webhook.received if r["titel"] == "Buurtbeeld: levering ontbreekt"]
    assert missing.startswith("GM9999: geen politie-export geladen voor week 1 van 2026, week 6 van 2026")

    again = airflow.run("bvh_weekly")  # nothing new in the inbox: the check runs, the alert is not repeated
    assert again["tasks"]["leveringen_controleren"] == "success" and len(webhook.received) == 1, again

    def analysed() -> set[str]:
        with get_engine(url).connect() as conn:
            return set(conn.execute(select(AreaAnalysis.month).where(AreaAnalysis.superseded_at.is_(None))).scalars())

    assert airflow.run("monthly_analyses")["state"] == "success"
    assert analysed() == {"2025-12"}  # not January 2026: it lacks a week
    airflow.drop("bvh", counts_file(tmp_path / "bron" / "bvh_2026-W01.csv", codes, [(2026, 1)], 3, None))
    assert airflow.run("bvh_weekly")["state"] == "success"
    assert airflow.run("monthly_analyses")["state"] == "success"
    assert analysed() == {"2025-12", "2026-01"}
    assert len(webhook.received) == 1


def test_exports_load_in_period_order_and_an_older_one_is_refused(airflow: Airflow, tmp_path: Path) -> None:
    from tests.test_deliveries import MONDAYS, correcting, week_file

    url = airflow.settings.warehouse_url
    setup_city(airflow.settings, tmp_path / "bron")
    week1 = week_file(tmp_path / "bron", "z_week1.csv", MONDAYS[1], 100)
    week2 = correcting(week_file(tmp_path / "bron", "a_week2.csv", MONDAYS[2], 200), week1)
    airflow.drop("bvh", week1, week2)  # in name order week 2 would come first
    assert airflow.run("bvh_weekly")["state"] == "success"
    assert [(b.file_name, b.status) for b in batches(url) if b.kind == "bvh"] == [
        ("z_week1.csv", "loaded"),
        ("a_week2.csv", "loaded"),
    ]
    before = snapshot(url)
    airflow.drop("bvh", week_file(tmp_path / "bron", "week1_opnieuw.csv", MONDAYS[1], 100, n=7))
    run = airflow.run("bvh_weekly")
    assert run["state"] == "failed" and run["tasks"]["resultaat"] == "failed", run
    refused = batches(url)[-1]
    assert refused.status == "failed" and "oudere levering (t/m week 1 van 2025)" in refused.message, refused
    assert "a_week2.csv" in refused.message and snapshot(url) == before
    assert (airflow.settings.quarantine_dir / "bvh" / "week1_opnieuw.csv").exists()


def test_warehouse_backup_makes_a_restorable_backup_and_prunes_old_ones(tmp_path: Path, metadata: Path) -> None:
    from etl.backup import backups, restore

    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    upgrade(url)
    airflow = Airflow(tmp_path, url, metadata, BUURTBEELD_BACKUP_KEEP="2")
    gpkg, _, _ = write_city(tmp_path / "bron")
    airflow.drop("buurten", gpkg)
    assert airflow.run("buurten_load")["state"] == "success"
    old = [airflow.settings.backup_dir / f"buurtbeeld-2026010{d}T013000Z" for d in (1, 2)]
    for folder in old:  # two earlier nights
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")

    run = airflow.run("warehouse_backup")
    assert run["state"] == "success", run
    assert run["tasks"] == {"backup": "success", "opruimen": "success"}
    kept = backups(airflow.settings)
    assert kept[0] == old[1] and len(kept) == 2  # the new one and the newest earlier one
    target = Settings(data_dir=tmp_path / "nieuw", warehouse_url=f"sqlite:///{tmp_path / 'nieuw.sqlite'}")
    restore(target, kept[1])
    assert snapshot(target.warehouse_url) == snapshot(url) and count(url, "buurt") > 0


@pytest.mark.postgres
def test_bvh_weekly_on_postgresql(pg_url: str, tmp_path: Path, metadata: Path) -> None:
    upgrade(pg_url)
    airflow = Airflow(tmp_path, pg_url, metadata)
    gpkg, _, codes = write_city(tmp_path / "bron")
    airflow.drop("buurten", gpkg)
    assert airflow.run("buurten_load")["state"] == "success"
    airflow.drop("bvh", counts_file(tmp_path / "bron" / "bvh_2025-W01.csv", codes, WEEKS[52:53], 1, None))
    run = airflow.run("bvh_weekly")
    assert run["state"] == "success", run
    assert [b.status for b in batches(pg_url)] == ["loaded", "loaded"]
