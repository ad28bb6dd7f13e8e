"""Weekoverzicht: the analyst's Monday morning — one week, per category group and per buurt."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from buurtbeeld import disclosure, narrative, weekly
from buurtbeeld.periods import month_span, months_of, period_start, weeks_before
from dashboard import access, exports
from dashboard import components as ui
from warehouse import queries

dash.register_page(__name__, path="/weekoverzicht", name="Weekoverzicht", title="Weekoverzicht · Buurtbeeld", order=1)


def layout(
    gemeente: str | None = None,
    week: str | None = None,
    groep: str = "*",
    maat: str = "aantal",
    mk: str | None = None,
    **_: str,
):
    gm = ui.gemeente_choice(gemeente)
    groep = ui.group_choice(groep)
    maat = ui.measure_choice(maat)
    weeks = queries.periods(ui.url(), gm, "week") if gm else []
    week = week if week in weeks else (weeks[-1] if weeks else None)
    # The first view is rendered with the layout, not by a callback after it: one round trip less
    # before the map is drawn (the Monday-morning page must be up in under 2 s).
    mk_choice = ui.mk_state(gm, groep, mk)
    kpis, figure, table = render(gm, week, groep, maat, mk_choice["value"])
    level = map_level()
    notable_card = render_notable(gm, week)
    return html.Div(
        [
            dcc.Location(id="wo-url", refresh=False),
            dcc.Location(id="wo-nav", refresh="callback-nav"),
            html.H1("Weekoverzicht", className="h3"),
            ui.freshness_banner(gm),
            dbc.Row(
                [
                    dbc.Col(
                        ui.labelled(
                            "Gemeente",
                            ui.dropdown(
                                id="wo-gemeente",
                                options=ui.gemeente_options(),
                                value=gm,
                                clearable=False,
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Week",
                            ui.dropdown(
                                id="wo-week",
                                options=[{"label": ui.week_text(w), "value": w} for w in reversed(weeks)],
                                value=week,
                                clearable=False,
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Categorie",
                            ui.dropdown(id="wo-groep", options=ui.group_options(), value=groep, clearable=False),
                        ),
                        md=2,
                    ),
                    dbc.Col(ui.mk_control("wo", mk_choice), md=2),
                    dbc.Col(
                        ui.labelled(
                            "Maat", dbc.RadioItems(id="wo-maat", options=ui.measure_options(), value=maat, inline=True)
                        ),
                        md=2,
                    ),
                ],
                className="g-2 mb-3",
            ),
            html.P(
                "Hieronder per categorie de aantallen in de hele gemeente; de maat (aantal of per 1.000 "
                "inwoners) geldt voor de kaart en de tabel.",
                className="small text-muted mb-1",
            ),
            dcc.Loading(html.Div(kpis, id="wo-kpis"), type="default"),
            dcc.Loading(html.Div(notable_card, id="wo-opvallend", className="mt-3")),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2(
                                "Kaart van de buurten" if level == "buurt" else "Kaart van de stadsdelen",
                                className="h5 mt-3",
                                id="wo-map-title",
                            ),
                            dcc.Loading(
                                dcc.Graph(id="wo-map", figure=figure, config=ui.graph_config("weekoverzicht-kaart"))
                            ),
                            html.P(
                                "Klik op een buurt voor haar buurtprofiel. De tabel hiernaast geeft dezelfde "
                                "cijfers als tekst."
                                if level == "buurt"
                                else "Elke buurt heeft de kleur van het weekcijfer van haar stadsdeel; klik op een "
                                "buurt voor haar buurtprofiel. De tabel hiernaast geeft de cijfers van de stadsdelen.",
                                className="small text-muted",
                            ),
                        ],
                        lg=5,
                    ),
                    dbc.Col(
                        [
                            html.H2(
                                ("Buurten" if level == "buurt" else "Stadsdelen") + " gerangschikt op toename",
                                className="h5 mt-3",
                            ),
                            html.P(
                                "Verschil tussen deze week en het weekgemiddelde van "
                                + ("de buurt" if level == "buurt" else "het stadsdeel")
                                + " in het vorige volledige kwartaal (de eigen basislijn).",
                                className="small text-muted",
                            ),
                            dcc.Loading(html.Div(table, id="wo-table")),
                            ui.export_controls("wo"),
                        ],
                        lg=7,
                    ),
                ]
            ),
            ui.suppression_note(),
            html.Div(
                [ui.save_view_controls("wo"), html.Span(id="wo-view-status", className="small ms-2")], className="mt-2"
            ),
        ]
    )


# --- data -----------------------------------------------------------------------------------------


def kpi_frame(gm: str, week: str, audience: str | None = None) -> pd.DataFrame:
    """Per group at gemeente level: this week, previous week, mean of the last 4 weeks, same week a year ago."""
    last4 = tuple(weeks_before(week, i) for i in range(4))
    year_ago = weeks_before(week, 52)
    cells = queries.area_groups(
        ui.url(), gm, "week", (*last4, year_ago), "gemeente", gm, audience=audience or ui.audience()
    )
    count = cells.pivot(index="group_code", columns="period", values="count")
    status = cells.pivot(index="group_code", columns="period", values="status")
    four = disclosure.window_sum(cells[cells["period"].isin(last4)], ["group_code"]).set_index("group_code")
    # A week without data (before the first delivery) is no week of 0 incidents: "–", and no mean
    # of four weeks over it (an outside review read "vorige week 0" beside the first week).
    known = set(queries.periods(ui.url(), gm, "week"))
    frame = pd.DataFrame(
        {
            "deze_week": count[week],
            "deze_week_s": status[week],
            "vorige_week": count[last4[1]] if last4[1] in known else np.nan,
            "vorige_week_s": status[last4[1]],
            "gem4": four["count"] / 4 if set(last4) <= known else np.nan,
            "gem4_s": four["status"],
            "vorig_jaar": count[year_ago] if year_ago in known else np.nan,
            "vorig_jaar_s": status[year_ago],
        }
    ).reset_index()
    order = ["*", *[g for g, _ in queries.groups(ui.url())]]
    frame = frame.set_index("group_code").loc[[g for g in order if g in set(frame["group_code"])]].reset_index()
    active = (frame[["deze_week", "vorige_week", "gem4", "vorig_jaar"]].fillna(1).sum(axis=1) > 0) | (
        frame["group_code"] == "*"
    )
    return frame[active]


def baseline_quarter(gm: str, week: str) -> tuple[str | None, int]:
    """The last complete quarter before the week, and its number of weeks. A fixed quarter, not a
    sliding window: sliding windows could be differenced into a hidden count (disclosure rule 3)."""
    start = period_start("week", week)
    for quarter in reversed(queries.periods(ui.url(), gm, "quarter")):
        first, end = month_span(months_of(quarter))
        if end <= start:
            return quarter, (end - first).days // 7
    return None, 0


def buurt_frame(gm: str, week: str, group: str, mk: str | None = None, level: str = "buurt") -> pd.DataFrame:
    """Per visible buurt (or stadsdeel): count this week, baseline (weekly mean of the previous
    quarter), excess, rate."""
    mk = ui.mk_or_all(mk)
    current = queries.cells(ui.url(), gm, "week", (week,), level, group, mk, audience=ui.audience())
    quarter, n_weeks = baseline_quarter(gm, week)
    if quarter:
        base = queries.cells(ui.url(), gm, "quarter", (quarter,), level, group, mk, audience=ui.audience())[
            ["area_code", "count", "status"]
        ]
    else:
        # No complete quarter before the week: no baseline ("–"), which is not a hidden one ('x').
        base = current[["area_code"]].assign(count=float("nan"), status=disclosure.SHOWN)
    areas = ui.visible_areas(gm, level)
    pop = queries.population(ui.url(), gm)
    pop = pop[pop["area_level"] == level].set_index("area_code")["inwoners"]
    frame = areas.merge(current[["area_code", "count", "status"]], on="area_code", how="left")
    frame = frame.merge(base.rename(columns={"count": "base", "status": "base_s"}), on="area_code", how="left")
    frame["baseline"] = frame["base"] / max(n_weeks, 1)
    frame.attrs["baseline"] = ui.period_text("quarter", quarter) if quarter else "–"
    frame["excess"] = frame["count"] - frame["baseline"]
    frame["inwoners"] = frame["area_code"].map(pop)
    frame["rate"] = disclosure.masked_rate(frame["count"], frame["status"], frame["inwoners"])
    wijk_names = queries.areas(ui.url(), gm).query("area_level == 'wijk'").set_index("area_code")["name"]
    frame["wijk_name"] = frame["wijk"].map(wijk_names)
    # Incidents without a buurt are listed, but after the buurten: they are not a place to rank. Where
    # nothing can be ranked (gedeeld: weekly buurt figures hidden), by name.
    frame["_unknown"] = frame["area_code"] == "onbekend"
    order = frame.sort_values(
        ["_unknown", "excess", "count", "name"], ascending=[True, False, False, True], na_position="last"
    )
    return order.drop(columns="_unknown")


SHARED_NOTABLE = (
    "Opvallend deze week staat alleen in de weergave voor de analisten: de lijst rust op weekcijfers per "
    "buurt, en die worden niet gedeeld."
)


@queries.cached
def notable_tests(url: str, gm: str, week: str) -> pd.DataFrame:
    """Every test of the week's "opvallend deze week" list (buurtbeeld.weekly), from the exact counts:
    the intern audience's list only (see `notable_frame`). Cached per load: some 0.15 s for the demo's
    60 buurten, more for a city, and the same for every analyst of the gemeente."""
    published = queries.periods(url, gm, "week")
    info = queries.freshness(url, gm)
    # The tested week may itself be provisional (the Monday list is about last week); its baseline
    # never is, nor does it count a week without a police export as a week without incidents.
    history = weekly.history_weeks(published, week, [*info["provisional"], *info["missing"]])
    counts = queries.buurt_weeks(url, gm, (*history, week), disclosure.INTERN)
    buurten = queries.areas(url, gm).query("area_level == 'buurt' and area_code != 'onbekend'")["area_code"]
    return weekly.notable_week(counts[counts["area_code"].isin(set(buurten))], week, history)


def notable_frame(gm: str, week: str) -> pd.DataFrame | None:
    """The ranked notable cells of the week that this user may see, with buurt names; None for the
    gedeeld audience.

    Not for gedeeld, and not derivable for it: weekly buurt figures are outside the shared design
    (buurtbeeld.disclosure.shared_cell), so the page shows that audience no buurt of the week at all.
    A list computed from the exact counts would disclose them (a flag says a hidden count is at least
    5 and far above the buurt's level); one computed from shared figures has none to start from (the
    shared weekly figures are the gemeente's and stadsdelen's). So gedeeld reads one sentence instead.
    The family of the test is the whole gemeente's; a stadsdeel account sees the rows of its own buurten."""
    if ui.audience() != disclosure.INTERN:
        return None
    tests = notable_tests(ui.url(), gm, week)
    listed = weekly.notable_only(tests)
    visible = ui.visible_areas(gm, "buurt")[["area_code", "name"]]
    listed = listed.merge(visible, on="area_code", how="inner").sort_values("rank").reset_index(drop=True)
    listed.attrs["tests"] = tests.attrs.get("tests", 0)
    return listed


def notable_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The list as the card shows it: expected counts rounded half up, the evidence in words."""
    return pd.DataFrame(
        {
            "Buurt": frame["name"],
            "Categorie": [ui.group_label(g) for g in frame["group_code"]],
            "Geregistreerd": [disclosure.format_number(v) for v in frame["observed"]],
            # As the monthly analyses say it: "minder dan 1", not an expected 0 beside "1 op 100.000".
            "Verwacht": [narrative.expected_phrase(v, 1).removeprefix("ongeveer ") for v in frame["expected"]],
            "Bewijs": [
                f"opvallend {d} · {weekly.evidence_text(p)}"
                for d, p in zip(frame["direction"], frame["p"], strict=True)
            ],
        }
    )


def warm(gm: str) -> None:
    """Read what the page's first view reads (latest week, all categories), without a user: run at
    worker start and after each new load (dashboard/warmup.py), so the Monday-morning visit finds
    the caches filled. Only the shared cached reads are filled; nothing is rendered or kept."""
    weeks = queries.periods(ui.url(), gm, "week")
    if not weeks:
        return
    quarter, _ = baseline_quarter(gm, weeks[-1])
    for audience, level in MAP_LEVELS.items():
        kpi_frame(gm, weeks[-1], audience)
        queries.cells(ui.url(), gm, "week", (weeks[-1],), level, queries.ALL, audience=audience)
        if quarter:
            queries.cells(ui.url(), gm, "quarter", (quarter,), level, queries.ALL, audience=audience)
    notable_tests(ui.url(), gm, weeks[-1])
    queries.population(ui.url(), gm)
    queries.buurt_geojson(ui.url(), gm)
    queries.freshness(ui.url(), gm)
    ui.group_options()


def stadsdeel_map_frame(gm: str, stadsdelen: pd.DataFrame) -> pd.DataFrame:
    """The buurten of the visible stadsdelen, each with its stadsdeel's figures: the gedeeld map.
    A week's buurt figures are not in the shared design, a stadsdeel's are; a map of grey buurten
    said nothing (an outside review)."""
    buurten = ui.visible_areas(gm, "buurt")[["area_code", "name", "stadsdeel"]]
    figures = stadsdelen[["area_code", "name", "count", "rate", "status", "label"]].rename(
        columns={"area_code": "stadsdeel", "name": "stadsdeel_name"}
    )
    painted = buurten.merge(figures, on="stadsdeel", how="inner")
    painted["name"] = "Stadsdeel " + painted["stadsdeel_name"] + " (buurt " + painted["name"] + ")"
    return painted


def table_text(frame: pd.DataFrame, level: str = "buurt") -> pd.DataFrame:
    t = ui.threshold()
    where = {"Buurt": frame["name"], "Wijk": frame["wijk_name"]} if level == "buurt" else {"Stadsdeel": frame["name"]}
    return pd.DataFrame(
        {
            **where,
            "Aantal": ui.count_text(frame["count"], frame["status"]),
            "Gemiddeld per week, vorig kwartaal": [
                disclosure.rate_label(b, int(s), t) if pd.notna(s) else disclosure.SECONDARY_SIGN
                for b, s in zip(frame["baseline"], frame["base_s"], strict=True)
            ],
            "Verschil": [disclosure.format_number(e, 1) if pd.notna(e) else "–" for e in frame["excess"]],
            "Per 1.000 inwoners": [
                disclosure.rate_label(r, int(s), t) for r, s in zip(frame["rate"], frame["status"], strict=True)
            ],
        }
    )


# --- callbacks ------------------------------------------------------------------------------------


def render(
    gm: str | None, week: str | None, group: str, measure: str, mk: str | None = None
) -> tuple[object, dict, object]:
    """KPI cards (per group), map and ranked table (the chosen group or MK code) of one week: what the
    layout shows first and `update` after."""
    access.scope()
    if not gm or not week:
        return dbc.Alert("Geen gegevens.", color="warning"), {}, ""
    kpis = kpi_frame(gm, week)
    t = ui.threshold()
    cards = [
        dbc.Col(
            ui.kpi_card(
                ui.group_label(r.group_code),
                [
                    (ui.week_text(week), disclosure.label(r.deze_week, r.deze_week_s, t)),
                    ("vorige week", disclosure.label(r.vorige_week, r.vorige_week_s, t)),
                    ("gem. 4 weken", disclosure.rate_label(r.gem4, r.gem4_s, t)),
                    ("zelfde week vorig jaar", disclosure.label(r.vorig_jaar, r.vorig_jaar_s, t)),
                ],
                f"wo-kpi-{r.group_code.replace('*', 'alle')}",
            ),
            xs=12,
            sm=6,
            md=4,
            xl=3,
            className="mb-2",
        )
        for r in kpis.itertuples()
    ]
    level = map_level()
    frame = buurt_frame(gm, week, group, mk, level)
    value = "rate" if measure == "per1000" else "count"
    frame["label"] = (
        ui.rate_text(frame["rate"], frame["status"])
        if value == "rate"
        else ui.count_text(frame["count"], frame["status"])
    )
    title = ("per 1.000 inw." if value == "rate" else "aantal") + (f" · MK {mk}" if mk else "")
    painted = frame[frame["area_code"] != "onbekend"] if level == "buurt" else stadsdeel_map_frame(gm, frame)
    fig = ui.choropleth(gm, painted, value, "label", title)
    table: object = ui.display_table(table_text(frame, level), "wo-ranked")
    if level != "buurt":
        # Weekly buurt figures are not in the shared design (buurtbeeld.disclosure.shared_cell).
        note = dbc.Alert(
            "Weekcijfers per buurt zijn alleen voor de analisten van de gemeente; hier staan de stadsdelen. "
            "Per maand, kwartaal en jaar staan de buurten in Trends, Buurtprofiel en Maandanalyses.",
            color="light",
            className="small border py-2",
            id="wo-gedeeld",
        )
        table = html.Div([note, table])
    return dbc.Row(cards, className="g-2"), fig, table


# The areas of the map and the ranked table per audience: weekly buurt figures are not in the shared
# design, a stadsdeel's are.
MAP_LEVELS = {disclosure.INTERN: "buurt", disclosure.GEDEELD: "stadsdeel"}


def map_level() -> str:
    return MAP_LEVELS.get(ui.audience(), "stadsdeel")


def render_notable(gm: str | None, week: str | None) -> object:
    """The card "Opvallend deze week": the notable buurt × category cells of the week, ranked by the
    difference from what was expected (intern); a sentence for gedeeld."""
    access.scope()
    title = html.H2("Opvallend deze week", className="h5 mb-0")
    if not gm or not week:
        return ""
    frame = notable_frame(gm, week)
    if frame is None:
        body: list[object] = [html.P(SHARED_NOTABLE, className="small mb-0", id="wo-opvallend-gedeeld")]
    else:
        body = [
            html.P(
                f"{ui.week_text(week).capitalize()}: buurten en categorieën met meer of minder registraties dan "
                "verwacht, het grootste verschil bovenaan. Verwacht: het niveau van de buurt in de afgelopen "
                f"{weekly.WEEK.recent_weeks} weken, naar verhouding van de hele gemeente in deze week; heeft een "
                "categorie daarvoor in de buurten samen te weinig registraties (gemiddeld minder dan "
                f"{weekly.WEEK.as_method().concurrent_min:g} per week), dan naar het landelijke seizoenspatroon "
                "(politiecijfers; zedenmisdrijven: zonder seizoenscorrectie). Opvallend: "
                f"minstens {weekly.WEEK.min_count} registraties (of verwacht) en zo onwaarschijnlijk dat hooguit "
                "1 op de 10 vermeldingen toeval is. (De tabel onder de kaart vergelijkt eenvoudiger: met het "
                "weekgemiddelde van het vorige kwartaal.)",
                className="small text-muted",
            )
        ]
        if week in queries.freshness(ui.url(), gm)["provisional"]:
            body.append(html.P("Deze week is nog voorlopig: er komen nog aangiften binnen.", className="small"))
        if frame.empty:
            tested = frame.attrs.get("tests", 0)
            body.append(
                html.P(
                    "Niets opvallends deze week."
                    if tested
                    else f"Te weinig eerdere weken om mee te vergelijken (minstens {weekly.WEEK.min_weeks}).",
                    className="mb-0 fw-semibold",
                    id="wo-opvallend-leeg",
                )
            )
        else:
            body.append(ui.display_table(notable_text(frame), "wo-opvallend-lijst", page_size=10))
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)])


@callback(
    Output("wo-kpis", "children"),
    Output("wo-map", "figure"),
    Output("wo-table", "children"),
    Input("wo-gemeente", "value"),
    Input("wo-week", "value"),
    Input("wo-groep", "value"),
    Input("wo-maat", "value"),
    Input("wo-mk", "value"),
    prevent_initial_call=True,
)
def update(gm: str | None, week: str | None, group: str, measure: str, mk: str | None = None):
    return render(gm, week, group, measure, mk)


@callback(
    Output("wo-opvallend", "children"),
    Input("wo-gemeente", "value"),
    Input("wo-week", "value"),
    prevent_initial_call=True,
)
def update_notable(gm: str | None, week: str | None):
    return render_notable(gm, week)


@callback(
    Output("wo-url", "search"),
    Input("wo-gemeente", "value"),
    Input("wo-week", "value"),
    Input("wo-groep", "value"),
    Input("wo-maat", "value"),
    Input("wo-mk", "value"),
)
def remember(gm: str | None, week: str | None, group: str, measure: str, mk: str | None = None):
    """The filters in the URL, so a pasted link reopens this view (also for the first, default view)."""
    if not gm or not week:
        return no_update
    return ui.query_string(gemeente=gm, week=week, groep=group, maat=measure, mk=mk)


ui.mk_choice_callback("wo")


@callback(
    Output("wo-nav", "href"),
    Input("wo-map", "clickData"),
    State("wo-gemeente", "value"),
    prevent_initial_call=True,
)
def open_profile(click: dict | None, gm: str):
    if not click:
        return no_update
    code = click["points"][0].get("location")
    if not code or not ui.allowed(gm, "buurt", code):
        return no_update
    return f"/buurtprofiel{ui.query_string(gemeente=gm, buurt=code)}"


@callback(
    Output("wo-download", "data"),
    Input("wo-export", "n_clicks"),
    State("wo-gemeente", "value"),
    State("wo-week", "value"),
    State("wo-groep", "value"),
    State("wo-mk", "value"),
    prevent_initial_call=True,
)
def export(_: int, gm: str, week: str, group: str, mk: str | None = None):
    access.scope()
    # The areas the page's table ranks for this audience (gedeeld: the stadsdelen, whose week is shared).
    level = map_level()
    frame = buurt_frame(gm, week, group, mk, level)
    where = (
        {"Buurtcode": frame["area_code"], "Buurt": frame["name"], "Wijk": frame["wijk_name"]}
        if level == "buurt"
        else {"Stadsdeel": frame["name"]}
    )
    sheet = pd.DataFrame(
        {
            **where,
            "Aantal": exports.cell_values(frame["count"], frame["status"]),
            "Gemiddeld per week, vorig kwartaal": exports.cell_values(frame["baseline"], frame["base_s"], 1),
            "Per 1.000 inwoners": exports.cell_values(frame["rate"], frame["status"], 2),
        }
    )
    kpis = kpi_frame(gm, week)
    kpi_sheet = pd.DataFrame(
        {
            "Categorie": [ui.group_label(c) for c in kpis["group_code"]],
            "Deze week": exports.cell_values(kpis["deze_week"], kpis["deze_week_s"]),
            "Vorige week": exports.cell_values(kpis["vorige_week"], kpis["vorige_week_s"]),
            "Gemiddelde 4 weken": exports.cell_values(kpis["gem4"], kpis["gem4_s"], 1),
            "Zelfde week vorig jaar": exports.cell_values(kpis["vorig_jaar"], kpis["vorig_jaar_s"]),
        }
    )
    about = exports.about_sheet(
        "Weekoverzicht", {"Gemeente": gm, "Week": ui.week_text(week), "Categorie": ui.category_label(gm, group, mk)}, gm
    )
    areas = "Buurten" if level == "buurt" else "Stadsdelen"
    data = exports.workbook({areas: sheet, "Kerncijfers": kpi_sheet, "Opvallend": notable_sheet(gm, week)}, about)
    return dcc.send_bytes(data, f"weekoverzicht_{gm}_{week}{'_' + mk if mk else ''}.xlsx")


def notable_sheet(gm: str, week: str) -> pd.DataFrame:
    """The "opvallend deze week" list for the workbook: numbers Excel can use (intern), or the one
    sentence that says why there is none (gedeeld)."""
    frame = notable_frame(gm, week)
    if frame is None:
        return pd.DataFrame({"Toelichting": [SHARED_NOTABLE]})
    if frame.empty:
        return pd.DataFrame({"Toelichting": [f"Niets opvallends in {ui.week_text(week)}."]})
    return pd.DataFrame(
        {
            "Rang": frame["rank"].astype(int),
            "Buurtcode": frame["area_code"],
            "Buurt": frame["name"],
            "Categorie": [ui.group_label(g) for g in frame["group_code"]],
            "Geregistreerd": frame["observed"].astype(int),
            "Verwacht": np.floor(frame["expected"] + 0.5).astype(int),
            "Verschil": [disclosure.round_half_up(v, 1) for v in frame["excess"]],
            "Richting": ["opvallend " + d for d in frame["direction"]],
            "Kans bij toeval": [weekly.evidence_text(p) for p in frame["p"]],
            "q-waarde (FDR)": frame["q"].round(4),
        }
    )


ui.save_view_callback("wo", "/weekoverzicht")
