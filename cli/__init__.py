"""`buurtbeeld` command line. Messages for users are Dutch; every failure is a message, not a traceback."""

from __future__ import annotations

import functools
import logging
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from buurtbeeld.settings import Settings, SettingsError, get_settings
from cli import dutch

dutch.install()

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
STATUS_NL = {"loaded": "geladen", "refused": "geweigerd", "failed": "mislukt", "unchanged": "ongewijzigd"}


def _fail(message: str, code: int = 1) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def friendly_errors(func: F) -> F:
    """Turn every exception into a clear message; the traceback goes to the log file for support."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        from etl.errors import LoadError
        from warehouse.backup import BackupError

        try:
            return func(*args, **kwargs)
        except (LoadError, SettingsError, BackupError) as exc:
            _fail(str(exc))
        except OperationalError as exc:
            _fail(_warehouse_problem(exc))
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            log_file = _log_traceback()
            _fail(f"Onverwachte fout ({type(exc).__name__}: {exc}). Details staan in {log_file}.", code=2)

    return wrapper  # type: ignore[return-value]


# What a database says when it cannot be reached at all (PostgreSQL stopped, wrong host or port, a
# network gone, an SQLite folder that does not exist); anything else is a schema that is behind.
_UNREACHABLE = re.compile(
    r"connection (refused|failed|timed out|to server)|could not connect|could not translate host|"
    r"server closed the connection|timeout expired|no route to host|unable to open database file",
    re.IGNORECASE,
)


def _warehouse_problem(exc: Exception) -> str:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if _UNREACHABLE.search(str(exc)):
        return (
            f"Het warehouse is niet bereikbaar ({reason}). Draait de database, en klopt "
            "BUURTBEELD_WAREHOUSE_URL (host, poort, map)? Er is niets gewijzigd."
        )
    return f"Het warehouse weigerde de opdracht ({reason}). Is het schema bijgewerkt? Voer 'buurtbeeld db upgrade' uit."


def _log_traceback() -> Path:
    log_dir = get_settings().data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "buurtbeeld.log"
    with log_file.open("a", encoding="utf-8") as fh:
        fh.write(f"--- {datetime.now().isoformat()} {' '.join(sys.argv)}\n{traceback.format_exc()}\n")
    return log_file


def _require_schema(settings: Settings) -> None:
    from warehouse.db import is_current

    if not is_current(settings.warehouse_url):
        _fail("Het warehouse heeft niet het nieuwste schema. Voer eerst 'buurtbeeld db upgrade' uit.")


def _report(outcome: Any) -> None:
    colour = {"loaded": "green", "unchanged": "yellow"}.get(outcome.status, "red")
    click.secho(f"[{STATUS_NL[outcome.status]}] {outcome.message}", fg=colour)
    for key, value in outcome.summary.items():
        click.echo(f"  {key}: {value}")
    if outcome.rows_rejected and outcome.batch_id:
        click.echo(f"  Afgekeurde regels: buurtbeeld rejects {outcome.batch_id}")
    if not outcome.ok:
        sys.exit(1)


@click.group(cls=dutch.Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Buurtbeeld: wekelijks veiligheidsbeeld per CBS-buurt (laden, controleren, tonen)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# --- database --------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Warehouse-schema beheren (Alembic-migraties)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Doelversie van het schema.")
@friendly_errors
def db_upgrade(revision: str) -> None:
    """Schema bijwerken naar de nieuwste (of opgegeven) versie."""
    from warehouse.db import upgrade

    settings = get_settings()
    upgrade(settings.warehouse_url, revision)
    click.echo(f"Warehouse bijgewerkt ({_safe_url(settings.warehouse_url)}).")


@db.command("downgrade")
@click.argument("revision", metavar="VERSIE")
@friendly_errors
def db_downgrade(revision: str) -> None:
    """Schema terugzetten naar VERSIE ('base' = leeg)."""
    from warehouse.db import downgrade

    downgrade(get_settings().warehouse_url, revision)
    click.echo(f"Warehouse teruggezet naar {revision}.")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- loading ---------------------------------------------------------------------------------------


@cli.group()
def load() -> None:
    """Bestanden laden in het warehouse (gevalideerd; afgekeurde regels worden bewaard)."""


@load.command("buurten")
@click.argument("file", metavar="BESTAND", type=click.Path(path_type=Path))
@click.option("--jaar", type=int, metavar="JAAR", required=True, help="Jaar van de CBS-buurtindeling, bv. 2024.")
@click.option("--gemeente", multiple=True, help="Alleen deze gemeente(n), bv. GM0014 (herhaalbaar).")
@friendly_errors
def load_buurten_cmd(file: Path, jaar: int, gemeente: tuple[str, ...]) -> None:
    """CBS wijk- en buurtkaart (GeoPackage of GeoJSON, RD of WGS84) laden voor indelingsjaar --jaar."""
    from etl.load_buurten import load_buurten

    settings = get_settings()
    _require_schema(settings)
    _report(load_buurten(file, jaar, settings, gemeente))


@load.command("stadsdelen")
@click.argument("file", metavar="BESTAND", type=click.Path(path_type=Path))
@friendly_errors
def load_stadsdelen_cmd(file: Path) -> None:
    """Indeling in stadsdelen laden (CSV/XLSX met kolommen stadsdeel en wijk- of buurtcode)."""
    from etl.load_stadsdelen import load_stadsdelen

    settings = get_settings()
    _require_schema(settings)
    _report(load_stadsdelen(file, settings))


@load.command("indicatoren")
@click.argument("file", metavar="BESTAND", type=click.Path(path_type=Path))
@click.option("--periode", help="Periode van een brede tabel, bv. 2024 (lange tabellen hebben een kolom periode).")
@click.option("--bron", help="Naam van de bron (standaard: CBS-tabelnummer uit de bestandsnaam, of de bestandsnaam).")
@click.option("--gemeente", multiple=True, help="Alleen gebieden van deze gemeente(n) (herhaalbaar).")
@friendly_errors
def load_indicatoren_cmd(file: Path, periode: str | None, bron: str | None, gemeente: tuple[str, ...]) -> None:
    """Indicatoren per gebied laden: CBS Kerncijfers (breed) of eigen gemeentebestanden (breed of lang)."""
    from etl.load_indicators import load_indicators

    settings = get_settings()
    _require_schema(settings)
    _report(load_indicators(file, settings, periode, bron, gemeente))


@load.command("bvh")
@click.argument("files", metavar="BESTANDEN...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--jaar-indeling",
    type=int,
    metavar="JAAR",
    help="Buurtindeling om aan toe te wijzen (standaard: de nieuwste geladen).",
)
@click.option(
    "--postcodes",
    type=click.Path(path_type=Path),
    help="Tabel postcode(+huisnummer) -> buurtcode (CBS 'buurt, wijk en gemeente per postcode-huisnummer').",
)
@friendly_errors
def load_bvh_cmd(files: tuple[Path, ...], jaar_indeling: int | None, postcodes: Path | None) -> None:
    """Wekelijkse BVH-export(s) van de politie laden (xlsx of csv), op volgorde van de weken die ze dekken.

    Per incident (zoals de Groningse export) of al geteld per buurt, week en MK/categorie."""
    from etl.load_bvh import delivery_order, load_bvh

    settings = get_settings()
    _require_schema(settings)
    failed = False
    for path in map(Path, delivery_order([str(f) for f in files])):
        outcome = load_bvh(path, settings, jaar_indeling, postcodes=postcodes)
        _print_bvh(outcome)
        failed |= not outcome.ok
    if failed:
        sys.exit(1)


def _print_bvh(outcome: Any) -> None:
    """Short summary per file: read, new/revised/unchanged, rejected, routes, weeks, provisional weeks."""
    colour = {"loaded": "green", "unchanged": "yellow"}.get(outcome.status, "red")
    click.secho(f"[{STATUS_NL[outcome.status]}] {outcome.message}", fg=colour)
    s = outcome.summary
    if outcome.status != "loaded":
        if outcome.rows_rejected and outcome.batch_id:
            click.echo(f"  Afgekeurde regels: buurtbeeld rejects {outcome.batch_id}")
        return
    if "aantallen" in s:
        cells = s["aantallen"]
        click.echo(
            f"  aantallen per buurt: {s.get('aantal_totaal', 0)} incidenten in {outcome.rows_loaded} cellen "
            f"(nieuw {cells['cellen_nieuw']}, vervangen {cells['cellen_vervangen']}), afgekeurd {outcome.rows_rejected}"
        )
        if s.get("onbekende_categorieen"):
            click.echo(f"  onbekende categorieen (groep 'onbekend'): {s['onbekende_categorieen']}")
        click.echo(f"  weken bijgewerkt: {cells['weken_bijgewerkt']}; voorlopig: {', '.join(cells['voorlopig'])}")
        return
    inc = s.get("incidenten", {})
    click.echo(
        f"  gelezen {s.get('regels_gelezen', 0)}, nieuw {inc.get('nieuw', 0)}, gewijzigd {inc.get('gewijzigd', 0)}, "
        f"ongewijzigd {inc.get('ongewijzigd', 0)}, afgekeurd {outcome.rows_rejected}"
    )
    routes = ", ".join(f"{k} {v}" for k, v in s.get("toewijzing", {}).items())
    click.echo(f"  buurt toegewezen via: {routes} (indeling {s.get('indeling')})")
    if s.get("xy_buiten_indeling"):
        click.echo(f"  X/Y buiten de buurten van de indeling: {s['xy_buiten_indeling']}")
    if s.get("onbekende_mk_codes"):
        click.echo(f"  onbekende MK-codes (groep 'onbekend'): {s['onbekende_mk_codes']}")
    click.echo(
        f"  weken bijgewerkt: {inc.get('weken_bijgewerkt', 0)}; voorlopig: {', '.join(inc.get('voorlopig', []))}"
    )
    if s.get("duur_s"):
        click.echo("  duur: " + ", ".join(f"{k} {v:.1f} s" for k, v in s["duur_s"].items()))
    if outcome.rows_rejected:
        click.echo(f"  Afgekeurde regels: buurtbeeld rejects {outcome.batch_id}")


# --- inspecting loads ------------------------------------------------------------------------------


@cli.command()
@click.option("--aantal", default=20, show_default=True, metavar="AANTAL", help="Hoeveel recente ladingen tonen.")
@friendly_errors
def batches(aantal: int) -> None:
    """Recente ladingen: bestand, status, regels en melding."""
    from warehouse.reads import recent_batches

    rows = recent_batches(get_settings().warehouse_url, aantal)
    if not rows:
        click.echo("Nog niets geladen.")
    for b in rows:
        when = b.started_at.strftime("%d-%m-%Y %H:%M")
        status = "niet afgerond" if b.finished_at is None else STATUS_NL.get(b.status, b.status)
        click.echo(
            f"{b.id:>5}  {when}  {b.kind:<11} {status:<13} "
            f"in {b.rows_in:>7}  geladen {b.rows_loaded:>7}  afgekeurd {b.rows_rejected:>6}  {b.file_name}"
        )


@cli.command()
@friendly_errors
def leveringen() -> None:
    """Het leveringsregister: welke weken de politie-exports dekken en welke ontbreken."""
    from etl.deliveries import week_text, weeks_text
    from warehouse.queries import delivery_registers

    settings = get_settings()
    _require_schema(settings)
    found = delivery_registers(settings.warehouse_url)
    if not found:
        click.echo("Nog geen politie-exports geladen.")
    for r in found:
        click.echo(f"{r.gemeente}: geleverd van {week_text(r.first)} t/m {week_text(r.last)}")
        if r.gaps:
            click.echo(f"  levering ontbreekt: {weeks_text(r.gaps)}")
        if r.overdue:
            click.echo(f"  achterstand: {len(r.overdue)} week/weken, verwacht t/m {week_text(r.overdue[-1])}")
        if not r.missing:
            click.echo("  compleet")


@cli.command()
@click.argument("batch", metavar="LADING", type=int)
@click.option("--xlsx", type=click.Path(path_type=Path), help="Schrijf de afgekeurde regels naar dit Excel-bestand.")
@click.option("--aantal", default=50, show_default=True, metavar="AANTAL", help="Hoeveel regels op het scherm tonen.")
@friendly_errors
def rejects(batch: int, xlsx: Path | None, aantal: int) -> None:
    """Waarom regels van lading LADING zijn afgekeurd (regel, kolom, waarde, reden)."""
    from warehouse.reads import batch_rejects

    info, frame = batch_rejects(get_settings().warehouse_url, batch)
    if info is None:
        _fail(f"Lading {batch} bestaat niet (zie 'buurtbeeld batches').")
    click.echo(f"Lading {batch}: {info.file_name} ({STATUS_NL.get(info.status, info.status)}). {info.message or ''}")
    if frame.empty:
        click.echo("Geen afgekeurde regels.")
    else:
        click.echo(frame.head(aantal).to_string(index=False))
        if len(frame) > aantal:
            click.echo(f"... en nog {len(frame) - aantal} (gebruik --xlsx voor alles).")
    if xlsx is not None:
        from buurtbeeld.safe_output import write_xlsx

        write_xlsx(xlsx, {"Afgekeurd": frame})
        click.echo(f"Geschreven: {xlsx}")


@cli.command()
@click.option("--gemeente", "gemeenten", multiple=True, help="Alleen deze gemeente(n), bv. GM0014 (standaard: alle).")
@click.option(
    "--controleer",
    is_flag=True,
    help="Verander niets: val de gedeelde cijfers aan zoals een buitenstaander met alle uitvoer dat zou doen en "
    "meld welke verborgen aantallen 1 t/m 4 terug te rekenen zijn (eindigt met code 1 als er een is).",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Met --controleer: los voor elk klein aantal ook het lineaire programma van de aanvaller op "
    "(grondiger, minuten per jaar voor een stad).",
)
@friendly_errors
def publiceer(gemeenten: tuple[str, ...], controleer: bool, exact: bool) -> None:
    """Bereken alle gepubliceerde (afgeschermde) cijfers opnieuw: na een schema-upgrade of een nieuwe drempel."""
    settings = get_settings()
    _require_schema(settings)
    if controleer or exact:
        _audit(settings, gemeenten, exact)
        return
    from etl.publish import republish

    result = republish(settings, gemeenten or None)
    for gemeente, summary in result["gemeenten"].items():
        click.echo(
            f"{gemeente}: {summary.get('cellen', 0)} cellen, waarvan {summary.get('afgeschermd', 0)} afgeschermd"
        )
    for gemeente, months in result["analyses"].items():
        click.echo(f"{gemeente}: maandanalyses vernieuwd voor {', '.join(months)}")
    click.echo(f"Vastgelegd als lading {result['batch_id']}.")


@cli.command()
@click.option("--proef", is_flag=True, help="Verwijder niets: toon alleen wat verwijderd zou worden.")
@friendly_errors
def opruimen(proef: bool) -> None:
    """Verwijder politie-exports (adressen, X/Y) uit archief en quarantaine na de bewaartermijn."""
    from etl.retention import purge

    settings = get_settings()
    _require_schema(settings)
    found = purge(settings, dry_run=proef)
    for path in [*found.folders, *found.files]:
        click.echo(f"{'zou verwijderen' if proef else 'verwijderd'}: {path}")
    verb = "Te verwijderen" if proef else "Verwijderd"
    click.echo(
        f"{verb}: {len(found.folders)} map(pen) en {len(found.files)} bestand(en) ouder dan "
        f"{settings.archive_retention_days} dagen (instelling BUURTBEELD_ARCHIVE_RETENTION_DAYS)."
    )


# --- backup and restore ----------------------------------------------------------------------------


@cli.command("backup")
@click.option(
    "--naar",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="MAP",
    help="Maak de backup in deze map (standaard: BUURTBEELD_BACKUP_DIR, anders backups/ in de datamap).",
)
@friendly_errors
def backup_cmd(naar: Path | None) -> None:
    """Maak een backup van warehouse, archief, quarantaine en geheime sleutels (een nieuwe map)."""
    from etl.backup import make_backup, size

    made = make_backup(get_settings(), naar)
    m = made.manifest
    click.echo(
        f"Backup gemaakt: {made.path}\n  warehouse ({m['dialect']}, schema {m['alembic_revision']}): "
        f"{made.rows} rijen in {len(m['tables'])} tabellen; {len(m['files'])} bestanden, "
        f"{size(made.path) / 1e6:.1f} MB"
    )
    click.echo(
        "  Deze backup bevat de geheime sleutel(s) en ruwe politie-exports: bewaar hem even zorgvuldig als "
        "het warehouse (alleen leesbaar voor deze gebruiker)."
    )


@cli.command("restore")
@click.argument("source", metavar="BACKUP", type=click.Path(path_type=Path))
@click.option("--ja", is_flag=True, help="Vervang een warehouse dat al gegevens bevat.")
@friendly_errors
def restore_cmd(source: Path, ja: bool) -> None:
    """Zet BACKUP (een backupmap of een .tar daarvan) terug: eerst gecontroleerd, daarna nagerekend."""
    from etl.backup import restore

    settings = get_settings()
    done = restore(settings, source, overwrite=ja)
    m = done.manifest
    click.echo(
        f"Teruggezet: de backup van {m['created_at']} (Buurtbeeld {m['version']}) in "
        f"{_safe_url(settings.warehouse_url)}; {sum(m['tables'].values())} rijen en {done.files} bestanden, "
        "gecontroleerd tegen de backup."
    )
    for note in done.notes:
        click.secho(note, fg="yellow")


def _audit(settings: Settings, gemeenten: tuple[str, ...], exact: bool) -> None:
    from buurtbeeld import disclosure
    from etl.publish import audit_published

    broken = 0
    for gemeente, report in audit_published(settings, gemeenten or None, exact).items():
        for year, r in report["jaren"].items():
            broken += r["nauw"]
            click.echo(
                f"{gemeente} {year}: {r['klein']} gedeelde cellen met een werkelijk aantal 1 t/m 4; "
                f"{r['exact']} exact terug te rekenen, {r['nauw']} tot minder dan drie waarden beperkt"
            )
        click.echo(
            f"{gemeente}: {report['totalen_verborgen']} van {report['totalen']} totalen van gemeente, stadsdelen "
            f"en buurten (maand, kwartaal, jaar; buurt vanaf 5) niet getoond, {report['totalen_grover']} grover "
            f"getoond ({disclosure.COARSE_SIGN})"
        )
        click.echo(
            f"{gemeente}: verlies in de gedeelde cijfers (aantal >= 5: niet of met meer dan 2 verschil getoond; "
            "aantal >= 20: niet getoond, binnen het gedeelde ontwerp en over alle cellen)"
        )
        for row in report["verlies"].itertuples():
            click.echo(
                f"  {row.area_level:<9} {row.period_type:<7} >=5: {row.lost_ge5:6.1%} van {row.cells_ge5:>6}"
                f"   >=20: {row.hidden_ge20:6.1%} van {row.cells_ge20:>6}"
                f"   alle >=20: {row.hidden_all_ge20:6.1%} van {row.all_ge20:>6}"
            )
    if broken:
        raise click.ClickException(f"{broken} kleine aantallen zijn niet genoeg beschermd (zie hierboven).")
    click.echo("Geen klein aantal terug te rekenen.")


# --- monthly analyses ------------------------------------------------------------------------------


@cli.group()
def analyses() -> None:
    """Maandanalyses per buurt, wijk, stadsdeel en gemeente."""


@analyses.command("maand")
@click.argument("maand", metavar="JJJJ-MM")
@click.option("--scope", default="gemeente", show_default=True, help="'gemeente' of 'stadsdeel:<naam>'.")
@click.option("--gemeente", help="Alleen deze gemeente, bv. GM0014 (standaard: alle met maandcijfers).")
@click.option("--tot", "until", metavar="JJJJ-MM", help="Alle maanden van MAAND t/m deze (inhalen na een backfill).")
@friendly_errors
def analyses_maand(maand: str, scope: str, gemeente: str | None, until: str | None) -> None:
    """Bereken en bewaar de analyses van MAAND (opnieuw draaien vervangt die van dezelfde gegevens)."""
    import re

    from buurtbeeld.notable import DEFAULT
    from etl.analyses import due, generate

    for value in (maand, until):
        if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            _fail(f"Maand '{value}' niet herkend: gebruik JJJJ-MM, bv. 2026-10.")
    settings = get_settings()
    _require_schema(settings)
    months = sorted({d["month"] for d in due(settings, maand, until) if gemeente in (None, d["gemeente"])})
    if until and not months:
        _fail(f"Geen maanden met genoeg voorgeschiedenis tussen {maand} en {until}.")
    for month in months if until else [maand]:
        # A month without DEFAULT.min_months before it has no expected count: refused, naming those that can be.
        for result in generate(settings, month, scope=scope, gemeente=gemeente, min_months=DEFAULT.min_months):
            click.echo(result.line)


@analyses.command("lijst")
@click.option("--gemeente", help="Alleen deze gemeente.")
@friendly_errors
def analyses_lijst(gemeente: str | None) -> None:
    """Welke maanden geanalyseerd zijn, uit welke lading, en hoeveel opvallende uitkomsten."""
    from warehouse.reads import analysis_runs

    frame = analysis_runs(get_settings().warehouse_url, gemeente)
    click.echo("Nog geen analyses." if frame.empty else frame.to_string(index=False))


# --- accounts --------------------------------------------------------------------------------------


@cli.group()
def gebruiker() -> None:
    """Dashboardaccounts (zie README, Toegang)."""


@gebruiker.command("wachtwoord")
@click.password_option("--wachtwoord", prompt="Wachtwoord", help="Wordt gevraagd als het ontbreekt.")
def password_hash(wachtwoord: str) -> None:
    """Druk de hash af van een wachtwoord, voor BUURTBEELD_USERS(_FILE)."""
    from werkzeug.security import generate_password_hash

    if len(wachtwoord) < 12:
        raise click.ClickException("Kies een wachtwoord van minstens 12 tekens.")
    click.echo(generate_password_hash(wachtwoord))


# --- demo ------------------------------------------------------------------------------------------


@cli.command()
@friendly_errors
@click.option("--serve/--no-serve", default=True, show_default=True, help="Start daarna het dashboard.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adres om op te luisteren.")
@click.option("--port", default=8050, show_default=True, type=int, metavar="POORT", help="Poort op dit adres.")
@click.option(
    "--weergave",
    type=click.Choice(["intern", "gedeeld"]),
    default="intern",
    show_default=True,
    help="Wat het dashboard zonder accounts toont: exacte aantallen (intern; de demo is fictief) of "
    "beschermde cijfers (gedeeld, wat een stadsdeelmanager ziet).",
)
@click.option("--opnieuw", is_flag=True, help="Maak en laad alles opnieuw, ook als de demo al compleet is.")
def demo(serve: bool, host: str, port: int, weergave: str, opnieuw: bool) -> None:
    """Maak de fictieve demogemeente Voorbeeldstad (GM9999) aan, laad haar bestanden en toon het dashboard."""
    from etl.demo import run_demo

    settings = get_settings()
    for line in run_demo(settings, again=opnieuw, progress=_bar):
        click.echo(line)
    click.echo(f"Later opnieuw openen zonder opnieuw te laden: python3 dev.py serve --weergave {weergave}")
    if serve:
        settings.audiences["open"] = weergave
        _serve(host, port)


def _bar(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """A progress bar on stderr (on a terminal; elsewhere Click prints the label once)."""
    with click.progressbar(items, length=total, label=f"  {label}", file=sys.stderr, show_pos=True) as bar:
        yield from bar


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adres om op te luisteren.")
@click.option("--port", default=8050, show_default=True, type=int, metavar="POORT", help="Poort op dit adres.")
@click.option(
    "--weergave",
    type=click.Choice(["intern", "gedeeld"]),
    default=None,
    help="Wat het dashboard zonder accounts toont (standaard: de instelling BUURTBEELD_AUDIENCES, anders gedeeld).",
)
@friendly_errors
def serve(host: str, port: int, weergave: str | None) -> None:
    """Start het dashboard (voor productie: gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:server)."""
    if weergave:
        get_settings().audiences["open"] = weergave
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from dashboard.access import AccountsError
    from dashboard.app import create_app

    settings = get_settings()
    if host in ("127.0.0.1", "localhost") and not (settings.users or settings.users_file):
        # Local, open use over plain http: a secure-only cookie would never come back.
        settings.secure_cookies = False
    try:
        app = create_app(settings)
    except AccountsError as exc:
        raise click.ClickException(f"Dashboard niet gestart: {exc}") from None
    click.echo(f"Dashboard op http://{host}:{port}/  (stoppen: Ctrl+C)")
    if not (settings.users or settings.users_file or settings.trusted_user_header):
        click.echo(f"Zonder accounts: weergave {settings.audiences['open']} (instelling BUURTBEELD_AUDIENCES).")
    app.run(host=host, port=port, debug=False)
