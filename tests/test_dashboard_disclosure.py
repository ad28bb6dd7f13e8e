"""Every dashboard callback and export, called with realistic inputs as the gedeeld audience (no
accounts): no count 1-4 reaches the user, and every count in an Excel file is a shared figure.

The callbacks are called in-process (inside a Flask request) over a matrix of filters, on the demo data
and on the real Groningen BVH load; every output (tables, KPI cards, figures, Excel files) is scanned.
A callback added later without a place in CALLBACKS below makes the coverage test fail."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import plotly
import pytest

from buurtbeeld.settings import Settings
from warehouse import queries

SMALL = re.compile(r"^[1-4]$")
SMALL_IN_MARKDOWN = re.compile(r"\*\*\s*[1-4]\s*\*\*")  # KPI card lines: "vorige week **3**"
COUNT_TRACES = {"bar", "choroplethmap", "heatmap"}
COUNT_HEADERS = re.compile(r"aantal|deze week|vorige week|vorig jaar", re.IGNORECASE)
# Outputs that carry no statistics: navigation, save-view confirmations, Beheer (file bookkeeping,
# beheer role only; see dashboard/pages/beheer.py), the area picker's options.
EXEMPT = {
    # Dash Pages' own router: it renders a page's layout. Layouts hold controls only, except
    # Weekoverzicht's, which draws its first view with `render` (the function its update callback
    # calls); run_all scans that layout too.
    ".._pages_content.children..._pages_store.data..",
    "wo-url.search",
    "_pages_dummy.children",
    "wo-nav.href",
    "wo-view-status.children",
    "vb-view-status.children",
    "bp-view-status.children",
    "tr-view-status.children",
    "start-views.children",
    "bh-rejects.children",
    "bh-download.data",
    "..tr-gebied.options...tr-gebied.value..",
    "ma-view-status.children",
    # MK codes and their descriptions offered for a group: no counts.
    "..wo-mk.options...wo-mk.value...wo-mk.disabled...wo-mk.placeholder..",
    "..tr-mk.options...tr-mk.value...tr-mk.disabled...tr-mk.placeholder..",
    "..vb-mk.options...vb-mk.value...vb-mk.disabled...vb-mk.placeholder..",
    # Buurt names with the number of notable findings ("Oost (2 opvallend)"): no incident counts.
    "..ma-buurt.options...ma-buurt.value..",
    "bp-ref.options",  # buurt names to compare with, no figures
}
CALLBACKS = {
    "..wo-kpis.children...wo-map.figure...wo-table.children..",
    "wo-download.data",
    "wo-opvallend.children",
    "..vb-graph.figure...vb-summary.children...vb-table.children...vb-url.search..",
    "vb-download.data",
    "..bp-content.children...bp-url.search..",
    "bp-download.data",
    "..tr-graph.figure...tr-caption.children...tr-url.search..",
    "tr-download.data",
    "..ma-content.children...ma-url.search..",
    "ma-download-doc.data",
    "ma-download.data",
}


def plain(obj: Any) -> Any:
    return json.loads(json.dumps(obj, cls=plotly.utils.PlotlyJSONEncoder))


def violations(obj: Any, counts_plotted: bool, where: str = "") -> Iterator[str]:
    """Strings that are exactly 1-4, and plotted counts strictly between 0 and 5."""
    if isinstance(obj, str):
        if SMALL.match(obj.strip()) or SMALL_IN_MARKDOWN.search(obj):
            yield f"{where}: text {obj!r}"
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from violations(item, counts_plotted, f"{where}[{i}]")
    elif isinstance(obj, dict):
        if counts_plotted and obj.get("type") in COUNT_TRACES:
            axes = ["z"] + (["x"] if obj.get("orientation") == "h" else ["y"] if obj.get("type") == "bar" else [])
            for axis in axes:
                for value in _numbers(obj.get(axis)):
                    if 0 < value < 5:
                        yield f"{where}.{axis}: plotted count {value}"
        for key, value in obj.items():
            yield from violations(value, counts_plotted, f"{where}.{key}")


def _numbers(values: Any) -> Iterator[float]:
    if isinstance(values, dict) and "bdata" in values:  # plotly's typed-array encoding
        import numpy as np

        yield from np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).ravel().tolist()
    elif isinstance(values, list):
        for v in values:
            yield from _numbers(v)
    elif isinstance(values, int | float):
        yield float(values)


def excel_violations(download: dict[str, Any]) -> Iterator[str]:
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    assert "Toelichting" in book.sheetnames
    about = {row[0]: row[1] for row in book["Toelichting"].iter_rows(values_only=True)}
    assert "Geheimhouding" in about and "afgerond op 5-tallen" in about["Geheimhouding"] and "Laadbatch" in about
    assert about["Vertrouwelijkheid"].startswith("Weergave gedeeld")
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            continue
        for j, header in enumerate(rows[0]):
            if header and COUNT_HEADERS.search(str(header)) and "per 1.000" not in str(header):
                for i, row in enumerate(rows[1:], start=2):
                    if isinstance(row[j], int | float) and row[j] % 5:  # gedeeld: multiples of 5 only
                        yield f"{download['filename']}:{sheet.title}!{i},{header}: {row[j]}"
            for i, row in enumerate(rows[1:], start=2):
                if isinstance(row[j], str) and SMALL.match(row[j]):
                    yield f"{download['filename']}:{sheet.title}!{i},{header}: {row[j]!r}"


def run_all(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int]:
    """Call every statistical callback over a matrix of inputs; return the violations and the number of calls."""
    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", settings.warehouse_url)
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(settings.data_dir))
    from buurtbeeld.settings import get_settings

    get_settings.cache_clear()
    from dashboard.app import create_app

    app = create_app()  # imports the page modules (Dash requires the app first)
    from dashboard.pages import buurtprofiel, maandanalyses, trends, verbanden, weekoverzicht

    url = settings.warehouse_url
    found: list[str] = []
    calls = 0
    with app.server.test_request_context("/"):
        (gm, _), *_ = queries.gemeenten(url)
        weeks = queries.periods(url, gm, "week")
        from tests.cube_checks import published

        groups = ["*", *sorted(set(published(url, gm)["group_code"]) - {"*"})]
        areas = queries.areas(url, gm)
        buurten = areas[(areas["area_level"] == "buurt") & (areas["area_code"] != "onbekend")]["area_code"].tolist()
        fixed = [p for kind in ("month", "quarter", "year") for p in queries.periods(url, gm, kind)[-3:]]

        def check(out: Any, counts_plotted: bool, label: str) -> None:
            nonlocal calls
            calls += 1
            outputs = out if isinstance(out, tuple) else (out,)
            for item in outputs:
                if isinstance(item, dict) and "content" in item and "filename" in item:
                    found.extend(excel_violations(item))
                else:
                    found.extend(violations(plain(item), counts_plotted, label))

        for week in weeks[-6:] + weeks[:2]:
            for group in groups:
                for measure in ("aantal", "per1000"):
                    check(weekoverzicht.update(gm, week, group, measure), measure == "aantal", f"wo {week} {group}")
                check(weekoverzicht.export(1, gm, week, group), True, f"wo export {week} {group}")
            check(weekoverzicht.layout(gemeente=gm, week=week), True, f"wo layout {week}")
            check(weekoverzicht.update_notable(gm, week), True, f"wo opvallend {week}")
        with_mk = [(g, c) for g in groups[1:] for c, _ in queries.mk_codes(url, gm, g)[:3]]
        assert with_mk, "no MK-level cells published"
        for group, mk in with_mk:
            for week in weeks[-3:]:
                check(weekoverzicht.update(gm, week, group, "aantal", mk), True, f"wo {week} {group} {mk}")
            check(weekoverzicht.export(1, gm, weeks[-1], group, mk), True, f"wo export {group} {mk}")
            check(weekoverzicht.layout(gemeente=gm, groep=group, mk=mk), True, f"wo layout {group} {mk}")
            for level in queries.LEVELS:
                codes = areas[areas["area_level"] == level]["area_code"].tolist()
                if not codes:  # a gemeente without stadsdelen
                    continue
                code = codes[0]
                check(trends.update(gm, level, code, group, "week", "aantal", mk), True, f"tr {code} {group} {mk}")
                check(trends.export(1, gm, level, code, group, "month", mk), True, f"tr export {code} {mk}")
            year = (queries.periods(url, gm, "year") or queries.periods(url, gm, "quarter"))[-1]
            for ind in [o["value"] for o in verbanden.indicator_options(gm)][:1]:
                check(verbanden.update(gm, ind, group, year, mk), False, f"vb {group} {mk}")
                check(verbanden.export(1, gm, ind, group, year, mk), True, f"vb export {group} {mk}")
        for level in queries.LEVELS:
            codes = areas[areas["area_level"] == level]["area_code"].tolist()
            for code in codes[:6]:
                for group in groups[:: 3 if level == "buurt" else 1]:
                    for grain in ("week", "month"):
                        check(trends.update(gm, level, code, group, grain, "aantal"), True, f"tr {code} {group}")
                    check(trends.export(1, gm, level, code, group, "month"), True, f"tr export {code}")
        for buurt in buurten[:: max(1, len(buurten) // 12)]:
            for period in fixed:
                refs = [b for b in buurten[:3] if b != buurt]
                check(buurtprofiel.update(gm, buurt, refs, period), True, f"bp {buurt} {period}")
                check(buurtprofiel.export(1, gm, buurt, refs, period), True, f"bp export {buurt}")
        indicators = [o["value"] for o in verbanden.indicator_options(gm)] or ["geen"]
        for indicator in indicators[:4]:
            for group in groups[:6]:
                for period in [p for kind in ("year", "quarter") for p in queries.periods(url, gm, kind)[-2:]]:
                    check(verbanden.update(gm, indicator, group, period), False, f"vb {indicator} {group}")
                    if indicator != "geen":
                        check(verbanden.export(1, gm, indicator, group, period), True, f"vb export {indicator}")
        for month in queries.analysis_months(url, gm)[-2:]:
            for scope in [o["value"] for o in maandanalyses.scope_options(gm)]:
                options, first = maandanalyses.buurt_choices(gm, month, scope, None)
                for buurt in [first, *[o["value"] for o in options][1::4]]:
                    check(maandanalyses.update(gm, month, scope, buurt), True, f"ma {month} {scope} {buurt}")
                check(maandanalyses.export_tables(1, gm, month, scope), True, f"ma export {month} {scope}")
                page = maandanalyses.document_download("html", gm, month, scope)
                calls += 1
                # The HTML report: no table cell or text node that is a bare count 1-4.
                found.extend(f"ma html {month} {scope}: {m}" for m in re.findall(r">\s*[1-4]\s*<", page["content"]))
    return found, calls


def test_every_callback_output_is_covered_or_exempt(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", demo_warehouse.warehouse_url)
    from dashboard.app import create_app

    app = create_app()
    app.server.test_client().get("/_dash-dependencies")  # set-up: the app takes its callbacks
    registered = set(app.callback_map)
    assert registered == CALLBACKS | EXEMPT, registered ^ (CALLBACKS | EXEMPT)


def test_no_small_count_escapes_on_the_demo(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    found, calls = run_all(demo_warehouse, monkeypatch)
    assert calls > 300
    assert not found, found[:20]


@pytest.mark.slow
def test_no_small_count_escapes_on_real_groningen(
    settings: Settings, real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh

    assert load_buurten(real_data / "geometry/cbs_buurten_2017_groningen_wgs84.geojson", 2017, settings).ok
    assert load_bvh(real_data / "crime/politie_bvh_export_fietsdiefstal_groningen_2013_2017.xlsx", settings).ok
    found, calls = run_all(settings, monkeypatch)
    assert calls > 200
    assert not found, found[:20]


def test_the_scanner_catches_a_leak() -> None:
    """The scanner itself can fail: a table cell '3' and a plotted bar of 2 are reported."""
    import dash_bootstrap_components as dbc
    import plotly.graph_objects as go
    from dash import dcc, html

    table = dbc.Table([html.Tbody([html.Tr([html.Td("Buurt"), html.Td("3")])])])
    assert len(list(violations(plain(dcc.Markdown("vorige week **3**  \nweek 4 **12**")), True))) == 1
    fig = go.Figure(go.Bar(x=["a", "b"], y=[7, 2]))
    assert len(list(violations(plain(table), True))) == 1
    assert len(list(violations(plain(fig), True))) == 1
    assert not list(violations(plain(fig), False))


def test_a_buurts_days_and_dagdelen_are_hidden_alike_for_gedeeld(
    demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an outside review: the gedeeld heatmap showed a buurt's empty day × dagdeel cells as 0
    and the others as "x" (the Excel sheet listed only the non-empty ones), so with the buurt's total
    read 5 (1 to 7) and seven "x" cells, each was exactly 1. Now every cell is listed, and hidden
    alike, whatever its count; intern reads all 28 exactly."""
    from datetime import date

    from buurtbeeld import disclosure
    from dashboard.app import create_app

    url = demo_warehouse.warehouse_url
    (gm, _), *_ = queries.gemeenten(url)
    areas = queries.areas(url, gm)
    buurten = areas[(areas["area_level"] == "buurt") & (areas["area_code"] != "onbekend")]["area_code"]
    start, end = date(2025, 10, 1), date(2026, 1, 1)
    mixed = 0
    for buurt in buurten:
        intern = queries.weekday_dagdeel(url, gm, buurt, start, end, 5, audience=disclosure.INTERN)
        gedeeld = queries.weekday_dagdeel(url, gm, buurt, start, end, 5, audience=disclosure.GEDEELD)
        assert len(intern) == len(gedeeld) == 28
        assert gedeeld["count"].isna().all() and not disclosure.visible(gedeeld["status"]).any()
        mixed += bool((intern["count"] == 0).any() and (intern["count"] > 0).any())
    assert mixed > 10  # the case that leaked: empty and non-empty cells in one buurt

    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", url)
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(demo_warehouse.data_dir))
    from buurtbeeld.settings import get_settings

    get_settings.cache_clear()
    app = create_app()
    from dashboard.pages import buurtprofiel

    with app.server.test_request_context("/"):
        download = buurtprofiel.export(1, gm, buurten.iloc[0], [], "2025-Q4")
        content, _ = buurtprofiel.update(gm, buurten.iloc[0], [], "2025-Q4")
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    cells = [row[2] for row in book["Tijdstippen"].iter_rows(min_row=2, values_only=True)]
    assert len(cells) == 28 and set(cells) == {"x"}
    page = json.dumps(plain(content))
    assert "bp-heatmap-gedeeld" in page and '"bp-heatmap"' not in page
    # A buurt's categories per quarter are not shared either: a sentence, not a chart of "x" on −1…1.
    assert "bp-categories-gedeeld" in page and '"bp-categories"' not in page
