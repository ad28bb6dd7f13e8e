"""Reading delivered files: everything as text, encoding/delimiter/header row detected, raw file
archived by content hash. Pure reading: no warehouse access."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from buurtbeeld.memory import release_memory
from etl.errors import LoadError

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (";", ",", "\t", "|")
_MAX_HEADER_SEARCH = 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive(path: Path, sha256: str, archive_dir: Path) -> Path:
    """Copy the raw file to archive/ab/<sha256><suffix>; the same content is stored once."""
    target = archive_dir / sha256[:2] / f"{sha256}{path.suffix.lower()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # A private temporary name, then an atomic rename: concurrent loads of the same file each
        # write their own copy and the last rename wins with identical content.
        with (
            tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as tmp,
            path.open("rb") as src,
        ):
            shutil.copyfileobj(src, tmp)
        Path(tmp.name).replace(target)
    return target


def check_readable(path: Path) -> None:
    if not path.exists():
        raise LoadError(f"{path}: bestand bestaat niet.")
    if not path.is_file():
        raise LoadError(f"{path}: dit is geen bestand.")
    if path.stat().st_size == 0:
        raise LoadError(f"{path.name}: het bestand is leeg (0 bytes).")


Keep = Callable[[list[str]], list[str]]


def read_table(path: Path, header_hints: Iterable[str] = (), keep: Keep | None = None) -> pd.DataFrame:
    """Read a CSV or Excel file as text. The index is the row number as a spreadsheet shows it.

    header_hints: normalised column names of which the header row contains at least one, so a header
    below a few title lines is found. keep: given the header, the columns to read (default all);
    a million-row export has 33 columns of which a loader needs a dozen.
    """
    check_readable(path)
    with path.open("rb") as fh:
        head = fh.read(8)
    hints = set(header_hints)
    if head.startswith(b"PK\x03\x04"):
        with _no_cyclic_gc():
            return _frame_from_rows(path, _xlsx_rows(path), hints, keep)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(
            f"{path.name}: dit is een oud Excel-bestand (.xls). Sla het op als .xlsx of .csv en lever opnieuw aan."
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise LoadError(f"{path.name}: dit is geen geldig Excel-bestand (beschadigd of niet volledig overgekomen?).")
    return _read_csv(path, hints, keep)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else Windows-1252.

    Streams the file: a 300 MB export is never held in memory twice for this. A block of ASCII only
    is valid in both and is not decoded (bytes.isascii is many times faster than decoding); for
    Windows-1252 only its five undefined bytes can fail, so they are searched for instead."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
        if b"\x00" in head:
            raise LoadError(f"{path.name}: dit is geen tekst- (CSV) of Excel-bestand; het bevat binaire gegevens.")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                if not (block.isascii() and not decoder.getstate()[0]):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        offset = 0
        for block in iter(lambda: fh.read(1 << 20), b""):
            found = [i for i in map(block.find, _CP1252_UNDEFINED) if i >= 0]
            if found:
                at = offset + min(found)
                raise LoadError(
                    f"{path.name}: tekenset niet herkend (geen UTF-8 en geen Windows-1252, byte {at}). "
                    "Sla het bestand op als CSV UTF-8."
                )
            offset += len(block)
    return "cp1252"


# The bytes Windows-1252 leaves undefined (Python's codec refuses them).
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


def _read_csv(path: Path, hints: set[str], keep: Keep | None) -> pd.DataFrame:
    """Sniff encoding, delimiter and header row on the head; parse the body with pandas (pyarrow)."""
    encoding = detect_encoding(path)
    with path.open("rb") as fh:
        text = fh.read(_SNIFF_BYTES).decode(encoding, errors="ignore")
    delimiter = sniff_delimiter(text)
    head_lines = text.splitlines()[:_MAX_HEADER_SEARCH]
    try:
        head_rows = [[c.strip() for c in row] for row in csv.reader(head_lines, delimiter=delimiter)]
    except csv.Error as exc:
        raise LoadError(f"{path.name}: CSV kan niet gelezen worden: {exc}") from None
    header_at = _find_header(head_rows, hints)
    if header_at is None:
        raise LoadError(f"{path.name}: het bestand bevat geen gegevens.")
    header = _header(path, head_rows[header_at])
    wanted = keep(header) if keep else header
    try:
        frame = _arrow_csv(path, encoding, delimiter, header, header_at, wanted)
    except (pa.ArrowInvalid, ValueError):  # quoted line breaks or ragged rows: pandas' C engine copes
        frame = _pandas_csv(path, encoding, delimiter, header, header_at, wanted)
    frame.index = pd.RangeIndex(header_at + 2, header_at + 2 + len(frame), name="row_number")
    return _drop_blank(path, frame)


def _arrow_csv(
    path: Path, encoding: str, delimiter: str, header: list[str], header_at: int, wanted: list[str]
) -> pd.DataFrame:
    """The fast path: Arrow parses in parallel blocks; strings stay Arrow-backed.

    A Windows-1252 file is not transcoded by Arrow, which sends the whole file through Python's
    codec in one thread before parsing (a million-row export: 0.84-1.15 s read, 0.51-0.69 s
    without): its wanted columns are read as bytes and decoded here (_from_cp1252), most of them
    being ASCII already."""
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    raw_bytes = not encoding.startswith("utf-8")
    table = pv.read_csv(
        path,
        read_options=pv.ReadOptions(
            encoding="utf8",
            skip_rows=header_at + 1,
            column_names=header,
            block_size=1 << 24,
        ),
        parse_options=pv.ParseOptions(delimiter=delimiter),
        convert_options=pv.ConvertOptions(
            include_columns=wanted,
            column_types=dict.fromkeys(wanted, pa.binary() if raw_bytes else pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    columns = {name: _from_cp1252(table[name]) if raw_bytes else table[name] for name in wanted}
    frame = pa.table({name: pc.utf8_trim_whitespace(column) for name, column in columns.items()}).to_pandas()
    del table
    release_memory()  # the untrimmed columns and transcoding buffers
    return frame


# Per Windows-1252 byte, the length of its character in UTF-8 (the five bytes it leaves undefined
# never get here: detect_encoding refuses a file holding them).
_UTF8_WIDTH = np.array(
    [len(bytes([b]).decode("cp1252", errors="replace").encode()) for b in range(256)], dtype=np.int64
)


def _from_cp1252(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column of Windows-1252 bytes as text. A chunk of ASCII only is UTF-8 as it is; otherwise its
    bytes are decoded at once and each value's new end follows from the UTF-8 length of its bytes."""
    chunks = []
    for chunk in column.chunks:  # the reader above gives no missing values: no validity to carry over
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = chunk.buffers()[2]
        body = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] if data else np.zeros(0, np.uint8)
        if not (body >= 0x80).any():
            chunks.append(chunk.cast(pa.large_string()))
            continue
        text = body.tobytes().decode("cp1252").encode("utf-8")
        ends = np.concatenate([[0], np.cumsum(_UTF8_WIDTH[body])])[offsets - offsets[0]]
        buffers = [None, pa.py_buffer(ends.astype(np.int64)), pa.py_buffer(text)]
        chunks.append(pa.Array.from_buffers(pa.large_string(), len(chunk), buffers))
    return pa.chunked_array(chunks, type=pa.large_string())


def _pandas_csv(
    path: Path, encoding: str, delimiter: str, header: list[str], header_at: int, wanted: list[str]
) -> pd.DataFrame:
    options = {
        "sep": delimiter,
        "header": None,
        "names": header,
        "skiprows": header_at + 1,
        "dtype": "str",
        "keep_default_na": False,
        "skip_blank_lines": True,
        "usecols": wanted,
        "encoding": encoding,
    }
    try:
        frame = pd.read_csv(path, engine="c", on_bad_lines="skip", **options)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=wanted)
    except (pd.errors.ParserError, ValueError) as exc:
        raise LoadError(f"{path.name}: CSV kan niet gelezen worden: {exc}") from None
    frame = frame.fillna("")
    for column in frame.columns:
        frame[column] = frame[column].astype("str").str.strip()
    return frame


def normalise_header(name: object) -> str:
    """'Kennisname  Datum' / 'kennisname_datum' / 'Kennisname-datum' -> 'kennisname datum'."""
    text = str(name or "").replace("\ufeff", "").strip().lower()
    for ch in "_-./":
        text = text.replace(ch, " ")
    return " ".join(text.split())


def _xlsx_rows(path: Path) -> list[list[object]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [workbook.get_sheet_by_name(name) for name in workbook.sheet_names]
        # The data sheet is the biggest one; exports often carry an "Informatie" sheet as well.
        sheet = max(sheets, key=lambda s: s.total_height * max(s.total_width, 1), default=None)
        raw = sheet.to_python(skip_empty_area=False) if sheet is not None else []
    except (CalamineError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(
            f"{path.name}: dit Excel-bestand kan niet gelezen worden (beschadigd of afgebroken?): {exc}"
        ) from None
    return raw


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a sheet is read into Python objects: each of its
    full collections walks every row list of the sheet (100 000 rows: some 40 ms each, several per
    read), and cell values and row lists hold no cycles for it to find. Reference counting frees
    them as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "J" if value else "N"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value).strip()


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most lines with the same (>1) number of fields."""
    sample = [line for line in text[:_SNIFF_BYTES].splitlines()[:50] if line.strip()]
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delim))) for line in sample]
        widths = [c for c in counts if c > 1]
        if not widths:
            continue
        mode = max(set(widths), key=widths.count)
        score = widths.count(mode) * 1000 + mode
        if score > best_score:
            best, best_score = delim, score
    return best


def _header(path: Path, row: list[str]) -> list[str]:
    header = [c.strip().replace("\ufeff", "") for c in row]
    while header and not header[-1]:
        header.pop()
    header = [h or f"kolom_{i + 1}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in seen:
            raise LoadError(
                f"{path.name}: kolom '{h}' staat twee keer in de kopregel (kolom {seen[h] + 1} en {i + 1})."
            )
        seen[h] = i
    return header


def _drop_blank(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame.columns):
        frame = frame[(frame != "").any(axis=1)]
    if frame.empty:
        raise LoadError(f"{path.name}: het bestand heeft een kopregel maar geen gegevensregels.")
    return frame


def _frame_from_rows(path: Path, rows: list[list[object]], hints: set[str], keep: Keep | None) -> pd.DataFrame:
    head = [[_cell_text(v) for v in row] for row in rows[:_MAX_HEADER_SEARCH]]
    header_at = _find_header(head, hints)
    if header_at is None:
        raise LoadError(f"{path.name}: het bestand bevat geen gegevens.")
    header = _header(path, head[header_at])
    wanted = set(keep(header) if keep else header)
    body = rows[header_at + 1 :]
    # Spreadsheet row numbers: 1-based, header included.
    index = pd.RangeIndex(header_at + 2, header_at + 2 + len(body), name="row_number")
    rectangular = all(len(row) >= len(header) for row in body)
    columns = {
        name: _column_text(
            list(map(itemgetter(i), body)) if rectangular else [row[i] if i < len(row) else None for row in body],
            index,
        )
        for i, name in enumerate(header)
        if name in wanted
    }
    frame = pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)
    return _drop_blank(path, frame)


def _column_text(values: list[object], index: pd.RangeIndex) -> pd.Series:
    """A sheet column as text. A column of text cells only (what most exports hold) goes to Arrow in
    one step, which refuses any other cell type, and is stripped there: cell by cell, 100 000 rows x
    12 columns cost 1.3 s, more than half the read; through pandas' own conversion 0.5 s; so 0.15 s."""
    import pyarrow.compute as pc

    try:
        text = pa.array(values, type=pa.large_string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pd.Series([_cell_text(v) for v in values], index=index, dtype="str")
    return pd.Series(pc.utf8_trim_whitespace(pc.fill_null(text, "")), index=index, dtype="str")


def _find_header(rows: list[list[str]], hints: set[str]) -> int | None:
    """The first row naming a hinted column; else the first non-empty row (the caller then says
    precisely which column is missing)."""
    first = None
    for i, row in enumerate(rows[:_MAX_HEADER_SEARCH]):
        names = {normalise_header(c) for c in row if c.strip()}
        if not names:
            continue
        if first is None:
            first = i
        if not hints or names & hints:
            return i
    return first
