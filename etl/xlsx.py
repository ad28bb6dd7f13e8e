"""Reading a spreadsheet delivery (xlsx): its biggest sheet as text columns, by fastexcel (calamine
straight into Arrow, no Python object per cell).

Two ways, the same frame. Most exports have their header in the sheet's first row: then only the
columns the loader wants are read, by their names (100 000 rows x 33 columns of which 12 are
wanted: 1.4-1.5 s instead of 1.7-1.8 s for every cell). Whenever that cannot be shown to give
exactly what reading every cell gives (a title above the header, blank rows above it, a repeated
column name, a workbook without the range records it is checked against), every cell of the sheet
is read and the header searched for as in a CSV."""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.errors import LoadError
from etl.header import MAX_HEADER_SEARCH, Keep, drop_blank, find_header, header_names, normalise_header

log = logging.getLogger(__name__)


def read_xlsx(path: Path, hints: set[str], keep: Keep | None) -> pd.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        _one_data_sheet(path, reader, hints)
        frame = _by_first_row(path, reader, hints, keep) if keep is not None and hints else None
        if frame is None:
            frame = _by_every_cell(path, reader, hints, keep)
    except (fastexcel.FastExcelError, zipfile.BadZipFile, ValueError, OSError) as exc:
        # The reader's own text (English, with the server's path of the file) goes to the log only.
        log.info("%s: fastexcel: %s", path.name, exc)
        raise LoadError(
            f"{path.name}: dit Excel-bestand kan niet gelezen worden (beschadigd of niet volledig overgekomen?). "
            "Sla het opnieuw op als .xlsx, of lever een .csv aan. Er is niets geladen."
        ) from None
    return drop_blank(path, frame)


def _one_data_sheet(path: Path, reader: Any, hints: set[str]) -> None:
    """Refuse a workbook with data on more than one sheet, naming them: only the biggest is read, and
    the rows of the others would be lost without a word. Another sheet is a data sheet when, in its
    first rows, a row names at least two of the columns the loader knows and a row follows it. The
    biggest sheet is found from the workbook's recorded ranges where it has them, so that it is not
    read twice (an export's data sheet is most of the file)."""
    if len(reader.sheet_names) < 2 or not hints:
        return
    ranges = _used_ranges(path)
    biggest = (
        max(ranges, key=lambda n: ranges[n][1] * ranges[n][2]) if list(ranges) == list(reader.sheet_names) else None
    )
    found = []
    for name in reader.sheet_names:
        if name == biggest:
            continue
        top = reader.load_sheet(name, header_row=None, skip_rows=0, n_rows=MAX_HEADER_SEARCH + 1, dtypes="string")
        rows = [[(v or "").strip() for v in row] for row in zip(*top.to_arrow().to_pydict().values(), strict=True)]
        header = next(
            (
                i
                for i, row in enumerate(rows[:MAX_HEADER_SEARCH])
                if len({normalise_header(c) for c in row} & hints) > 1
            ),
            None,
        )
        if header is not None and any(any(rows[j]) for j in range(header + 1, len(rows))):
            found.append(name)
    if len(found) + (biggest is not None) > 1:
        names = [n for n in reader.sheet_names if n in found or n == biggest]
        raise LoadError(
            f"{path.name}: er staan gegevens op {len(names)} tabbladen ({', '.join(repr(n) for n in names)}); "
            "Buurtbeeld leest er één. Zet alle regels op één tabblad of lever elk tabblad als eigen bestand. "
            "Er is niets geladen."
        )


def _by_every_cell(path: Path, reader: Any, hints: set[str], keep: Keep | None) -> pd.DataFrame:
    """Every cell of the biggest sheet as text, from the sheet's first row (so that positions are
    spreadsheet rows), the header searched for in its first rows."""
    sheets = [reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string") for name in reader.sheet_names]
    # The data sheet is the biggest one; exports often carry an "Informatie" sheet as well.
    sheet = max(sheets, key=_size, default=None)
    if sheet is None or not sheet.width:
        raise LoadError(f"{path.name}: het bestand bevat geen gegevens.")
    cells = sheet.to_arrow()
    head = [
        [(v or "").strip() for v in row]
        for row in zip(*(column.slice(0, MAX_HEADER_SEARCH).to_pylist() for column in cells.columns), strict=True)
    ]
    header_at = find_header(head, hints)
    if header_at is None:
        raise LoadError(f"{path.name}: het bestand bevat geen gegevens.")
    header = header_names(path, head[header_at])
    wanted = set(keep(header) if keep else header)
    body = cells.slice(header_at + 1)
    index = _row_numbers(header_at, body.num_rows)
    columns = {name: _cell_texts(body.column(i), index) for i, name in enumerate(header) if name in wanted}
    return pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)


def _by_first_row(path: Path, reader: Any, hints: set[str], keep: Keep) -> pd.DataFrame | None:
    """The wanted columns of the biggest sheet, read by name with the sheet's first row as header; None
    unless that is what _by_every_cell gives. fastexcel takes the first row of the used range as the
    header and names a repeated name 'name_1': the range the workbook records must start at the
    sheet's first row and end where fastexcel's does, that row must name a hinted column (it is then
    the row find_header picks), and no name may look renamed."""
    ranges = _used_ranges(path)
    if list(ranges) != list(reader.sheet_names):
        return None
    name = max(ranges, key=lambda n: ranges[n][1] * ranges[n][2])
    first, last, width = ranges[name]
    if first != 1 or last < 2 or not width:
        return None
    # The sheet _by_every_cell would pick (the first of the biggest): the others read for their size
    # (they are small, or this one is not the data sheet and the records are not to be trusted).
    sizes = {
        n: last * max(width, 1) if n == name else _size(reader.load_sheet(n, header_row=None, skip_rows=0, n_rows=1))
        for n in reader.sheet_names
    }
    if max(sizes, key=sizes.__getitem__) != name:
        return None
    sheet = reader.load_sheet(name, header_row=0, dtypes="string", use_columns=lambda c: bool(keep([c.name])))
    found = [(c.name, c.column_name_from) for c in sheet.available_columns()]
    names = [n if source == "looked_up" else "" for n, source in found]
    if sheet.total_height != last - 1 or len(found) != width or _renamed(names):
        return None
    if not {normalise_header(n) for n in names if n.strip()} & hints:
        return None
    header = header_names(path, names)
    wanted = set(keep(header))
    chosen = {c.index: i for i, c in enumerate(sheet.selected_columns)}
    if not wanted <= {header[i] for i in chosen if i < len(header)}:
        return None
    cells = sheet.to_arrow()
    index = _row_numbers(0, cells.num_rows)
    columns = {h: _cell_texts(cells.column(chosen[i]), index) for i, h in enumerate(header) if h in wanted}
    return pd.DataFrame(columns, index=index)


def _size(sheet: Any) -> int:
    return sheet.total_height * max(sheet.width, 1)


def _renamed(names: list[str]) -> bool:
    present = set(names)
    return any((m := re.fullmatch(r"(.*)_\d+", n)) and m.group(1) in present for n in names)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


def _used_ranges(path: Path) -> dict[str, tuple[int, int, int]]:
    """Per sheet, as the workbook's <dimension> element records its used range: its first and last row
    (1-based) and its number of columns. {} when a sheet has no such record or the parts are not
    where ECMA-376 puts them."""
    out: dict[str, tuple[int, int, int]] = {}
    try:
        with zipfile.ZipFile(path) as book:
            sheets = ElementTree.fromstring(book.read("xl/workbook.xml")).iter(f"{_MAIN}sheet")
            relations = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in relations}
            for sheet in sheets:
                target = targets.get(sheet.get(_RELATION), "")
                with book.open(target.lstrip("/") if target.startswith("/") else f"xl/{target}") as part:
                    found = _DIMENSION.search(part.read(4096))
                if found is None:
                    return {}
                first, last = int(found.group(2)), int(found.group(4) or found.group(2))
                columns = _column_number(found.group(3) or found.group(1)) - _column_number(found.group(1)) + 1
                out[sheet.get("name", "")] = (first, last, columns)
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return {}
    return out


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _row_numbers(header_at: int, rows: int) -> pd.RangeIndex:
    """Spreadsheet row numbers of the rows below the header: 1-based, header included."""
    return pd.RangeIndex(header_at + 2, header_at + 2 + rows, name="row_number")


# A time-only cell is a date-time on Excel's day 0 (1899-12-30 or, by some writers, 12-31).
_TIME_CELL = r"^1899-12-3[01] (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"


def _cell_texts(column: pa.Array, index: pd.RangeIndex) -> pd.Series:
    """A sheet column as stripped text, '' for an empty cell. fastexcel writes a number as its shortest
    decimal text ('233017', '233017.5'), a date-time as '2017-09-20 17:30:00', a boolean as 'true' or
    'false'; a time-only cell loses Excel's day 0 here, to be the '17:30' a separate time column means."""
    text = pc.utf8_trim_whitespace(pc.fill_null(column.cast(pa.large_string()), ""))
    if pc.any(pc.starts_with(text, "1899-12-3")).as_py():
        text = pc.replace_substring_regex(text, _TIME_CELL, r"\1")
    return pd.Series(text, index=index, dtype="str")
