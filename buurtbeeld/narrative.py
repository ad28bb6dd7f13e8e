"""Dutch text for the monthly analyses, from templates (pure; no I/O).

Every number that reaches a sentence, table or chart here goes through buurtbeeld.disclosure: counts
as the gedeeld audience's shared figures (or "x"), expected counts by `expected_label`, rates only where
their count is shown. A finding whose count is hidden by complementary suppression is not described
at all (only counted), so no sentence narrows a hidden value down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from buurtbeeld import disclosure
from buurtbeeld.notable import Method

MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
ALL = "*"
LEVEL_MONTHS = Method().short_months  # the recent level's months when a row does not say
# How a count of a category reads in a sentence ("23 woninginbraken", the whole of its catalogue label:
# not "fietsendiefstallen" for "Fietsen- en bromfietsdiefstal"); others: "23 incidenten in de categorie …".
PLURALS = {
    "*": ("incident", "incidenten"),
    "woninginbraak": ("woninginbraak", "woninginbraken"),
    "fietsendiefstal": ("fiets- of bromfietsdiefstal", "fiets- en bromfietsdiefstallen"),
    "overval": ("overval", "overvallen"),
    "straatroof": ("straatroof", "straatroven"),
    "winkeldiefstal": ("winkeldiefstal", "winkeldiefstallen"),
    "zakkenrollerij": ("zakkenrollerij", "zakkenrollerijen"),
    "vernieling": ("vernieling", "vernielingen"),
    "voertuigdiefstal": ("diefstal van een motorvoertuig", "diefstallen van motorvoertuigen"),
    "overlast": ("overlastmelding", "overlastmeldingen"),
    "inbraak_schuur_garage": ("inbraak in box, garage of schuur", "inbraken in box, garage of schuur"),
    "diefstal_uit_voertuig": ("diefstal uit of vanaf een voertuig", "diefstallen uit of vanaf voertuigen"),
}
# What each baseline (notable.Baseline.kind) is, as the texts say it: only the correction that was made.
# "{n}": the months the recent level rests on (`level_months` of the row: 12, or fewer with less history).
KIND_TEXT = {
    "trend": "dezelfde maand in eerdere jaren, met trend",
    "seizoen": "dezelfde maand in eerdere jaren",
    "recent_gemeente": "de afgelopen {n} maanden, naar verhouding van de hele gemeente in deze maand",
    "recent_gemeente_jaar": (
        "de afgelopen {n} maanden, naar verhouding van de hele gemeente in deze maand en in dezelfde maand vorig jaar"
    ),
    "recent_seizoen": "de afgelopen {n} maanden, gecorrigeerd voor het seizoenspatroon van de gemeente vorig jaar",
    "recent_landelijk": "de afgelopen {n} maanden, gecorrigeerd voor het landelijke seizoenspatroon (politiecijfers)",
    "recent": "de afgelopen {n} maanden, zonder seizoenscorrectie",
    "niveau": "het nieuwe niveau",
    "geen": "te weinig historie",
}


def basis_text(row: dict[str, Any]) -> str:
    """The baseline of one row in words; a new level names the month it started. A hidden cell's
    baseline is not said (a new level there would tell that its count moved): for gedeeld "–"."""
    if int(row.get("status", disclosure.SHOWN)) != disclosure.SHOWN:
        return "–"
    if row.get("kind") == "niveau" and row.get("since"):
        return f"het nieuwe niveau sinds {month_name(str(row['since']))}"
    months = row.get("level_months")
    months = LEVEL_MONTHS if months is None or months != months else int(months)
    return KIND_TEXT.get(row.get("kind", ""), "").replace("{n}", str(months))


def month_name(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


# Dutch house style abbreviates March as "mrt", not as its first three letters.
MONTH_ABBREVIATIONS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def month_abbreviation(month: str) -> str:
    """'mrt 25' for '2025-03': a chart's axis."""
    year, number = month.split("-")
    return f"{MONTH_ABBREVIATIONS[int(number) - 1]} {year[2:]}"


def week_name(label: str) -> str:
    """'week 47 2026' for the ISO label '2026-W47'."""
    year, week = label.split("-W")
    return f"week {int(week)} {year}"


def weeks_phrase(labels: list[str]) -> str:
    """'week 45 en 46 van 2026', 'week 52 2025 en week 1 2026': ISO labels as a sentence reads them."""
    pairs = [label.split("-W") for label in labels]
    years = sorted({year for year, _ in pairs})
    if len(years) == 1:
        numbers = [str(int(week)) for _, week in pairs]
        listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " en " + numbers[-1]
        return f"week {listed} van {years[0]}"
    names = [week_name(label) for label in labels]
    return ", ".join(names[:-1]) + " en " + names[-1]


def how_to_read(method: Method, threshold: int, audience: str = disclosure.GEDEELD) -> str:
    """The "Hoe lezen" paragraph that ships with every analysis; its last sentences say how the
    audience's figures were made (rounded to the threshold for gedeeld, exact for intern)."""
    if audience == disclosure.INTERN:
        figures = (
            "Alle aantallen zijn exact (weergave intern: vertrouwelijk, niet delen); verwachte aantallen zijn "
            "afgerond op hele aantallen. De toetsen zijn op dezelfde aantallen gedaan."
        )
    else:
        # The legend every table and export carries ('≈', 'x', what 5 means): one text, so that the
        # HTML and PDF, which have no legend of their own, explain every sign they show.
        figures = (
            "Geen klein aantal is uit deze cijfers terug te rekenen. "
            + disclosure.legend(threshold)
            + " De beoordeling in deze weergave rust alleen op de gedeelde cijfers: het verwachte aantal komt "
            "uit de afgeronde cijfers van eerdere maanden, een nieuw niveau melden we "
            f"alleen bij reeksen van gemiddeld minstens {disclosure.busy_level(threshold)} per maand, en "
            "'opvallend' staat er alleen als de uitkomst dat is bij elk aantal dat het afgeronde cijfer "
            "toelaat. Zo zegt geen woord meer dan de cijfers; de interne weergave, op de exacte aantallen, kan "
            "daardoor meer opvallende uitkomsten tonen. Een cijfer dat niet getoond wordt, beoordelen we hier "
            "niet, en het krijgt geen verwacht aantal; van een grover getoond cijfer zeggen we alleen hoeveel "
            "opvallende uitkomsten er zo zijn."
        )
    return (
        "**Hoe lezen.** Per buurt, wijk, stadsdeel en de hele gemeente vergelijken we het aantal "
        "geregistreerde incidenten per categorie met wat op grond van eerdere maanden te verwachten was. "
        "Voor buurten en wijken is dat het niveau van de afgelopen twaalf maanden (met minder historie: van de "
        f"maanden die er zijn, vanaf {method.min_months}), naar verhouding van hoe de "
        "hele gemeente het deze maand doet: zo telt het seizoen mee zonder dat er een eerder jaar nodig is. "
        "Met twee jaar historie weegt ook mee hoe de gemeente het in dezelfde maand vorig jaar deed, zwaarder "
        "naarmate haar seizoenen van jaar tot jaar beter terugkomen. Heeft een categorie daarvoor in de buurten "
        f"samen te weinig incidenten (gemiddeld minder dan {round(method.concurrent_min)} per maand), dan "
        "corrigeren we voor het landelijke seizoenspatroon van de categorie (zie hieronder; zedenmisdrijven "
        "hebben dat niet). "
        "Voor stadsdelen en de gemeente komt het verwachte aantal uit dezelfde maand (en de maand ervoor en "
        "erna) in maximaal vijf eerdere jaren, met een trend als die duidelijk aanwezig is; met minder dan drie "
        "jaar historie uit de recente maanden zoals hierboven, gecorrigeerd voor het seizoen van vorig jaar als dat er "
        "is, en anders (minder dan veertien maanden historie, of te weinig incidenten) voor het landelijke "
        "seizoenspatroon van de categorie uit de politiecijfers van 2012 tot en met 2023. Welke berekening "
        "is gebruikt, staat bij elke analyse (kolom Basis): staat er 'zonder "
        "seizoenscorrectie', dan is die correctie niet gedaan. Eerdere maanden die zelf uitschieters waren, "
        "tellen maar beperkt mee: ze worden afgetopt tot wat bij het gewone niveau nog past. Ligt het "
        "niveau van een categorie sinds een aantal maanden duidelijk hoger of lager, "
        "dan melden we dat één keer ('sinds maart ligt het niveau hoger') en vergelijken we daarna met het "
        "nieuwe niveau, in plaats van elke maand opnieuw alarm te slaan; houdt dat niveau geen stand, dan "
        "zeggen we dat ook. Rekening wordt gehouden met het aantal "
        "inwoners, met de gewone schommelingen van maand tot maand in dezelfde soort gebieden en met de "
        "onzekerheid in het verwachte aantal zelf. "
        "Een uitkomst heet **opvallend** als het verschil zo groot is dat toeval een onwaarschijnlijke "
        "verklaring is, ook nadat we corrigeren voor het grote aantal vergelijkingen dat we tegelijk doen "
        "(per niveau, over de categorieën met registraties; "
        f"Benjamini-Hochberg, hooguit {round(method.fdr * 100)}% vals alarm onder de opvallende uitkomsten). "
        "Ook stadsdelen en de gemeente als geheel schommelen van maand tot maand meer dan toeval alleen "
        "geeft (weer, evenementen, inzet van de politie); een aantal dat een derde of de helft hoger ligt dan "
        "verwacht, kan daarom nog niet opvallend zijn. "
        f"Een stijging noemen we pas opvallend vanaf {method.min_count} incidenten in de maand; een daling "
        f"alleen als er minstens {method.min_count} verwacht waren. Procentuele veranderingen van kleine aantallen "
        "zeggen weinig en gebruiken we daarom niet. Opvallend betekent niet verklaard: de cijfers zeggen niets "
        "over oorzaken, en de kenmerken van de buurt staan er alleen ter context bij. Weken die nog "
        "**voorlopig** zijn, kunnen door latere leveringen nog veranderen; uitkomsten over die weken zijn "
        "minder zeker. " + figures
    )


def in_words(n: int) -> str:
    """Small numbers of findings in words, as Dutch house style writes them."""
    words = ["nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien"]
    return words[n] if 0 <= n < len(words) else disclosure.format_number(n)


def count_phrase(group: str, label: str, text: str) -> str:
    """'23 woninginbraken', '7 incidenten in de categorie drugs' (the sentences go on "geregistreerd":
    not "registraties van drugs geregistreerd"): singular only when the shown text is '1'."""
    kind = f"in de categorie {label.lower()}"
    one, many = PLURALS.get(group, (f"incident {kind}", f"incidenten {kind}"))
    return f"{text} {one if text == '1' else many}"


def expected_phrase(value: float | None, threshold: int) -> str:
    """'ongeveer 9', or 'minder dan 5' when the expected count is too small to show."""
    shown = disclosure.expected_shown(value, threshold)
    return f"minder dan {threshold}" if shown is None else f"ongeveer {disclosure.format_number(shown)}"


# The areas below each summary's level, as "in de …" names them.
BELOW_NAMES = {"gemeente": "stadsdelen, wijken en buurten", "stadsdeel": "wijken en buurten", "wijk": "buurten"}
LEVEL_NOUNS = {"stadsdeel": ("stadsdeel", "stadsdelen"), "wijk": ("wijk", "wijken"), "buurt": ("buurt", "buurten")}
WHOLE_AREA = {"gemeente": "De gemeente", "stadsdeel": "Het stadsdeel", "wijk": "De wijk", "buurt": "De buurt"}


@dataclass
class AreaFacts:
    """What the narrative of one area needs; `rows` holds one row per category group ('*' = all), as a
    frame or as dicts (what etl.analyses passes: read once, not per sentence), with columns group,
    label, observed (exact), shown (the shared figure), status, expected, direction, excess, rate (of
    the shared figure), rate_exact, kind. `audience` says whom the text is for: intern_rows turns the
    gedeeld rows into the intern ones."""

    month: str
    level: str
    code: str
    name: str
    rows: pd.DataFrame | list[dict[str, Any]]
    threshold: int
    parent_rates: list[tuple[str, str]] = field(default_factory=list)  # (name, rate label) stadsdeel, gemeente
    provisional: list[str] = field(default_factory=list)
    context: list[tuple[str, str, str]] = field(default_factory=list)  # (indicator, here, gemeente)
    # months, values (None where hidden), coarse (per month: a figure shown coarser, marked '≈')
    trend: dict[str, Any] = field(default_factory=dict)
    children: list[dict[str, Any]] = field(default_factory=list)  # notable findings of the areas below
    below: dict[str, int] = field(default_factory=dict)  # level -> areas below with a shown notable result
    below_hidden: int = 0  # notable results below that cannot be shown
    below_shifts: int = 0  # new levels below said in `children`
    audience: str = disclosure.GEDEELD

    @property
    def expected_floor(self) -> int:
        """Below this an expected count reads 'minder dan …': the threshold for gedeeld; for intern,
        which reads exact counts, only an expectation that rounds to 0."""
        return 1 if self.audience == disclosure.INTERN else self.threshold


def intern_rows(rows: pd.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the intern audience reads them: the exact count is the shown one, nothing hidden."""
    return [
        {**r, "shown": float(r["observed"]), "status": disclosure.SHOWN, "rate": r.get("rate_exact", float("nan"))}
        for r in records(rows)
    ]


def records(rows: pd.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as dicts: a few dozen per area, read field by field (a row Series costs ten times more)."""
    return rows if isinstance(rows, list) else rows.to_dict("records")


def _obs(row: pd.Series | dict[str, Any], threshold: int) -> str:
    """The count as the document's readers see it: the shared figure (`shown`), not the exact one the
    statistics were computed from (for intern the two are the same)."""
    return disclosure.label(row["shown"], int(row["status"]), threshold)


def _rate_said(row: pd.Series | dict[str, Any], threshold: int) -> str:
    """The rate per 1.000 inwoners as the reader may read it: of a shared 0 (0 to threshold - 1)
    only its upper bound ("minder dan 2,7"); "0,0" beside "minder dan 5 incidenten" read as none."""
    status, unit = int(row["status"]), row.get("rate_unit", float("nan"))
    if threshold > 1 and status == disclosure.SHOWN and float(row["shown"]) == 0 and pd.notna(unit):
        bound = threshold * float(unit)
        # To two significant digits where one decimal would read 0: a gemeente's "minder dan 0,0".
        decimals = max(1, 1 - math.floor(math.log10(bound))) if bound > 0 else 1
        return f"minder dan {disclosure.format_number(bound, decimals)}"
    return disclosure.rate_label(row["rate"], status, threshold)


def _said(row: pd.Series | dict[str, Any], threshold: int) -> str:
    """The count as a sentence says it: a hidden figure in words ('een afgeschermd aantal'), never the
    table's sign ('x incidenten' reads as a typo)."""
    if int(row["status"]) == disclosure.SECONDARY:
        return "een afgeschermd aantal"
    if int(row["status"]) == disclosure.COARSE:
        return f"ongeveer {disclosure.format_number(row['shown'])}"
    if threshold > 1 and float(row["shown"]) == 0:
        # A shared 0 is 0 to threshold - 1: "0 incidenten geregistreerd" would state it as fact.
        return f"minder dan {threshold}"
    return disclosure.format_number(row["shown"])


def _listed(parts: list[str]) -> str:
    """'a', 'a en b', 'a, b en c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def finding(row: pd.Series | dict[str, Any], threshold: int, provisional: bool) -> str:
    """One notable result as a list item; `threshold` is the expected_floor of the audience."""
    word = "opvallend hoog" if row["direction"] == "hoog" else "opvallend laag"
    expected = expected_phrase(row["expected"], threshold)
    text = f"**{row['label']}**: {_said(row, threshold)} geregistreerd, verwacht {expected} ({word}"
    if int(row["status"]) == disclosure.SHOWN and disclosure.expected_shown(row["expected"], threshold) is not None:
        diff = row["shown"] - disclosure.expected_shown(row["expected"], threshold)
        text += f"; {'+' if diff >= 0 else '−'}{disclosure.format_number(abs(diff))} t.o.v. verwacht"
    return text + (", voorlopig)" if provisional else ")")


def table_rows(facts: AreaFacts) -> list[dict[str, str]]:
    """The findings table (Excel export and dashboard): every category, all values as shown, the
    largest shown figure first (ties by label: the exact order of two equal figures is not shown).
    A gedeeld buurt's categories, which carry neither a figure nor an expected count (not in the
    shared design), are left out: nineteen rows of 'x' and '–' made an area's PDF pages long."""
    t = facts.expected_floor
    out = []
    ranked = sorted(records(facts.rows), key=lambda r: (r["group"] != ALL, -_shown_or_none(r), r["label"]))
    for row in ranked:
        status = int(row["status"])
        shown = bool(disclosure.visible(status))
        empty = not shown and not _expected_said(row) and row["group"] != ALL
        if empty and facts.level == "buurt" and facts.audience != disclosure.INTERN:
            continue
        out.append(
            {
                "Categorie": "Alle categorieën" if row["group"] == ALL else row["label"],
                "Geregistreerd": _obs(row, facts.threshold),
                "Verwacht": disclosure.expected_label(row["expected"], t) if _expected_said(row) else "–",
                "Per 1.000 inwoners": _rate_said(row, t) if shown else "–",
                "Beoordeling": {"hoog": "opvallend hoog", "laag": "opvallend laag"}.get(row["direction"], "")
                if status == disclosure.SHOWN
                else "",
                "Basis": basis_text(row),
            }
        )
    return out


def _expected_said(row: dict[str, Any]) -> bool:
    """Whether a row's expected count may be shown: not without a baseline, and not for a hidden count
    compared with a new level, which rests on as few as three months since its start (not the six
    `disclosure.expected_shown` counts on); its basis is not said there either."""
    if row["kind"] == "geen":
        return False
    return row["kind"] != "niveau" or bool(disclosure.visible(int(row["status"])))


def _shown_or_none(row: dict[str, Any]) -> float:
    """The shown figure for ranking; a hidden one ranks below every shown figure, zero included."""
    if not disclosure.visible(int(row["status"])) or row["shown"] != row["shown"]:
        return -1.0
    return float(row["shown"])


def chart_has_data(series: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether a chart would show anything: a chart of only hidden values is an empty frame."""
    return any(v is not None and v == v and v > 0 for key in keys for v in series.get(key, []))


def groups_chart_title(groups: dict[str, Any]) -> str:
    """The title of the chart per category, page and downloads alike. Where no category's count is
    shown (a buurt's categories in the gedeeld audience) the chart holds only expectations: said in the
    title, or the bars read as 0 registered."""
    observed = groups.get("observed", [])
    if not any(v is not None for v in observed):
        return "Deze maand: verwacht per categorie (geregistreerd per categorie: niet getoond)"
    if any(v is None for v in observed):
        return "Deze maand: geregistreerd en verwacht per categorie (niet getoond: geen balk)"
    return "Deze maand: geregistreerd en verwacht per categorie"


UNTESTED = "Of iets opvallend is, valt nog niet te zeggen: er is te weinig historie voor een verwacht aantal."
CATEGORIES_UNTESTED = (
    "Per categorie is hier niet beoordeeld: de aantallen per categorie van een buurt worden buiten de "
    "analisten van de gemeente niet gedeeld; alleen alle categorieën samen zijn vergeleken met wat te "
    "verwachten was."
)
NO_GROUPS_CHART = (
    "Geen grafiek per categorie: deze maand is per categorie geen aantal en geen verwachting te tonen "
    "(kleine verwachtingen en niet getoonde aantallen staan er niet in)."
)
NO_TREND_CHART = "Geen grafiek per maand: in deze periode is geen maandtotaal getoond."


def notable_records(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """`notable` on the rows as dicts (what describe and the summaries read)."""
    flagged = [r for r in rows if r["direction"] != ""]
    # A flag rests on the exact count: beside a coarser figure (5..14) "opvallend laag" with its
    # expectation would narrow it, and a small count beside it, more than the auditor checks. So a
    # flagged coarse figure is counted with the hidden ones, like its level shift and its basis.
    visible = [r for r in flagged if int(r["status"]) == disclosure.SHOWN]
    visible.sort(key=lambda r: (r["group"] != ALL, -abs(float(r["shown"]) - float(r["expected"])), r["label"]))
    return visible, len(flagged) - len(visible)


def notable(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The notable results of one area that a reader may see, all categories together first and then
    by size; and how many more are notable but hidden. Headline, findings and the summaries above an
    area all read this one list, so they cannot contradict each other.

    The order is by the difference the reader can see (the shown figure against the expectation), then
    by label: ordering by the exact excess would tell a gedeeld reader which of two equal rounded
    figures is the larger."""
    visible, hidden = notable_records(records(rows))
    return pd.DataFrame(visible, columns=rows.columns), hidden


def _hidden_sentence(hidden: int, also: bool) -> str:
    # In words: a digit 1-4 here would read like a (suppressed) number of incidents. "Daarnaast is
    # er ..." inverts; on its own the sentence starts with "Er is" ("Is er" asks a question).
    verb = "is" if hidden == 1 else "zijn"
    rest = (
        "één opvallende uitkomst die om privacyredenen niet wordt getoond."
        if hidden == 1
        else f"{in_words(hidden)} opvallende uitkomsten die om privacyredenen niet worden getoond."
    )
    return f"Daarnaast {verb} er {rest}" if also else f"Er {verb} {rest}"


def below_phrase(below: dict[str, int]) -> str:
    """'twee wijken en één buurt': the areas below with a shown notable result, coarse to fine."""
    parts = []
    for level, (one, many) in LEVEL_NOUNS.items():
        n = below.get(level, 0)
        if n:
            parts.append(f"{in_words(n)} {one if n == 1 else many}")
    return _listed(parts) if parts else ""


def _below_sentence(facts: AreaFacts, own: bool) -> str:
    """What the headline of a summary says about the areas below it; '' when nothing is notable there.
    Without it a stadsdeel whose buurt is notable would read as if nothing were."""
    areas = below_phrase(facts.below)
    if not areas and not facts.below_hidden:
        return ""
    hidden = ""
    if facts.below_hidden:
        n = facts.below_hidden
        where = BELOW_NAMES.get(facts.level, "gebieden eronder")
        hidden = (
            f"{in_words(n)} opvallende {'uitkomst' if n == 1 else 'uitkomsten'} in de {where} "
            f"{'kan' if n == 1 else 'kunnen'} om privacyredenen niet getoond worden"
        )
    if own:
        text = f"Verder opvallend: {areas} (zie hieronder)" if areas else ""
        if hidden:
            text = f"{text}; {hidden}" if text else hidden[0].upper() + hidden[1:]
        return text + "."
    whole = f"{WHOLE_AREA.get(facts.level, 'Het gebied')} als geheel wijkt niet opvallend af"
    if areas:
        return f"{whole}, maar {areas} wel (zie hieronder)" + (f"; {hidden}." if hidden else ".")
    return f"{whole}; {hidden}."


def _level_items(
    rows: list[dict[str, Any]], audience: str, way: str, since: str, flag: str | None = None
) -> list[tuple[str, str, str]]:
    """(what, 'hoger'/'lager', since month) of the rows with a direction in column `way`, a month in
    `since` and, if given, `flag` set. For gedeeld only where the month's figure is shown: a level
    shift in a hidden cell would say which way it moved."""
    out = []
    for r in rows:
        if (flag and not r.get(flag)) or r.get(way) not in ("hoger", "lager") or not r.get(since):
            continue
        if audience != disclosure.INTERN and int(r["status"]) != disclosure.SHOWN:
            continue
        what = "alle categorieën samen" if r["group"] == ALL else r["label"].lower()
        out.append((what, str(r[way]), month_name(str(r[since]))))
    return out


def shift_items(rows: list[dict[str, Any]], audience: str) -> list[tuple[str, str, str]]:
    """The level shifts first seen this month (notable.level_shift; said once, later months compare
    with the new level)."""
    return _level_items(rows, audience, "shift", "since", "shift_new")


def level_shifts(rows: list[dict[str, Any]], audience: str) -> list[str]:
    """'Sinds maart 2026 ligt het niveau van woninginbraak hoger …': one sentence per `shift_items`."""
    return [
        f"Sinds {since} ligt het niveau van {what} {way} dan daarvoor; we vergelijken vanaf nu met dat nieuwe niveau."
        for what, way, since in shift_items(rows, audience)
    ]


def level_ends(rows: list[dict[str, Any]], audience: str) -> list[str]:
    """'Het hogere niveau van woninginbraak sinds augustus 2025 houdt geen stand …': the new levels the
    previous month compared with and this month's data no longer bear out (Baseline.shift_ended)."""
    return [
        f"Het {way}e niveau van {what} sinds {since} houdt geen stand: de laatste maanden liggen weer dicht bij "
        "het niveau van daarvoor, en daarmee vergelijken we weer."
        for what, way, since in _level_items(rows, audience, "shift_ended", "ended_since")
    ]


def level_returns(rows: list[dict[str, Any]], audience: str) -> list[str]:
    """'Het hogere niveau van woninginbraak sinds augustus 2025 is er toch weer …': a level compared
    with again after a month in which the texts said it did not last (not a new level: said once)."""
    return [
        f"Het {way}e niveau van {what} sinds {since} is er toch weer; we vergelijken weer met dat niveau."
        for what, way, since in _level_items(rows, audience, "shift", "since", "shift_resumed")
    ]


def shifts_phrase(items: list[tuple[str, str, str]]) -> str:
    """'het niveau van woninginbraak ligt sinds augustus 2025 hoger': the headline's words. Not
    "blijvend": a new level rests on a few months, and may not last (an outside review)."""
    return _listed([f"het niveau van {what} ligt sinds {since} {way}" for what, way, since in items])


def basis_sentence(total: dict[str, Any], cats: list[dict[str, Any]]) -> str:
    """Which expected count was used, said for the total and for categories computed otherwise: "Hoe
    lezen" describes every method, this says which one this analysis used."""
    if total.get("kind") == "geen" and disclosure.visible(int(total.get("status", disclosure.SHOWN))):
        return "Voor deze maand is er te weinig historie voor een verwacht aantal."
    if basis_text(total) == "–":
        if any(basis_text(r) not in ("", "–") for r in cats):
            return "Hoe het verwachte aantal is berekend, staat bij de categorieën met een getoond aantal."
        # Every figure hidden: no category to point to (an outside review found the pointer to none).
        return "Hoe het verwachte aantal wordt berekend, staat onder Hoe lezen."
    by_basis: dict[str, list[str]] = {}
    for r in cats:
        basis = basis_text(r)
        if basis not in ("", "–") and r.get("kind") != "geen":
            by_basis.setdefault(basis, []).append(r["label"].lower())
    same = by_basis.pop(basis_text(total), [])
    largest = max(by_basis, key=lambda b: len(by_basis[b]), default=None)
    # A small gemeente's buurt reads most categories on the national season: thirteen of them
    # listed by name made the sentence longer than the rest of the analysis; "de overige" says it.
    if largest is not None and len(by_basis[largest]) > max(3, len(same)):
        rest = by_basis.pop(largest)
        also = f" en voor {_listed(sorted(same))}" if same else ""
        text = f"Het verwachte aantal komt voor alle categorieën samen{also} uit {basis_text(total)}"
        for basis, labels in by_basis.items():
            text += f"; voor {_listed(sorted(labels))} uit {basis}"
        return text + f"; voor de overige {len(rest)} categorieën (zie de tabel) uit {largest}."
    text = f"Het verwachte aantal komt uit {basis_text(total)}"
    for basis, labels in by_basis.items():
        text += f"; voor {_listed(sorted(labels))} uit {basis}"
    return text + "."


def describe(facts: AreaFacts) -> dict[str, Any]:
    """Headline, paragraphs, table and chart data of one area's analysis, for `facts.audience`.

    Every notable result the reader may see is in the headline (the total and the category that
    deviates most as sentences, the others by name) and in the findings; "niets opvallends" is said
    only when nothing is notable here or below, hidden results included."""
    t = facts.expected_floor
    rows = records(facts.rows)
    when = month_name(facts.month)
    provisional = bool(facts.provisional)
    total = next(r for r in rows if r["group"] == ALL)
    cats = [r for r in rows if r["group"] != ALL]
    visible, hidden = notable_records(rows)
    # Nothing was tested (too little history for any expected count): "niets opvallends" would claim
    # a comparison that was not made.
    untested = all(r.get("kind") == "geen" for r in rows)
    # A gedeeld buurt is offered its total only: its categories were not judged, so "no category
    # deviates" would claim a comparison that was not made (an outside review found it beside an
    # intern "opvallend hoog").
    categories_untested = bool(cats) and all(r.get("kind") == "geen" for r in cats)
    shift_news = shift_items(rows, facts.audience)  # in the headline too: a new level is news

    def sentence(row: dict[str, Any]) -> str:
        word = "opvallend hoog" if row["direction"] == "hoog" else "opvallend laag"
        return (
            f"{count_phrase(row['group'], row['label'], _said(row, t))} geregistreerd; verwacht waren er "
            f"{expected_phrase(row['expected'], t)} ({word})"
        )

    def were(row: dict[str, Any]) -> str:
        return "werd" if _said(row, t) == "1" else "werden"  # "werd … 1 incident geregistreerd"

    none_said = False  # "Geen categorie wijkt deze maand opvallend af" in the headline
    if visible:
        first, rest = visible[0], visible[1:]
        headline = f"In {when} {were(first)} in {facts.name} {sentence(first)}."
        if first["group"] == ALL and rest:  # the total, and the category that stands out most
            top, rest = rest[0], rest[1:]
            headline += f" Het meest wijkt {top['label'].lower()} af: {sentence(top)}."
        if rest:
            headline += " Ook opvallend: " + _listed([f"{r['label'].lower()} ({r['direction']})" for r in rest]) + "."
        if hidden:
            headline += " " + _hidden_sentence(hidden, also=True)
        below = _below_sentence(facts, own=True)
    else:
        headline = (
            f"In {when} {were(total)} in {facts.name} {count_phrase(ALL, '', _said(total, t))} geregistreerd"
            + (f"; verwacht waren er {expected_phrase(total['expected'], t)}" if total["kind"] != "geen" else "")
            + "."
        )
        if hidden:
            headline += " " + _hidden_sentence(hidden, also=False)
        below = _below_sentence(facts, own=bool(hidden))
        if untested:
            headline += " " + UNTESTED
        elif shift_news and not hidden and not below:
            # A new level is news: "niets opvallends" beside "Nieuw niveau" contradicts itself.
            news = shifts_phrase(shift_news)
            headline += f" Geen categorie wijkt deze maand opvallend af, maar {news} (zie hieronder)."
            shift_news, none_said = [], True
        elif not hidden and not below and facts.below_shifts:
            where = BELOW_NAMES.get(facts.level, "gebieden eronder")
            headline += (
                f" Er is niets opvallends; wel ligt in de {where} een niveau anders dan daarvoor (zie hieronder)."
            )
        elif not hidden and not below:
            headline += (
                " Alle categorieën samen wijken niet opvallend af."
                if categories_untested
                else " Er is niets opvallends."
            )
    if below:
        headline += " " + below
    if shift_news:
        headline += f" Nieuw niveau: {shifts_phrase(shift_news)} (zie hieronder)."

    paragraphs: list[str] = []
    shifts = level_shifts(rows, facts.audience)
    if visible:
        paragraphs.append("Opvallend deze maand:\n" + "\n".join(f"- {finding(r, t, provisional)}" for r in visible))
        if hidden:
            paragraphs.append(_hidden_sentence(hidden, also=True))
    elif not hidden and not untested and not none_said:  # said once, in the headline
        paragraphs.append(
            CATEGORIES_UNTESTED
            if categories_untested
            else "Geen enkele categorie wijkt opvallend af van wat te verwachten was."
        )
    if shifts:
        paragraphs.append("Nieuw niveau:\n" + "\n".join(f"- {line}" for line in shifts))
    if ends := level_ends(rows, facts.audience):
        paragraphs.append("Nieuw niveau houdt geen stand:\n" + "\n".join(f"- {line}" for line in ends))
    if back := level_returns(rows, facts.audience):
        paragraphs.append("Nieuw niveau is er toch weer:\n" + "\n".join(f"- {line}" for line in back))
    # Ranked on the figures this audience reads: for gedeeld the shared ones, ties by label (their
    # exact order is not shown), hidden ones not ranked at all; for intern the exact counts.
    shown_cats = sorted(
        (r for r in cats if disclosure.visible(int(r["status"])) and r["shown"] > 0),
        key=lambda r: (-float(r["shown"]), r["label"]),
    )
    if shown_cats:
        # The name without its own brackets: "geweld (bedreiging, …) (35)" read as a typo.
        parts = [f"{r['label'].split(' (')[0].lower()} ({_obs(r, t)})" for r in shown_cats[:3]]
        # Ranking the hidden ones too would tell how large they are; so say that they are left out.
        left_out = any(int(r["status"]) == disclosure.SECONDARY for r in cats)
        paragraphs.append(
            (
                "Meest geregistreerd (van de categorieën met een getoond aantal): "
                if left_out
                else "Meest geregistreerd: "
            )
            + ", ".join(parts)
            + "."
        )
    if disclosure.visible(int(total["status"])) and pd.notna(total["rate"]):
        compare = "; ".join(f"{name}: {rate}" for name, rate in facts.parent_rates)
        rate = _rate_said(total, t)
        paragraphs.append(
            f"Per 1.000 inwoners: {rate} incidenten" + (f" (ter vergelijking: {compare})." if compare else ".")
        )
    for child in facts.children:
        paragraphs.append(child["text"])
    if provisional:
        paragraphs.append(
            f"Voorlopig: {weeks_phrase(facts.provisional)} "
            f"{'kan' if len(facts.provisional) == 1 else 'kunnen'} door latere leveringen nog wijzigen; "
            "uitkomsten over deze maand zijn daardoor minder zeker."
        )
    paragraphs.append(basis_sentence(total, cats))
    if facts.context:
        lines = [f"- {ind}: {here} (gemeente: {gm})" for ind, here, gm in facts.context]
        paragraphs.append("Kenmerken van de buurt (ter context; ze verklaren de cijfers niet):\n" + "\n".join(lines))
    by_label = sorted(cats, key=lambda r: r["label"])
    groups_chart = {
        "labels": [r["label"] for r in by_label],
        "observed": [float(r["shown"]) if disclosure.visible(int(r["status"])) else None for r in by_label],
        "expected": [disclosure.expected_shown(r["expected"], t) if _expected_said(r) else None for r in by_label],
    }
    return {
        "headline": headline,
        "paragraphs": paragraphs,
        "table": table_rows(facts),
        "charts": {"trend": facts.trend, "groups": groups_chart},
        "provisional": facts.provisional,
        "notable_shown": len(visible),
        "notable_hidden": hidden,
    }
