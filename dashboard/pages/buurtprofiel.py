"""Buurtprofiel: one buurt next to its stadsdeel, its gemeente and reference buurten the analyst picks."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from buurtbeeld import disclosure
from buurtbeeld.indicator_totals import combined
from buurtbeeld.periods import DAGDELEN, WEEKDAYS, kind_of, month_span, months_of
from dashboard import components as ui
from dashboard import exports
from warehouse import queries

dash.register_page(__name__, path="/buurtprofiel", name="Buurtprofiel", title="Buurtprofiel · Buurtbeeld", order=3)


def layout(
    gemeente: str | None = None,
    buurt: str | None = None,
    ref: str | list[str] | None = None,
    periode: str | None = None,
    **_: str,
):
    gm = ui.gemeente_choice(gemeente)
    options = buurt_options(gm) if gm else []
    codes = [o["value"] for o in options]
    asked, buurt = buurt, buurt if buurt in codes else (codes[0] if codes else None)
    shown = next((o["label"] for o in options if o["value"] == buurt), buurt)
    refs = [r for r in ([ref] if isinstance(ref, str) else ref or []) if r in codes]
    choices = period_options(gm)
    periode = periode if periode in [o["value"] for o in choices] else default_period(gm)
    return html.Div(
        [
            dcc.Location(id="bp-url", refresh=False),
            html.H1("Buurtprofiel", className="h3"),
            ui.freshness_banner(gm),
            ui.replaced_notice(asked, codes, shown, "De buurt", "bp-link-notice"),
            dbc.Row(
                [
                    dbc.Col(
                        ui.labelled(
                            "Gemeente",
                            ui.dropdown(id="bp-gemeente", options=ui.gemeente_options(), value=gm, clearable=False),
                        ),
                        md=2,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Buurt (zoek op naam of code)",
                            ui.dropdown(id="bp-buurt", options=options, value=buurt, clearable=False),
                        ),
                        md=4,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Vergelijk met buurten",
                            ui.dropdown(
                                id="bp-ref",
                                options=reference_options(gm, buurt),
                                value=refs,
                                multi=True,
                                placeholder="Kies referentiebuurten",
                            ),
                        ),
                        md=4,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Periode",
                            ui.dropdown(id="bp-periode", options=choices, value=periode, clearable=False),
                        ),
                        md=2,
                    ),
                ],
                className="g-2 mb-3",
            ),
            dcc.Loading(html.Div(id="bp-content")),
            ui.suppression_note(),
            html.Div([ui.export_controls("bp")], className="mb-2"),
            html.Div([ui.save_view_controls("bp"), html.Span(id="bp-view-status", className="small ms-2")]),
        ]
    )


def buurt_options(gm: str) -> list[dict[str, str]]:
    a = ui.visible_areas(gm, "buurt")
    a = a[a["area_code"] != "onbekend"].sort_values("name")
    return [{"label": f"{n} ({c})", "value": c} for c, n in zip(a["area_code"], a["name"], strict=True)]


def period_options(gm: str | None) -> list[dict[str, str]]:
    """Fixed calendar periods only (quarters, years, months): sliding windows would let two views be
    differenced into a hidden count (buurtbeeld.disclosure, rule 3)."""
    if not gm:
        return []
    options = [
        {"label": ui.period_text(kind, p), "value": p}
        for kind in ("quarter", "year", "month")
        for p in reversed(queries.periods(ui.url(), gm, kind))
    ]
    return options


def default_period(gm: str | None) -> str | None:
    for kind in ("quarter", "month"):
        found = queries.periods(ui.url(), gm, kind) if gm else []
        if found:
            return found[-1]
    return None


# --- data -----------------------------------------------------------------------------------------


def category_frame(gm: str, buurt: str, period: str) -> pd.DataFrame:
    frame = queries.area_groups(ui.url(), gm, kind_of(period), (period,), "buurt", buurt, audience=ui.audience())
    pop = queries.population(ui.url(), gm).set_index(["area_level", "area_code"])["inwoners"]
    inwoners = pop.get(("buurt", buurt), np.nan)
    frame["rate"] = disclosure.masked_rate(frame["count"], frame["status"], pd.Series(inwoners, index=frame.index))
    frame["label"] = [ui.group_label(c) for c in frame["group_code"]]
    return frame


def comparison_frame(gm: str, codes: list[str], period: str) -> pd.DataFrame:
    """Totals and rates over the period for the buurt, its reference buurten, its stadsdeel and the gemeente."""
    pop = queries.population(ui.url(), gm).set_index(["area_level", "area_code"])["inwoners"]
    a = queries.areas(ui.url(), gm).set_index(["area_level", "area_code"])
    rows = []
    first = a.loc[("buurt", codes[0])]
    targets = [("buurt", c) for c in codes]
    if isinstance(first["stadsdeel"], str):
        targets.append(("stadsdeel", first["stadsdeel"]))
    targets.append(("gemeente", gm))
    for level, code in targets:
        for group in ("*", "woninginbraak", "geweld", "overlast"):
            w = queries.cells(ui.url(), gm, kind_of(period), (period,), level, group, audience=ui.audience())
            hit = w[w["area_code"] == code]
            count = hit["count"].iloc[0] if len(hit) else np.nan
            status = int(hit["status"].iloc[0]) if len(hit) else disclosure.SHOWN
            inw = pop.get((level, code), np.nan)
            rate = count / inw * 1000 if disclosure.visible(status) and inw and inw > 0 else np.nan
            rows.append(
                {
                    "level": level,
                    "code": code,
                    "name": a.loc[(level, code), "name"],
                    "group": group,
                    "count": count,
                    "status": status,
                    "inwoners": inw,
                    "rate": rate,
                }
            )
    return pd.DataFrame(rows)


def indicator_frame(gm: str, buurt: str, numbers: bool = False) -> pd.DataFrame:
    """The buurt's indicators next to its stadsdeel and gemeente. The gemeente's own figure where one
    was delivered (as the monthly analyses read it); otherwise, and for the stadsdeel, from its
    buurten (buurtbeeld.indicator_totals): counts of people summed and shown per 1.000 inwoners. An
    aggregate is shown only when none of its buurten is hidden or missing. `numbers`: the same as
    numbers with a unit column, for Excel (the page's text, "120 (29,2)", could not be computed with)."""
    t = ui.threshold()
    ind = queries.indicators(ui.url(), gm)
    own_gm = ind[ind["area_code"] == gm].set_index("indicator")["value"]
    a = queries.areas(ui.url(), gm)
    b = a[(a["area_level"] == "buurt") & (a["area_code"] != "onbekend")][["area_code", "stadsdeel"]]
    pop = queries.population(ui.url(), gm)
    pop_b = pop[pop["area_level"] == "buurt"].set_index("area_code")["inwoners"]
    pop_gm = float(pop.query("area_level == 'gemeente'")["inwoners"].sum())
    ind = ind.merge(b, on="area_code")
    ind["inwoners"] = ind["area_code"].map(pop_b)
    is_count = ind["unit"] == "aantal"
    ind["hidden"] = is_count & ind["value"].between(1, t - 1)
    sd = b.set_index("area_code")["stadsdeel"].get(buurt)
    rows = []
    for code, g in ind.groupby("indicator"):
        unit, label = g["unit"].iloc[0], g["label"].iloc[0]
        if code == "aantal_inwoners":
            continue
        own = g[g["area_code"] == buurt]

        def aggregate(part: pd.DataFrame, unit: str = unit, code: str = code, whole: bool = False) -> float:
            if whole and code in own_gm.index:
                value = own_gm[code]
                return value / pop_gm * 1000 if unit == "aantal" and pop_gm > 0 else value
            if part.empty or part["hidden"].any():
                return np.nan
            value = combined(part["value"].to_numpy(), part["inwoners"].to_numpy(), unit)
            return value / part["inwoners"].sum() * 1000 if unit == "aantal" else value

        if own.empty:
            continue
        value = own["value"].iloc[0]
        hidden = bool(own["hidden"].iloc[0])
        if numbers:
            rows.append(_numeric_row(label, own["period"].iloc[0], unit, value, hidden, own, g, sd, aggregate, t))
            continue
        if unit == "aantal":
            shown = "<" + str(t) if hidden else disclosure.format_number(value)
            per = np.nan if hidden or pd.isna(value) else value / own["inwoners"].iloc[0] * 1000
            rows.append(
                {
                    "Indicator": f"{label} (per 1.000 inwoners)",
                    "Periode": own["period"].iloc[0],
                    "Buurt": f"{shown} ({disclosure.format_number(per, 1)})",
                    "Stadsdeel": disclosure.format_number(aggregate(g[g["stadsdeel"] == sd]), 1) if sd else "–",
                    "Gemeente": disclosure.format_number(aggregate(g, whole=True), 1),
                }
            )
        else:
            rows.append(
                {
                    # With its unit as the monthly analyses write it ("€ 343.000", "12,1%"), not "(x 1 000 euro)".
                    "Indicator": label,
                    "Periode": own["period"].iloc[0],
                    "Buurt": "geheim" if pd.isna(value) else disclosure.format_amount(value, unit),
                    "Stadsdeel": disclosure.format_amount(aggregate(g[g["stadsdeel"] == sd]), unit) if sd else "–",
                    "Gemeente": disclosure.format_amount(aggregate(g, whole=True), unit),
                }
            )
    inw = pop_b.get(buurt)
    if numbers:
        sd_inw = pop.query("area_level == 'stadsdeel' and area_code == @sd")["inwoners"].sum() if sd else None
        head = {
            "Indicator": "Aantal inwoners",
            "Periode": "",
            "Eenheid": "inwoners",
            "Buurt": _number(inw),
            "Buurt (personen)": None,
            "Stadsdeel": _number(sd_inw),
            "Gemeente": _number(pop.query("area_level == 'gemeente'")["inwoners"].sum()),
        }
        return pd.DataFrame([head, *rows])
    head = {
        "Indicator": "Aantal inwoners",
        "Periode": "",
        "Buurt": disclosure.format_number(inw),
        "Stadsdeel": disclosure.format_number(
            pop.query("area_level == 'stadsdeel' and area_code == @sd")["inwoners"].sum()
        )
        if sd
        else "–",
        "Gemeente": disclosure.format_number(pop.query("area_level == 'gemeente'")["inwoners"].sum()),
    }
    return pd.DataFrame([head, *rows])


def _number(value: object, decimals: int = 0) -> float | int | None:
    """A cell Excel can compute with: rounded as the page shows it, None where there is none."""
    if value is None or pd.isna(value):
        return None
    rounded = disclosure.round_half_up(float(value), decimals)
    return rounded if decimals else int(rounded)


def _numeric_row(label, period, unit, value, hidden, own, g, sd, aggregate, t) -> dict[str, object]:
    """One indicator for Excel: counts of people per 1.000 inwoners (and the buurt's count), amounts
    in euro, other values in their own unit; '<5' where the page hides a small count."""
    if unit == "aantal":
        per = None if hidden or pd.isna(value) else value / own["inwoners"].iloc[0] * 1000
        return {
            "Indicator": label,
            "Periode": period,
            "Eenheid": "per 1.000 inwoners",
            "Buurt": f"<{t}" if hidden else _number(per, 1),
            "Buurt (personen)": f"<{t}" if hidden else _number(value),
            "Stadsdeel": _number(aggregate(g[g["stadsdeel"] == sd]), 1) if sd else None,
            "Gemeente": _number(aggregate(g, whole=True), 1),
        }
    euro = unit.strip() in {"x 1 000 euro", "x 1.000 euro"}
    scale, decimals = (1000.0, 0) if euro else (1.0, 1)

    def cell(v: object) -> object:
        return None if v is None or pd.isna(v) else _number(float(v) * scale, decimals)

    return {
        "Indicator": label,
        "Periode": period,
        "Eenheid": "euro" if euro else unit,
        "Buurt": cell(value),
        "Buurt (personen)": None,
        "Stadsdeel": cell(aggregate(g[g["stadsdeel"] == sd])) if sd else None,
        "Gemeente": cell(aggregate(g, whole=True)),
    }


def heatmap_frame(gm: str, buurt: str, period: str) -> pd.DataFrame:
    start, end = month_span(months_of(period))
    return queries.weekday_dagdeel(ui.url(), gm, buurt, start, end, ui.threshold(), audience=ui.audience())


def heatmap_block(gm: str, buurt: str, period: str) -> object:
    """The heatmap for intern. Gedeeld: one sentence, as every cell of a buurt's day × dagdeel table
    is hidden from it (not in the shared design); a grid of 28 "x" on a −0,4…0,4 colour scale told
    the reader nothing (found by an outside review)."""
    if ui.audience() != disclosure.INTERN:
        return dbc.Alert(
            "Aantallen per dag en dagdeel zijn in één buurt te klein om beschermd te tonen; ze zijn alleen "
            "voor de analisten van de gemeente.",
            color="light",
            className="small border py-2",
            id="bp-heatmap-gedeeld",
        )
    return dcc.Graph(
        id="bp-heatmap",
        figure=heatmap_figure(heatmap_frame(gm, buurt, period)),
        config=ui.graph_config(f"tijdstippen-{buurt}"),
    )


def heatmap_figure(frame: pd.DataFrame) -> go.Figure:
    t = ui.threshold()
    z = np.full((len(DAGDELEN), 7), 0.0)
    text = [["0"] * 7 for _ in DAGDELEN]
    for r in frame.itertuples():
        if r.dagdeel not in DAGDELEN:
            continue
        i, j = DAGDELEN.index(r.dagdeel), int(r.weekday) - 1
        z[i, j] = r.count if disclosure.visible(r.status) else np.nan
        text[i][j] = disclosure.label(r.count, int(r.status), t)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=WEEKDAYS,
            y=DAGDELEN,
            text=text,
            texttemplate="%{text}",
            colorscale=ui.SEQUENTIAL,
            hovertemplate="%{x}, %{y}: %{text}<extra></extra>",
            colorbar={"title": {"text": "aantal"}},
        )
    )
    fig.update_layout(height=300, margin={"l": 70, "r": 10, "t": 10, "b": 40}, yaxis={"autorange": "reversed"})
    return fig


def category_block(frame: pd.DataFrame, buurt: str) -> object:
    """The chart of the categories, or a sentence where none of them is shown (gedeeld: a buurt's
    categories are not in the shared design; the chart was all "x" on a −1…1 axis)."""
    parts = frame[frame["group_code"] != "*"]
    if not disclosure.visible(parts["status"].to_numpy()).any():
        return dbc.Alert(
            "Aantallen per categorie zijn in één buurt te klein om beschermd te tonen; het totaal staat in de "
            "vergelijking hierboven, de categorieën per stadsdeel en gemeente in Trends.",
            color="light",
            className="small border py-2",
            id="bp-categories-gedeeld",
        )
    return dcc.Graph(id="bp-categories", figure=category_figure(frame), config=ui.graph_config(f"categorieen-{buurt}"))


def category_figure(frame: pd.DataFrame) -> go.Figure:
    parts = frame[frame["group_code"] != "*"].copy()
    parts = parts[(parts["count"].fillna(1) > 0)].sort_values("count", na_position="first")
    text = ui.count_text(parts["count"], parts["status"])
    fig = go.Figure(
        go.Bar(
            x=parts["count"].fillna(0),
            y=parts["label"],
            orientation="h",
            text=text,
            textposition="outside",
            marker_color=ui.PALETTE[0],
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(250, 26 * len(parts)),
        margin={"l": 10, "r": 30, "t": 10, "b": 40},
        xaxis_title="aantal in de periode",
        yaxis={"automargin": True},
    )
    return fig


def comparison_table(frame: pd.DataFrame, numbers: bool = False) -> pd.DataFrame:
    """The comparison as the page shows it, or (`numbers`) as numbers Excel can compute with and the
    disclosure sign where a figure is hidden."""
    t = ui.threshold()
    out = []
    for (level, _code), g in frame.groupby(["level", "code"], sort=False):
        inw = g["inwoners"].iloc[0]
        row = {
            "Gebied": f"{g['name'].iloc[0]}" + ("" if level == "buurt" else f" ({level})"),
            "Inwoners": _number(inw) if numbers else disclosure.format_number(inw),
        }
        counts = exports.cell_values(g["count"], g["status"]) if numbers else [None] * len(g)
        rates = exports.cell_values(g["rate"], g["status"], 2) if numbers else [None] * len(g)
        for r, count, rate in zip(g.itertuples(), counts, rates, strict=True):
            name = "Alle" if r.group == "*" else ui.group_label(r.group)
            row[f"{name}: aantal"] = count if numbers else disclosure.label(r.count, r.status, t)
            row[f"{name}: per 1.000"] = rate if numbers else disclosure.rate_label(r.rate, r.status, t)
        out.append(row)
    return pd.DataFrame(out)


def reference_options(gm: str | None, buurt: str | None) -> list[dict[str, str]]:
    """The buurten to compare with: all but the one shown (it was offered as its own reference)."""
    return [o for o in buurt_options(gm) if o["value"] != buurt] if gm else []


@callback(Output("bp-ref", "options"), Input("bp-buurt", "value"), State("bp-gemeente", "value"))
def update_references(buurt: str | None, gm: str | None) -> list[dict[str, str]]:
    return reference_options(gm, buurt)


@callback(
    Output("bp-content", "children"),
    Output("bp-url", "search"),
    Input("bp-gemeente", "value"),
    Input("bp-buurt", "value"),
    Input("bp-ref", "value"),
    Input("bp-periode", "value"),
)
def update(gm: str, buurt: str | None, refs: list[str] | None, period: str):
    if not buurt or not ui.allowed(gm, "buurt", buurt):
        return dbc.Alert("Kies een buurt.", color="info"), no_update
    refs = [r for r in (refs or []) if r != buurt and ui.allowed(gm, "buurt", r)]
    if not period:
        return dbc.Alert("Nog geen volledige maanden gepubliceerd.", color="warning"), no_update
    name = queries.area_name(ui.url(), gm, "buurt", buurt)
    span = ui.period_text(kind_of(period), period)
    categories = category_frame(gm, buurt, period)
    content = [
        html.H2(f"{name} ({buurt})", className="h4"),
        html.P(f"Periode: {span}.", className="small text-muted"),
        dbc.Row(
            [
                dbc.Col(
                    [
                        html.H3("Kerncijfers: buurt, stadsdeel en gemeente", className="h5"),
                        ui.display_table(indicator_frame(gm, buurt), "bp-indicators", page_size=40),
                        html.P(
                            f"'<{ui.threshold()}': een klein aantal personen, afgeschermd. '–' bij stadsdeel of "
                            "gemeente: niet gegeven, of niet te berekenen zonder zo'n afgeschermd aantal van een "
                            "van de buurten (het zou uit het totaal terug te rekenen zijn).",
                            className="small text-muted",
                        ),
                    ],
                    lg=7,
                ),
                # The comparison's ten columns below the key figures, at full width: beside them half
                # its columns were behind a scroll bar (an outside review at 1 400 px).
                dbc.Col(
                    [
                        html.H3("Vergelijking (aantal en per 1.000 inwoners)", className="h5 mt-3"),
                        ui.display_table(comparison_table(comparison_frame(gm, [buurt, *refs], period)), "bp-compare"),
                    ],
                    lg=12,
                ),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    [
                        html.H3("Categorieën in de periode", className="h5"),
                        category_block(categories, buurt),
                    ],
                    lg=6,
                ),
                dbc.Col(
                    [
                        html.H3("Dag van de week × dagdeel (pleegmoment)", className="h5"),
                        heatmap_block(gm, buurt, period),
                        html.P("Nacht 0–6 uur, ochtend 6–12, middag 12–18, avond 18–24.", className="small text-muted"),
                    ],
                    lg=6,
                ),
            ]
        ),
    ]
    return content, ui.query_string(gemeente=gm, buurt=buurt, ref=refs, periode=period)


@callback(
    Output("bp-download", "data"),
    Input("bp-export", "n_clicks"),
    State("bp-gemeente", "value"),
    State("bp-buurt", "value"),
    State("bp-ref", "value"),
    State("bp-periode", "value"),
    prevent_initial_call=True,
)
def export(_: int, gm: str, buurt: str, refs: list[str] | None, period: str):
    if not buurt or not ui.allowed(gm, "buurt", buurt):
        return no_update
    refs = [r for r in (refs or []) if r != buurt and ui.allowed(gm, "buurt", r)]
    cats = category_frame(gm, buurt, period)
    heat = heatmap_frame(gm, buurt, period)
    sheets = {
        "Kerncijfers": indicator_frame(gm, buurt, numbers=True),
        "Vergelijking": comparison_table(comparison_frame(gm, [buurt, *refs], period), numbers=True),
        "Categorieën": pd.DataFrame(
            {
                "Categorie": cats["label"],
                "Aantal": exports.cell_values(cats["count"], cats["status"]),
                "Per 1.000 inwoners": exports.cell_values(cats["rate"], cats["status"], 2),
            }
        ),
        "Tijdstippen": pd.DataFrame(
            {
                "Dag": [WEEKDAYS[int(d) - 1] for d in heat.get("weekday", [])],
                "Dagdeel": heat.get("dagdeel", []),
                "Aantal": exports.cell_values(
                    heat.get("count", pd.Series(dtype=float)), heat.get("status", pd.Series(dtype=int))
                ),
            }
        ),
    }
    about = exports.about_sheet(
        "Buurtprofiel",
        {
            "Gemeente": gm,
            "Buurt": f"{queries.area_name(ui.url(), gm, 'buurt', buurt)} ({buurt})",
            "Periode": ui.period_text(kind_of(period), period),
        },
        gm,
    )
    return dcc.send_bytes(exports.workbook(sheets, about), f"buurtprofiel_{buurt}.xlsx")


ui.save_view_callback("bp", "/buurtprofiel")
