"""Access control in-process: every route needs a login when accounts exist, cookies are locked down,
and a stadsdeel account gets no data outside its stadsdeel from any callback or download."""

from __future__ import annotations

import base64
import io
import json
import re

import openpyxl
import pytest
from werkzeug.security import generate_password_hash

from buurtbeeld.settings import Settings, get_settings
from dashboard.access import sign_in
from tests.helpers import dashboard_app
from warehouse import queries

ACCOUNTS = {
    "sam": {"role": "stadsdeel", "stadsdeel": "Noord", "password": generate_password_hash("stadsdeel-wachtwoord")},
    "anna": {"role": "analist", "password": generate_password_hash("analist-wachtwoord")},
    "bob": {"role": "analist", "password": generate_password_hash("bob-wachtwoord")},  # throttled below
}


@pytest.fixture
def app(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch):
    yield dashboard_app(demo_warehouse, monkeypatch, ACCOUNTS)
    get_settings.cache_clear()


def test_routes_need_a_login_and_cookies_are_locked_down(app) -> None:
    client = app.server.test_client()
    assert client.get("/weekoverzicht").status_code == 302
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/vendor/bootstrap/css/bootstrap.min.css").status_code == 200
    refused = client.post("/login", data={"user": "anna", "password": "fout"})
    assert refused.status_code == 200 and "onjuist wachtwoord" in refused.get_data(as_text=True)
    ok = client.post("/login", data={"user": "anna", "password": "analist-wachtwoord", "next": "//evil.example/"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"  # no open redirect
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    page = client.get("/weekoverzicht")
    assert page.status_code == 200 and page.headers["X-Content-Type-Options"] == "nosniff"


def test_stadsdeel_account_gets_nothing_outside_its_stadsdeel(app, demo_warehouse: Settings) -> None:
    from dashboard.pages import buurtprofiel, trends, verbanden, weekoverzicht

    url = demo_warehouse.warehouse_url
    areas = queries.areas(url, "GM9999")
    buurten = areas[(areas["area_level"] == "buurt") & (areas["area_code"] != "onbekend")]
    own = set(buurten[buurten["stadsdeel"] == "Noord"]["area_code"])
    other = sorted(set(buurten["area_code"]) - own)[0]
    other_wijk = areas[(areas["area_level"] == "wijk") & (areas["stadsdeel"] != "Noord")]["area_code"].iloc[0]
    week = queries.periods(url, "GM9999", "week")[-1]
    quarter = queries.periods(url, "GM9999", "quarter")[-1]
    with app.server.test_request_context("/"):
        sign_in("sam")
        assert trends.update("GM9999", "buurt", other, "*", "week", "aantal")[1] == "Kies een gebied."
        assert trends.update("GM9999", "wijk", other_wijk, "*", "week", "aantal")[1] == "Kies een gebied."
        assert trends.export(1, "GM9999", "buurt", other, "*", "week") is trends.no_update
        assert buurtprofiel.export(1, "GM9999", other, [], quarter) is trends.no_update
        assert trends.update("GM9999", "gemeente", "GM9999", "*", "week", "aantal")[0]  # gemeente totals allowed
        options, _ = trends.area_options("GM9999", "buurt", None)
        assert {o["value"] for o in options} == own
        content, _ = buurtprofiel.update("GM9999", other, [], quarter)
        assert "Kies een buurt" in json.dumps(content.to_plotly_json(), default=str)
        _, _, table = weekoverzicht.update("GM9999", week, "*", "aantal")
        assert other not in json.dumps(table.to_plotly_json(), default=str)
        first_view = json.dumps(weekoverzicht.layout(gemeente="GM9999", week=week).to_plotly_json(), default=str)
        assert own <= set(re.findall(r"BU\d{8}", first_view)) and other not in first_view
        # The download ranks what the page ranks: for the stadsdeel manager (gedeeld), the own stadsdeel.
        download = weekoverzicht.export(1, "GM9999", week, "*")
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
        assert "Buurten" not in book.sheetnames
        assert [row[0] for row in book["Stadsdelen"].iter_rows(min_row=2, values_only=True)] == ["Noord"]
        points = verbanden.points("GM9999", "aantal_inwoners", "*", quarter)
        assert set(points["area_code"]) == own
        assert weekoverzicht.open_profile({"points": [{"location": other}]}, "GM9999") is trends.no_update
        # A colleague's link to a buurt elsewhere opens the account's own with a line saying so.
        page = json.dumps(buurtprofiel.layout(gemeente="GM9999", buurt=other).to_plotly_json(), default=str)
        assert "bp-link-notice" in page and "niet beschikbaar in uw weergave" in page
        mine = sorted(own)[0]
        page = json.dumps(buurtprofiel.layout(gemeente="GM9999", buurt=mine).to_plotly_json(), default=str)
        assert "bp-link-notice" not in page


def test_bogus_url_parameters_fall_back_to_defaults(app) -> None:
    """A mangled or outdated link opens the page with its defaults, never a traceback."""
    client = app.server.test_client()
    assert client.post("/login", data={"user": "anna", "password": "analist-wachtwoord"}).status_code == 302
    from dashboard import components as ui
    from dashboard.pages import buurtprofiel, trends, verbanden, weekoverzicht

    with app.server.test_request_context("/"):
        sign_in("anna")
        for render in (
            lambda: weekoverzicht.layout(gemeente="GM0000", week="2099-W99", groep="<script>", maat="x"),
            lambda: trends.layout(gemeente="GM9999", niveau="land", gebied="BU00000000", per="dag"),
            lambda: buurtprofiel.layout(buurt="BU99999999", ref=["x", "y"], periode="1999-Q9"),
            lambda: verbanden.layout(indicator="bestaat_niet", periode="abc"),
            lambda: weekoverzicht.layout(gemeente="GM9999", groep="woninginbraak", mk="ZZ99<script>"),
            lambda: trends.layout(gemeente="GM9999", groep="*", mk="A20"),
            lambda: verbanden.layout(groep="bestaat_niet", mk="A20"),
        ):
            text = json.dumps(render().to_plotly_json(), default=str)
            assert "Traceback" not in text and "ZZ99" not in text and "<script>" not in text
        # An MK code that is not in the link's group is dropped: the page shows the whole group.
        assert ui.mk_state("GM9999", "woninginbraak", "ZZ99")["value"] is None
        assert ui.mk_state("GM9999", "*", "A20") == {
            "options": [],
            "value": None,
            "disabled": True,
            "placeholder": "Kies eerst een categorie",
        }
        week = queries.periods(get_settings().warehouse_url, "GM9999", "week")[-1]
        _, figure, _ = weekoverzicht.update("GM9999", week, "woninginbraak", "aantal", "ZZ99")
        assert all(not trace.get("z") or max(trace["z"]) == 0 for trace in figure["data"])
        assert trends.update("GM9999", "land", "BU00000000", "*", "week", "aantal")[1] == "Kies een gebied."
        # Hand-written links: Dutch words and names as the page shows them are read; the rest falls back
        # to the defaults, never to a value the callbacks cannot draw (per=maand gave an empty chart and
        # an Excel download that failed with a server error).
        for asked, grain in (("maand", "month"), ("Per maand", "month"), ("dag", "week"), ("month", "month")):
            assert _prop(trends.layout(gemeente="GM9999", per=asked), "tr-per") == grain
        assert _prop(trends.layout(gemeente="GM9999", groep="Woninginbraak"), "tr-groep") == "woninginbraak"
        assert _prop(trends.layout(gemeente="GM9999", maat="zomaar"), "tr-maat") == "aantal"
        assert _prop(trends.layout(gemeente="GM9999", maat="Per 1 000 inwoners"), "tr-maat") == "per1000"
        assert _prop(trends.layout(gemeente="GM9999", maat="per 1.000 inwoners"), "tr-maat") == "per1000"


def test_an_open_gedeeld_dashboard_has_no_beheer(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without accounts the dashboard is for anyone: served gedeeld it shows no Beheer (file names,
    raw values of rejected rows); served intern (the demo) it does."""
    from dashboard import access

    for audience, sees in (("gedeeld", False), ("intern", True)):
        monkeypatch.setenv("BUURTBEELD_AUDIENCES", json.dumps({"open": audience}))
        app = dashboard_app(demo_warehouse, monkeypatch, {})
        from dashboard.app import shell
        from dashboard.pages import beheer

        with app.server.test_request_context("/"):
            assert access.current_user().sees_beheer == sees
            page = json.dumps(beheer.layout().to_plotly_json(), default=str)
            assert ("alleen voor functioneel beheer" in page) != sees, audience
            assert ("href='/beheer'" in str(shell())) == sees, audience
        get_settings.cache_clear()


def test_the_buurtprofiel_download_holds_numbers_excel_can_sum(app, demo_warehouse: Settings) -> None:
    """Found by an outside review: the Kerncijfers and Vergelijking sheets held the page's text
    ("4.110", "120 (29,2)"), which Excel cannot compute with. Now numbers, as the page rounds them,
    with a unit column; the page keeps its text."""
    from buurtbeeld import disclosure
    from dashboard.pages import buurtprofiel

    url = demo_warehouse.warehouse_url
    quarter = queries.periods(url, "GM9999", "quarter")[-1]
    buurt = queries.areas(url, "GM9999").query("area_level == 'buurt' and area_code != 'onbekend'")["area_code"]
    with app.server.test_request_context("/"):
        sign_in("anna")
        page = buurtprofiel.indicator_frame("GM9999", buurt.iloc[0])
        # The buurt shown is not offered as its own reference (the review found it there).
        refs = {o["value"] for o in buurtprofiel.update_references(buurt.iloc[0], "GM9999")}
        assert buurt.iloc[0] not in refs and buurt.iloc[1] in refs
        download = buurtprofiel.export(1, "GM9999", buurt.iloc[0], [buurt.iloc[1]], quarter)
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    rows = list(book["Kerncijfers"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:6] == ("Indicator", "Periode", "Eenheid", "Buurt", "Buurt (personen)", "Stadsdeel")
    assert len(body) == len(page) and body[0][0] == "Aantal inwoners"
    assert disclosure.format_number(body[0][3]) == page["Buurt"].iloc[0]
    values = [v for row in body for v in row[3:] if v is not None]
    assert values and all(isinstance(v, int | float) or v == "<5" for v in values), values
    compare = list(book["Vergelijking"].iter_rows(min_row=2, values_only=True))
    assert len(compare) >= 3 and all(isinstance(v, int | float) or v in ("x", "–") for r in compare for v in r[1:])


def test_every_dropdown_speaks_dutch(app) -> None:
    """Found by an outside review: "Search", "Select All" and "No options found" in the dropdowns."""
    from dashboard import components as ui
    from dashboard.pages import beheer, buurtprofiel, maandanalyses, trends, verbanden, weekoverzicht

    seen = 0
    with app.server.test_request_context("/"):
        sign_in("anna")
        for page in (weekoverzicht, trends, buurtprofiel, verbanden, maandanalyses, beheer):
            stack = [page.layout(gemeente="GM9999").to_plotly_json()]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    if node.get("type") == "Dropdown":
                        assert node["props"].get("labels") == ui.DROPDOWN_LABELS, node["props"].get("id")
                        seen += 1
                    stack.extend(node.values())
                elif isinstance(node, list | tuple):
                    stack.extend(node)
                elif hasattr(node, "to_plotly_json"):
                    stack.append(node.to_plotly_json())
    assert seen >= 15, seen


def _prop(layout, component_id: str, prop: str = "value"):
    """A property of the component with this id in a layout."""
    stack = [layout.to_plotly_json()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == component_id:
                return props.get(prop)
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif hasattr(node, "to_plotly_json"):
            stack.append(node.to_plotly_json())
    raise KeyError(component_id)


def test_broken_accounts_stop_the_dashboard_with_a_message(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from cli import cli

    bad = tmp_path / "users.json"
    for content, expected in (("{niet json", "geen geldige JSON"), ('{"x": {"role": "baas"}}', "rol moet")):
        bad.write_text(content)
        monkeypatch.setenv("BUURTBEELD_USERS_FILE", str(bad))
        monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["serve", "--port", "0"])
        assert result.exit_code != 0 and expected in result.output, result.output
    get_settings.cache_clear()


def test_a_session_ends_at_logout_and_at_a_password_change(app, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.server.test_client()
    assert client.post("/login", data={"user": "anna", "password": "analist-wachtwoord"}).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/weekoverzicht").status_code == 200
    assert client.get("/logout").status_code == 302
    thief = app.server.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/weekoverzicht").status_code == 302  # the copied cookie died with the logout
    assert thief.post("/_dash-update-component", json={}).status_code == 401

    assert client.post("/login", data={"user": "anna", "password": "analist-wachtwoord"}).status_code == 302
    assert client.get("/weekoverzicht").status_code == 200
    changed = {**ACCOUNTS, "anna": {"role": "analist", "password": generate_password_hash("nieuw-wachtwoord")}}
    monkeypatch.setenv("BUURTBEELD_USERS", json.dumps(changed))
    get_settings.cache_clear()
    assert client.get("/weekoverzicht").status_code == 302  # opened under the old password


def test_logins_are_throttled_and_only_from_this_site_to_this_site(app) -> None:
    client = app.server.test_client()
    elsewhere = {"REMOTE_ADDR": "10.9.8.7"}
    for _ in range(5):
        wrong = client.post("/login", data={"user": "bob", "password": "fout"}, environ_base=elsewhere)
        assert "onjuist wachtwoord" in wrong.get_data(as_text=True)
    blocked = client.post("/login", data={"user": "bob", "password": "bob-wachtwoord"}, environ_base=elsewhere)
    assert blocked.status_code == 200 and "Te veel mislukte pogingen" in blocked.get_data(as_text=True)

    for target in ("/\t/evil.example", "/\\evil.example", "https://evil.example/", "//evil.example"):
        form = client.get("/login", query_string={"next": target}).get_data(as_text=True)
        assert 'name="next" value="/"' in form, target
    ok = client.post("/login", data={"user": "anna", "password": "analist-wachtwoord", "next": "/\t/evil.example"})
    assert ok.headers["Location"] == "/"
    back = client.post("/login", data={"user": "anna", "password": "analist-wachtwoord", "next": "/trends?x=1"})
    assert back.headers["Location"] == "/trends?x=1"
    foreign = client.post(
        "/login",
        data={"user": "anna", "password": "analist-wachtwoord"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


def test_an_account_reads_only_its_own_gemeente(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """An account bound to another gemeente gets none of the demo's (GM9999) figures: no gemeente to
    choose, no areas, and every callback that names GM9999 is refused; bound to GM9999 it reads it."""
    from dashboard import access
    from dashboard import components as ui

    hashed = generate_password_hash("wachtwoord-lang-genoeg")
    accounts = {
        "els": {"role": "analist", "gemeente": "GM0014", "password": hashed},
        "sam": {"role": "stadsdeel", "stadsdeel": "Noord", "gemeente": "GM9999", "password": hashed},
    }
    app = dashboard_app(demo_warehouse, monkeypatch, accounts)
    from dashboard.pages import trends  # registers its page: after the app exists

    try:
        client = app.server.test_client()
        inputs = {"gemeente": "GM9999", "niveau": "gemeente", "gebied": "GM9999", "groep": "*", "per": "week"}
        inputs |= {"maat": "aantal", "mk": None}
        body = {
            "output": "..tr-graph.figure...tr-caption.children...tr-url.search..",
            "outputs": [
                {"id": "tr-graph", "property": "figure"},
                {"id": "tr-caption", "property": "children"},
                {"id": "tr-url", "property": "search"},
            ],
            "inputs": [{"id": f"tr-{k}", "property": "value", "value": v} for k, v in inputs.items()],
            "changedPropIds": ["tr-gemeente.value"],
        }
        for name, status in (("els", 403), ("sam", 200)):
            client.post("/login", data={"user": name, "password": "wachtwoord-lang-genoeg"})
            answer = client.post("/_dash-update-component", json=body)
            assert answer.status_code == status, (name, answer.status_code, answer.get_data(as_text=True)[:300])
            client.get("/logout")
        with app.server.test_request_context("/"):
            sign_in("els")
            assert ui.gemeente_options() == [] and ui.gemeente_choice("GM9999") is None
            assert ui.visible_areas("GM9999", "buurt").empty
            assert trends.update("GM9999", "gemeente", "GM9999", "*", "week", "aantal")[1] == "Kies een gebied."
            sign_in("sam")
            assert ui.gemeente_choice(None) == "GM9999" and not ui.visible_areas("GM9999", "buurt").empty
    finally:
        get_settings.cache_clear()
    # A stadsdeel account without a gemeente: bound to the only one, to nothing when there are more.
    unbound = access.User("sam", "stadsdeel", "Noord")
    assert access.permitted_gemeenten(unbound, ["GM9999"]) == ["GM9999"]
    assert access.permitted_gemeenten(unbound, ["GM0014", "GM9999"]) == []
    assert access.permitted_gemeenten(access.User("anna", "analist"), ["GM0014", "GM9999"]) == ["GM0014", "GM9999"]
    assert access.permitted_gemeenten(access.User("els", "analist", gemeente="GM0014"), ["GM0014", "GM9999"]) == [
        "GM0014"
    ]
