"""Start: what Buurtbeeld shows, where to go, and the analyst's saved views."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, callback, ctx, html

from buurtbeeld import disclosure
from dashboard import access
from dashboard import components as ui
from warehouse import queries

dash.register_page(__name__, path="/", name="Start", title="Buurtbeeld", order=0)

PAGES = [
    ("/weekoverzicht", "Weekoverzicht", "De afgelopen week per categorie en per buurt, met kaart en ranglijst."),
    ("/trends", "Trends", "Week- en maandreeksen per gebied en categorie, met voortschrijdend gemiddelde."),
    ("/buurtprofiel", "Buurtprofiel", "Eén buurt: kerncijfers, categorieën, tijdstippen en vergelijkbare buurten."),
    ("/verbanden", "Verbanden", "Indicatoren naast incidentcijfers over alle buurten, met rangcorrelatie."),
]


def layout(**_: str):
    gm = ui.gemeente_choice(None)
    return html.Div(
        [
            html.H1("Buurtbeeld", className="h3"),
            html.P(
                "Een wekelijks, privacyveilig veiligheidsbeeld per CBS-buurt, op basis van de politie-export (BVH) "
                "en de buurtcijfers van CBS en de gemeente.",
                className="lead",
            ),
            ui.freshness_banner(gm),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.H2(dbc.CardLink(name, href=href), className="h5"),
                                    html.P(text, className="small mb-0"),
                                ]
                            )
                        ),
                        md=6,
                        lg=3,
                        className="mb-2",
                    )
                    for href, name, text in PAGES
                ],
                className="g-2",
            ),
            html.H2("Bewaarde weergaven", className="h5 mt-4"),
            html.Div(id="start-views", children=_views()),
            html.H2("Over de cijfers", className="h5 mt-4"),
            html.P(disclosure.legend(ui.threshold(), ui.audience()), className="small"),
            html.P(
                "Cijfers zijn geregistreerde incidenten (aangiften en meldingen), niet alle criminaliteit. "
                "De laatste twee weken zijn voorlopig: aangiften komen nog binnen.",
                className="small",
            ),
        ]
    )


def _views() -> object:
    user = access.scope()
    views = queries.saved_views(ui.url(), user.name)
    if views.empty:
        return html.P("Nog geen bewaarde weergaven. Bewaar een weergave onderaan een pagina.", className="small")
    return html.Ul(
        [
            html.Li(
                [
                    html.A(row.name, href=f"{row.path}{row.query}"),
                    " ",
                    dbc.Button(
                        "verwijderen",
                        id={"type": "start-view-delete", "id": int(row.id)},
                        size="sm",
                        color="link",
                        className="p-0 ms-2",
                    ),
                ]
            )
            for row in views.itertuples()
        ]
    )


@callback(
    Output("start-views", "children"),
    Input({"type": "start-view-delete", "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def delete(clicks: list[int | None]):
    user = access.scope()
    if ctx.triggered_id and any(clicks):
        queries.delete_view(ui.url(), user.name, int(ctx.triggered_id["id"]))
    return _views()
