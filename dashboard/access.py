"""Who may see what: accounts, login, roles and the areas a role may read.

Two ways in (README "Toegang"): a login form against accounts with hashed passwords (file or
environment), or an SSO reverse proxy that puts the authenticated user name in a header we trust.
Without configured accounts the dashboard is open (demo; or a network-level gate in front of it).

Roles: `analist` sees everything except Beheer; `stadsdeel` sees only its stadsdeel's buurten and
wijken plus the gemeente totals; `beheer` sees everything including Beheer. Every data callback asks
`scope()` and filters before reading, so no route returns data outside the role.

Gemeente: an account may name one (`gemeente`: GM code); it then reads that gemeente only, whatever
a request asks (`permitted_gemeenten`, and the guard refuses a callback naming another). A
`stadsdeel` account that names none is bound to the warehouse's only gemeente; where there are
several it reads nothing until its gemeente is set (a stadsdeel name says nothing about the gemeente).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request, session
from markupsafe import escape
from werkzeug.security import check_password_hash

from buurtbeeld import disclosure
from buurtbeeld.settings import Settings, get_settings
from dashboard.sessions import Store, password_tag

ROLES = ("analist", "stadsdeel", "beheer")
OPEN = "open"  # no accounts configured


@dataclass(frozen=True)
class User:
    name: str
    role: str
    stadsdeel: str | None = None
    gemeente: str | None = None

    @property
    def sees_beheer(self) -> bool:
        """Functioneel beheer; without accounts only where the dashboard serves intern (the demo, a
        workstation): an open gedeeld dashboard is for anyone, and Beheer shows file names and the
        raw values of rejected rows (an outside review found it there)."""
        return self.role == "beheer" or (self.role == OPEN and audience(self) == disclosure.INTERN)


class AccountsError(ValueError):
    """The accounts configuration cannot be used; the message says what to fix (in Dutch)."""


@lru_cache(maxsize=4)
def _accounts(inline: str, file: str | None) -> dict[str, dict[str, Any]]:
    raw: dict[str, Any] = {}
    try:
        if file:
            raw.update(json.loads(Path(file).read_text(encoding="utf-8")))
        if inline:
            raw.update(json.loads(inline))
    except OSError as exc:
        raise AccountsError(f"accountsbestand {file} is niet te lezen: {exc.strerror}") from None
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise AccountsError(f"accounts zijn geen geldige JSON ({exc}); zie README, Toegang") from None
    for name, account in raw.items():
        if not isinstance(account, dict) or account.get("role") not in ROLES:
            raise AccountsError(f"gebruiker {name}: rol moet een van {', '.join(ROLES)} zijn")
        if account["role"] == "stadsdeel" and not account.get("stadsdeel"):
            raise AccountsError(f"gebruiker {name}: rol stadsdeel vraagt om een stadsdeel")
        if account.get("gemeente") is not None and not re.fullmatch(r"GM\d{4}", str(account["gemeente"])):
            raise AccountsError(f"gebruiker {name}: gemeente moet een CBS-gemeentecode zijn, bv. GM0014")
    return raw


def accounts(settings: Settings | None = None) -> dict[str, dict[str, Any]]:
    s = settings or get_settings()
    return _accounts(s.users, str(s.users_file) if s.users_file else None)


def audience(user: User | None, settings: Settings | None = None) -> str:
    """Whom this user's figures are for (settings map roles to audiences); an unknown user: gedeeld."""
    if user is None:
        return disclosure.GEDEELD
    return (settings or get_settings()).audiences.get(user.role, disclosure.GEDEELD)


def current_user() -> User | None:
    """The user of this request, or None when login is required and missing."""
    s = get_settings()
    known = accounts(s)
    if not known:
        return User("open", OPEN)
    if s.trusted_user_header:
        name = request.headers.get(s.trusted_user_header)
    else:
        name, sid = session.get("user"), session.get("sid")
        account = known.get(name or "")
        if not account or not sid or not _store(s).valid(sid, name, password_tag(account.get("password", ""))):
            return None
    if not name or name not in known:
        return None
    account = known[name]
    return User(name, account["role"], account.get("stadsdeel"), account.get("gemeente"))


def permitted_gemeenten(user: User, present: list[str]) -> list[str]:
    """The gemeenten among `present` (those in the warehouse) that `user` may read."""
    if user.gemeente:
        return [g for g in present if g == user.gemeente]
    if user.role == "stadsdeel":
        return present if len(present) == 1 else []
    return present


def _gemeenten_asked() -> set[str]:
    """The gemeente codes a Dash callback request names (inputs and states with id '<page>-gemeente')."""
    body = request.get_json(silent=True) or {}
    items = [*body.get("inputs", []), *body.get("state", [])]
    items = [i for group in items for i in (group if isinstance(group, list) else [group])]
    return {
        str(i["value"])
        for i in items
        if isinstance(i, dict) and str(i.get("id", "")).endswith("-gemeente") and i.get("value") is not None
    }


def _gemeente_refused(user: User, settings: Settings) -> bool:
    asked = _gemeenten_asked() if request.path.endswith("/_dash-update-component") else set()
    if not asked:
        return False
    from warehouse import queries

    allowed = permitted_gemeenten(user, [code for code, _ in queries.gemeenten(settings.warehouse_url)])
    return not asked <= set(allowed)


@lru_cache(maxsize=4)
def _sessions(path: Path) -> Store:
    return Store(path)


def _store(settings: Settings) -> Store:
    return _sessions(settings.data_dir / "sessions.sqlite")


def sign_in(name: str) -> None:
    """Open a session for account `name` in this request's cookie (after its password was checked)."""
    s = get_settings()
    session.clear()
    session["user"] = name
    session["sid"] = _store(s).open(name, password_tag(accounts(s)[name].get("password", "")))


def local_target(value: str | None) -> str:
    """Where to go after login: `value` when it is a path on this site, else '/'. Control characters
    and backslashes are refused outright: browsers drop a tab from '/\t/evil.example' and read
    '//evil.example', another site."""
    if not value or any(ord(c) < 32 or c == "\\" for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def scope() -> User:
    """The current user inside a callback; raises if there is none (the guard normally stops that)."""
    user = current_user()
    if user is None:
        raise PermissionError("niet ingelogd")
    return user


LOGIN_FORM = """<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Inloggen · Buurtbeeld</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/vendor/bootstrap/css/bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width:26rem;margin-top:10vh">
<h1 class="h3 mb-3">Buurtbeeld</h1>{error}
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<div class="mb-3"><label class="form-label" for="user">Gebruikersnaam</label>
<input class="form-control" id="user" name="user" autocomplete="username" required autofocus></div>
<div class="mb-3"><label class="form-label" for="password">Wachtwoord</label>
<input class="form-control" id="password" name="password" type="password" autocomplete="current-password" required>
</div><button class="btn btn-primary w-100" type="submit">Inloggen</button></form></main></body></html>"""


def _alert(text: str) -> str:
    return f'<div class="alert alert-danger" role="alert">{escape(text)}</div>'


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}


def content_security_policy(settings: Settings, scripts: Iterable[str] = ()) -> str:
    """Scripts come only from this origin or are one of the page's own inline scripts, allowed by hash
    (`scripts`, Dash's csp_hashes); nothing may evaluate strings ('unsafe-eval': Dash's production
    bundles and plotly's default bundle without WebGL traces need none). Styles may be inline: plotly
    sets them on every element it draws, and a style cannot run code. The page talks to nothing but
    this origin. A configured tile server (setting map_tiles_url) is the one other origin allowed:
    MapLibre fetches its tiles, so it needs connect-src as well as img-src."""
    tiles = urlsplit(settings.map_tiles_url)
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.scheme in ("http", "https") and tiles.netloc else ""
    hashes = "".join(f" {h}" for h in scripts)
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tile_origin}; worker-src 'self' blob:; connect-src 'self'{tile_origin}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def install(server: Flask, settings: Settings, scripts: Callable[[], Iterable[str]] = tuple) -> None:
    """Login routes, the guard in front of every route, cookie flags and security headers; `scripts`
    gives the CSP hashes of the page's inline scripts, asked per response because Dash adds one
    (the page title's clientside callback) only at its first request."""
    accounts(settings)  # a broken accounts file stops the start, not the first login
    server.secret_key = settings.session_key()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )

    @server.before_request
    def guard() -> Any:
        if request.path.startswith(("/login", "/vendor/", "/_dash-component-suites/", "/assets/", "/_favicon")):
            return None
        user = current_user()
        if user is not None:
            if _gemeente_refused(user, get_settings()):
                return Response("Geen toegang tot deze gemeente.", status=403)
            return None
        if request.path.startswith("/_dash") or request.method != "GET":
            return Response("Niet ingelogd", status=401)
        return redirect(f"/login?next={request.full_path}")

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        target = local_target(request.values.get("next"))
        error = ""
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin and urlsplit(origin).netloc != request.host:  # a form posted from another site
                return Response("Inloggen kan alleen vanaf deze site.", status=403)
            name, address = request.form.get("user", ""), request.remote_addr or "?"
            store = _store(get_settings())
            account = accounts().get(name)
            if store.blocked(name, address):
                error = _alert("Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.")
            elif (
                account
                and account.get("password")
                and check_password_hash(account["password"], request.form.get("password", ""))
            ):
                store.succeeded(name)
                sign_in(name)
                return redirect(target)
            else:
                store.failed(name, address)
                error = _alert("Onbekende gebruiker of onjuist wachtwoord.")
        return LOGIN_FORM.format(error=error, next=escape(target))

    @server.route("/logout")
    def logout() -> Any:
        if session.get("sid"):
            _store(get_settings()).close(session["sid"])
        session.clear()
        return redirect("/login")

    @server.after_request
    def headers(response: Response) -> Response:
        policy = content_security_policy(settings, scripts())
        for key, value in {**SECURITY_HEADERS, "Content-Security-Policy": policy}.items():
            response.headers.setdefault(key, value)
        return response
