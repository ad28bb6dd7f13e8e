"""The dashboard in a real headless Chromium (Playwright driving the Debian chromium), served by
`buurtbeeld serve` on the demo warehouse, with accounts for each role.

Screenshots of every page land in test-artifacts/screenshots/ (kept by CI)."""

from __future__ import annotations

import html
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from werkzeug.security import generate_password_hash

from buurtbeeld import disclosure
from buurtbeeld.settings import Settings
from tests.conftest import IN_CI, ROOT
from warehouse import queries

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "test-artifacts" / "screenshots"
USERS = {
    "anna": {"role": "analist", "password": "analist-wachtwoord"},
    "sam": {"role": "stadsdeel", "stadsdeel": "Noord", "password": "stadsdeel-wachtwoord"},
    "bea": {"role": "beheer", "password": "beheer-wachtwoord"},
}
PAGES = ["/", "/weekoverzicht", "/trends", "/buurtprofiel", "/verbanden", "/maandanalyses", "/beheer"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_warehouse: Settings) -> Iterator[str]:
    port = _free_port()
    accounts = {
        name: {k: v for k, v in a.items() if k != "password"} | {"password": generate_password_hash(a["password"])}
        for name, a in USERS.items()
    }
    env = {
        **os.environ,
        "BUURTBEELD_DATA_DIR": str(demo_warehouse.data_dir),
        "BUURTBEELD_WAREHOUSE_URL": demo_warehouse.warehouse_url,
        "BUURTBEELD_USERS": json.dumps(accounts),
        "BUURTBEELD_SECURE_COOKIES": "false",
    }
    log = open(demo_warehouse.data_dir / f"serve-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/login", timeout=1)
            break
        except OSError:
            time.sleep(0.25)
    else:
        proc.kill()
        pytest.fail("dashboard did not start: " + (demo_warehouse.data_dir / f"serve-{port}.log").read_text())
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("no chromium on this machine")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(browser: object, base: str, user: str, viewport: dict[str, int] | None = None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A script or eval the CSP blocks is reported on the console only; it is a defect like any error.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.errors = errors
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.fill("#user", user)
    page.fill("#password", USERS[user]["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def settle(page) -> None:
    """Wait until Dash has no callback in flight."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')")


def choose(page, control: str, text: str) -> None:
    """Pick an option of a Dash dropdown the way a user does: open it, click the option."""
    page.click(f"#{control}")
    page.click(f"[role=option]:has-text('{text}')")
    settle(page)


def test_login_is_required_and_wrong_passwords_are_refused(server: str, browser: object) -> None:
    with urllib.request.urlopen(f"{server}/weekoverzicht") as response:
        assert "/login" in response.url
        headers = response.headers
    assert headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in headers["Content-Security-Policy"]
    script_src = next(p for p in headers["Content-Security-Policy"].split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-" not in script_src and "'sha256-" in script_src, script_src
    request = urllib.request.Request(f"{server}/_dash-layout")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 401
    page = browser.new_page()
    page.goto(f"{server}/login")
    page.fill("#user", "anna")
    page.fill("#password", "fout")
    page.click("button[type=submit]")
    # The refusal is a new page (the form's POST): its alert is awaited, not read mid-navigation.
    assert "onjuist wachtwoord" in page.locator(".alert-danger").inner_text()
    assert "/login" in page.url
    page.close()


def test_every_page_renders_for_each_role(server: str, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    toolbar: list[str] = []
    for user in USERS:
        page = login(browser, server, user)
        nav = page.inner_text("nav")
        assert ("Beheer" in nav) == (user == "bea")
        for path in PAGES:
            page.goto(f"{server}{path}")
            settle(page)
            body = page.inner_text("main")
            assert "Traceback" not in body and "Error" not in body
            # Every page says whom its figures are for; no chart offers an upload to an outside service.
            assert page.get_attribute("#audience", "data-audience") == ("gedeeld" if user == "sam" else "intern")
            # What the shared figures mean, once on every page (Maandanalyses: in "Hoe lezen").
            shared = user == "sam" and path != "/beheer"  # beheer shows sam no figures
            assert body.count(disclosure.legend(5)[:40]) == (1 if shared else 0), (user, path)
            buttons = page.eval_on_selector_all(".modebar-btn", "els => els.map(e => e.dataset.title || '')")
            assert not [b for b in buttons if "Chart Studio" in b or "Cloud" in b or "Share" in b], buttons
            toolbar += buttons
            if path == "/beheer":
                assert ("Laadgeschiedenis" in body) == (user == "bea")
            name = path.strip("/") or "start"
            page.screenshot(path=str(SHOTS / f"{name}-{user}.png"), full_page=True)
        assert not page.errors, page.errors
        page.context.close()
    assert toolbar, "no chart toolbar was found to check"
    # The toolbar speaks Dutch, as the rest of the page (plotly's own strings are English).
    english = {"Download plot as a PNG", "Zoom", "Pan", "Autoscale", "Reset axes", "Zoom in", "Zoom out", "Reset view"}
    assert not english & set(toolbar), sorted(english & set(toolbar))
    assert "Grafiek downloaden als PNG" in toolbar
    tablet = login(browser, server, "anna", {"width": 820, "height": 1180})
    tablet.goto(f"{server}/weekoverzicht")
    settle(tablet)
    tablet.screenshot(path=str(SHOTS / "weekoverzicht-tablet.png"), full_page=True)
    assert tablet.locator("#wo-map .js-plotly-plot").count() == 1
    tablet.context.close()


def test_weekoverzicht_filters_url_state_and_map_click(server: str, browser: object) -> None:
    page = login(browser, server, "anna")
    page.goto(f"{server}/weekoverzicht")
    settle(page)
    assert page.locator("#wo-kpis .card").count() >= 5
    assert "Alle misdrijven" in page.inner_text("#wo-kpis")
    choose(page, "wo-groep", "Woninginbraak")
    page.wait_for_url("**groep=woninginbraak*")
    # The MK-code filter offers the group's MK codes; choosing one narrows map and table to it.
    page.click("#wo-mk")
    option = page.locator("[role=option]").first
    mk = option.inner_text().split()[0]
    option.click()
    page.wait_for_url(f"**mk={mk}*")
    settle(page)
    from playwright.sync_api import expect

    # The URL changes before the map's callback is sent: settle() can look in between (CI, once).
    expect(page.locator("#wo-map")).to_contain_text(f"MK {mk}", timeout=30_000)
    shared = page.url
    page.click("label:has-text('Per 1.000 inwoners')")
    page.wait_for_url("**maat=per1000*")
    settle(page)
    # Every column of the ranking shows its figures, within the table's width (a column named with a
    # dot was read by AG Grid as a path into the row, and came out empty).
    # The grid re-renders after the measure changes: poll until it holds, then say what it showed.
    row = "#wo-table .ag-row[row-index='0'] .ag-cell"
    read = "els => els.map(e => [e.getAttribute('col-id'), e.textContent.trim(), e.getBoundingClientRect().right])"
    fits = """row => {
        const cells = [...document.querySelectorAll(row)];
        const edge = document.querySelector("#wo-table").getBoundingClientRect().right;
        return cells.length && cells[cells.length - 1].getAttribute("col-id") === "Per 1.000 inwoners"
            && cells.every(c => c.textContent.trim() && c.getBoundingClientRect().right <= edge + 1);
    }"""
    try:
        page.wait_for_function(fits, arg=row, timeout=20_000)
    except Exception:
        pytest.fail(f"ranking table: {page.eval_on_selector_all(row, read)}")
    # A link pasted in a memo reopens the same view.
    other = page.context.new_page()
    other.goto(shared)
    settle(other)
    assert "Woninginbraak" in other.inner_text("#wo-groep")
    assert mk in other.inner_text("#wo-mk")
    other.close()
    # Click the middle of the map: the city is a disc around its centre, so a buurt is there.
    page.locator("#wo-map .js-plotly-plot").scroll_into_view_if_needed()
    box = page.locator("#wo-map .js-plotly-plot").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/buurtprofiel?*buurt=BU9999*", timeout=15000)
    page.wait_for_selector("#bp-indicators", timeout=15000)
    assert "Kerncijfers" in page.inner_text("main")
    page.context.close()


def test_weekoverzicht_shows_opvallend_deze_week(server: str, browser: object, demo_warehouse: Settings) -> None:
    """The analist's list on the page, ranked as buurtbeeld.weekly ranks it; the stadsdeel manager
    (gedeeld) reads one sentence and no figure of a buurt's week."""
    import re

    from playwright.sync_api import expect

    from buurtbeeld import weekly

    url = demo_warehouse.warehouse_url
    published = queries.periods(url, "GM9999", "week")
    info = queries.freshness(url, "GM9999")
    names = queries.areas(url, "GM9999").query("area_level == 'buurt'").set_index("area_code")["name"]

    def notable(week: str):
        history = weekly.history_weeks(published, week, [*info["provisional"], *info["missing"]])
        counts = queries.buurt_weeks(url, "GM9999", (*history, week), disclosure.INTERN)
        counts = counts[counts["area_code"].isin(set(names.index) - {"onbekend"})]
        return weekly.notable_only(weekly.notable_week(counts, week, history))

    week = next(w for w in reversed(published[-80:]) if len(notable(w)))
    listed = notable(week)
    page = login(browser, server, "anna")
    page.goto(f"{server}/weekoverzicht?gemeente=GM9999&week={week}")
    settle(page)
    card = page.locator("#wo-opvallend")
    expect(card).to_contain_text("Opvallend deze week", timeout=30_000)
    expect(card.locator(".ag-cell[col-id=Buurt]").first).to_have_text(names[listed["area_code"].iloc[0]])
    text = card.inner_text()
    assert f"eek {int(week.split('-W')[1])}" in text and week not in text
    shown = card.locator(".ag-cell[col-id=Verwacht]").all_inner_texts()
    said = [
        disclosure.format_number(float(np.floor(v + 0.5))) if v >= 0.5 else "minder dan 1" for v in listed["expected"]
    ]
    assert shown == said[: len(shown)]
    page.screenshot(path=str(SHOTS / "weekoverzicht-opvallend.png"), full_page=True)
    page.context.close()

    manager = login(browser, server, "sam")
    manager.goto(f"{server}/weekoverzicht?gemeente=GM9999&week={week}")
    settle(manager)
    card = manager.locator("#wo-opvallend")
    expect(card).to_contain_text("alleen in de weergave voor de analisten", timeout=30_000)
    assert not re.search(r"\d", card.inner_text()), card.inner_text()
    assert card.locator(".ag-cell").count() == 0
    manager.context.close()


def test_excel_export_and_saved_view(server: str, browser: object, tmp_path: Path) -> None:
    page = login(browser, server, "anna")
    page.goto(f"{server}/weekoverzicht")
    settle(page)
    with page.expect_download() as download:
        page.click("#wo-export")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    assert book.sheetnames == ["Buurten", "Kerncijfers", "Opvallend", "Toelichting"]
    assert [c.value for c in book["Buurten"][1]][:4] == ["Buurtcode", "Buurt", "Wijk", "Aantal"]
    about = {r[0]: r[1] for r in book["Toelichting"].iter_rows(values_only=True)}
    # An analist is intern: exact counts, the workbook marked as not for distribution.
    assert "Vertrouwelijk — niet delen" in about["Vertrouwelijkheid"] and about["Week"].startswith("week ")
    assert book["Buurten"].oddHeader.center.text == "Vertrouwelijk — niet delen"

    page.fill("#wo-view-name", "Maandagoverleg")
    page.click("#wo-view-save")
    page.wait_for_selector("text=Bewaard als 'Maandagoverleg'")
    page.goto(f"{server}/")
    settle(page)
    page.click("text=Maandagoverleg")
    page.wait_for_url("**/weekoverzicht?*")
    page.context.close()


def test_stadsdeel_role_sees_only_its_buurten(server: str, browser: object, demo_warehouse: Settings) -> None:
    areas = queries.areas(demo_warehouse.warehouse_url, "GM9999")
    noord = set(areas[(areas["area_level"] == "buurt") & (areas["stadsdeel"] == "Noord")]["name"])
    page = login(browser, server, "sam")
    page.goto(f"{server}/weekoverzicht")
    settle(page)
    # Gedeeld: a week's buurt figures are not shared, the table ranks the stadsdelen (its own only).
    own = "#wo-ranked .ag-cell[col-id=Stadsdeel]"
    page.wait_for_selector(own)  # AG Grid draws its rows after the callback has returned
    own_rows = page.locator(own).all_inner_texts()
    page.goto(f"{server}/buurtprofiel")
    settle(page)
    page.click("#bp-buurt")
    page.wait_for_selector("[role=option]")
    options = page.locator("[role=option]").all_inner_texts()
    page.context.close()
    analist = login(browser, server, "anna")
    analist.goto(f"{server}/weekoverzicht")
    settle(analist)
    cells = "#wo-ranked .ag-cell[col-id=Buurt]"
    analist.wait_for_selector(cells)
    first_page = analist.locator(cells).all_inner_texts()
    analist.context.close()
    assert own_rows == ["Noord"]  # its own stadsdeel, nothing else
    assert set(first_page) - noord  # the analist sees buurten of other stadsdelen too
    assert {o.rsplit(" (", 1)[0].strip() for o in options} == noord


def test_maandanalyses_shows_a_buurt_and_exports_html_pdf_and_excel(
    server: str, browser: object, tmp_path: Path, demo_warehouse: Settings
) -> None:
    """As analist (intern): the page shows the exact text, the downloads the gedeeld one."""
    from pypdf import PdfReader

    page = login(browser, server, "anna")
    page.goto(f"{server}/maandanalyses")
    settle(page)
    choose(page, "ma-scope", "Oost")
    # The scope change runs two chained callbacks (buurt choices, then content): wait for the result.
    from playwright.sync_api import expect

    expect(page.locator(".ma-headline").first).to_contain_text("Oost", timeout=30_000)
    expect(page.locator(".ma-headline")).to_have_count(2, timeout=30_000)
    settle(page)
    headlines = [" ".join(t.split()) for t in page.locator(".ma-headline").all_text_contents()]
    assert len(headlines) == 2, headlines  # the stadsdeel summary and the chosen buurt
    assert headlines[0].startswith("In ") and "Oost" in headlines[0]
    month = queries.analysis_months(demo_warehouse.warehouse_url, "GM9999")[-1]
    docs = queries.analyses(demo_warehouse.warehouse_url, "GM9999", month)
    oost = docs[(docs["area_level"] == "stadsdeel") & (docs["area_code"] == "Oost")].iloc[0]
    assert headlines[0] == " ".join(oost["content"]["intern"]["headline"].split())
    shared = oost["headline"]  # what the downloads, made for distribution, hold
    # The buurt's two charts; Plotly draws them after the content arrives, later on a busy machine.
    expect(page.locator("#ma-content .js-plotly-plot")).to_have_count(2, timeout=30_000)
    assert page.locator("#ma-buurt-lijst .accordion-item").count() >= 10  # every buurt of the stadsdeel
    n_wijken = page.locator("#ma-wijk-lijst .accordion-item").count()
    assert n_wijken >= 2  # the stadsdeel's wijken have their own analyses, shown and downloaded
    assert "Hoe lezen" in page.inner_text("#ma-hoe-lezen")
    assert "scope=Oost" in page.url
    page.screenshot(path=str(SHOTS / "maandanalyses-oost.png"), full_page=True)

    with page.expect_download() as done:
        page.click("#ma-html")
    html_path = tmp_path / done.value.suggested_filename
    done.value.save_as(html_path)
    text = html_path.read_text(encoding="utf-8")
    assert html.escape(shared) in text and "<svg" in text and "http" not in text.split("<body>")[1].split("xmlns")[0]
    assert text.count('<p class="level">Wijk</p>') == n_wijken

    with page.expect_download() as done:
        page.click("#ma-pdf")
    pdf_path = tmp_path / done.value.suggested_filename
    done.value.save_as(pdf_path)
    pdf_text = " ".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert " ".join(shared.split()) in " ".join(pdf_text.split())
    assert pdf_text.count("Wijk ") >= n_wijken

    with page.expect_download() as done:
        page.click("#ma-export")
    book = openpyxl.load_workbook(io.BytesIO(Path(done.value.path()).read_bytes()))
    assert {"Uitkomsten", "Teksten", "Toelichting"} <= set(book.sheetnames)
    assert book["Teksten"]["B2"].value == shared
    areas = [row[0] for row in book["Teksten"].iter_rows(min_row=2, values_only=True)]
    assert sum(str(a).startswith("Wijk ") for a in areas) == n_wijken
    assert not page.errors
