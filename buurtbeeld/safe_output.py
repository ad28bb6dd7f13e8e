"""Files the project writes for people to open (spreadsheets, CSV, HTML), safe to open.

Text in them comes from outside: buurt and stadsdeel names from CBS or the gemeente, cells of a police
export in a rejects report. A text cell starting with = + - @ (or a tab or carriage return) is run as
a formula by Excel and LibreOffice when it comes in a CSV file, and openpyxl itself writes a string
starting with '=' as a formula ("CSV/formula injection", OWASP). So:

- CSV: such a text gets a leading apostrophe, OWASP's advice (the value stays readable);
- xlsx: such a cell is stored as text with Excel's quote prefix, so it shows exactly as received and
  stays text when someone edits it;
- HTML: text is escaped before markdown sees it, and what markdown makes is cleaned to a few
  formatting tags without attributes (nh3), so no name can add a script, a handler or a link.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import IO, Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HTML_TAGS = {"p", "strong", "em", "b", "i", "ul", "ol", "li", "br", "code", "h2", "h3", "h4"}


def neutralised(value: Any) -> Any:
    """A CSV value that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and column name `neutralised`."""
    out = frame.rename(columns=neutralised)
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(neutralised)
    return out


def write_csv(frame: pd.DataFrame, path: Path | str, **kwargs: Any) -> None:
    csv_frame(frame).to_csv(path, **kwargs)


def guard_workbook(book: Any) -> None:
    """Every cell of an openpyxl workbook that is a formula or starts like one becomes a text cell with
    the quote prefix. The project writes no formulas of its own, so any formula came from data."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def write_xlsx(target: Path | str | IO[bytes], sheets: dict[str, pd.DataFrame]) -> None:
    """A workbook with one sheet per frame (names cut to Excel's 31 characters), guarded."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
        guard_workbook(writer.book)


def markdown_plain(text: str) -> str:
    """The texts' Markdown as plain text (a spreadsheet cell shows '**' as it is): bold markers go,
    list dashes and line breaks stay."""
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text)


def markdown_html(text: str) -> str:
    """Markdown (bold, lists) to HTML that can hold no markup of the text's own. A list straight under
    its lead line ("Nieuw niveau:\n- …") is a list too: Python-Markdown wants a blank line
    before it, and the HTML download ran the items together in one paragraph (the PDF did not)."""
    import markdown
    import nh3

    spaced = re.sub(r"(?m)^(?!- )(.+)\n(?=- )", "\\1\n\n", text)
    return nh3.clean(markdown.markdown(html.escape(spaced, quote=False)), tags=HTML_TAGS, attributes={})
