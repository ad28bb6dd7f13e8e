"""Two audiences: intern (analist, beheer) reads every count exactly, marked vertrouwelijk on screen and
in every export; gedeeld (stadsdeel, the open dashboard) reads protected figures only. The page talks
to no other origin and offers no upload of a chart."""

from __future__ import annotations

import base64
import io
import json

import openpyxl
import pandas as pd
import plotly
import pytest
from werkzeug.security import generate_password_hash

from buurtbeeld import disclosure
from buurtbeeld.settings import Settings, get_settings
from dashboard.access import sign_in
from tests.cube_checks import published
from tests.helpers import dashboard_app
from warehouse import queries

ACCOUNTS = {
    "sam": {"role": "stadsdeel", "stadsdeel": "Noord", "password": generate_password_hash("s")},
    "anna": {"role": "analist", "password": generate_password_hash("a")},
    "bea": {"role": "beheer", "password": generate_password_hash("b")},
}


@pytest.fixture
def app(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch):
    yield dashboard_app(demo_warehouse, monkeypatch, ACCOUNTS)
    get_settings.cache_clear()


def test_roles_map_to_audiences_and_a_setting_changes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import access

    s = Settings()
    for role, audience in {"analist": "intern", "beheer": "intern", "stadsdeel": "gedeeld", "open": "gedeeld"}.items():
        assert access.audience(access.User("x", role), s) == audience
    assert access.audience(None, s) == disclosure.GEDEELD
    monkeypatch.setenv("BUURTBEELD_AUDIENCES", '{"open": "intern", "analist": "gedeeld"}')
    s = Settings()
    assert s.audiences == {"analist": "gedeeld", "beheer": "intern", "stadsdeel": "gedeeld", "open": "intern"}
    monkeypatch.setenv("BUURTBEELD_AUDIENCES", '{"open": "iedereen"}')
    with pytest.raises(ValueError, match="intern"):
        Settings()


def _map_counts(update_output: tuple) -> pd.Series:
    figure = update_output[1]
    trace = figure["data"][0]
    return pd.Series(list(trace["customdata"]) if "customdata" in trace else [], dtype=object)


def test_intern_reads_exact_counts_and_gedeeld_reads_protected_ones(app, demo_warehouse: Settings) -> None:
    """The same Weekoverzicht table, as analist and as stadsdeel: the analist's counts are the cube's
    exact counts (small ones included), the stadsdeel's hide every 1-4."""
    from dashboard.pages import weekoverzicht

    url = demo_warehouse.warehouse_url
    cube = published(url, "GM9999")
    week = queries.periods(url, "GM9999", "week")[-1]
    exact = cube.query("period == @week and area_level == 'buurt' and group_code == '*' and mk_code == '*'")
    exact = exact.set_index("area_code")["count"]
    assert ((exact > 0) & (exact < 5)).any(), "the week has small counts to check"
    seen = {}
    for user in ("anna", "sam"):
        with app.server.test_request_context("/"):
            sign_in(user)
            frame = weekoverzicht.buurt_frame("GM9999", week, "*")
            note = app.layout().children[2]
            seen[user] = (frame.set_index("area_code"), note.children)
    anna, anna_note = seen["anna"]
    shown = anna["count"].reindex(exact.index)
    assert (shown == exact).all() and (anna["status"] == disclosure.SHOWN).all()
    # Ranked by the increase, incidents without a buurt after the buurten, not among them.
    assert anna.index[-1] == "onbekend" and anna["excess"].iloc[:-1].dropna().is_monotonic_decreasing
    assert "Vertrouwelijk — niet delen" in anna_note and "intern" in anna_note
    sam, sam_note = seen["sam"]
    small = sam["count"].notna() & (sam["count"] > 0) & (sam["count"] < 5)
    assert not small.any() and (sam["status"] != disclosure.SHOWN).any()
    assert "gedeeld" in sam_note and "Vertrouwelijk" not in sam_note


def _clear_query_caches() -> None:
    for value in vars(queries).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def test_a_coarse_figure_reads_marked_on_the_page_and_in_the_download(app, demo_warehouse: Settings) -> None:
    """A kept total shown coarser (disclosure.COARSE, etl.publish._coarsen) reaches the gedeeld reader as
    '≈10', its rate marked too, on the Trends page and in its Excel download (as text: summed as a
    number it would pass for exact); the analist still reads the exact count."""
    from sqlalchemy import text

    from dashboard.pages import trends
    from warehouse.db import get_engine

    url = demo_warehouse.warehouse_url
    cube = published(url, "GM9999")
    cell = cube.query(
        "period_type == 'month' and area_level == 'buurt' and group_code == '*' and mk_code == '*' "
        "and status == 0 and count >= 5 and count % 10 not in (0, 5)"
    ).iloc[-1]
    figure = int(disclosure.coarse_figure(cell["count"], 5))
    where = (
        "WHERE gemeente_code = 'GM9999' AND period_type = 'month' AND period = :p AND area_level = 'buurt' "
        "AND area_code = :a AND group_code = '*' AND mk_code = '*'"
    )
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE published_count SET status = 3, shared_count = :v {where}"),
            {"v": figure, "p": cell["period"], "a": cell["area_code"]},
        )
    _clear_query_caches()
    try:
        seen = {}
        for user in ("sam", "anna"):
            with app.server.test_request_context("/"):
                sign_in(user)
                series = trends.series_frame("GM9999", "buurt", cell["area_code"], "*", "month").set_index("period")
                chart = trends.update("GM9999", "buurt", cell["area_code"], "*", "month", "aantal")
                download = trends.export(1, "GM9999", "buurt", cell["area_code"], "*", "month")
            book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
            values = {v for row in book.worksheets[0].iter_rows(values_only=True) for v in row}
            seen[user] = (series.loc[cell["period"]], str(chart), values)
        sam, sam_chart, sam_values = seen["sam"]
        assert int(sam["status"]) == disclosure.COARSE and sam["count"] == figure
        assert f"≈{figure}" in sam_chart and f"≈{figure}" in sam_values
        assert any(isinstance(v, str) and v.startswith("≈") and "," in v for v in sam_values)  # the rate
        anna, anna_chart, anna_values = seen["anna"]
        assert anna["count"] == cell["count"] and int(anna["status"]) == disclosure.SHOWN
        assert "≈" not in anna_chart and not any(isinstance(v, str) and "≈" in v for v in anna_values)
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(f"UPDATE published_count SET status = 0, shared_count = :v {where}"),
                {"v": int(cell["shared_count"]), "p": cell["period"], "a": cell["area_code"]},
            )
        _clear_query_caches()


def test_every_intern_export_is_marked_vertrouwelijk(app, demo_warehouse: Settings) -> None:
    from dashboard.pages import maandanalyses, trends, weekoverzicht

    url = demo_warehouse.warehouse_url
    week = queries.periods(url, "GM9999", "week")[-1]
    month = queries.analysis_months(url, "GM9999")[-1]
    for user, marked in (("anna", True), ("bea", True), ("sam", False)):
        with app.server.test_request_context("/"):
            sign_in(user)
            downloads = [
                weekoverzicht.export(1, "GM9999", week, "*"),
                trends.export(1, "GM9999", "gemeente", "GM9999", "*", "month"),
            ]
            analysis = maandanalyses.export_tables(
                1, "GM9999", month, maandanalyses.scope_options("GM9999")[0]["value"]
            )
        for download in downloads:
            book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
            first = next(book["Toelichting"].iter_rows(min_row=2, max_row=2, values_only=True))
            assert first[0] == "Vertrouwelijkheid"
            assert ("Vertrouwelijk — niet delen" in first[1]) == marked, (user, first)
            for sheet in book.worksheets:
                assert (sheet.oddHeader.center.text == "Vertrouwelijk — niet delen") == marked
        # The monthly analyses are written for distribution: gedeeld, whoever downloads them.
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(analysis["content"])))
        first = next(book["Toelichting"].iter_rows(min_row=2, max_row=2, values_only=True))
        assert "gedeeld" in first[1]


def test_the_page_talks_to_this_origin_only_and_charts_offer_no_upload(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import access
    from dashboard import components as ui

    response = app.server.test_client().get("/login")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["connect-src"] == "'self'" and "https:" not in response.headers["Content-Security-Policy"]
    tiles = Settings(map_tiles_url="https://tiles.example.nl/{z}/{x}/{y}.png")
    assert "connect-src 'self' https://tiles.example.nl;" in access.content_security_policy(tiles)
    config = ui.graph_config("x")
    assert config["showSendToCloud"] is False and config["showEditInChartStudio"] is False
    assert {"sendDataToCloud", "editInChartStudio"} <= set(config["modeBarButtonsToRemove"])


def test_the_demo_gedeeld_figures_withstand_the_auditor_and_lose_little(demo_warehouse: Settings) -> None:
    """The demo as built, one weekly delivery after another: the auditor pins or narrows no small
    count in any year. Issue 23's loss targets: at most 5 % of the offered cells of 20 or more hidden
    (0.1-0.32 % over four secret keys, docs/privacy.md), and no kept total hidden: one that would pin
    a small month beside it is shown coarser and marked, at most 0.5 % of them (0-6 of 3 000 over
    seven keys, docs/privacy.md; each test run builds the demo with a new key)."""
    from etl.publish import audit_published

    [(_, result)] = audit_published(demo_warehouse).items()
    assert {year: (y["exact"], y["nauw"]) for year, y in result["jaren"].items()} == {
        year: (0, 0) for year in result["jaren"]
    }
    assert sum(y["klein"] for y in result["jaren"].values()) > 10_000  # there was something to attack
    assert result["totalen"] > 1_000 and result["totalen_verborgen"] == 0
    assert result["totalen_grover"] <= 0.005 * result["totalen"], result["totalen_grover"]
    overall = result["verlies"].set_index(["area_level", "period_type"]).loc[("alle", "alle")]
    assert overall["cells_ge20"] > 1_000 and overall["hidden_ge20"] <= 0.05, overall


def test_verbanden_leaves_buurten_where_a_handful_live_out_of_the_chart(app, demo_warehouse: Settings) -> None:
    """Found by an outside review: a buurt of 5 inwoners sat at (0, 0), labelled, and pulled the line
    and Spearman's rho. It stays in the table, not in the chart or the fit."""
    from dashboard.pages import verbanden

    url = demo_warehouse.warehouse_url
    year = queries.periods(url, "GM9999", "year")[-1]
    with app.server.test_request_context("/"):
        sign_in("anna")
        frame = verbanden.points("GM9999", "huishoudens_laag_inkomen", "*", year)
        figure, summary, table, _ = verbanden.update("GM9999", "huishoudens_laag_inkomen", "*", year)
    few = frame["inwoners"].fillna(0) < verbanden.MIN_INWONERS
    assert few.any(), "the demo has a buurt where a handful live"
    plotted = frame[~few].dropna(subset=["x", "y"])
    assert len(figure["data"][0]["x"]) == len(plotted)
    assert f"{int(few.sum())} met minder dan {verbanden.MIN_INWONERS} inwoners niet in de grafiek" in summary
    rows = json.dumps(table, cls=plotly.utils.PlotlyJSONEncoder)
    assert all(f'"Buurt": "{name}"' in rows for name in frame.loc[few, "name"])  # still in the table
    # The download says what the page says: the same rho, and no point for those buurten.
    with app.server.test_request_context("/"):
        sign_in("anna")
        download = verbanden.export(1, "GM9999", "huishoudens_laag_inkomen", "*", year)
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    about = {row[0]: row[1] for row in book["Toelichting"].iter_rows(min_row=2, values_only=True)}
    rho = verbanden.fit(frame)["rho"]
    assert f"ρ = {disclosure.format_number(rho, 2)} over" in summary
    assert about["Rangcorrelatie (Spearman)"] == disclosure.format_number(rho, 3)
    sheet = {row[1]: row[2:] for row in book["Buurten"].iter_rows(min_row=2, values_only=True)}
    assert all(sheet[name] == (None, "–") for name in frame.loc[few, "name"]), sheet
