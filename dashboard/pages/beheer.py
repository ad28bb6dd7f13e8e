"""Beheer: load history, rejected rows, data quality per delivery, freshness — for functioneel beheer.

Numbers here describe files (rows read, rows rejected), not people or places, and only the beheer
role sees them; they are therefore not suppressed. Rejected rows hold no voorval number, postcode,
house number or coordinates (the loader redacts them before storing)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from buurtbeeld import disclosure
from dashboard import access, exports
from dashboard import components as ui
from warehouse import queries

dash.register_page(__name__, path="/beheer", name="Beheer", title="Beheer · Buurtbeeld", order=9)

KINDS = {"bvh": "BVH-export", "buurten": "CBS-buurten", "indicatoren": "Indicatoren", "stadsdelen": "Stadsdelen"}
STATUS = {"loaded": "geladen", "failed": "mislukt", "refused": "geweigerd"}


def layout(batch: str | None = None, **_: str):
    user = access.scope()
    if not user.sees_beheer:
        return dbc.Alert("Deze pagina is alleen voor functioneel beheer.", color="warning")
    batches = queries.batches(ui.url())
    with_rejects = batches[batches["rows_rejected"] > 0]
    options = [
        {"label": f"batch {r.id} · {r.file_name} ({r.rows_rejected} afgekeurd)", "value": int(r.id)}
        for r in with_rejects.itertuples()
    ]
    chosen = (
        int(batch)
        if batch and batch.isdigit() and int(batch) in [o["value"] for o in options]
        else (options[0]["value"] if options else None)
    )
    gm = ui.gemeente_choice(None)
    return html.Div(
        [
            html.H1("Beheer", className="h3"),
            ui.freshness_banner(gm),
            deliveries_alert(queries.delivery_registers(ui.url()), user.gemeente),
            html.H2("Laadgeschiedenis", className="h5"),
            ui.display_table(history_text(batches), "bh-batches", page_size=25),
            html.H2("Afgekeurde regels", className="h5 mt-3"),
            dbc.Row(
                [
                    dbc.Col(
                        ui.dropdown(
                            id="bh-batch",
                            options=options,
                            value=chosen,
                            placeholder="Kies een batch met afgekeurde regels",
                        ),
                        md=8,
                    ),
                    dbc.Col(ui.export_controls("bh"), md=4),
                ],
                className="g-2 mb-2",
            ),
            dcc.Loading(html.Div(id="bh-rejects")),
            html.H2("Datakwaliteit per BVH-levering", className="h5 mt-3"),
            ui.display_table(quality_text(queries.delivery_quality(ui.url())), "bh-quality", page_size=25),
        ]
    )


def deliveries_alert(registers: list, gemeente: str | None) -> dbc.Alert:
    """The delivery register in one alert: which expected weekly police exports are missing."""
    shown = [r for r in registers if gemeente is None or r.gemeente == gemeente]
    if not shown:
        return dbc.Alert("Nog geen politie-exports geladen.", color="light", id="bh-leveringen")
    lines = []
    for r in shown:
        through = f"{r.gemeente}: leveringen van {_week(r.first)} t/m {_week(r.last)}"
        if r.gaps:
            lines.append(html.Li(f"{through}; levering ontbreekt voor {', '.join(map(_week, r.gaps))}."))
        if r.overdue:
            lines.append(
                html.Li(f"{through}; achterstand: {len(r.overdue)} week/weken, verwacht t/m {_week(r.overdue[-1])}.")
            )
        if not r.missing:
            lines.append(html.Li(f"{through}; compleet."))
    missing = any(r.missing for r in shown)
    title = "Levering ontbreekt" if missing else "Leveringen compleet"
    return dbc.Alert(
        [html.Strong(title), html.Ul(lines, className="mb-0 small")],
        color="warning" if missing else "light",
        id="bh-leveringen",
    )


def _week(key: int) -> str:
    return f"week {key % 100} van {key // 100}"


def history_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Batch": frame["id"],
            "Soort": frame["kind"].map(KINDS).fillna(frame["kind"]),
            "Bestand": frame["file_name"],
            # A batch without a finish time stopped half-way (or is running now): etl.batch, step 0.
            "Status": frame["status"]
            .map(STATUS)
            .fillna(frame["status"])
            .where(frame["finished_at"].notna(), "niet afgerond"),
            "Regels": frame["rows_in"],
            "Geladen": frame["rows_loaded"],
            "Afgekeurd": frame["rows_rejected"],
            "Klaar": [t.strftime("%d-%m-%Y %H:%M") if pd.notna(t) else "–" for t in frame["finished_at"]],
            "Melding": frame["message"].fillna(""),
        }
    )


def quality_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Batch": frame["id"],
            "Bestand": frame["file_name"],
            "Regels": frame["rows_in"],
            "Zonder buurt (onbekend)": [
                disclosure.format_number(s * 100, 1) + "%" if pd.notna(s) else "–" for s in frame["share_onbekend"]
            ],
            "Onbekende MK-codes": frame["unknown_mk"],
        }
    )


@callback(Output("bh-rejects", "children"), Input("bh-batch", "value"))
def rejects(batch_id: int | None):
    if not access.scope().sees_beheer:
        return no_update
    if batch_id is None:
        return html.P("Geen batches met afgekeurde regels.", className="small")
    frame = queries.rejects(ui.url(), int(batch_id))
    shown = frame.head(500)
    # One line per reason: a row rejected for two reasons is one rejected row (as the batch list counts).
    rows = frame["regel"].nunique()
    note = html.P(
        f"{rows} afgekeurde {'regel' if rows == 1 else 'regels'}"
        + (f" ({len(frame)} redenen)" if len(frame) > rows else "")
        + (" (de eerste 500 redenen getoond)" if len(frame) > 500 else ""),
        className="small",
    )
    return [note, ui.display_table(shown.rename(columns=str.capitalize), "bh-reject-table", page_size=25)]


@callback(
    Output("bh-download", "data"),
    Input("bh-export", "n_clicks"),
    State("bh-batch", "value"),
    prevent_initial_call=True,
)
def export(_: int, batch_id: int | None):
    if not access.scope().sees_beheer or batch_id is None:
        return no_update
    frame = queries.rejects(ui.url(), int(batch_id)).rename(columns=str.capitalize)
    about = exports.about_sheet("Afgekeurde regels", {"Batch": str(batch_id)}, None)
    return dcc.send_bytes(exports.workbook({"Afgekeurd": frame}, about), f"afgekeurd_batch_{batch_id}.xlsx")
