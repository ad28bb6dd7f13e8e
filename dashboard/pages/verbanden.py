"""Verbanden: an indicator against an incident rate across buurten — a conversation starter, not a cause."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from buurtbeeld import disclosure
from buurtbeeld.periods import kind_of
from dashboard import components as ui
from dashboard import exports
from warehouse import queries

dash.register_page(__name__, path="/verbanden", name="Verbanden", title="Verbanden · Buurtbeeld", order=4)

OUTLIERS = 5
MIN_POINTS = 8
# A rate per 1.000 of a buurt where a handful live (a business park of 5 inwoners at (0, 0), labelled)
# pulled the line and the correlation; such buurten stay in the table but not in the chart.
MIN_INWONERS = 100


def layout(
    gemeente: str | None = None,
    indicator: str | None = None,
    groep: str = "*",
    periode: str | None = None,
    mk: str | None = None,
    **_: str,
):
    gm = ui.gemeente_choice(gemeente)
    groep = ui.group_choice(groep)
    indicators = indicator_options(gm) if gm else []
    values = [o["value"] for o in indicators]
    indicator = indicator if indicator in values else (_preferred(values) if values else None)
    periods = period_options(gm) if gm else []
    periode = periode if periode in [o["value"] for o in periods] else (periods[0]["value"] if periods else None)
    return html.Div(
        [
            dcc.Location(id="vb-url", refresh=False),
            html.H1("Verbanden", className="h3"),
            html.P(
                "Hoe hangen kenmerken van buurten samen met geregistreerde incidenten? Een samenhang zegt niets "
                "over oorzaak en gevolg; hij helpt om het gesprek te beginnen.",
                className="small",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        ui.labelled(
                            "Gemeente",
                            ui.dropdown(id="vb-gemeente", options=ui.gemeente_options(), value=gm, clearable=False),
                        ),
                        md=2,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Indicator (horizontaal)",
                            ui.dropdown(id="vb-indicator", options=indicators, value=indicator, clearable=False),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Categorie (verticaal, per 1.000 inwoners)",
                            ui.dropdown(id="vb-groep", options=ui.group_options(), value=groep, clearable=False),
                        ),
                        md=3,
                    ),
                    dbc.Col(ui.mk_control("vb", ui.mk_state(gm, groep, mk)), md=2),
                    dbc.Col(
                        ui.labelled(
                            "Periode", ui.dropdown(id="vb-periode", options=periods, value=periode, clearable=False)
                        ),
                        md=2,
                    ),
                ],
                className="g-2 mb-2",
            ),
            dcc.Loading(
                [
                    dcc.Graph(id="vb-graph", config=ui.graph_config("verband")),
                    html.P(id="vb-summary", className="small"),
                    html.Div(id="vb-table"),
                ]
            ),
            ui.suppression_note(),
            html.Div([ui.export_controls("vb")], className="mb-2"),
            html.Div([ui.save_view_controls("vb"), html.Span(id="vb-view-status", className="small ms-2")]),
        ]
    )


def _preferred(values: list[str]) -> str:
    for code in ("schuldhulpverlening", "bijstandsuitkeringen", "huishoudens_laag_inkomen"):
        if code in values:
            return code
    return values[0]


def indicator_options(gm: str) -> list[dict[str, str]]:
    ind = queries.indicators(ui.url(), gm)
    ind = ind[ind["indicator"] != "aantal_inwoners"].drop_duplicates("indicator").sort_values("label")
    return [
        {
            "label": f"{r.label}" + (" (per 1.000 inwoners)" if r.unit == "aantal" else f" ({r.unit})"),
            "value": r.indicator,
        }
        for r in ind.itertuples()
    ]


def period_options(gm: str) -> list[dict[str, str]]:
    return [
        {"label": ui.period_text(kind, p), "value": p}
        for kind in ("year", "quarter")
        for p in reversed(queries.periods(ui.url(), gm, kind))
    ]


def points(gm: str, indicator: str, group: str, period: str, mk: str | None = None) -> pd.DataFrame:
    """Per visible buurt: x (indicator, per 1.000 inwoners for counts), y (incident rate), both hidden
    where the disclosure rules hide them."""
    t = ui.threshold()
    areas = ui.visible_areas(gm, "buurt")
    areas = areas[areas["area_code"] != "onbekend"][["area_code", "name"]]
    pop = queries.population(ui.url(), gm)
    pop = pop[pop["area_level"] == "buurt"].set_index("area_code")["inwoners"]
    ind = queries.indicators(ui.url(), gm)
    ind = ind[ind["indicator"] == indicator].set_index("area_code")
    cells = queries.cells(
        ui.url(), gm, kind_of(period), (period,), "buurt", group, ui.mk_or_all(mk), audience=ui.audience()
    )
    cells = cells.set_index("area_code")
    frame = areas.copy()
    frame["inwoners"] = frame["area_code"].map(pop)
    raw = frame["area_code"].map(ind["value"])
    unit = ind["unit"].iloc[0] if len(ind) else ""
    if unit == "aantal":
        small = raw.between(1, t - 1)
        frame["x"] = (raw / frame["inwoners"] * 1000).where(~small)
    else:
        frame["x"] = raw
    frame["count"] = frame["area_code"].map(cells["count"])
    frame["status"] = frame["area_code"].map(cells["status"]).fillna(disclosure.SHOWN).astype(int)
    frame["y"] = disclosure.masked_rate(frame["count"], frame["status"], frame["inwoners"])
    # Too few inhabitants for a rate: neither point nor correlation, on the page and in the download
    # alike (the download's correlation included them, and differed from the page's).
    frame["few"] = frame["inwoners"].fillna(0) < MIN_INWONERS
    frame.loc[frame["few"], ["x", "y"]] = np.nan
    return frame


def fit(frame: pd.DataFrame) -> dict[str, float] | None:
    ok = frame.dropna(subset=["x", "y"])
    if len(ok) < MIN_POINTS or ok["x"].nunique() < 2:
        return None
    slope, intercept = np.polyfit(ok["x"], ok["y"], 1)
    rho = ok["x"].rank().corr(ok["y"].rank())
    return {"slope": float(slope), "intercept": float(intercept), "rho": float(rho), "n": len(ok)}


@callback(
    Output("vb-graph", "figure"),
    Output("vb-summary", "children"),
    Output("vb-table", "children"),
    Output("vb-url", "search"),
    Input("vb-gemeente", "value"),
    Input("vb-indicator", "value"),
    Input("vb-groep", "value"),
    Input("vb-periode", "value"),
    Input("vb-mk", "value"),
)
def update(gm: str, indicator: str | None, group: str, period: str | None, mk: str | None = None):
    if not indicator or not period:
        return {}, "Geen indicatoren of perioden beschikbaar.", "", no_update
    frame = points(gm, indicator, group, period, mk)
    few = frame["few"]
    ok = frame.dropna(subset=["x", "y"]).copy()
    model = fit(frame)
    x_label = next((o["label"] for o in indicator_options(gm) if o["value"] == indicator), indicator)
    fig = go.Figure(
        go.Scatter(
            x=ok["x"],
            y=ok["y"],
            mode="markers",
            name="buurten",
            marker={"color": ui.PALETTE[0], "size": 9, "opacity": 0.8},
            customdata=list(zip(ok["name"], ui.rate_text(ok["y"], ok["status"]), strict=True)),
            hovertemplate="%{customdata[0]}<br>x: %{x:.1f}<br>y: %{customdata[1]}<extra></extra>",
        )
    )
    summary = f"{len(ok)} van {len(frame)} buurten in beeld"
    hidden = int((frame["y"].isna() & ~few).sum())
    if hidden:
        summary += f"; {hidden} buurten zonder getoond cijfer (afgeschermd)"
    if few.any():
        summary += (
            f"; {int(few.sum())} met minder dan {MIN_INWONERS} inwoners niet in de grafiek (te weinig om per "
            "1.000 te rekenen)"
        )
    if model:
        xs = np.linspace(ok["x"].min(), ok["x"].max(), 20)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=model["intercept"] + model["slope"] * xs,
                mode="lines",
                name="rechte lijn (kleinste kwadraten)",
                line={"color": ui.PALETTE[5]},
            )
        )
        ok["residual"] = ok["y"] - (model["intercept"] + model["slope"] * ok["x"])
        out = ok.reindex(ok["residual"].abs().sort_values(ascending=False).index).head(OUTLIERS)
        fig.add_trace(
            go.Scatter(
                x=out["x"],
                y=out["y"],
                mode="text",
                text=out["name"],
                textposition="top center",
                name="grootste afwijkingen",
                hoverinfo="skip",
            )
        )
        summary += (
            f". Rangcorrelatie (Spearman) ρ = {disclosure.format_number(model['rho'], 2)} over "
            f"{model['n']} buurten; de lijn stijgt {disclosure.format_number(model['slope'], 2)} incidenten "
            "per 1.000 inwoners per eenheid van de indicator. Gelabeld: de buurten die het verst van de lijn "
            "liggen."
        )
    else:
        summary += f". Te weinig buurten in beeld (minder dan {MIN_POINTS}) voor een lijn of correlatie."
    fig.update_layout(
        xaxis_title=x_label,
        yaxis_title=f"{ui.category_label(gm, group, mk)} per 1.000 inwoners",
        height=480,
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 10, "t": 20, "b": 40},
    )
    table = pd.DataFrame(
        {
            "Buurt": frame["name"],
            "Indicator": [disclosure.format_number(v, 1) for v in frame["x"]],
            "Per 1.000 inwoners": ui.rate_text(frame["y"], frame["status"]),
        }
    )
    search = ui.query_string(gemeente=gm, indicator=indicator, groep=group, periode=period, mk=mk)
    return (
        fig,
        summary,
        html.Details([html.Summary("Tabel van de punten"), ui.display_table(table, "vb-points", page_size=25)]),
        search,
    )


@callback(
    Output("vb-download", "data"),
    Input("vb-export", "n_clicks"),
    State("vb-gemeente", "value"),
    State("vb-indicator", "value"),
    State("vb-groep", "value"),
    State("vb-periode", "value"),
    State("vb-mk", "value"),
    prevent_initial_call=True,
)
def export(_: int, gm: str, indicator: str, group: str, period: str, mk: str | None = None):
    frame = points(gm, indicator, group, period, mk)
    sheet = pd.DataFrame(
        {
            "Buurtcode": frame["area_code"],
            "Buurt": frame["name"],
            "Indicator": [None if pd.isna(v) else disclosure.round_half_up(v, 2) for v in frame["x"]],
            "Per 1.000 inwoners": exports.cell_values(frame["y"], frame["status"], 2),
        }
    )
    model = fit(frame)
    about = exports.about_sheet(
        "Verbanden",
        {
            "Gemeente": gm,
            "Indicator": indicator,
            "Categorie": ui.category_label(gm, group, mk),
            "Periode": ui.period_text(kind_of(period), period),
            "Rangcorrelatie (Spearman)": disclosure.format_number(model["rho"], 3) if model else "–",
            "Buurten in de correlatie": model["n"] if model else 0,
            "Niet gebruikt": f"buurten met minder dan {MIN_INWONERS} inwoners (te weinig om per 1.000 te rekenen)",
        },
        gm,
    )
    return dcc.send_bytes(exports.workbook({"Buurten": sheet}, about), f"verbanden_{indicator}.xlsx")


ui.save_view_callback("vb", "/verbanden")
ui.mk_choice_callback("vb")
