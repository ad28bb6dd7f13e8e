"""The Dash app: `create_app()` builds it (nothing happens at import), `dashboard.wsgi:server` is what
gunicorn serves. Pages live in dashboard/pages, one module each, callbacks below their layout."""

from __future__ import annotations

import base64
import hashlib
import importlib
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import flask_bootstrap
from dash import Dash, html
from dash import _callback as dash_callback
from flask import send_from_directory

from buurtbeeld.settings import Settings, get_settings
from dashboard import access
from dashboard import components as ui

PAGES = Path(__file__).parent / "pages"
# Bootstrap's CSS from an installed package (Bootstrap-Flask ships it), served by us: no CDN, and no
# copy of a third-party file in this repository.
BOOTSTRAP = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5"

# Dash loads @babel/polyfill 7 (core-js 2) before everything else. It swaps the native trim*, parseInt
# and parseFloat for JavaScript versions because it still counts U+180E as white space (Unicode < 6.3);
# plotly calls them in its inner loops, which cost ~0.3 s of the Weekoverzicht's first map. Every
# browser Dash supports has correct natives, so they are put back right after the bundles load. The
# polyfill itself stays: Dash's lazy component loader needs its regeneratorRuntime.
_NATIVES = (
    "[[String.prototype,'trim'],[String.prototype,'trimStart'],[String.prototype,'trimEnd'],"
    "[String.prototype,'trimLeft'],[String.prototype,'trimRight'],[window,'parseInt'],[window,'parseFloat'],"
    "[Number,'parseInt'],[Number,'parseFloat']]"
)
KEEP_NATIVES = f"<script>window.__natives={_NATIVES}.map(function(t){{return t[0][t[1]];}});</script>"
RESTORE_NATIVES = (
    f"<script>{_NATIVES}.forEach(function(t,i){{Object.defineProperty(t[0],t[1],"
    "{value:window.__natives[i],writable:true,configurable:true});});</script>"
)


def create_app(settings: Settings | None = None) -> Dash:
    settings = settings or get_settings()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",  # pages are imported below as dashboard.pages.*, once per process
        external_stylesheets=["/vendor/bootstrap/css/bootstrap.min.css"],
        serve_locally=True,
        title="Buurtbeeld",
        update_title="Bezig met laden…",
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    _attach_pages(app)
    app.index_string = (
        app.index_string.replace("<html>", '<html lang="nl">')
        .replace("{%scripts%}", f"{KEEP_NATIVES}{{%scripts%}}{RESTORE_NATIVES}")
        .replace("{%css%}", "{%css%}" + _preloads(app))
    )
    server = app.server

    @server.route("/vendor/bootstrap/<path:name>")
    def bootstrap(name: str):
        return send_from_directory(BOOTSTRAP, name, max_age=86400)

    @server.route("/vendor/topojson/<name>.json")
    def topojson(name: str):
        # Plotly's SVG maps fetch a world basemap from a CDN even when it is hidden. Our maps draw only
        # the buurten, so an empty topology keeps them working on a closed network.
        layers = ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")
        empty = {"type": "GeometryCollection", "geometries": []}
        return {
            "type": "Topology",
            "objects": dict.fromkeys(layers, empty),
            "arcs": [],
            "transform": {"scale": [1, 1], "translate": [0, 0]},
        }

    # Hashes of every inline script of the page (Dash's renderer and ours), so the CSP needs no
    # 'unsafe-inline' for scripts.
    ours = [_csp_hash(script) for script in (KEEP_NATIVES, RESTORE_NATIVES)]
    access.install(server, settings, lambda: [*app.csp_hashes(), *ours])
    app.layout = shell
    return app


def _csp_hash(tag: str) -> str:
    body = tag.removeprefix("<script>").removesuffix("</script>")
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


def _preloads(app: Dash) -> str:
    """Start downloading plotly (4.8 MB) with the page instead of after the first layout arrives:
    Dash only asks for it once a graph mounts, which put its download on the map's critical path."""
    paths = (
        "/_dash-component-suites/plotly/package_data/plotly.min.js",
        "/_dash-component-suites/dash/dcc/async-graph.js",
    )
    return "".join(f'<link rel="preload" as="script" href="{app.get_relative_path(p)}">' for p in paths)


_page_callbacks: tuple[dict, list] | None = None


def _attach_pages(app: Dash) -> None:
    """Import the page modules (once per process) and give this app their callbacks.

    `dash.callback` parks callbacks in module globals that the first app to serve a request takes
    away; a second app in the same process (tests, or several workers' re-imports) would get none.
    So the callbacks are captured once and handed to every app explicitly."""
    global _page_callbacks
    if _page_callbacks is None:
        for name in sorted(p.stem for p in PAGES.glob("*.py") if p.stem != "__init__"):
            module = importlib.import_module(f"dashboard.pages.{name}")
            # register_page runs at the top of the module, before its layout function exists.
            dash.page_registry[module.__name__]["layout"] = module.layout
        _page_callbacks = (dict(dash_callback.GLOBAL_CALLBACK_MAP), list(dash_callback.GLOBAL_CALLBACK_LIST))
        dash_callback.GLOBAL_CALLBACK_MAP.clear()
        dash_callback.GLOBAL_CALLBACK_LIST.clear()
    app.callback_map.update(_page_callbacks[0])
    app._callback_list.extend(_page_callbacks[1])


def shell() -> html.Div:
    user = access.current_user()
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in dash.page_registry.values()
        if page.get("nav", True) and (page["module"].split(".")[-1] != "beheer" or (user and user.sees_beheer))
    ]
    if user and user.role != access.OPEN:
        links.append(dbc.NavItem(dbc.NavLink(f"Uitloggen ({user.name})", href="/logout", external_link=True)))
    return html.Div(
        [
            html.A("Naar de inhoud", href="#inhoud", className="visually-hidden-focusable"),
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand("Buurtbeeld", href="/"),
                        dbc.Nav(links, navbar=True, className="flex-wrap"),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                className="mb-0",
            ),
            ui.audience_note(),
            html.Main(dbc.Container(dash.page_container, fluid=True), id="inhoud", tabIndex="-1"),
        ]
    )
