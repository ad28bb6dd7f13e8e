"""The monthly analyses say what their flags say, at every level, in the reader's audience and in Dutch
style (issue 26, "honest text"): unit tests on the narrative, and checks on every stored analysis of
the demo, on the page and in every download."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from typing import Any

import openpyxl
import pandas as pd
import plotly
import pytest
from werkzeug.security import generate_password_hash

from buurtbeeld import disclosure, narrative
from buurtbeeld.settings import Settings, get_settings
from tests.helpers import dashboard_app
from warehouse import queries

SHOWN, HIDDEN = disclosure.SHOWN, disclosure.SECONDARY
COLUMNS = ["group", "label", "observed", "shown", "status", "expected", "direction", "excess", "rate", "kind"]


def _rows(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=COLUMNS)
    return frame.assign(rate_exact=frame["observed"] / 4.0)  # 4 000 inwoners


def _facts(rows: pd.DataFrame, **kw: Any) -> narrative.AreaFacts:
    base = {"month": "2026-10", "level": "buurt", "code": "BU1", "name": "Oost", "rows": rows, "threshold": 5}
    return narrative.AreaFacts(**{**base, **kw})


def _intern(facts: narrative.AreaFacts) -> narrative.AreaFacts:
    facts.rows = narrative.intern_rows(facts.rows)
    facts.audience = disclosure.INTERN
    return facts


TOTAL_LOW = ("*", "Alle categorieën", 16, 15.0, SHOWN, 81.0, "laag", -65.0, 4.0, "seizoen")


def test_a_notable_total_is_in_the_headline_never_niets_opvallends() -> None:
    """The issue's case: 16 registered, about 81 expected, the total flagged laag."""
    rows = _rows(TOTAL_LOW, ("A", "Woninginbraak", 3, 5.0, SHOWN, 4.0, "", -1.0, 1.2, "seizoen"))
    out = narrative.describe(_facts(rows))
    assert "opvallend laag" in out["headline"] and "niets opvallends" not in out["headline"]
    assert out["headline"].startswith("In oktober 2026 werden in Oost 15 incidenten geregistreerd; verwacht")
    assert "ongeveer 81" in out["headline"]


def test_every_notable_result_is_named_in_the_headline() -> None:
    rows = _rows(
        TOTAL_LOW,
        ("A", "Woninginbraak", 30, 30.0, SHOWN, 10.0, "hoog", 20.0, 7.5, "seizoen"),
        ("B", "Vernieling", 2, 0.0, SHOWN, 12.0, "laag", -10.0, 0.5, "seizoen"),
        ("C", "Overlast", 25, 25.0, SHOWN, 12.0, "hoog", 13.0, 6.2, "seizoen"),
        ("D", "Drugs", 9, None, HIDDEN, 1.0, "hoog", 8.0, None, "seizoen"),
    )
    for facts in (_facts(rows), _intern(_facts(rows))):
        out = narrative.describe(facts)
        for label in ("woninginbraak", "vernieling", "overlast"):
            assert label in out["headline"].lower(), (facts.audience, out["headline"])
        if facts.audience == disclosure.GEDEELD:  # the hidden one is counted, not described
            assert "drugs" not in out["headline"].lower() and "één opvallende uitkomst" in out["headline"]
        else:
            assert "drugs" in out["headline"].lower() and "privacyredenen" not in out["headline"]
        findings = next(p for p in out["paragraphs"] if p.startswith("Opvallend deze maand"))
        assert all(label in findings for label in ("Woninginbraak", "Vernieling", "Overlast"))


def test_a_summary_with_a_notable_area_below_never_says_nothing_is_notable() -> None:
    """A stadsdeel whose own figures are ordinary but whose buurt is notable."""
    rows = _rows(("*", "Alle categorieën", 400, 400.0, SHOWN, 395.0, "", 5.0, 20.0, "seizoen"))
    quiet = narrative.describe(_facts(rows, level="stadsdeel", name="Noord"))
    assert quiet["headline"].endswith("Er is niets opvallends.")
    out = narrative.describe(_facts(rows, level="stadsdeel", name="Noord", below={"wijk": 1, "buurt": 3}))
    assert "niets opvallends" not in out["headline"]
    assert "Het stadsdeel als geheel wijkt niet opvallend af, maar één wijk en drie buurten wel" in out["headline"]
    hidden_only = narrative.describe(_facts(rows, level="gemeente", name="Demostad", below_hidden=2))
    assert "niets opvallends" not in hidden_only["headline"]
    said = "twee opvallende uitkomsten in de stadsdelen, wijken en buurten kunnen om privacyredenen niet getoond worden"
    assert said in hidden_only["headline"]


def test_the_text_names_the_baseline_used_and_no_correction_that_was_not_made() -> None:
    """With under 14 months a stadsdeel's series is read on the national season where its category
    has one, and has no seasonal correction where not (zedenmisdrijven, or a total whose categories
    have none): each analysis says which, and "Hoe lezen" never promises one for every analysis."""
    rows = _rows(
        ("*", "Alle categorieën", 400, 400.0, SHOWN, 395.0, "", 5.0, 20.0, "recent"),
        ("A", "Woninginbraak", 30, 30.0, SHOWN, 28.0, "", 2.0, 7.5, "recent_gemeente"),
    )
    text = "\n".join(narrative.describe(_facts(rows, level="stadsdeel", name="Noord"))["paragraphs"])
    assert "Het verwachte aantal komt uit de afgelopen 12 maanden, zonder seizoenscorrectie" in text
    assert "voor woninginbraak uit de afgelopen 12 maanden, naar verhouding van de hele gemeente" in text
    table = narrative.table_rows(_facts(rows))
    assert table[0]["Basis"] == "de afgelopen 12 maanden, zonder seizoenscorrectie"
    how = narrative.how_to_read(narrative.Method(), 5)
    assert "zonder seizoenscorrectie" in how and "kolom Basis" in how and "landelijke seizoenspatroon" in how
    # A small gemeente's buurt reads most categories on the national season: those are "de overige",
    # the others by name, each category under exactly one basis.
    many = _rows(
        ("*", "Alle categorieën", 40, 40.0, SHOWN, 38.0, "", 2.0, 9.0, "recent_gemeente"),
        ("A", "Overlast", 20, 20.0, SHOWN, 19.0, "", 1.0, 4.5, "recent_gemeente"),
        ("Z", "Zedenmisdrijven", 0, 0.0, SHOWN, 0.2, "", -0.2, 0.0, "recent"),
        *[(f"N{i}", f"Categorie {i}", 1, 1.0, SHOWN, 0.8, "", 0.2, 1.1, "recent_landelijk") for i in range(5)],
    )
    said = "\n".join(narrative.describe(_facts(many, level="buurt", name="Oost"))["paragraphs"])
    assert (
        "Het verwachte aantal komt voor alle categorieën samen en voor overlast uit de afgelopen 12 maanden, "
        "naar verhouding van de hele gemeente in deze maand; voor zedenmisdrijven uit de afgelopen 12 maanden, "
        "zonder seizoenscorrectie; voor de overige 5 categorieën (zie de tabel) uit de afgelopen 12 maanden, "
        "gecorrigeerd voor het landelijke seizoenspatroon (politiecijfers)."
    ) in said
    national = rows.assign(kind=["recent_landelijk", "recent_gemeente"])
    assert narrative.table_rows(_facts(national))[0]["Basis"] == (
        "de afgelopen 12 maanden, gecorrigeerd voor het landelijke seizoenspatroon (politiecijfers)"
    )
    # With 7 months of history the level rests on 7: the text never claims twelve.
    short = rows.assign(level_months=7)
    text = "\n".join(narrative.describe(_facts(short))["paragraphs"])
    assert "uit de afgelopen 7 maanden, zonder" in text and "12 maanden" not in text
    assert {r["Basis"] for r in narrative.table_rows(_facts(short))} == {
        "de afgelopen 7 maanden, zonder seizoenscorrectie",
        "de afgelopen 7 maanden, naar verhouding van de hele gemeente in deze maand",
    }


def test_a_month_without_any_expected_count_claims_no_comparison() -> None:
    """Too little history for a baseline: nothing was tested, so nothing is called unremarkable."""
    rows = _rows(
        ("*", "Alle categorieën", 40, 40.0, SHOWN, float("nan"), "", float("nan"), 10.0, "geen"),
        ("A", "Woninginbraak", 6, 5.0, SHOWN, float("nan"), "", float("nan"), 1.5, "geen"),
    )
    for facts in (_facts(rows), _intern(_facts(rows))):
        out = narrative.describe(facts)
        text = out["headline"] + "\n".join(out["paragraphs"])
        assert "niets opvallends" not in text and "wijkt opvallend af" not in text
        assert narrative.UNTESTED in out["headline"]


def test_a_new_level_is_in_the_headline_not_beside_niets_opvallends() -> None:
    rows = _rows(
        ("*", "Alle categorieën", 80, 80.0, SHOWN, 78.0, "", 2.0, 20.0, "recent_gemeente"),
        ("A", "Woninginbraak", 23, 25.0, SHOWN, 22.0, "", 1.0, 6.2, "niveau"),
    ).assign(shift=["", "hoger"], since=["", "2026-08"], shift_new=[False, True])
    out = narrative.describe(_facts(rows))
    assert "niets opvallends" not in out["headline"]
    assert "het niveau van woninginbraak ligt sinds augustus 2026 hoger" in out["headline"]
    # Said once: not again as a paragraph right under the headline (an outside review).
    assert not any("Geen enkele categorie wijkt opvallend af" in p for p in out["paragraphs"])
    flagged = narrative.describe(_facts(rows.assign(direction=["", "hoog"])))["headline"]
    assert "opvallend hoog" in flagged
    assert "Nieuw niveau: het niveau van woninginbraak ligt sinds augustus 2026 hoger" in flagged
    later = narrative.describe(_facts(rows.assign(shift_new=False)))["headline"]
    assert "niveau" not in later and later.endswith("Er is niets opvallends.")


def test_a_new_level_that_did_not_last_or_came_back_is_said_where_the_figure_is_shown() -> None:
    rows = _rows(
        ("*", "Alle categorieën", 80, 80.0, SHOWN, 78.0, "", 2.0, 20.0, "recent_gemeente"),
        ("A", "Woninginbraak", 3, 5.0, SHOWN, 2.0, "", 1.0, 1.2, "recent_gemeente"),
        ("B", "Drugs", 2, None, HIDDEN, 3.0, "", -1.0, None, "recent_gemeente"),
    ).assign(shift_ended=["", "hoger", "lager"], ended_since=["", "2026-05", "2026-06"])
    said = "Het hogere niveau van woninginbraak sinds mei 2026 houdt geen stand"
    gedeeld = "\n".join(narrative.describe(_facts(rows))["paragraphs"])
    assert gedeeld.count(said) == 1 and "drugs" not in gedeeld.lower()
    intern = "\n".join(narrative.describe(_intern(_facts(rows)))["paragraphs"])
    assert said in intern and "Het lagere niveau van drugs sinds juni 2026 houdt geen stand" in intern
    back = _rows(
        ("*", "Alle categorieën", 80, 80.0, SHOWN, 78.0, "", 2.0, 20.0, "recent_gemeente"),
        ("A", "Woninginbraak", 23, 25.0, SHOWN, 22.0, "", 1.0, 6.2, "niveau"),
    ).assign(shift=["", "hoger"], since=["", "2026-05"], shift_new=False, shift_resumed=[False, True])
    out = narrative.describe(_facts(back))
    assert "Het hogere niveau van woninginbraak sinds mei 2026 is er toch weer" in "\n".join(out["paragraphs"])
    assert out["headline"].endswith("Er is niets opvallends.")  # not news: said once, when it began


def test_a_sentence_names_the_whole_category_and_says_registered_once() -> None:
    rows = _rows(
        ("*", "Alle categorieën", 80, 80.0, SHOWN, 40.0, "hoog", 40.0, 20.0, "seizoen"),
        ("geweld", "Geweld (bedreiging, mishandeling)", 35, 35.0, SHOWN, 12.0, "hoog", 23.0, 8.0, "seizoen"),
        ("fietsendiefstal", "Fietsen- en bromfietsdiefstal", 30, 30.0, SHOWN, 10.0, "hoog", 20.0, 7.5, "seizoen"),
    )
    headline = narrative.describe(_facts(rows))["headline"]
    assert "registraties van" not in headline and "35 incidenten in de categorie geweld" in headline
    one = narrative.describe(_facts(rows.iloc[[0, 2]]))["headline"]
    assert "30 fiets- en bromfietsdiefstallen geregistreerd" in one


def test_a_level_shift_is_said_once_and_only_where_the_figure_is_shown() -> None:
    rows = _rows(
        ("*", "Alle categorieën", 80, 80.0, SHOWN, 78.0, "", 2.0, 20.0, "recent_gemeente"),
        ("A", "Woninginbraak", 23, 25.0, SHOWN, 22.0, "", 1.0, 6.2, "niveau"),
        ("B", "Drugs", 9, None, HIDDEN, 8.0, "", 1.0, None, "niveau"),
    ).assign(shift=["", "hoger", "lager"], since=["", "2026-08", "2026-08"], shift_new=[False, True, True])
    said = "Sinds augustus 2026 ligt het niveau van woninginbraak hoger dan daarvoor"
    gedeeld = "\n".join(narrative.describe(_facts(rows))["paragraphs"])
    assert gedeeld.count(said) == 1 and "drugs" not in gedeeld.lower()
    assert "voor woninginbraak uit het nieuwe niveau sinds augustus 2026" in gedeeld
    assert [r["Basis"] for r in narrative.table_rows(_facts(rows))][1:] == ["het nieuwe niveau sinds augustus 2026"]
    # A new level rests on as few as three months: its expectation only beside a shown count; a gedeeld
    # buurt's category with neither figure nor expectation is left out of its table, not for intern.
    assert [r["Verwacht"] for r in narrative.table_rows(_facts(rows))][1:] == ["22"]
    assert [r["Categorie"] for r in narrative.table_rows(_intern(_facts(rows)))][1:] == ["Woninginbraak", "Drugs"]
    assert narrative.describe(_facts(rows))["charts"]["groups"]["expected"] == [None, 22.0]
    intern = "\n".join(narrative.describe(_intern(_facts(rows)))["paragraphs"])
    assert said in intern and "niveau van drugs lager" in intern
    later = rows.assign(shift_new=False)
    assert "Sinds augustus" not in "\n".join(narrative.describe(_facts(later))["paragraphs"])


def test_hidden_counts_in_words_for_gedeeld_exact_for_intern() -> None:
    rows = _rows(
        ("*", "Alle categorieën", 61, 60.0, SHOWN, 40.0, "hoog", 21.0, 15.2, "seizoen"),
        ("A", "Woninginbraak", 23, None, HIDDEN, 8.0, "hoog", 15.0, None, "seizoen"),
        ("B", "Fietsendiefstal", 21, 20.0, SHOWN, 4.5, "hoog", 16.5, 5.0, "seizoen"),
        ("C", "Straatroof", 3, None, HIDDEN, 2.5, "", 0.5, None, "seizoen"),
    )
    shared = narrative.describe(_facts(rows))
    text = " ".join([shared["headline"], *shared["paragraphs"]])
    assert not re.search(r"\bx (incident|geregistreerd|registratie|woninginbra)", text)
    assert "23" not in text and "21" not in text  # the exact counts are the intern audience's
    intern = narrative.describe(_intern(_facts(rows)))
    text = " ".join([intern["headline"], *intern["paragraphs"]])
    assert "61 incidenten geregistreerd" in intern["headline"] and "afgeschermd" not in text
    assert "**Fietsendiefstal**: 21 geregistreerd, verwacht ongeveer 5 (opvallend hoog; +16" in text
    # An expectation below the threshold is shown to intern (rounded half up), not as 'minder dan 5'.
    assert "Straatroof" in " ".join(r["Categorie"] for r in intern["table"])
    assert {r["Categorie"]: r["Verwacht"] for r in intern["table"]}["Straatroof"] == "3"
    assert {r["Categorie"]: r["Verwacht"] for r in shared["table"]}["Straatroof"] == "<5"
    assert "x" not in {r["Geregistreerd"] for r in intern["table"]}
    assert intern["charts"]["groups"]["observed"] == [21.0, 3.0, 23.0]


def test_meest_geregistreerd_ranks_the_figures_the_audience_reads() -> None:
    """A shown 20 (exact 21) is never ranked above a hidden 23 for gedeeld; two shown 20s are ordered
    by label, not by their exact counts; intern ranks the exact counts."""
    rows = _rows(
        ("*", "Alle categorieën", 80, 80.0, SHOWN, 78.0, "", 2.0, 20.0, "seizoen"),
        ("A", "Woninginbraak", 23, None, HIDDEN, 20.0, "", 3.0, None, "seizoen"),
        ("B", "Vernieling", 21, 20.0, SHOWN, 20.0, "", 1.0, 5.0, "seizoen"),
        ("C", "Overlast", 19, 20.0, SHOWN, 20.0, "", -1.0, 5.0, "seizoen"),
    )
    shared = narrative.describe(_facts(rows))
    ranked = next(p for p in shared["paragraphs"] if p.startswith("Meest geregistreerd"))
    assert ranked == "Meest geregistreerd (van de categorieën met een getoond aantal): overlast (20), vernieling (20)."
    intern = narrative.describe(_intern(_facts(rows)))
    ranked = next(p for p in intern["paragraphs"] if p.startswith("Meest geregistreerd"))
    assert ranked == "Meest geregistreerd: woninginbraak (23), vernieling (21), overlast (19)."


def test_a_coarse_total_is_said_approximately_and_its_flag_counted_not_named() -> None:
    """A total shown coarser (disclosure.COARSE) reads 'ongeveer 10' in sentences, '≈10' in the table,
    with its rate marked; the exact count is not said. Its flag rests on the exact count, so it is
    counted with the hidden notable results, not named: 'opvallend hoog' beside a 5..14 would narrow it."""
    coarse = disclosure.COARSE
    rows = _rows(
        ("*", "Alle categorieën", 7, 10.0, coarse, 2.0, "hoog", 5.0, 2.5, "seizoen"),
        ("A", "Woninginbraak", 6, 5.0, SHOWN, 1.0, "", 5.0, 1.25, "seizoen"),
        ("B", "Vernieling", 1, 0.0, SHOWN, 0.5, "", 0.5, 0.0, "seizoen"),
    )
    shared = narrative.describe(_facts(rows))
    text = " ".join([shared["headline"], *shared["paragraphs"]])
    assert "ongeveer 10" in text and " 7 " not in f" {text} " and "Per 1.000 inwoners: ≈2,5 incidenten" in text
    assert "opvallend" not in shared["headline"].split(";")[0] and "één opvallende uitkomst" in text
    table = {r["Categorie"]: r for r in shared["table"]}
    assert table["Alle categorieën"]["Geregistreerd"] == "≈10" and table["Alle categorieën"]["Beoordeling"] == ""
    assert table["Alle categorieën"]["Per 1.000 inwoners"] == "≈2,5"
    assert shared["charts"]["groups"]["observed"] == [0.0, 5.0]
    intern = narrative.describe(_intern(_facts(rows)))
    assert "7 incidenten geregistreerd" in intern["headline"] and "opvallend hoog" in intern["headline"]


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (4.5, 0, "5"),
        (5.5, 0, "6"),
        (2.25, 1, "2,3"),
        (0.45, 1, "0,5"),
        (1234567, 0, "1.234.567"),
        (371e3, 0, "371.000"),
    ],
)
def test_numbers_are_rounded_half_up_with_dutch_separators(value: float, decimals: int, expected: str) -> None:
    assert disclosure.format_number(value, decimals) == expected
    # The same number in an Excel cell as on the page (19,25 read 19,3 on a card and 19.2 in Excel).
    assert disclosure.format_number(disclosure.round_half_up(value, decimals), decimals) == expected


def test_an_expected_four_and_a_half_reads_five() -> None:
    assert narrative.expected_phrase(4.5, 5) == "ongeveer 5"
    assert narrative.expected_phrase(4.49, 5) == "minder dan 5"
    assert narrative.expected_phrase(6.5, 1) == "ongeveer 7" and narrative.expected_phrase(0.4, 1) == "minder dan 1"


def test_the_hidden_results_sentence_is_a_statement() -> None:
    """On its own it starts "Er is/zijn" ("Is er ..." asks a question, as headlines of the demo read
    until December 2026); after "Daarnaast" it inverts."""
    assert narrative._hidden_sentence(1, also=False) == (
        "Er is één opvallende uitkomst die om privacyredenen niet wordt getoond."
    )
    assert narrative._hidden_sentence(2, also=False).startswith("Er zijn twee opvallende uitkomsten die")
    assert narrative._hidden_sentence(1, also=True).startswith("Daarnaast is er één opvallende uitkomst")
    assert narrative._hidden_sentence(3, also=True).startswith("Daarnaast zijn er drie opvallende")


def test_a_chart_with_nothing_to_draw_is_a_sentence_not_an_empty_frame() -> None:
    from dashboard import report

    groups = {"labels": ["Drugs", "Overlast"], "observed": [None, 0.0], "expected": [None, None]}
    trend = {"months": ["2026-09", "2026-10"], "values": [None, None]}
    assert not narrative.chart_has_data(groups, ("observed", "expected"))
    content = {
        "headline": "In oktober 2026 werden in Oost 0 incidenten geregistreerd.",
        "paragraphs": [],
        "table": [],
        "charts": {"trend": trend, "groups": groups},
    }
    docs = pd.DataFrame(
        [{"area_level": "buurt", "area_code": "BU1", "name": "Oost", "headline": content["headline"]}]
    ).assign(content=[content], n_notable=0)
    page = report.html_report(docs, "2026-10", "stadsdeel Noord", "Hoe lezen.", "Berekend.")
    assert narrative.NO_GROUPS_CHART in page and narrative.NO_TREND_CHART in page and "<svg" not in page
    drawn = dict(groups, observed=[5.0, 10.0])
    assert report._groups_chart(drawn, "svg") is not None


# --- every stored analysis of the demo -----------------------------------------------------------------

ISO_WEEK = re.compile(r"\b\d{4}-W\d{2}\b")
STYLE = {
    "ISO week": ISO_WEEK,
    "CBS unit": re.compile(r"x 1[ .]000 euro"),
    "'x' in a sentence": re.compile(r"\bx (incident|geregistreerd|registratie|woninginbra|fietsendiefst)"),
    "English decimal": re.compile(r"(?<![\d.,])\d+\.\d{1,2}(?![\d])"),
    "number without thousands separator": re.compile(r"(?<![\d.,])\d{5,}(?![\d])"),
    "brackets after brackets": re.compile(r"\) \("),
}


def style_problems(text: str) -> list[str]:
    return [f"{name}: {m.group(0)!r}" for name, pattern in STYLE.items() for m in pattern.finditer(text)]


def test_the_style_scan_catches_what_the_issue_found() -> None:
    text = (
        "16 x incidenten in 2026-W47; WOZ 371 x 1 000 euro; 2.5 per 1.000; 12345 incidenten; week 47 van 2026; "
        "geweld (bedreiging) (35)"
    )
    assert [p.split(":")[0] for p in style_problems(text)] == [
        "ISO week",
        "CBS unit",
        "'x' in a sentence",
        "English decimal",
        "number without thousands separator",
        "brackets after brackets",
    ]


def _variants(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {disclosure.GEDEELD: content, disclosure.INTERN: {**content, **content["intern"]}}


def test_every_demo_analysis_follows_its_flags_in_both_audiences(demo_warehouse: Settings) -> None:
    """Per stored analysis and audience: every notable result in the table is in the headline and the
    findings; 'niets opvallends' never stands beside a notable result here or below; every notable
    area is named in the summary of every level above it (wijk, stadsdeel, gemeente); and the prose
    writes numbers, weeks and amounts in Dutch style."""
    url = demo_warehouse.warehouse_url
    problems: list[str] = []
    seen = {disclosure.GEDEELD: 0, disclosure.INTERN: 0}
    wijken = 0
    # A category is named by its label or, in a sentence, by its plural ('28 fietsendiefstallen').
    names = {label: {label.lower(), *narrative.PLURALS.get(code, ())} for code, label in queries.groups(url)}
    wijk_of = queries.areas(url, "GM9999").query("area_level == 'buurt'").set_index("area_code")["wijk"]
    for month in queries.analysis_months(url, "GM9999"):
        docs = queries.analyses(url, "GM9999", month)
        assert all("intern" in c for c in docs["content"]), f"{month}: an analysis without its intern text"
        for audience in seen:
            texts = {d.area_code: _variants(d.content)[audience] for d in docs.itertuples()}
            summaries = {
                (d.area_level, d.area_code): "\n".join(texts[d.area_code]["paragraphs"])
                for d in docs.itertuples()
                if d.area_level in ("gemeente", "stadsdeel", "wijk")
            }
            notable_below: dict[tuple[str, str], int] = {}
            for d in docs.itertuples():
                c = texts[d.area_code]
                where = f"{month} {audience} {d.area_level} {d.area_code}"
                flagged = [t["Categorie"] for t in c["table"] if t["Beoordeling"]]
                seen[audience] += len(flagged)
                if flagged and "niets opvallends" in c["headline"]:
                    problems.append(f"{where}: 'niets opvallends' beside {flagged}")
                problems += [
                    f"{where}: {label} not in the headline {c['headline']!r}"
                    for label in flagged
                    if label != "Alle categorieën" and not any(n in c["headline"].lower() for n in names[label])
                ]
                findings = next((p for p in c["paragraphs"] if p.startswith("Opvallend deze maand")), "")
                problems += [f"{where}: {label} not among the findings" for label in flagged if label not in findings]
                problems += [f"{where}: {p}" for p in style_problems(" ".join([c["headline"], *c["paragraphs"]]))]
                if audience == disclosure.INTERN and any(t["Geregistreerd"] == "x" for t in c["table"]):
                    problems.append(f"{where}: a hidden count in the intern text")
                # A buurt's categories are outside the shared design: 'x' whatever the count, 0 too.
                if audience == disclosure.GEDEELD and d.area_level == "buurt":
                    shown = [t["Categorie"] for t in c["table"][1:] if t["Geregistreerd"] != "x"]  # [0]: the total
                    if shown:
                        problems.append(f"{where}: a buurt's category figure in the gedeeld text: {shown}")
                if not flagged or d.area_level not in ("stadsdeel", "wijk", "buurt"):
                    continue
                wijken += d.area_level == "wijk"
                parents = [("gemeente", "GM9999")]
                parents += [("stadsdeel", d.stadsdeel)] if d.stadsdeel and d.area_level != "stadsdeel" else []
                parents += [("wijk", wijk_of[d.area_code])] if d.area_level == "buurt" else []
                for key in parents:
                    notable_below[key] = notable_below.get(key, 0) + 1
                    if f"- {d.name}: " not in summaries.get(key, ""):
                        problems.append(f"{where}: not named in the {key[0]} summary")
            for d in docs.itertuples():
                key = ("gemeente", "GM9999") if d.area_level == "gemeente" else (d.area_level, d.area_code)
                if notable_below.get(key) and "niets opvallends" in texts[d.area_code]["headline"]:
                    problems.append(f"{month} {audience} {key}: 'niets opvallends' above a notable area")
    # Not vacuous: the demo has notable results in both audiences, wijken among them (47 and 14 on the
    # statistics of December 2026; the bounds leave room for a recalibration).
    assert seen[disclosure.GEDEELD] >= 10 and seen[disclosure.INTERN] >= seen[disclosure.GEDEELD] and wijken >= 1
    assert problems == [], problems[:20]


ACCOUNTS = {"anna": {"role": "analist", "password": generate_password_hash("a")}}


def _plain(obj: Any) -> str:
    return json.dumps(json.loads(json.dumps(obj, cls=plotly.utils.PlotlyJSONEncoder)), ensure_ascii=False)


def _excel(download: dict[str, Any]) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    return {s.title: list(s.iter_rows(values_only=True)) for s in book.worksheets}


def _pdf_text(download: dict[str, Any]) -> str:
    from pypdf import PdfReader

    data = download["content"]
    reader = PdfReader(io.BytesIO(base64.b64decode(data) if download.get("base64") else data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _notable_areas(docs: pd.DataFrame, audience: str) -> list[tuple[str, dict[str, Any]]]:
    """(title, text as `audience` reads it) of every area with a notable result the reader may see."""
    out = []
    for d in docs.itertuples():
        text = _variants(d.content)[audience]
        if text["notable_shown"]:
            out.append((f"{LEVEL_TITLES[d.area_level]} {d.name}", text))
    return out


LEVEL_TITLES = {"gemeente": "Gemeente", "stadsdeel": "Stadsdeel", "wijk": "Wijk", "buurt": "Buurt"}


@pytest.mark.parametrize("user", [None, "anna"])
def test_every_notable_area_is_on_the_page_and_in_every_download(
    demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch, user: str | None
) -> None:
    """The whole gemeente's page holds every area with a notable result, wijken included, with its
    headline as the reader's audience reads it (gedeeld without accounts, intern as analist). The
    HTML, PDF and Excel downloads, made for distribution and the same for everyone, hold every area
    with a notable gedeeld result: checked for every month with a notable wijk or stadsdeel (HTML and
    Excel) and the latest of them (PDF, which takes seconds)."""
    from dashboard.access import sign_in

    app = dashboard_app(demo_warehouse, monkeypatch, ACCOUNTS if user else {})
    from dashboard import exports
    from dashboard.pages import maandanalyses

    url = demo_warehouse.warehouse_url
    audience = disclosure.INTERN if user else disclosure.GEDEELD
    problems: list[str] = []
    upper: list[str] = []  # months with a notable wijk or stadsdeel
    try:
        with app.server.test_request_context("/"):
            if user:
                sign_in(user)
            for month in queries.analysis_months(url, "GM9999"):
                docs = queries.analyses(url, "GM9999", month)
                page = _plain(maandanalyses.update("GM9999", month, maandanalyses.WHOLE, None)[0])
                if user:
                    assert maandanalyses.DOWNLOADS_GEDEELD in page
                for title, text in _notable_areas(docs, audience):
                    if json.dumps(text["headline"], ensure_ascii=False)[1:-1] not in page:
                        problems.append(f"{month} {title}: not on the page")
                if user:  # the downloads are the same for every reader: checked once, as gedeeld
                    continue
                shared = _notable_areas(docs, disclosure.GEDEELD)
                if not any(t.startswith(("Wijk ", "Stadsdeel ")) for t, _ in shared):
                    continue
                upper.append(month)
                report = maandanalyses.document_download("html", "GM9999", month, maandanalyses.WHOLE)["content"]
                workbook = maandanalyses.export_tables(1, "GM9999", month, maandanalyses.WHOLE)
                assert workbook["filename"] == f"maandanalyse_{month}_gemeente.xlsx"
                sheets = _excel(workbook)
                kop = {row[0]: row[1] for row in sheets["Teksten"][1:]}
                about = {row[0]: row[1] for row in sheets["Toelichting"][1:]}
                if "Hoe lezen." not in str(about.get("Hoe lezen")) or "≈10 betekent" not in str(about["Hoe lezen"]):
                    problems.append(f"{month}: the Excel file does not say how to read it")
                # Plain text in a cell (no Markdown), and every plain figure a number Excel can sum.
                if any("**" in str(row[2]) for row in sheets["Teksten"][1:]):
                    problems.append(f"{month}: Markdown in the Excel texts")
                header, *values = sheets["Uitkomsten"]
                for column in ("Geregistreerd", "Verwacht", "Per 1.000 inwoners"):
                    at = header.index(column)
                    if [r[at] for r in values if isinstance(r[at], str) and exports.DUTCH_NUMBER.fullmatch(r[at])]:
                        problems.append(f"{month}: a figure stored as text in Excel column {column}")
                for title, text in shared:
                    if html.escape(text["headline"]) not in report:
                        problems.append(f"{month} {title}: not in the HTML download")
                    if kop.get(title) != text["headline"]:
                        problems.append(f"{month} {title}: not in the Excel download")
            if not user:
                assert upper, "the demo has months with a notable wijk or stadsdeel"
                month = upper[-1]
                pdf = _pdf_text(maandanalyses.document_download("pdf", "GM9999", month, maandanalyses.WHOLE))
                shared = _notable_areas(queries.analyses(url, "GM9999", month), disclosure.GEDEELD)
                problems += [f"{month} {title}: not in the PDF download" for title, _ in shared if title not in pdf]
    finally:
        get_settings.cache_clear()
    assert problems == [], problems[:20]


def test_a_coarse_month_is_marked_in_the_trend_charts(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documents' month chart: a coarse month is an open point with '≈' on the page and in the
    static chart of the HTML/PDF, a hidden one a gap; documents stored before have no 'coarse' list."""
    settings = Settings(data_dir=tmp_path, warehouse_url=f"sqlite:///{tmp_path / 'leeg.sqlite'}")
    dashboard_app(settings, monkeypatch, {})  # registers the pages
    from dashboard import report
    from dashboard.pages import maandanalyses

    try:
        trend = {
            "months": ["2026-08", "2026-09", "2026-10"],
            "values": [15.0, None, 10.0],
            "coarse": [False, False, True],
        }
        figure = maandanalyses.trend_figure(trend)
        assert list(figure.data[0].text) == ["15", "x", "≈10"]
        assert list(figure.data[0].marker.symbol) == ["circle", "circle", "circle-open"]
        assert report._trend_chart(trend, "svg") is not None
        older = {k: v for k, v in trend.items() if k != "coarse"}
        assert list(maandanalyses.trend_figure(older).data[0].text) == ["15", "x", "10"]
        assert report._trend_chart(older, "svg") is not None
    finally:
        get_settings.cache_clear()  # the settings of this test's environment


def test_a_buurt_with_every_figure_hidden_points_to_hoe_lezen_not_to_no_category() -> None:
    rows = _rows(
        ("*", "Alle categorieën", 3, None, HIDDEN, 4.0, "", -1.0, None, "recent_gemeente"),
        ("A", "Woninginbraak", 1, None, HIDDEN, 1.0, "", 0.0, None, "recent_gemeente"),
    )
    paragraphs = narrative.describe(_facts(rows))["paragraphs"]
    assert "Hoe het verwachte aantal wordt berekend, staat onder Hoe lezen." in paragraphs
    assert not any("categorieën met een getoond aantal" in p for p in paragraphs)
    shown = rows.assign(status=[HIDDEN, SHOWN], shown=[None, 0.0])
    assert any("categorieën met een getoond aantal" in p for p in narrative.describe(_facts(shown))["paragraphs"])


def test_a_gedeeld_buurt_does_not_claim_its_categories_were_judged() -> None:
    """A gedeeld buurt is offered its total only: its categories carry no expected count. "Geen enkele
    categorie wijkt opvallend af" there claimed a comparison that was not made, beside an intern
    "opvallend hoog" (an outside review, December 2026)."""
    rows = _rows(
        ("*", "Alle categorieën", 40, 40.0, SHOWN, 38.0, "", 2.0, 10.0, "recent_gemeente"),
        ("A", "Vernieling", 17, None, HIDDEN, float("nan"), "", float("nan"), None, "geen"),
        ("B", "Overlast", 9, None, HIDDEN, float("nan"), "", float("nan"), None, "geen"),
    )
    out = narrative.describe(_facts(rows))
    text = out["headline"] + "\n".join(out["paragraphs"])
    assert "Geen enkele categorie" not in text and "niets opvallends" not in text
    assert out["headline"].endswith("Alle categorieën samen wijken niet opvallend af.")
    assert narrative.CATEGORIES_UNTESTED in out["paragraphs"]
    # Where the categories were judged, the sentence stays.
    judged = rows.assign(kind="recent_gemeente", expected=[38.0, 15.0, 8.0], status=SHOWN, shown=[40.0, 15.0, 10.0])
    said = narrative.describe(_facts(judged))
    assert "Geen enkele categorie wijkt opvallend af van wat te verwachten was." in said["paragraphs"]
    assert said["headline"].endswith("Er is niets opvallends.")


def test_rates_say_what_the_figures_allow_in_each_audience() -> None:
    """Intern reads exact counts: a category with 0 has rate 0,0, not "minder dan 1,2" (the gedeeld
    bound of a figure 0, which is 0 to 4). A gemeente's bound of a shared 0 keeps two significant
    digits ("minder dan 0,033", not "minder dan 0,0"); below 50 inwoners no rate is given."""
    rows = _rows(
        ("*", "Alle categorieën", 40, 40.0, SHOWN, 38.0, "", 2.0, 10.0, "recent_gemeente"),
        ("A", "Drugs", 0, 0.0, SHOWN, 0.4, "", -0.4, 0.0, "recent_gemeente"),
    ).assign(rate_unit=1000 / 4000)
    intern = narrative.table_rows(_intern(_facts(rows)))
    assert intern[1]["Categorie"] == "Drugs" and intern[1]["Per 1.000 inwoners"] == "0,0"
    gedeeld = narrative.table_rows(_facts(rows))
    assert gedeeld[1]["Per 1.000 inwoners"] == "minder dan 1,3"
    gemeente = narrative.table_rows(_facts(rows.assign(rate_unit=1000 / 150_000), level="gemeente"))
    assert gemeente[1]["Per 1.000 inwoners"] == "minder dan 0,033"
    rates = disclosure.masked_rate(pd.Series([1, 1, 1]), pd.Series([SHOWN] * 3), pd.Series([5, 49, 50]))
    assert rates.isna().tolist() == [True, True, False] and rates[2] == 20.0
    assert disclosure.format_amount(10.0, "inwoners per km²") == "10 inwoners per km²"
    assert disclosure.format_amount(12.5, "%") == "12,5%"
