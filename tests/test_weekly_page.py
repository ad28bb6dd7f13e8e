"""The Weekoverzicht's "Opvallend deze week" card and sheet on the demo warehouse, per audience: exact and
ranked for the analist, one sentence and no number for the gedeeld audience."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from typing import Any

import numpy as np
import openpyxl
import plotly
import pytest
from werkzeug.security import generate_password_hash

from buurtbeeld import disclosure, weekly
from buurtbeeld.settings import Settings, get_settings
from dashboard.access import sign_in
from tests.helpers import dashboard_app
from warehouse import queries

ACCOUNTS = {
    "sam": {"role": "stadsdeel", "stadsdeel": "Noord", "password": generate_password_hash("s")},
    "anna": {"role": "analist", "password": generate_password_hash("a")},
}
GM = "GM9999"


@pytest.fixture
def app(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch):
    yield dashboard_app(demo_warehouse, monkeypatch, ACCOUNTS)
    get_settings.cache_clear()


def texts(component: Any) -> list[str]:
    """Every string a component tree shows (AG Grid rows included)."""
    found: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, str):
            found.append(obj)
        elif isinstance(obj, list):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                if key not in ("id", "className", "type", "namespace", "field", "col-id", "style", "localeText"):
                    walk(value)

    walk(json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)))
    return found


def week_with_findings(url: str) -> str:
    """The latest week whose list is not empty (the demo plants outbreaks; some show in a week)."""
    from dashboard.pages import weekoverzicht

    for week in reversed(queries.periods(url, GM, "week")[-80:]):
        if len(weekly.notable_only(weekoverzicht.notable_tests(url, GM, week))):
            return week
    pytest.fail("no week of the demo has a notable buurt")


def test_the_analist_reads_the_ranked_list_and_gedeeld_one_sentence(app, demo_warehouse: Settings) -> None:
    from dashboard.pages import weekoverzicht

    url = demo_warehouse.warehouse_url
    week = week_with_findings(url)
    listed = weekly.notable_only(weekoverzicht.notable_tests(url, GM, week))
    names = queries.areas(url, GM).set_index("area_code")["name"]
    with app.server.test_request_context("/"):
        sign_in("anna")
        card = weekoverzicht.render_notable(GM, week)
        sheet = weekoverzicht.notable_sheet(GM, week)
    shown = texts(card)
    joined = " ".join(shown)
    assert "Opvallend deze week" in joined and week not in joined
    assert f"week {int(week.split('-W')[1])}" in joined.lower()
    # The card says which seasonal correction the expectations have (no claim of one not made).
    assert "landelijke seizoenspatroon" in joined and "zedenmisdrijven: zonder seizoenscorrectie" in joined
    assert "minder dan 30 per week" in joined
    grid = next(
        c
        for c in json.loads(json.dumps(card, cls=plotly.utils.PlotlyJSONEncoder))["props"]["children"][1]["props"][
            "children"
        ]
        if isinstance(c, dict) and c.get("props", {}).get("id") == "wo-opvallend-lijst"
    )
    rows = grid["props"]["rowData"]
    assert [r["Buurt"] for r in rows] == [names[c] for c in listed["area_code"]]
    # Expected counts half up, exact registered counts, the evidence in words.
    assert [r["Verwacht"] for r in rows] == [
        str(int(np.floor(v + 0.5))) if v >= 0.5 else "minder dan 1" for v in listed["expected"]
    ]
    assert [r["Geregistreerd"] for r in rows] == [str(int(v)) for v in listed["observed"]]
    assert all(r["Bewijs"].startswith("opvallend ") and "kans" in r["Bewijs"] for r in rows)
    assert list(sheet["Rang"]) == list(range(1, len(listed) + 1))
    assert list(sheet["Geregistreerd"]) == [int(v) for v in listed["observed"]]

    with app.server.test_request_context("/"):
        sign_in("sam")
        card = weekoverzicht.render_notable(GM, week)
        sheet = weekoverzicht.notable_sheet(GM, week)
        download = weekoverzicht.export(1, GM, week, "*")
    shown = texts(card)
    assert weekoverzicht.SHARED_NOTABLE in shown
    # No figure of the week's buurten, hidden or not, and no buurt name: only the title and the sentence.
    assert not any(re.search(r"\d", t) for t in shown), shown
    assert not set(shown) & set(names[listed["area_code"]])
    assert list(sheet.columns) == ["Toelichting"] and list(sheet["Toelichting"]) == [weekoverzicht.SHARED_NOTABLE]
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    cells = [v for row in book["Opvallend"].iter_rows(values_only=True) for v in row]
    assert cells == ["Toelichting", weekoverzicht.SHARED_NOTABLE]


def test_the_gedeeld_list_is_not_computed_from_exact_counts(app, demo_warehouse: Settings, monkeypatch) -> None:
    """For gedeeld the page does not even read the exact weekly buurt counts."""
    from dashboard.pages import weekoverzicht

    week = queries.periods(demo_warehouse.warehouse_url, GM, "week")[-1]
    asked: list[str] = []
    real = queries.buurt_weeks

    def spy(url: str, gemeente: str, periods: tuple[str, ...], audience: str = disclosure.GEDEELD):
        asked.append(audience)
        return real(url, gemeente, periods, audience)

    monkeypatch.setattr(queries, "buurt_weeks", spy)
    weekoverzicht.notable_tests.cache_clear()
    with app.server.test_request_context("/"):
        sign_in("sam")
        weekoverzicht.render_notable(GM, week)
    assert asked == []
    with app.server.test_request_context("/"):
        sign_in("anna")
        weekoverzicht.render_notable(GM, week)
    assert asked == [disclosure.INTERN]


def test_an_empty_week_says_so_and_the_list_is_fast_once_warm(app, demo_warehouse: Settings) -> None:
    from dashboard.pages import weekoverzicht

    url = demo_warehouse.warehouse_url
    weeks = queries.periods(url, GM, "week")
    empty = next(w for w in reversed(weeks) if not len(weekly.notable_only(weekoverzicht.notable_tests(url, GM, w))))
    with app.server.test_request_context("/"):
        sign_in("anna")
        assert "Niets opvallends deze week." in texts(weekoverzicht.render_notable(GM, empty))
        # Too little history before the first weeks: said, not "niets opvallends".
        assert any("Te weinig eerdere weken" in t for t in texts(weekoverzicht.render_notable(GM, weeks[2])))
        weekoverzicht.notable_tests.cache_clear()
        weekoverzicht.warm(GM)
        start = time.perf_counter()
        weekoverzicht.render_notable(GM, weeks[-1])
        assert time.perf_counter() - start < 0.1  # warm: the Monday page computes nothing


def test_a_stadsdeel_account_set_to_intern_sees_its_own_buurten_only(
    demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUURTBEELD_AUDIENCES", '{"stadsdeel": "intern"}')
    app = dashboard_app(demo_warehouse, monkeypatch, ACCOUNTS)
    from dashboard.pages import weekoverzicht

    url = demo_warehouse.warehouse_url
    areas = queries.areas(url, GM).query("area_level == 'buurt'")
    noord = set(areas.loc[areas["stadsdeel"] == "Noord", "area_code"])
    seen = 0
    try:
        for week in queries.periods(url, GM, "week")[-40:]:
            listed = weekly.notable_only(weekoverzicht.notable_tests(url, GM, week))
            with app.server.test_request_context("/"):
                sign_in("sam")
                frame = weekoverzicht.notable_frame(GM, week)
            assert frame is not None
            assert list(frame["area_code"]) == [c for c in listed["area_code"] if c in noord]
            seen += len(listed) - len(frame)
    finally:
        get_settings.cache_clear()
    assert seen > 0  # some notable buurten were outside Noord and left out


def test_the_gedeeld_map_and_table_show_the_stadsdelen_week(app, demo_warehouse: Settings) -> None:
    """A week's buurt figures are not shared, a stadsdeel's are: the gedeeld map paints each buurt with
    its stadsdeel's shared figure and the table ranks the stadsdelen (an outside review found the map
    all grey). The analist keeps the buurten, exact."""
    from dashboard.pages import weekoverzicht

    url = demo_warehouse.warehouse_url
    week = queries.periods(url, GM, "week")[-3]
    shared = queries.cells(url, GM, "week", (week,), "stadsdeel", "*", "*", audience=disclosure.GEDEELD)
    noord = shared.set_index("area_code").loc["Noord"]
    areas = queries.areas(url, GM)
    buurten = set(areas[(areas["area_level"] == "buurt") & (areas["stadsdeel"] == "Noord")]["area_code"])
    with app.server.test_request_context("/"):
        sign_in("sam")
        _, figure, table = weekoverzicht.render(GM, week, "*", "aantal")
        page = weekoverzicht.layout(gemeente=GM, week=week)
    painted = {loc: z for trace in figure["data"] for loc, z in zip(trace["locations"], trace["z"], strict=True)}
    assert set(painted) == buurten and len(buurten) >= 3
    assert int(noord["status"]) == disclosure.SHOWN  # a stadsdeel's total is never hidden
    assert set(painted.values()) == {noord["count"]} and noord["count"] % 5 == 0
    shown = texts(table)
    assert "Noord" in shown and disclosure.format_number(noord["count"]) in shown
    assert not set(shown) & set(areas.loc[areas["area_level"] == "buurt", "name"])
    assert any("hier staan de stadsdelen" in t for t in shown)
    assert "Kaart van de stadsdelen" in texts(page) and "Kaart van de buurten" not in texts(page)

    with app.server.test_request_context("/"):
        sign_in("anna")
        _, figure, _ = weekoverzicht.render(GM, week, "*", "aantal")
    painted = {loc: z for trace in figure["data"] for loc, z in zip(trace["locations"], trace["z"], strict=True)}
    exact = queries.cells(url, GM, "week", (week,), "buurt", "*", "*", audience=disclosure.INTERN)
    exact = exact.set_index("area_code")["count"]
    assert len(painted) > len(buurten)
    assert all(painted[c] == exact.get(c, 0) for c in painted if c in exact.index)


def test_weeks_without_data_read_as_a_dash_not_as_zero(app, demo_warehouse: Settings) -> None:
    """Found by an outside review: the first delivered week read "vorige week 0" and "zelfde week
    vorig jaar 0", and its mean of four weeks counted three weeks without data as 0."""
    from dashboard.pages import weekoverzicht

    weeks = queries.periods(demo_warehouse.warehouse_url, GM, "week")
    with app.server.test_request_context("/"):
        sign_in("anna")
        first = weekoverzicht.kpi_frame(GM, weeks[0])
        later = weekoverzicht.kpi_frame(GM, weeks[60])
    assert first["vorige_week"].isna().all() and first["gem4"].isna().all() and first["vorig_jaar"].isna().all()
    assert (first["deze_week"] > 0).any()
    assert later[["vorige_week", "gem4", "vorig_jaar"]].notna().all().all()
