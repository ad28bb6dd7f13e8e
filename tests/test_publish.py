"""The published cube: exact counts for intern, shared figures nobody can narrow for gedeeld, the same
whether built at once or load by load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from buurtbeeld import disclosure
from buurtbeeld.settings import Settings
from etl.demo import DemoFiles
from etl.load_buurten import load_buurten
from etl.load_bvh import load_bvh
from etl.load_indicators import load_indicators
from etl.load_stadsdelen import load_stadsdelen
from etl.publish import ALL, KEY, links, publish, stale_parts, with_group_cells, year_cube
from tests.cube_checks import check_cube, published
from warehouse import published as store
from warehouse import queries
from warehouse.db import get_engine, load_transaction
from warehouse.models import Incident, PublishedCount

GRONINGEN = "crime/politie_bvh_export_fietsdiefstal_groningen_2013_2017.xlsx"
BUURTEN_2017 = "geometry/cbs_buurten_2017_groningen_wgs84.geojson"


def _hierarchy(url: str, gemeente: str) -> pd.DataFrame:
    with get_engine(url).connect() as conn:
        return store.hierarchy(conn, gemeente, store.latest_year(conn, gemeente))


def test_real_groningen_cube(settings: Settings, real_data: Path) -> None:
    """The real Groningen export (fietsdiefstal 2013-2017, 106+ buurten): totals reconcile with the
    incidents, and the auditor narrows no small count of the shared figures."""
    assert load_buurten(real_data / BUURTEN_2017, 2017, settings).ok
    out = load_bvh(real_data / GRONINGEN, settings)
    assert out.status == "loaded", out.message
    url = settings.warehouse_url
    statuses = check_cube(url, "GM0014", _hierarchy(url, "GM0014"))
    assert statuses["shown"] > 1000 and statuses["outside"] > 1000
    cells = published(url, "GM0014")
    weeks = cells[(cells["period_type"] == "week") & (cells["area_level"] == "gemeente") & (cells["group_code"] == "*")]
    with get_engine(url).connect() as conn:
        incidents = conn.execute(select(func.count()).select_from(Incident)).scalar()
    assert weeks["count"].sum() == incidents
    years = cells[(cells["period_type"] == "year") & (cells["area_level"] == "gemeente") & (cells["group_code"] == "*")]
    # Pleegdata reach back before 2013 (kennisname from 2013); 2017 stops in the summer: not a complete year.
    assert {"2014", "2015", "2016"} <= set(years["period"]) and "2017" not in set(years["period"])


@pytest.fixture
def small_city(settings: Settings, small_files: DemoFiles) -> tuple[Settings, list[Path]]:
    files = small_files
    assert load_buurten(files.buurten, 2024, settings).ok
    assert load_stadsdelen(files.stadsdelen, settings).ok
    assert load_indicators(files.kerncijfers, settings, period="2024").ok
    return settings, files.bvh


@pytest.mark.slow
def test_incremental_publishing_equals_a_full_rebuild(small_city: tuple[Settings, list[Path]]) -> None:
    settings, exports = small_city
    url = settings.warehouse_url
    for path in exports:
        assert load_bvh(path, settings).ok
    incremental = (
        published(url, "GM9999")
        .sort_values(["period_type", "period", "area_level", "area_code", "group_code", "mk_code"])
        .reset_index(drop=True)
    )
    with load_transaction(url) as conn:
        publish(conn, "GM9999", settings.suppression_threshold, None, secret=settings.cell_key())
    full = (
        published(url, "GM9999")
        .sort_values(["period_type", "period", "area_level", "area_code", "group_code", "mk_code"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(incremental, full)
    statuses = check_cube(url, "GM9999", _hierarchy(url, "GM9999"))
    assert statuses["shown"] > 0 and statuses["outside"] > 0
    assert set(full["period_type"]) >= {"week", "month"}
    # MK cells are published for intern; the gedeeld audience gets those of the gemeente and stadsdelen.
    mk = full[full["mk_code"] != "*"]
    assert len(mk) and (mk["group_code"] != "*").all()
    wide = mk["area_level"].isin(["gemeente", "stadsdeel"]) & (mk["period_type"] != "week")
    assert (mk.loc[~wide, "status"] == disclosure.SECONDARY).all() and mk.loc[wide, "shared_count"].notna().any()


@pytest.mark.slow
def test_queries_return_no_small_count(
    small_city: tuple[Settings, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every count the dashboard's query module hands out to the gedeeld audience (the default) is
    hidden (NaN) or a multiple of 5."""
    settings, exports = small_city
    url = settings.warehouse_url
    for path in exports:
        assert load_bvh(path, settings).ok
    weeks = tuple(queries.periods(url, "GM9999", "week"))
    months = tuple(queries.periods(url, "GM9999", "month"))
    assert len(weeks) >= 14 and months
    groups = ["*", *[g for g, _ in queries.groups(url)]]
    frames = []
    for level in queries.LEVELS:
        for group in groups:
            frames.append(queries.cells(url, "GM9999", "week", weeks, level, group))
            frames.append(queries.cells(url, "GM9999", "month", months, level, group))
    areas = queries.areas(url, "GM9999")
    for row in areas.itertuples():
        frames.append(queries.series(url, "GM9999", "week", row.area_level, row.area_code, "*"))
        frames.append(queries.area_groups(url, "GM9999", "month", months, row.area_level, row.area_code))
    counts = pd.concat([f["count"] for f in frames])
    assert counts.notna().sum() > 1000
    assert (counts.dropna() % 5 == 0).all()
    hidden = pd.concat([f[f["status"] != disclosure.SHOWN]["count"] for f in frames])
    assert hidden.isna().all() and len(hidden) > 100
    # A new load invalidates the cache: the answer follows the warehouse.
    monkeypatch.setattr(queries, "STATE_TTL_S", 0.0)
    before = queries.state(url)
    empty = exports[0].with_name("leeg.csv")
    empty.write_text("kolom_a;kolom_b\n1;2\n")
    assert load_bvh(empty, settings).status == "failed"
    assert queries.state(url) > before


def test_a_new_buurten_year_republishes_the_gemeente(small_city: tuple[Settings, list[Path]]) -> None:
    settings, exports = small_city
    url = settings.warehouse_url
    assert load_bvh(exports[-1], settings).ok
    with get_engine(url).connect() as conn:
        first = conn.execute(select(func.count()).select_from(PublishedCount)).scalar()
        conn.execute(PublishedCount.__table__.delete())
        conn.commit()
    assert load_stadsdelen(exports[-1].parent.parent / "stadsdelen_voorbeeldstad.xlsx", settings).status in (
        "loaded",
        "unchanged",
    )
    with get_engine(url).connect() as conn:
        again = conn.execute(select(func.count()).select_from(PublishedCount)).scalar()
    assert again in (0, first)


@pytest.mark.slow
def test_publiceer_recomputes_the_cube_as_a_batch(
    small_city: tuple[Settings, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`buurtbeeld publiceer` rebuilds the same cube, records a batch (so dashboard caches drop), and
    applies a new threshold (the base of the shared figures) to every cell."""
    from click.testing import CliRunner

    from buurtbeeld.settings import get_settings
    from cli import cli
    from warehouse.models import LoadBatch

    settings, exports = small_city
    url = settings.warehouse_url
    for path in exports:
        assert load_bvh(path, settings).ok
    keys = ["period_type", "period", "area_level", "area_code", "group_code", "mk_code"]
    before = published(url, "GM9999").sort_values(keys).reset_index(drop=True)
    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", url)
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BUURTBEELD_HASH_SECRET", "test-secret")  # the cell keys' secret: as the loads had it
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["publiceer"])
    assert result.exit_code == 0, result.output
    assert "GM9999:" in result.output and "afgeschermd" in result.output
    pd.testing.assert_frame_equal(before, published(url, "GM9999").sort_values(keys).reset_index(drop=True))
    with get_engine(url).connect() as conn:
        latest = conn.execute(select(LoadBatch.kind, LoadBatch.status).order_by(LoadBatch.id.desc())).first()
    assert tuple(latest) == ("publicatie", "loaded")

    refused = CliRunner().invoke(cli, ["publiceer", "--gemeente", "GM0000"])
    assert refused.exit_code == 1 and "Geen weektellingen voor GM0000" in refused.output
    assert "Traceback" not in refused.output

    from etl.analyses import generate

    month = sorted(set(published(url, "GM9999").query("period_type == 'month'")["period"]))[-1]
    assert generate(settings, month, gemeente="GM9999")
    monkeypatch.setenv("BUURTBEELD_SUPPRESSION_THRESHOLD", "10")
    get_settings.cache_clear()
    stricter_run = CliRunner().invoke(cli, ["publiceer", "--gemeente", "GM9999"])
    assert stricter_run.exit_code == 0, stricter_run.output
    # The stored analysis was written under threshold 5: it is regenerated under the new cube.
    assert f"GM9999: maandanalyses vernieuwd voor {month}" in stricter_run.output
    get_settings.cache_clear()
    stricter = published(url, "GM9999")
    assert (stricter["shared_count"].dropna() % 10 == 0).all() and (stricter["shared_count"] == 10).any()
    check_cube(url, "GM9999", _hierarchy(url, "GM9999"), threshold=10)


def test_a_partial_year_keeps_its_cube_numeric() -> None:
    """The current year has no year (or unfinished quarter) cell; its empty part must not turn the
    cube's counts into Python objects (which cost 100 MB and seconds on every weekly publish)."""
    hierarchy = pd.DataFrame({"buurt_code": ["BU00010001", "BU00010002"], "wijk_code": "WK000100", "stadsdeel": None})
    weeks = [1, 2, 3, 4, 5]
    counts = pd.DataFrame(
        {
            "iso_year": 2026,
            "iso_week": weeks * 2,
            "buurt_code": ["BU00010001"] * 5 + ["BU00010002"] * 5,
            "group_code": "inbraak",
            "mk_code": "*",
            "count": [7, 3, 9, 12, 6, 8, 8, 2, 11, 5],
        }
    )
    periods = {"week": [f"2026-W{w:02d}" for w in weeks], "month": ["2026-01"], "quarter": [], "year": []}
    cells = year_cube(counts, hierarchy, "GM0001", 5, periods, b"test")
    assert set(cells["period_type"]) == {"week", "month"}
    assert cells["count"].dtype.kind == "i" and cells["status"].dtype.kind == "i"
    january = cells[(cells["period"] == "2026-01") & (cells["area_level"] == "gemeente") & (cells["group_code"] == "*")]
    assert january["count"].tolist() == [71]  # weeks 1-5 of 2026: their Thursdays all lie in January


def _relations_by_rule(cells: pd.DataFrame) -> set[tuple[int, int, int]]:
    """(relation, parent, child) of every cell, read off the rule one cell at a time: a category
    group is part of its area's all-categories cell, an MK code of its group's cell, a buurt of its
    wijk, a wijk of its stadsdeel when all its buurten lie in one (else each buurt of it), a wijk and a
    stadsdeel of the gemeente. Relation ids as `links` numbers them: parent position + cube size x the
    relation's kind."""
    position = {tuple(row): i for i, row in enumerate(cells[KEY].itertuples(index=False))}
    buurten = cells[cells["area_level"] == "buurt"]
    stadsdelen_of = {w: set(g["stadsdeel"].tolist()) for w, g in buurten.groupby("wijk", dropna=False)}
    whole = {w: next(iter(sd)) for w, sd in stadsdelen_of.items() if len(sd) == 1}
    stadsdelen = (cells["area_level"] == "stadsdeel").any()
    kinds = ["all categories", "group", "wijk", "gemeente from wijk"] + (
        ["stadsdeel", "gemeente from stadsdeel"] if stadsdelen else []
    )
    gemeente = cells.loc[cells["area_level"] == "gemeente", "area_code"].iloc[0]
    found = set()
    for i, cell in enumerate(cells.itertuples(index=False)):
        period, level, area, group, mk = cell.period, cell.area_level, cell.area_code, cell.group_code, cell.mk_code
        wanted = []
        if group != ALL and mk == ALL:
            wanted.append(("all categories", (period, level, area, ALL, ALL)))
        if mk != ALL:
            wanted.append(("group", (period, level, area, group, ALL)))
        if level == "buurt":
            wanted.append(("wijk", (period, "wijk", cell.wijk, group, mk)))
            if not (cell.wijk in whole and (period, "wijk", cell.wijk, group, mk) in position):
                wanted.append(("stadsdeel", (period, "stadsdeel", cell.stadsdeel, group, mk)))
        if level == "wijk" and area in whole:
            wanted.append(("stadsdeel", (period, "stadsdeel", whole[area], group, mk)))
        if level in ("wijk", "stadsdeel"):
            wanted.append((f"gemeente from {level}", (period, "gemeente", gemeente, group, mk)))
        for kind, key in wanted:
            if kind in kinds and key in position:
                found.add((position[key] + len(cells) * kinds.index(kind), position[key], i))
    return found


@pytest.mark.parametrize("stadsdelen", [True, False])
def test_links_are_the_relations_the_rule_gives(stadsdelen: bool) -> None:
    """Every cube of a year (categorical keys as built, and plain text with missing wijk/stadsdeel as
    the cube checks rebuild it from stored cells) gets exactly the relations the rule gives."""
    rng = np.random.default_rng(7)
    buurten = [f"BU0001{i:04d}" for i in range(12)]
    hierarchy = pd.DataFrame(
        {
            "buurt_code": buurten,
            "wijk_code": [f"WK0001{i // 4:02d}" for i in range(12)],
            "stadsdeel": [("Noord" if i < 6 else "Zuid") if stadsdelen and i != 11 else None for i in range(12)],
        }
    )
    rows = [
        (2025, week, buurt, group, mk)
        for week in range(1, 10)
        for buurt in [*buurten, "onbekend"]
        for group, mk in [("inbraak", "B1"), ("inbraak", "B2"), ("fiets", "F1"), ("fiets", "*"), ("geweld", "G1")]
        if rng.random() < 0.6
    ]
    counts = pd.DataFrame(rows, columns=["iso_year", "iso_week", "buurt_code", "group_code", "mk_code"])
    counts["count"] = rng.integers(1, 9, len(counts))
    periods = {
        "week": [f"2025-W{w:02d}" for w in range(1, 10)],
        "month": ["2025-01", "2025-02"],
        "quarter": [],
        "year": [],
    }
    cube = year_cube(with_group_cells(counts), hierarchy, "GM0001", 5, periods, b"test")
    assert set(cube["area_level"]) == {"buurt", "wijk", "gemeente", *(["stadsdeel"] if stadsdelen else [])}
    for _, cells in cube.groupby("period_type"):
        cells = cells[[*KEY, "wijk", "stadsdeel", "count"]].reset_index(drop=True)
        as_text = cells.astype(object).where(cells.notna(), None)
        as_text.loc[as_text["area_level"] != "buurt", ["wijk", "stadsdeel"]] = None
        for frame in (cells, as_text):
            parent, child, relation = links(frame)
            got = set(zip(relation.tolist(), parent.tolist(), child.tolist(), strict=True))
            assert len(got) == len(parent) and got == _relations_by_rule(frame)
            assert len(got) > len(frame)  # every cell but the gemeente total is a part, most of two


def test_a_weekly_load_recomputes_only_the_parts_tied_to_its_weeks() -> None:
    """The parts of a year's cube that relations tie together: a week alone while its month is
    incomplete, else its month, else its quarter; a complete year, or a period that stops being
    complete, is the whole year (None). test_period_recount checks the outcome equals a rebuild."""
    q1 = {"2026-01", "2026-02", "2026-03", "2026-Q1"}
    upto_april = q1 | {"2026-04"}
    # 2026-W19 (Thursday 7 May) in an incomplete May: the week alone.
    assert stale_parts(2026, {(2026, 19)}, upto_april, upto_april) == ["2026-W19"]
    # A late registration in April (complete month, incomplete quarter) and one in Q1.
    assert stale_parts(2026, {(2026, 19), (2026, 15), (2026, 3)}, upto_april, upto_april) == [
        "2026-04",
        "2026-Q1",
        "2026-W19",
    ]
    # The delivery that completes May: the month with its weeks.
    assert stale_parts(2026, {(2026, 22)}, upto_april, upto_april | {"2026-05"}) == ["2026-05"]
    # Completing June completes Q2: the quarter.
    done = upto_april | {"2026-05", "2026-06", "2026-Q2"}
    assert stale_parts(2026, {(2026, 26)}, upto_april | {"2026-05"}, done) == ["2026-Q2"]
    # A complete year, a period no longer complete: the whole year.
    assert stale_parts(2025, {(2025, 30)}, {"2025"}, {"2025"}) is None
    assert stale_parts(2026, {(2026, 19)}, upto_april, q1) is None
    # Weeks of other years are not this year's parts.
    assert stale_parts(2026, {(2025, 52)}, upto_april, upto_april) == []


def test_the_shared_state_query_reads_exactly_the_shared_design(settings: Settings) -> None:
    """`warehouse.published.shared_state` repeats `disclosure.shared_cell` as a SQL filter (so that only
    those rows are read); over every combination of period type, area level, group and MK code the two
    must agree, or the pair attack would be run on the wrong previous publication."""
    from itertools import product

    from warehouse.db import upgrade

    upgrade(settings.warehouse_url)
    periods = {"week": "2026-W05", "month": "2026-01", "quarter": "2026-Q1", "year": "2026"}
    rows = [
        (kind, periods[kind], level, f"{level}-1", group, mk if group != ALL else ALL)
        for kind, level, group, mk in product(
            periods, ("gemeente", "stadsdeel", "wijk", "buurt"), (ALL, "inbraak"), (ALL, "A20")
        )
    ]
    cells = pd.DataFrame(rows, columns=["period_type", *KEY]).drop_duplicates()
    cells = cells.assign(count=3, shared_count=5, status=disclosure.SHOWN, indeling_year=2026)
    cells["period_start"] = pd.Timestamp("2026-01-01").date()
    with load_transaction(settings.warehouse_url) as conn:
        store.replace_year(conn, "GM0001", 2026, cells, None)
    with get_engine(settings.warehouse_url).connect() as conn:
        read = store.shared_state(conn, "GM0001", 2026)
    offered = cells[
        disclosure.shared_cell(cells["period_type"], cells["area_level"], cells["group_code"], cells["mk_code"])
    ]
    assert len(offered) not in (0, len(cells))
    as_set = lambda frame: set(map(tuple, frame[["period_type", *KEY]].astype(str).to_numpy()))  # noqa: E731
    assert as_set(read) == as_set(offered)
