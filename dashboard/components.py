"""Building blocks the pages share: filters, banner, KPI cards, tables, export buttons, map."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from buurtbeeld import disclosure, narrative
from buurtbeeld.settings import get_settings
from dashboard import access
from warehouse import queries

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SEQUENTIAL = "Cividis"  # perceptually uniform and colour-blind safe (plotly.js name)
HIDDEN_COLOUR = "#bdbdbd"


def url() -> str:
    return get_settings().warehouse_url


def threshold() -> int:
    return get_settings().suppression_threshold


def audience() -> str:
    """The audience of this request's user: every read of counts names it (buurtbeeld.disclosure)."""
    return access.audience(access.current_user())


def audience_note() -> html.Div:
    """The line on every page that says whom its figures are for."""
    who = audience()
    return html.Div(
        disclosure.audience_line(who, threshold()),
        id="audience",
        className="small px-3 py-1 mb-2 "
        + ("bg-warning-subtle fw-semibold" if who == disclosure.INTERN else "bg-light"),
        **{"data-audience": who},
    )


def plain_list(values: pd.Series) -> list[float | None]:
    """A series as JSON-ready numbers, None where hidden or missing (a gap in the chart)."""
    return [None if pd.isna(v) else float(v) for v in values]


# Plotly's Dutch strings, passed with every chart (`config.locales`) so no locale script has to load:
# with only `locale: "nl"` the toolbar stayed English ("Download plot as a PNG"). The format gives the
# axes Dutch separators and month names.
PLOTLY_NL = {
    "dictionary": {
        "Autoscale": "Automatisch schalen",
        "Box Select": "Rechthoek selecteren",
        "Compare data on hover": "Gegevens vergelijken bij aanwijzen",
        "Double-click on legend to isolate one trace": "Dubbelklik op de legenda om één reeks te tonen",
        "Double-click to zoom back out": "Dubbelklik om uit te zoomen",
        "Download plot": "Grafiek downloaden",
        "Download plot as a PNG": "Grafiek downloaden als PNG",
        "Download plot as JSON": "Grafiek downloaden als JSON",
        "Lasso Select": "Lasso-selectie",
        "Orbital rotation": "Rondom draaien",
        "Pan": "Verschuiven",
        "Reset axes": "Assen herstellen",
        "Reset camera to default": "Standaardweergave",
        "Reset camera to last save": "Laatst opgeslagen weergave",
        "Reset view": "Weergave herstellen",
        "Reset views": "Weergaven herstellen",
        "Show closest data on hover": "Dichtstbijzijnde gegevens tonen bij aanwijzen",
        "Toggle Spike Lines": "Hulplijnen aan/uit",
        "Toggle show closest data on hover": "Dichtstbijzijnde gegevens aan/uit bij aanwijzen",
        "Turntable rotation": "Draaien als draaitafel",
        "Zoom": "Zoomen",
        "Zoom in": "Inzoomen",
        "Zoom out": "Uitzoomen",
    },
    "format": {
        "days": ["zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"],
        "shortDays": ["zo", "ma", "di", "wo", "do", "vr", "za"],
        # Lower case, as Dutch writes them: "Jan 2024" on an axis read as English (an outside review).
        "months": list(narrative.MONTHS),
        "shortMonths": list(narrative.MONTH_ABBREVIATIONS),
        "date": "%d-%m-%Y",
        "decimal": ",",
        "thousands": ".",
    },
}


def graph_config(name: str) -> dict[str, Any]:
    """Chart toolbar in Dutch terms; the camera button saves the chart as PNG. Nothing offers to send a
    figure to an outside service (plotly's Chart Studio 'share'/'edit' buttons are off and removed)."""
    return {
        "displaylogo": False,
        "locale": "nl",
        "locales": {"nl": PLOTLY_NL},
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud", "editInChartStudio"],
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "plotlyServerURL": "",
        "topojsonURL": "/vendor/topojson/",  # served locally (dashboard.app): no CDN
    }


week_text = narrative.week_name
month_text = narrative.month_name


def period_text(period_type: str, period: str) -> str:
    if period_type == "week":
        return week_text(period)
    if period_type == "quarter":
        return f"{period[-1]}e kwartaal {period[:4]}"
    return period if period_type == "year" else month_text(period)


def _gemeenten() -> list[tuple[str, str]]:
    """(code, name) of the gemeenten the current user may read."""
    present = queries.gemeenten(url())
    allowed = set(access.permitted_gemeenten(access.scope(), [c for c, _ in present]))
    return [(c, n) for c, n in present if c in allowed]


def gemeente_choice(value: str | None) -> str | None:
    codes = [c for c, _ in _gemeenten()]
    return value if value in codes else (codes[0] if codes else None)


def gemeente_options() -> list[dict[str, str]]:
    return [{"label": n, "value": c} for c, n in _gemeenten()]


def labelled(label: str, control: Any) -> html.Div:
    return html.Div([dbc.Label(label, className="small mb-0"), control])


def group_options() -> list[dict[str, str]]:
    return [{"label": "Alle misdrijven en incidenten", "value": "*"}] + [
        {"label": label, "value": code} for code, label in queries.groups(url())
    ]


def group_choice(value: str | None) -> str:
    """The group of a link by its code or its name as the page shows it (a hand-written link:
    "groep=Woninginbraak"), else all categories (an outdated or mangled link)."""
    return link_choice(value, group_options(), queries.ALL)


def replaced_notice(asked: str | None, offered: list[str], shown: str | None, what: str, id: str) -> object:
    """A line where a link asked for something (`asked`) that is not among what this user may see
    (`offered`), and the page shows `shown` instead: a stadsdeel manager following a colleague's link
    to a Centrum buurt got Oost's first buurt without a word (found by an outside review)."""
    if not asked or asked in offered:
        return None
    return dbc.Alert(
        f"{what} uit de link ({asked}) is niet beschikbaar in uw weergave; hieronder staat {shown or 'niets'}.",
        color="warning",
        className="small py-2",
        id=id,
    )


def link_choice(value: str | None, options: list[dict[str, str]], default: str) -> str:
    """The option a link's parameter names, by value or by label (either case), else `default`: a
    link from a memo, an older version or a hand edit ("per=maand") never reaches a callback with a
    value it cannot draw (an empty chart, and an Excel download that failed with a server error)."""
    text = _link_key(value or "")
    for option in options:
        if text in (_link_key(str(option["value"])), _link_key(str(option["label"]))):
            return str(option["value"])
    return default


def _link_key(text: str) -> str:
    """A label as links write it: case, spaces and thousands separators aside, so a link that
    says "Per 1 000 inwoners" (as the pages did before December 2026) still finds "Per 1.000"."""
    return re.sub(r"[\s.]", "", text).casefold()


def group_label(code: str) -> str:
    return next((o["label"] for o in group_options() if o["value"] == code), code)


def mk_options(gemeente: str | None, group: str | None) -> list[dict[str, str]]:
    """The MK codes of a category group seen in the gemeente (none for 'all categories')."""
    if not gemeente or not group or group == queries.ALL:
        return []
    return [{"label": f"{code} {label}", "value": code} for code, label in queries.mk_codes(url(), gemeente, group)]


def mk_state(gemeente: str | None, group: str | None, value: str | None) -> dict[str, Any]:
    """Options, value (kept only if it still fits), disabled and placeholder of the MK-code filter."""
    options = mk_options(gemeente, group)
    return {
        "options": options,
        "value": value if value in {o["value"] for o in options} else None,
        "disabled": not options,
        "placeholder": "Alle MK-codes" if options else "Kies eerst een categorie",
    }


def mk_control(prefix: str, state: dict[str, Any]) -> html.Div:
    """The optional MK-code filter below a category group; empty means the whole group."""
    return labelled("MK-code", dropdown(id=f"{prefix}-mk", **state))


def mk_choice_callback(prefix: str) -> None:
    """Refresh a page's MK-code options when its gemeente or group changes; keep a choice that still fits."""
    props = ("options", "value", "disabled", "placeholder")

    @callback(
        *[Output(f"{prefix}-mk", p) for p in props],
        Input(f"{prefix}-gemeente", "value"),
        Input(f"{prefix}-groep", "value"),
        State(f"{prefix}-mk", "value"),
        prevent_initial_call=True,  # the layout fills them for the first view
    )
    def choose(gemeente: str | None, group: str | None, current: str | None):
        state = mk_state(gemeente, group, current)
        return tuple(state[p] for p in props)


# Dash's dropdowns speak English ("Search", "Select All", "No options found") unless told.
DROPDOWN_LABELS = {
    "select_all": "Alles kiezen",
    "deselect_all": "Niets kiezen",
    "selected_count": "{num_selected} gekozen",
    "search": "Zoeken",
    "clear_search": "Zoekterm wissen",
    "clear_selection": "Keuze wissen",
    "no_options_found": "Niets gevonden",
}


def dropdown(**props: Any) -> dcc.Dropdown:
    """A dcc.Dropdown in Dutch."""
    return dcc.Dropdown(labels=DROPDOWN_LABELS, **props)


def mk_or_all(mk: str | None) -> str:
    return mk or queries.ALL


def category_label(gemeente: str, group: str, mk: str | None = None) -> str:
    """'Woninginbraak', or 'Woninginbraak · MK A20 Gekwal. Diefstal in/uit woning' with an MK filter."""
    if not mk or mk == queries.ALL:
        return group_label(group)
    names = dict(queries.mk_codes(url(), gemeente, group))
    return f"{group_label(group)} · MK {mk}{' ' + names[mk] if mk in names else ''}"


def measure_options() -> list[dict[str, str]]:
    return [{"label": "Aantal", "value": "aantal"}, {"label": "Per 1.000 inwoners", "value": "per1000"}]


def measure_choice(value: str | None) -> str:
    return link_choice(value, measure_options(), "aantal")


def visible_areas(gemeente: str, level: str) -> pd.DataFrame:
    """Areas of a level the current user may see (a stadsdeel role sees its own stadsdeel only)."""
    user = access.scope()
    a = queries.areas(url(), gemeente)
    if gemeente_choice(gemeente) != gemeente:  # not one of this user's gemeenten
        return a.iloc[0:0]
    a = a[a["area_level"] == level]
    if user.role == "stadsdeel" and level != "gemeente":
        a = a[a["stadsdeel"] == user.stadsdeel]
    return a


def allowed(gemeente: str, level: str, code: str) -> bool:
    return code in set(visible_areas(gemeente, level)["area_code"])


def levels_for_user() -> list[dict[str, str]]:
    return [{"label": queries.LEVEL_LABELS[lv], "value": lv} for lv in queries.LEVELS]


def freshness_banner(gemeente: str | None) -> dbc.Alert:
    if gemeente is None:
        return dbc.Alert("Er zijn nog geen gegevens geladen.", color="warning")
    info = queries.freshness(url(), gemeente)
    loaded = info["loaded_at"].strftime("%d-%m-%Y %H:%M") if info["loaded_at"] else "onbekend"
    parts = [
        html.Strong(f"Gegevens t/m {week_text(info['latest_week'])}" if info["latest_week"] else "Nog geen weken"),
        f" · laatst geladen {loaded}",
    ]
    if info["provisional"]:
        weeks = ", ".join(week_text(w) for w in info["provisional"])
        parts.append(f" · voorlopig (aangiften komen nog binnen): {weeks}")
    if info["missing"]:
        weeks = ", ".join(week_text(w) for w in info["missing"])
        parts.append(f" · levering ontbreekt: {weeks} (die maanden zijn nog niet volledig)")
    color = "warning" if info["missing"] else "light"
    return dbc.Alert(parts, color=color, className="py-2 small border", id="freshness")


def suppression_note() -> html.P:
    return html.P(disclosure.legend(threshold(), audience()), className="small text-muted mb-1")


def display_table(frame: pd.DataFrame, table_id: str, page_size: int = 20) -> dag.AgGrid:
    """A table of already formatted text (AG Grid: paged, keyboard-navigable, one component instead
    of an html.Table of hundreds of cell components, which React renders ~20x slower)."""
    columns = [str(c) for c in frame.columns]
    return dag.AgGrid(
        id=table_id,
        # Text takes two to four times a figure's share, and the columns fill the table's width: at
        # AG Grid's own 200 px each, the Weekoverzicht's ranking beside the map hid its difference and
        # rate columns behind a scroll bar.
        columnDefs=[
            {
                "field": c,
                "headerName": c,
                "sortable": False,
                "wrapText": True,
                "autoHeight": True,
                # A header wraps between words, not inside one ("Weekgemiddelde"), and so does a
                # cell (AG Grid breaks wrapped text anywhere: "bijstandsuitkeri|ng").
                "minWidth": _min_width(frame[c], c),
                "flex": 1 if _figures(frame[c]) else _text_share(frame[c]),
                "cellStyle": {"wordBreak": "normal", "overflowWrap": "anywhere"},
            }
            for c in columns
        ],
        rowData=[{str(k): ("" if v is None else str(v)) for k, v in row.items()} for row in frame.to_dict("records")],
        defaultColDef={"resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={
            "pagination": len(frame) > page_size,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": False,
            "domLayout": "autoHeight",
            # A column is named as the reader reads it; "Per 1.000 inwoners" is no path into the row.
            "suppressFieldDotNotation": True,
            "localeText": GRID_LOCALE,
        },
        className="ag-theme-alpine",
        style={"width": "100%"},
    )


def _min_width(column: pd.Series, header: str) -> int:
    """Pixels for the header's longest word (headers wrap between words) and a cell's up to 12
    characters (longer names wrap inside, at a hyphen where they have one): the columns of the
    Weekoverzicht's ranking must fit beside the map at 1 280 px."""
    head = max(map(len, header.split()), default=1)
    cell = max((len(w) for text in column.astype(str).head(200) for w in text.split()), default=1)
    return max(80 if _figures(column) else 110, 9 * head + 36, 8 * min(cell, 12) + 30)


def _text_share(column: pd.Series) -> int:
    """A text column's flex: 2 for names, up to 4 for long labels ("Personen met een bijstandsuitkering")."""
    typical = column.astype(str).str.len().median() if len(column) else 0
    return int(np.clip(round(typical / 12), 2, 4))


def _figures(column: pd.Series) -> bool:
    """A column of figures as the tables show them ("12", "≈10", "2,5", "x", "–", "+3")."""
    text = column.astype(str).str.strip()
    return bool(len(text)) and bool(text.str.fullmatch(r"[-+–≈x€%\s\d.,]*").all())


GRID_LOCALE = {
    "page": "Pagina",
    "of": "van",
    "to": "t/m",
    "nextPage": "Volgende pagina",
    "previousPage": "Vorige pagina",
    "firstPage": "Eerste pagina",
    "lastPage": "Laatste pagina",
    "noRowsToShow": "Geen rijen",
    "loadingOoo": "Laden…",
}


def count_text(values: pd.Series, status: pd.Series) -> list[str]:
    return [disclosure.label(v, int(s), threshold()) for v, s in zip(values, status, strict=True)]


def rate_text(values: pd.Series, status: pd.Series) -> list[str]:
    return [disclosure.rate_label(v, int(s), threshold()) for v, s in zip(values, status, strict=True)]


def export_controls(prefix: str) -> html.Div:
    return html.Div(
        [
            dbc.Button("Download Excel", id=f"{prefix}-export", color="secondary", size="sm", outline=True),
            dcc.Download(id=f"{prefix}-download"),
        ],
        className="d-inline-block ms-2",
    )


def save_view_controls(prefix: str) -> html.Div:
    return html.Div(
        [
            dbc.Label("Naam van de weergave", html_for=f"{prefix}-view-name", className="visually-hidden"),
            dbc.InputGroup(
                [
                    dbc.Input(id=f"{prefix}-view-name", placeholder="Naam van deze weergave", size="sm", maxLength=120),
                    dbc.Button("Weergave bewaren", id=f"{prefix}-view-save", size="sm", color="secondary"),
                ],
                size="sm",
            ),
        ],
        className="d-inline-block",
        # Wide enough for the placeholder: at 22rem it read "Naam van deze weergav".
        style={"width": "26rem", "maxWidth": "100%"},
    )


def query_string(**params: Any) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "", [])}, doseq=True)


def choropleth(gemeente: str, frame: pd.DataFrame, value_col: str, text_col: str, title: str) -> dict[str, Any]:
    """Buurten coloured by value (NaN = hidden, drawn grey with its 'x' label in the tooltip).

    Without a tile server the map is plain SVG (plotly 'geo', no basemap): it draws fast everywhere,
    also without WebGL. With BUURTBEELD_MAP_TILES_URL or a MapLibre style it becomes a tiled map.
    Built as a plain dict: plotly's figure classes deep-copy and validate the GeoJSON on every call."""
    settings = get_settings()
    geojson = queries.buurt_geojson(url(), gemeente)
    tiled = bool(settings.map_tiles_url) or settings.map_style != "white-bg"
    kind = "choroplethmap" if tiled else "choropleth"
    hover = "<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>"
    common = {
        "type": kind,
        "marker": {"line": {"width": 0.6, "color": "white"}},
        "hovertemplate": hover,
    }
    if not tiled:
        common.update(featureidkey="id", locationmode="geojson-id")
    traces = []
    hidden = frame[frame[value_col].isna()]
    shown = frame[frame[value_col].notna()]

    def features(codes: pd.Series) -> dict[str, Any]:
        # Each trace carries only its own buurten: the GeoJSON is most of the payload and of the
        # browser's parsing, so it must not travel (and be projected) twice.
        wanted = set(codes)
        return {**geojson, "features": [f for f in geojson["features"] if f["id"] in wanted]}

    if len(hidden):
        traces.append(
            {
                **common,
                "geojson": features(hidden["area_code"]),
                "locations": hidden["area_code"].tolist(),
                "z": [0] * len(hidden),
                "colorscale": [[0, HIDDEN_COLOUR], [1, HIDDEN_COLOUR]],
                "showscale": False,
                "customdata": hidden[["name", text_col]].to_numpy().tolist(),
                "name": "afgeschermd",
            }
        )
    traces.append(
        {
            **common,
            "geojson": features(shown["area_code"]),
            "locations": shown["area_code"].tolist(),
            "z": shown[value_col].tolist(),
            "colorscale": SEQUENTIAL,
            # From 0: a week of zeros otherwise got a colour bar from -0,4 to 0,4.
            "zmin": 0,
            "zmax": float(shown[value_col].max()) if len(shown) and shown[value_col].max() > 0 else 1.0,
            "customdata": shown[["name", text_col]].to_numpy().tolist(),
            "colorbar": {"title": {"text": title}, "thickness": 12},
            "name": title,
        }
    )
    layout: dict[str, Any] = {
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "height": 460,
        "showlegend": False,
        "clickmode": "event",
    }
    if tiled:
        lon, lat = frame["lon"].astype(float), frame["lat"].astype(float)
        layers = (
            [{"sourcetype": "raster", "source": [settings.map_tiles_url], "below": "traces"}]
            if (settings.map_tiles_url)
            else []
        )
        layout["map"] = {
            "style": settings.map_style,
            "center": {"lon": float(lon.mean()), "lat": float(lat.mean())},
            "zoom": _zoom(lon, lat),
            "layers": layers,
        }
    else:
        layout["geo"] = {"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"}}
    return {"data": traces, "layout": layout}


def _zoom(lon: pd.Series, lat: pd.Series) -> float:
    span = max(float(lon.max() - lon.min()), float(lat.max() - lat.min()) * 1.6, 0.01)
    return float(np.clip(np.log2(360 / span) - 0.6, 5, 15))


def kpi_card(title: str, values: list[tuple[str, str]], card_id: str) -> dbc.Card:
    """A KPI card; its lines are one Markdown component (dozens of small components per card made the
    Weekoverzicht slow to render in the browser)."""
    lines = "  \n".join(f"{key} **{value}**" for key, value in values)
    return dbc.Card(
        dbc.CardBody([html.H3(title, className="h6 card-title mb-2"), dcc.Markdown(lines, className="small mb-0")]),
        id=card_id,
        className="h-100",
    )


def save_view_callback(prefix: str, path: str) -> None:
    """Register the 'Weergave bewaren' callback of a page: stores its path and URL state by name."""

    @callback(
        Output(f"{prefix}-view-status", "children"),
        Input(f"{prefix}-view-save", "n_clicks"),
        State(f"{prefix}-view-name", "value"),
        State(f"{prefix}-url", "search"),
        prevent_initial_call=True,
    )
    def save(_: int, name: str | None, search: str | None) -> str:
        user = access.scope()
        if not name or not name.strip():
            return "Geef de weergave een naam."
        queries.save_view(url(), user.name, name.strip(), path, search or "")
        return f"Bewaard als '{name.strip()}'; terug te vinden op de startpagina."
