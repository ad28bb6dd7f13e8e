"""What the project writes for people to open can run nothing: no formula in a spreadsheet or CSV, no
markup in an HTML report, whatever text a buurt name or a police export holds."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd

from buurtbeeld.safe_output import markdown_html, write_csv, write_xlsx

HOSTILE = ['=HYPERLINK("http://evil.example","klik")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "=1+1"]


def test_spreadsheet_cells_that_look_like_formulas_stay_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Buurt": HOSTILE, "Aantal": range(len(HOSTILE)), "=kolom": ["a"] * len(HOSTILE)})
    buffer = io.BytesIO()
    write_xlsx(buffer, {"Blad": frame})
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Blad"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in sheet["A"][1:]] == HOSTILE  # shown exactly as received
    assert all(c.quotePrefix for c in sheet["A"][1:]) and sheet["C1"].quotePrefix
    assert [c.value for c in sheet["B"][1:]] == list(range(len(HOSTILE)))  # numbers stay numbers

    write_csv(frame, tmp_path / "x.csv", index=False, sep=";")
    lines = (tmp_path / "x.csv").read_text().splitlines()
    assert lines[0] == "Buurt;Aantal;'=kolom"
    assert all(line.startswith("'") or line.startswith("\"'") for line in lines[1:]), lines


def test_dashboard_workbooks_are_guarded() -> None:
    from dashboard.exports import workbook

    about = pd.DataFrame({"Kenmerk": ["Vertrouwelijkheid"], "Waarde": ["gedeeld"]})
    data = workbook({"Buurten": pd.DataFrame({"Buurt": HOSTILE})}, about)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert not [c.coordinate for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]


def test_html_reports_carry_no_markup_from_the_data() -> None:
    from dashboard.report import html_report

    evil = "<img src=x onerror=alert(1)>"
    doc = {
        "area_level": "stadsdeel",
        "area_code": "Noord",
        "name": f"Stadsdeel {evil}",
        "headline": f"Niets opvallends in {evil}",
        "n_notable": 0,
        "content": {
            "paragraphs": [f"In **{evil}** werden 15 incidenten geregistreerd. [klik](javascript:alert(1))"],
            "charts": {"trend": {}, "groups": {}},
            "table": [{"Categorie": evil, "Aantal": 15}],
        },
    }
    page = html_report(pd.DataFrame([doc]), "2026-10", f"Gemeente {evil}", "**Hoe lezen**", f"Over {evil}")
    assert "<img" not in page and "javascript:" not in page and "<a " not in page
    assert "<strong>&lt;img src=x onerror=alert(1)&gt;</strong>" in page  # the name still reads as written
    assert (
        markdown_html("- a\n- <script>b</script>") == "<ul>\n<li>a</li>\n<li>&lt;script&gt;b&lt;/script&gt;</li>\n</ul>"
    )
    assert (
        markdown_html("Wijken met een opvallende uitkomst:\n- Binnenstad\n- Kerkebuurt")
        == "<p>Wijken met een opvallende uitkomst:</p>\n<ul>\n<li>Binnenstad</li>\n<li>Kerkebuurt</li>\n</ul>"
    )
