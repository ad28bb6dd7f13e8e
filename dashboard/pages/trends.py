"""Trends: a week or month series for one area and category, with a moving average and last year."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from buurtbeeld import disclosure
from dashboard import components as ui
from dashboard import exports
from warehouse import queries

dash.register_page(__name__, path="/trends", name="Trends", title="Trends · Buurtbeeld", order=2)

MOVING = {"week": 4, "month": 3}
LAG = {"week": 52, "month": 12}
GRAINS = [{"label": "Per week", "value": "week"}, {"label": "Per maand", "value": "month"}]
GRAIN_WORDS = {"maand": "month", "week": "week"}  # a hand-written link in Dutch


def layout(
    gemeente: str | None = None,
    niveau: str = "gemeente",
    gebied: str | None = None,
    groep: str = "*",
    per: str = "week",
    maat: str = "aantal",
    mk: str | None = None,
    **_: str,
):
    gm = ui.gemeente_choice(gemeente)
    groep = ui.group_choice(groep)
    niveau = niveau if niveau in queries.LEVELS else "gemeente"
    per = ui.link_choice(GRAIN_WORDS.get(str(per).casefold(), per), GRAINS, "week")
    maat = ui.measure_choice(maat)
    return html.Div(
        [
            dcc.Location(id="tr-url", refresh=False),
            html.H1("Trends", className="h3"),
            ui.freshness_banner(gm),
            dbc.Row(
                [
                    dbc.Col(
                        ui.labelled(
                            "Gemeente",
                            ui.dropdown(id="tr-gemeente", options=ui.gemeente_options(), value=gm, clearable=False),
                        ),
                        md=2,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Niveau",
                            ui.dropdown(id="tr-niveau", options=ui.levels_for_user(), value=niveau, clearable=False),
                        ),
                        md=2,
                    ),
                    dbc.Col(ui.labelled("Gebied", ui.dropdown(id="tr-gebied", value=gebied, clearable=False)), md=2),
                    dbc.Col(
                        ui.labelled(
                            "Categorie",
                            ui.dropdown(id="tr-groep", options=ui.group_options(), value=groep, clearable=False),
                        ),
                        md=2,
                    ),
                    dbc.Col(ui.mk_control("tr", ui.mk_state(gm, groep, mk)), md=2),
                    dbc.Col(
                        [
                            ui.labelled("Periode", dbc.RadioItems(id="tr-per", options=GRAINS, value=per, inline=True)),
                            ui.labelled(
                                "Maat",
                                dbc.RadioItems(id="tr-maat", options=ui.measure_options(), value=maat, inline=True),
                            ),
                        ],
                        md=2,
                    ),
                ],
                className="g-2 mb-2",
            ),
            dcc.Loading(dcc.Graph(id="tr-graph", config=ui.graph_config("trend"))),
            html.P(id="tr-caption", className="small text-muted"),
            ui.suppression_note(),
            html.Div([ui.export_controls("tr")], className="mb-2"),
            html.Div([ui.save_view_controls("tr"), html.Span(id="tr-view-status", className="small ms-2")]),
        ]
    )


def series_frame(gm: str, level: str, area: str, group: str, grain: str, mk: str | None = None) -> pd.DataFrame:
    """The series with its moving average and last year's value, all under the disclosure rules."""
    s = queries.series(ui.url(), gm, grain, level, area, group, ui.mk_or_all(mk), audience=ui.audience())
    s["moving"] = disclosure.rolling_shown_mean(s["count"], s["status"], MOVING[grain])
    s["moving_s"] = disclosure.window_status(s["status"], MOVING[grain])
    lag = LAG[grain]
    s["last_year"] = s["count"].shift(lag)
    s["last_year_s"] = s["status"].shift(lag).fillna(disclosure.SHOWN).astype(int)
    s.loc[s.index < lag, "last_year"] = float("nan")
    pop = queries.population(ui.url(), gm)
    inwoners = pop[(pop["area_level"] == level) & (pop["area_code"] == area)]["inwoners"]
    s["inwoners"] = float(inwoners.iloc[0]) if len(inwoners) and pd.notna(inwoners.iloc[0]) else float("nan")
    s["rate"] = disclosure.masked_rate(s["count"], s["status"], s["inwoners"])
    return s


@callback(
    Output("tr-gebied", "options"),
    Output("tr-gebied", "value"),
    Input("tr-gemeente", "value"),
    Input("tr-niveau", "value"),
    State("tr-gebied", "value"),
)
def area_options(gm: str, level: str, current: str | None):
    areas = ui.visible_areas(gm, level).sort_values("name")
    options = [
        {"label": f"{n} ({c})" if level in ("buurt", "wijk") else n, "value": c}
        for c, n in zip(areas["area_code"], areas["name"], strict=True)
    ]
    values = [o["value"] for o in options]
    return options, current if current in values else (values[0] if values else None)


@callback(
    Output("tr-graph", "figure"),
    Output("tr-caption", "children"),
    Output("tr-url", "search"),
    Input("tr-gemeente", "value"),
    Input("tr-niveau", "value"),
    Input("tr-gebied", "value"),
    Input("tr-groep", "value"),
    Input("tr-per", "value"),
    Input("tr-maat", "value"),
    Input("tr-mk", "value"),
)
def update(gm: str, level: str, area: str | None, group: str, grain: str, measure: str, mk: str | None = None):
    if not area or not ui.allowed(gm, level, area):
        return {}, "Kies een gebied.", no_update
    s = series_frame(gm, level, area, group, grain, mk)
    rate = measure == "per1000"
    factor = 1000.0 / s["inwoners"] if rate else 1.0
    y, moving, last = s["count"] * factor, s["moving"] * factor, s["last_year"] * factor
    label = ui.rate_text(s["rate"], s["status"]) if rate else ui.count_text(s["count"], s["status"])
    x = [d.isoformat() for d in s["period_start"]]
    hidden = s[s["status"] == disclosure.SECONDARY]
    what = "per 1.000 inwoners" if rate else "aantal geregistreerde incidenten"
    # A plain figure dict: plotly's classes validate and deep-copy every point on every call.
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": ui.plain_list(last),
            "name": "zelfde periode vorig jaar",
            "mode": "lines",
            "line": {"color": ui.PALETTE[1], "dash": "dot", "width": 1.5},
            "hoverinfo": "skip",
        },
        {
            "type": "bar",
            "x": x,
            "y": ui.plain_list(y),
            "name": "per 1.000 inwoners" if rate else "aantal",
            "marker": {"color": ui.PALETTE[0]},
            "customdata": [list(p) for p in zip(s["period"], label, strict=True)],
            "hovertemplate": "%{customdata[0]}: %{customdata[1]}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": ui.plain_list(moving),
            "mode": "lines",
            "name": f"voortschrijdend gemiddelde ({MOVING[grain]} {'weken' if grain == 'week' else 'maanden'})",
            "line": {"color": ui.PALETTE[5], "width": 2.5},
            "customdata": [list(p) for p in zip(s["period"], ui.rate_text(moving, s["moving_s"]), strict=True)],
            "hovertemplate": "%{customdata[0]}: gemiddeld %{customdata[1]}<extra></extra>",
        },
    ]
    if len(hidden):
        traces.append(
            {
                "type": "scatter",
                "x": [d.isoformat() for d in hidden["period_start"]],
                "y": [0] * len(hidden),
                "mode": "markers",
                "name": "afgeschermd",
                "marker": {"symbol": "line-ew-open", "color": ui.HIDDEN_COLOUR, "size": 10},
                "customdata": [
                    list(p)
                    for p in zip(hidden["period"], ui.count_text(hidden["count"], hidden["status"]), strict=True)
                ],
                "hovertemplate": "%{customdata[0]}: %{customdata[1]}<extra></extra>",
            }
        )
    fig = {
        "data": traces,
        "layout": {
            # Counts and rates are never negative: all zeros otherwise drew an axis from -1 to 1.
            "yaxis": {"title": {"text": what}, "rangemode": "nonnegative"},
            "xaxis": {"title": {"text": "week" if grain == "week" else "maand"}},
            "height": 440,
            "barmode": "overlay",
            "legend": {"orientation": "h", "y": -0.2},
            "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
            "title": {
                "text": f"{queries.area_name(ui.url(), gm, level, area)} · {ui.category_label(gm, group, mk)}",
                "x": 0.01,
            },
        },
    }
    caption = (
        f"Staven: {what} per {'week' if grain == 'week' else 'maand'} (maand = de weken waarvan de donderdag "
        "in die maand valt). Grijze streepjes: afgeschermde perioden. Het gemiddelde ontbreekt waar een "
        "periode in het venster is afgeschermd."
    )
    if len(s) and (s["status"] == disclosure.SECONDARY).all():
        # Not an empty frame without a word (an outside review): say why, and what can be seen.
        caption = f"Geen cijfers per {'week' if grain == 'week' else 'maand'} voor dit gebied in deze weergave: " + (
            "weekcijfers van wijken en buurten zijn alleen voor de analisten van de gemeente. Kies 'per "
            "maand', of een stadsdeel of de hele gemeente."
            if grain == "week" and level in ("wijk", "buurt")
            else "ze zijn afgeschermd. Kies een grotere categorie of een groter gebied."
        )
    search = ui.query_string(gemeente=gm, niveau=level, gebied=area, groep=group, per=grain, maat=measure, mk=mk)
    return fig, caption, search


@callback(
    Output("tr-download", "data"),
    Input("tr-export", "n_clicks"),
    State("tr-gemeente", "value"),
    State("tr-niveau", "value"),
    State("tr-gebied", "value"),
    State("tr-groep", "value"),
    State("tr-per", "value"),
    State("tr-mk", "value"),
    prevent_initial_call=True,
)
def export(_: int, gm: str, level: str, area: str, group: str, grain: str, mk: str | None = None):
    if not area or not ui.allowed(gm, level, area):
        return no_update
    s = series_frame(gm, level, area, group, grain, mk)
    sheet = pd.DataFrame(
        {
            "Periode": [ui.period_text(grain, p) for p in s["period"]],
            "Aantal": exports.cell_values(s["count"], s["status"]),
            "Voortschrijdend gemiddelde": exports.cell_values(s["moving"], s["moving_s"], 1),
            "Zelfde periode vorig jaar": exports.cell_values(s["last_year"], s["last_year_s"]),
            "Per 1.000 inwoners": exports.cell_values(s["rate"], s["status"], 2),
        }
    )
    about = exports.about_sheet(
        "Trend",
        {
            "Gemeente": gm,
            "Niveau": queries.LEVEL_LABELS[level],
            "Gebied": queries.area_name(ui.url(), gm, level, area),
            "Categorie": ui.category_label(gm, group, mk),
            "Periode": "per week" if grain == "week" else "per maand",
        },
        gm,
    )
    return dcc.send_bytes(
        exports.workbook({"Reeks": sheet}, about),
        f"trend_{area}_{group}{'_' + mk if mk else ''}_{grain}.xlsx".replace("*", "alle"),
    )


ui.save_view_callback("tr", "/trends")
ui.mk_choice_callback("tr")
