"""Maandanalyses: the stored monthly analysis of a stadsdeel (or the gemeente), its wijken and buurten.

Everything shown comes from the stored documents (etl.analyses), already through disclosure control:
the page shows the reader's audience's text (exact counts for intern, the shared figures for gedeeld);
the HTML, PDF and Excel downloads are made for distribution and always hold the gedeeld text."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from buurtbeeld import disclosure, narrative
from buurtbeeld.notable import Method
from buurtbeeld.safe_output import markdown_plain
from dashboard import access, exports, report
from dashboard import components as ui
from warehouse import queries

dash.register_page(__name__, path="/maandanalyses", name="Maandanalyses", title="Maandanalyses · Buurtbeeld", order=5)

WHOLE = "__gemeente__"
LEVELS = ["stadsdeel", "wijk", "buurt"]
LEVEL_LISTS = {"stadsdeel": "Alle stadsdelen", "wijk": "Alle wijken", "buurt": "Alle buurten"}
DOWNLOADS_GEDEELD = (
    "U ziet de exacte aantallen; de downloads (HTML, PDF, Excel) zijn voor verspreiding en bevatten de "
    "gedeelde, afgeronde cijfers."
)


def layout(
    gemeente: str | None = None, maand: str | None = None, scope: str | None = None, buurt: str | None = None, **_: str
):
    gm = ui.gemeente_choice(gemeente)
    months = list(reversed(queries.analysis_months(ui.url(), gm))) if gm else []
    maand = maand if maand in months else (months[0] if months else None)
    scopes = scope_options(gm)
    values = [o["value"] for o in scopes]
    asked, scope = scope, scope if scope in values else (values[0] if values else None)
    return html.Div(
        [
            dcc.Location(id="ma-url", refresh=False),
            html.H1("Maandanalyses", className="h3"),
            ui.freshness_banner(gm),
            ui.replaced_notice(
                asked,
                values,
                next((o["label"] for o in scopes if o["value"] == scope), scope),
                "Het gebied",
                "ma-link-notice",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        ui.labelled(
                            "Gemeente",
                            ui.dropdown(id="ma-gemeente", options=ui.gemeente_options(), value=gm, clearable=False),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Maand",
                            ui.dropdown(
                                id="ma-maand",
                                options=[{"label": narrative.month_name(m), "value": m} for m in months],
                                value=maand,
                                clearable=False,
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        ui.labelled(
                            "Stadsdeel",
                            ui.dropdown(id="ma-scope", options=scopes, value=scope, clearable=False),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        ui.labelled("Buurt met grafieken", ui.dropdown(id="ma-buurt", value=buurt, clearable=False)),
                        md=3,
                    ),
                ],
                className="g-2 mb-3",
            ),
            html.Div(
                [
                    dbc.Button("Download HTML", id="ma-html", color="secondary", size="sm", outline=True),
                    dbc.Button(
                        "Download PDF", id="ma-pdf", color="secondary", size="sm", outline=True, className="ms-2"
                    ),
                    dcc.Download(id="ma-download-doc"),
                    ui.export_controls("ma"),
                ],
                className="mb-3",
            ),
            # No legend below: "Hoe lezen" at the end of the content carries it, as the downloads do
            # (with both, a gedeeld reader got the same paragraph twice).
            dcc.Loading(html.Div(id="ma-content")),
            html.Div([ui.save_view_controls("ma"), html.Span(id="ma-view-status", className="small ms-2")]),
        ]
    )


def scope_options(gm: str | None) -> list[dict[str, str]]:
    """The stadsdelen the user may see; the whole gemeente too, unless the user is limited to one."""
    if not gm:
        return []
    sd = ui.visible_areas(gm, "stadsdeel")
    sd = sd[sd["area_code"] != "onbekend"].sort_values("name")
    options = [{"label": n, "value": c} for c, n in zip(sd["area_code"], sd["name"], strict=True)]
    if access.scope().role != "stadsdeel":
        options.insert(0, {"label": "Hele gemeente", "value": WHOLE})
    return options


def for_audience(docs: pd.DataFrame, audience: str) -> pd.DataFrame:
    """The documents as `audience` reads them: the intern text (exact counts) where one is stored and
    the reader is intern, the gedeeld text otherwise (and always for an analysis stored before the
    intern text existed)."""
    if audience != disclosure.INTERN or docs.empty:
        return docs
    intern = [c.get("intern") if isinstance(c, dict) else None for c in docs["content"]]
    content = [{**c, **i} if i else c for c, i in zip(docs["content"], intern, strict=True)]
    return docs.assign(
        content=content,
        headline=[c["headline"] for c in content],
        n_notable=[int(c.get("notable_shown", n)) for c, n in zip(content, docs["n_notable"], strict=True)],
    )


def scoped(gm: str, month: str, scope: str, audience: str = disclosure.GEDEELD) -> pd.DataFrame:
    """The documents of a scope as `audience` reads them, summary first: the stadsdeel (or gemeente),
    then its stadsdelen, wijken and buurten, the most notable first within each level."""
    docs = for_audience(queries.analyses(ui.url(), gm, month), audience)
    allowed = {o["value"] for o in scope_options(gm)}
    if scope not in allowed:
        return docs.iloc[0:0]
    if scope == WHOLE:
        head = docs[docs["area_level"] == "gemeente"]
        rest = docs[docs["area_level"].isin(LEVELS)]
    else:
        head = docs[(docs["area_level"] == "stadsdeel") & (docs["area_code"] == scope)]
        rest = docs[docs["area_level"].isin(["wijk", "buurt"]) & (docs["stadsdeel"] == scope)]
    rest = rest.assign(_level=rest["area_level"].map(LEVELS.index)).sort_values(
        ["_level", "n_notable", "name"], ascending=[True, False, True]
    )
    return pd.concat([head, rest.drop(columns="_level")])


def how_to_read(docs: pd.DataFrame, audience: str = disclosure.GEDEELD) -> str:
    method = docs["method"].iloc[0] if len(docs) and isinstance(docs["method"].iloc[0], dict) else {}
    known = {k: v for k, v in method.items() if k in Method.__dataclass_fields__}
    return narrative.how_to_read(Method(**known), ui.threshold(), audience)


def scope_name(gm: str, scope: str) -> str:
    return queries.area_name(ui.url(), gm, "gemeente", gm) if scope == WHOLE else f"stadsdeel {scope}"


def trend_figure(trend: dict) -> go.Figure:
    values = trend.get("values", [])
    coarse = trend.get("coarse") or [False] * len(values)
    fig = go.Figure(
        go.Scatter(
            # Short labels on the axis ('mrt 25'): two years of full names overlapped at half width and
            # the first was cut off (an outside review at 1 280 px); the hover names the month in full.
            x=[narrative.month_abbreviation(m) for m in trend.get("months", [])],
            customdata=[narrative.month_name(m) for m in trend.get("months", [])],
            y=values,
            mode="lines+markers",
            line={"color": report.OBSERVED},
            marker={"symbol": ["circle-open" if c else "circle" for c in coarse], "size": 7},
            connectgaps=False,
            name="geregistreerd",
            text=[
                disclosure.label(v, disclosure.COARSE if c else disclosure.SHOWN, ui.threshold())
                if v is not None
                else "x"
                for v, c in zip(values, coarse, strict=True)
            ],
            hovertemplate="%{customdata}: %{text}<extra></extra>",
        )
    )
    # A hidden month is a gap in the line; say so under the chart, not only on hover (an outside review),
    # and start the axis at 0, so that a small change does not look like a large one.
    gap = any(v is None for v in values)
    fig.update_layout(
        title={"text": "Alle categorieën per maand", "font": {"size": 14}},
        height=260 + (20 if gap else 0),
        margin={"l": 40, "r": 10, "t": 40, "b": 60 if gap else 40},
        template="simple_white",
        yaxis={"rangemode": "tozero"},
        xaxis={"automargin": True},
    )
    if gap:
        fig.add_annotation(
            text="Open plek: aantal van die maand niet getoond (x).",
            xref="paper",
            yref="paper",
            x=0,
            y=-0.32,
            showarrow=False,
            font={"size": 11},
            xanchor="left",
        )
    return fig


def _two_lines(title: str) -> str:
    """The title's explanation in brackets on a line of its own: a half-width chart cuts a long title off."""
    head, bracket, rest = title.partition(" (")
    return f"{head}<br><sup>({rest}</sup>" if bracket else title


def groups_figure(groups: dict) -> go.Figure:
    fig = go.Figure(
        [
            go.Bar(
                y=groups["labels"],
                x=groups["observed"],
                orientation="h",
                name="geregistreerd",
                marker_color=report.OBSERVED,
            ),
            go.Bar(
                y=groups["labels"], x=groups["expected"], orientation="h", name="verwacht", marker_color=report.EXPECTED
            ),
        ]
    )
    fig.update_layout(
        title={"text": _two_lines(narrative.groups_chart_title(groups)), "font": {"size": 14}},
        height=100 + 22 * len(groups["labels"]),
        margin={"l": 10, "r": 10, "t": 55, "b": 30},
        barmode="group",
        template="simple_white",
        legend={"orientation": "h"},
    )
    return fig


def document_card(doc: pd.Series, charts: bool) -> dbc.Card:
    content = doc["content"]
    body = [html.P(doc["headline"], className="fw-semibold ma-headline")]
    body += [dcc.Markdown(p) for p in content["paragraphs"]]
    if content.get("table"):
        # The table the downloads carry, with the Basis column "Hoe lezen" refers to (an outside review
        # found the page without it). Folded: the text above says what stands out.
        table = dbc.Table.from_dataframe(pd.DataFrame(content["table"]), size="sm", striped=True, className="small")
        body.append(html.Details([html.Summary("Tabel per categorie"), table], className="mb-2 ma-tabel"))
    if charts:
        trend, groups = content["charts"]["trend"], content["charts"]["groups"]
        cols = []
        if narrative.chart_has_data(trend, ("values",)):
            cols.append(dbc.Col(dcc.Graph(figure=trend_figure(trend), config=ui.graph_config("trend")), lg=6))
        else:
            cols.append(dbc.Col(html.P(narrative.NO_TREND_CHART, className="small text-muted"), lg=6))
        if narrative.chart_has_data(groups, ("observed", "expected")):
            cols.append(dbc.Col(dcc.Graph(figure=groups_figure(groups), config=ui.graph_config("categorieen")), lg=6))
        else:
            cols.append(dbc.Col(html.P(narrative.NO_GROUPS_CHART, className="small text-muted"), lg=6))
        body.append(dbc.Row(cols))
    title = f"{report.LEVEL_TITLES.get(doc['area_level'], '')} {doc['name']}"
    return dbc.Card([dbc.CardHeader(html.H2(title, className="h5 mb-0")), dbc.CardBody(body)], className="mb-3")


@callback(
    Output("ma-buurt", "options"),
    Output("ma-buurt", "value"),
    Input("ma-gemeente", "value"),
    Input("ma-maand", "value"),
    Input("ma-scope", "value"),
    State("ma-buurt", "value"),
)
def buurt_choices(gm: str, month: str | None, scope: str | None, current: str | None):
    if not (gm and month and scope):
        return [], None
    docs = scoped(gm, month, scope, ui.audience())
    b = docs[docs["area_level"] == "buurt"]
    options = [
        {"label": f"{n} ({k} opvallend)" if k else n, "value": c}
        for c, n, k in zip(b["area_code"], b["name"], b["n_notable"], strict=True)
    ]
    codes = [o["value"] for o in options]
    return options, current if current in codes else (codes[0] if codes else None)


@callback(
    Output("ma-content", "children"),
    Output("ma-url", "search"),
    Input("ma-gemeente", "value"),
    Input("ma-maand", "value"),
    Input("ma-scope", "value"),
    Input("ma-buurt", "value"),
)
def update(gm: str, month: str | None, scope: str | None, buurt: str | None):
    if not month:
        return dbc.Alert(
            "Er zijn nog geen maandanalyses. Ze worden gemaakt met 'buurtbeeld analyses maand JJJJ-MM' "
            "(of door de Airflow-taak na de eerste lading van een nieuwe maand).",
            color="info",
        ), no_update
    audience = ui.audience()
    docs = scoped(gm, month, scope or "", audience)
    if docs.empty:
        return dbc.Alert("Kies een stadsdeel.", color="info"), no_update
    summary, rest = docs.iloc[0], docs.iloc[1:]
    chosen = rest[(rest["area_level"] == "buurt") & (rest["area_code"] == buurt)]
    lists = []
    for level, title in LEVEL_LISTS.items():
        part = rest[rest["area_level"] == level]
        if part.empty:
            continue
        items = [
            dbc.AccordionItem(
                [dcc.Markdown(p) for p in row["content"]["paragraphs"]],
                title=row["headline"],
                item_id=row["area_code"],
            )
            for _, row in part.iterrows()
        ]
        lists += [
            html.H2(title, className="h5"),
            dbc.Accordion(items, start_collapsed=True, always_open=True, id=f"ma-{level}-lijst", className="mb-3"),
        ]
    about = report.about_text(docs)
    if audience == disclosure.INTERN:
        about += " " + DOWNLOADS_GEDEELD
    content = [
        html.P(about, className="small text-muted"),
        document_card(summary, charts=False),
        *([document_card(chosen.iloc[0], charts=True)] if len(chosen) else []),
        *lists,
        dbc.Card(dbc.CardBody(dcc.Markdown(how_to_read(docs, audience))), className="mb-3 bg-light", id="ma-hoe-lezen"),
    ]
    return content, ui.query_string(gemeente=gm, maand=month, scope=scope, buurt=buurt)


@callback(
    Output("ma-download-doc", "data"),
    Input("ma-html", "n_clicks"),
    Input("ma-pdf", "n_clicks"),
    State("ma-gemeente", "value"),
    State("ma-maand", "value"),
    State("ma-scope", "value"),
    prevent_initial_call=True,
)
def export_document(_html: int, _pdf: int, gm: str, month: str, scope: str):
    return document_download("pdf" if dash.ctx.triggered_id == "ma-pdf" else "html", gm, month, scope)


def file_stem(month: str, scope: str) -> str:
    """'maandanalyse_2025-09_Oost': every download of one scope and month is named alike, and two
    stadsdelen' files do not overwrite each other."""
    return f"maandanalyse_{month}_{'gemeente' if scope == WHOLE else scope}".replace(" ", "_")


def document_download(kind: str, gm: str, month: str, scope: str):
    """The scope's analyses as one self-contained HTML file or a PDF."""
    docs = scoped(gm, month, scope or "") if month else pd.DataFrame()
    if docs.empty:
        return no_update
    name, about = scope_name(gm, scope), report.about_text(docs)
    stem = file_stem(month, scope)
    if kind == "pdf":
        return dcc.send_bytes(report.pdf_report(docs, month, name, how_to_read(docs), about), f"{stem}.pdf")
    return dcc.send_string(report.html_report(docs, month, name, how_to_read(docs), about), f"{stem}.html")


@callback(
    Output("ma-download", "data"),
    Input("ma-export", "n_clicks"),
    State("ma-gemeente", "value"),
    State("ma-maand", "value"),
    State("ma-scope", "value"),
    prevent_initial_call=True,
)
def export_tables(_: int, gm: str, month: str, scope: str):
    docs = scoped(gm, month, scope or "") if month else pd.DataFrame()
    if docs.empty:
        return no_update
    rows = [
        {"Gebied": f"{report.LEVEL_TITLES.get(d.area_level, '')} {d.name}"}
        | {column: exports.excel_value(value) for column, value in row.items()}
        for d in docs.itertuples()
        for row in d.content["table"]
    ]
    texts = pd.DataFrame(
        {
            "Gebied": [f"{report.LEVEL_TITLES.get(d.area_level, '')} {d.name}" for d in docs.itertuples()],
            "Kop": docs["headline"].tolist(),
            "Tekst": [markdown_plain("\n\n".join(d.content["paragraphs"])) for d in docs.itertuples()],
        }
    )
    # The analyses are written for distribution: their figures are the gedeeld audience's, whoever downloads.
    about = exports.about_sheet(
        "Maandanalyse",
        {
            "Maand": narrative.month_name(month),
            "Gebied": scope_name(gm, scope),
            "Hoe lezen": markdown_plain(how_to_read(docs)),  # as the HTML and PDF carry it
        },
        gm,
        disclosure.GEDEELD,
    )
    sheets = {"Uitkomsten": pd.DataFrame(rows), "Teksten": texts}
    return dcc.send_bytes(exports.workbook(sheets, about), f"{file_stem(month, scope)}.xlsx")


ui.save_view_callback("ma", "/maandanalyses")
