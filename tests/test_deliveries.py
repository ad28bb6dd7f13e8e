"""The delivery register: the weeks each police file covers, missing weekly exports (alerted once,
their months neither published nor analysed as complete) and older exports that would undo later
corrections (refused)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from buurtbeeld.settings import Settings
from etl import deliveries as etl_deliveries
from etl.load_bvh import load_bvh
from tests.helpers import snapshot
from tests.test_bvh import _csv, _rows
from warehouse import deliveries
from warehouse.analyses import published_months
from warehouse.db import get_engine
from warehouse.models import Incident


def test_weeks_run_across_year_ends_and_fall_due_on_monday_evening() -> None:
    assert deliveries.weeks_from(202651, 202702) == [202651, 202652, 202653, 202701, 202702]  # 2026 has 53
    assert deliveries.uncovered([(202501, 202502), (202504, 202504)], 202501, 202505) == [202503, 202505]
    # Monday 7 December 2026, week 50: the export of week 49 is due at 18:00 Amsterdam (17:00 UTC).
    assert deliveries.due_through(datetime(2026, 12, 7, 16, 59, tzinfo=UTC)) == 202648
    assert deliveries.due_through(datetime(2026, 12, 7, 17, 0, tzinfo=UTC)) == 202649
    assert deliveries.due_through(datetime(2026, 12, 13, 22, 0, tzinfo=UTC)) == 202649
    # Summer time: 18:00 Amsterdam is 16:00 UTC.
    assert deliveries.due_through(datetime(2026, 6, 1, 16, 0, tzinfo=UTC)) == 202622


def test_a_file_covers_the_weeks_of_its_dates_and_the_week_in_its_name() -> None:
    gemeente = pd.Series(["GM0001", "GM0001", "GM0002"])
    moments = pd.Series(pd.to_datetime(["2025-01-06", "2025-01-20", "2025-03-03"]))
    assert etl_deliveries.file_periods(gemeente, moments, "export.csv") == {
        "GM0001": (202502, 202504),
        "GM0002": (202510, 202510),
    }
    named = etl_deliveries.file_periods(gemeente[:1], moments[:1], "bvh_2025-W05.xlsx")
    assert named == {"GM0001": (202502, 202505)}
    assert etl_deliveries.named_week("bvh_2025-W54.csv") is None  # no such week: the name says nothing
    assert etl_deliveries.named_week("export 2020W53.csv") == 202053


def week_file(folder: Path, name: str, monday: str, first_id: int, n: int = 6, mk: str = "A20") -> Path:
    rows = _rows(first_id + n)[first_id:]
    day = pd.Timestamp(monday)
    for i, r in enumerate(rows):
        moment = day + pd.Timedelta(days=i % 5, hours=10)
        r["Begin-pleegdatum/tijd"] = r["Eind-pleegdatum/tijd"] = f"{moment:%d-%m-%Y %H:%M}"
        r["Kennisnamedatum/tijd"] = f"{moment + pd.Timedelta(hours=2):%d-%m-%Y %H:%M}"
        r["Incidentsoort code"] = mk
    return _csv(folder / name, rows)


MONDAYS = {w: str((pd.Timestamp("2024-12-30") + pd.Timedelta(weeks=w - 1)).date()) for w in range(1, 11)}


def correcting(later: Path, earlier: Path, n: int = 2) -> Path:
    """`later` with corrections of the first n incidents of `earlier` (another MK code) besides its own."""
    corrected = pd.read_csv(earlier, sep=";", dtype=str).iloc[:n]
    corrected["Incidentsoort code"] = "C20"
    pd.concat([pd.read_csv(later, sep=";", dtype=str), corrected]).to_csv(later, sep=";", index=False)
    return later


def _load_weeks(settings: Settings, folder: Path, weeks: list[int]) -> None:
    for w in weeks:
        out = load_bvh(week_file(folder, f"bvh_2025-W{w:02d}.csv", MONDAYS[w], 100 * w), settings)
        assert out.status == "loaded", out.message


def test_a_missing_week_keeps_its_month_incomplete_until_it_arrives(demo_city: Settings, tmp_path: Path) -> None:
    url = demo_city.warehouse_url
    _load_weeks(demo_city, tmp_path, [1, 2, 4, 5, 6, 7])  # January 2025 is ISO weeks 1-5
    now = datetime(2025, 2, 18, 9, 0, tzinfo=UTC)  # Tuesday of week 8: week 7 was due yesterday
    with get_engine(url).connect() as conn:
        [register] = deliveries.registers(conn, now)
        assert (register.first, register.last, register.gaps, register.overdue) == (202501, 202507, [202503], [])
        assert "2025-01" not in published_months(conn, "GM9999")
    # One alert per missing week, however often the check runs.
    first = etl_deliveries.alert_missing(demo_city, now)
    assert len(first) == 1 and "week 3 van 2025" in first[0]
    assert etl_deliveries.alert_missing(demo_city, now) == []
    later = etl_deliveries.alert_missing(demo_city, datetime(2025, 3, 4, 9, 0, tzinfo=UTC))  # weeks 8, 9 overdue
    assert len(later) == 1 and "week 8 van 2025, week 9 van 2025" in later[0]

    env = {**os.environ, "BUURTBEELD_DATA_DIR": str(demo_city.data_dir), "BUURTBEELD_WAREHOUSE_URL": url}
    listing = subprocess.run([sys.executable, "-m", "cli", "leveringen"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "GM9999: geleverd van week 1 van 2025 t/m week 7 van 2025" in listing.stdout
    assert "levering ontbreekt: week 3 van 2025" in listing.stdout and "achterstand:" in listing.stdout

    _load_weeks(demo_city, tmp_path, [3])
    with get_engine(url).connect() as conn:
        [register] = deliveries.registers(conn, now)
        assert register.gaps == [] and "2025-01" in published_months(conn, "GM9999")


def test_analysts_and_beheer_see_the_missing_week(
    demo_city: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The freshness line of every page names the missing week; Beheer lists the register."""
    from dashboard.access import sign_in
    from tests.helpers import dashboard_app

    _load_weeks(demo_city, tmp_path, [1, 2, 4])
    app = dashboard_app(demo_city, monkeypatch, {"bea": {"role": "beheer", "password": "x" * 12}})
    from dashboard import components as ui
    from dashboard.pages import beheer  # registers its page: after the app exists

    with app.server.test_request_context("/"):
        sign_in("bea")
        line = str(ui.freshness_banner("GM9999"))
        assert "levering ontbreekt: week 3 van 2025" in line or "levering ontbreekt: week 3" in line, line
        page = str(beheer.layout())
        assert "Levering ontbreekt" in page and "levering ontbreekt voor week 3 van 2025" in page, page[:2000]


def test_an_older_export_that_would_undo_later_corrections_is_refused(demo_city: Settings, tmp_path: Path) -> None:
    url = demo_city.warehouse_url
    _load_weeks(demo_city, tmp_path, [1])
    week2 = correcting(week_file(tmp_path, "bvh_2025-W02.csv", MONDAYS[2], 200), tmp_path / "bvh_2025-W01.csv")
    assert load_bvh(week2, demo_city).status == "loaded"
    before = snapshot(url)

    # A re-export of week 1 as it was, loaded after week 2: it would put the old MK codes back.
    again = week_file(tmp_path, "bvh_2025-W01_opnieuw.csv", MONDAYS[1], 100, n=7)
    out = load_bvh(again, demo_city)
    assert out.status == "failed", out
    assert "oudere levering (t/m week 1 van 2025)" in out.message and "bvh_2025-W02.csv" in out.message
    assert "2 latere correctie(s)" in out.message and "niets geladen" in out.message
    assert snapshot(url) == before
    with get_engine(url).connect() as conn:
        codes = conn.execute(select(Incident.mk_code).where(Incident.first_batch_id == 1 + 1)).scalars().all()
    assert codes.count("C20") == 2

    # An older export that corrects nothing later (a late week-1 registration) loads.
    late = week_file(tmp_path, "bvh_2025-W01_na.csv", MONDAYS[1], 150, n=2)
    assert load_bvh(late, demo_city).status == "loaded"


def test_files_of_one_run_load_in_the_order_of_their_periods(tmp_path: Path) -> None:
    from etl.load_bvh import delivery_order
    from tests.synthetic import counts_file

    newer = week_file(tmp_path, "a_export.csv", MONDAYS[3], 300)
    older = week_file(tmp_path, "b_export.csv", MONDAYS[2], 200)
    oldest = counts_file(tmp_path / "c_aantallen.csv", ["BU99990000"], [(2025, 1)], 1, None)
    broken = tmp_path / "0_kapot.csv"
    broken.write_bytes(b"\x00\x01 geen tabel")
    order = delivery_order([str(p) for p in (broken, newer, older, oldest)])
    assert [Path(p).name for p in order] == ["c_aantallen.csv", "b_export.csv", "a_export.csv", "0_kapot.csv"]
