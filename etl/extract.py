"""Reading delivered files: everything as text, encoding/delimiter/header row detected, raw file
archived by content hash. Pure reading: no warehouse access."""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from buurtbeeld.memory import release_memory
from etl.errors import LoadError
from etl.header import MAX_HEADER_SEARCH, Keep, drop_blank, find_header, header_names

log = logging.getLogger(__name__)

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (";", ",", "\t", "|")


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


def read_table(path: Path, header_hints: Iterable[str] = (), keep: Keep | None = None) -> pd.DataFrame:
    """Read a CSV or Excel file as text. The index is the row number as a spreadsheet shows it.

    header_hints: normalised column names of which the header row contains at least one, so a header
    below a few title lines is found. keep: given the header, the columns to read (default all);
    a million-row export has 33 columns of which a loader needs a dozen.
    """
    check_readable(path)
    with path.open("rb") as fh:
        head = fh.read(512)
    hints = set(header_hints)
    _refuse_other_formats(path, head)
    if head.startswith(b"PK\x03\x04"):
        from etl.xlsx import read_xlsx  # fastexcel: imported only for a spreadsheet

        return read_xlsx(path, hints, keep)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(
            f"{path.name}: dit is een oud Excel-bestand (.xls). Sla het op als .xlsx of .csv en lever opnieuw aan."
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise LoadError(f"{path.name}: dit is geen geldig Excel-bestand (beschadigd of niet volledig overgekomen?).")
    return _read_csv(path, hints, keep)


def _refuse_other_formats(path: Path, head: bytes) -> None:
    """Files that are no CSV or xlsx but are often delivered as one, named for what they are."""
    deliver = "Lever de export aan als .xlsx of .csv."
    if head.startswith(b"%PDF"):
        raise LoadError(f"{path.name}: dit is een PDF-bestand, geen tabel. {deliver}")
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in lowered[:200]:
        raise LoadError(
            f"{path.name}: dit is een webpagina (HTML) met de extensie {path.suffix or '(geen)'}, geen echt "
            f"Excel- of CSV-bestand. Open het in Excel en sla het op als .xlsx. {deliver}"
        )
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                kind = archive.read("mimetype")[:80] if "mimetype" in names else b""
        except (zipfile.BadZipFile, OSError):
            return  # read_xlsx names a damaged workbook
        if b"opendocument.spreadsheet" in kind:
            raise LoadError(f"{path.name}: dit is een OpenDocument-rekenblad (.ods). Sla het op als .xlsx. {deliver}")
        if "[Content_Types].xml" not in names:
            raise LoadError(
                f"{path.name}: dit is een zip-archief ({len(names)} bestanden), geen Excel-bestand. Pak het uit en "
                f"lever de export zelf aan. {deliver}"
            )


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
    head_lines = text.splitlines()[:MAX_HEADER_SEARCH]
    try:
        head_rows = [[c.strip() for c in row] for row in csv.reader(head_lines, delimiter=delimiter)]
    except csv.Error as exc:
        raise _unreadable_csv(path, exc) from None
    header_at = find_header(head_rows, hints)
    if header_at is None:
        raise LoadError(f"{path.name}: het bestand bevat geen gegevens.")
    header = header_names(path, head_rows[header_at])
    wanted = keep(header) if keep else header
    try:
        frame = _arrow_csv(path, encoding, delimiter, header, header_at, wanted)
    except (pa.ArrowInvalid, ValueError):  # quoted line breaks or ragged rows: pandas' C engine copes
        frame = _pandas_csv(path, encoding, delimiter, header, header_at, wanted)
    frame.index = pd.RangeIndex(header_at + 2, header_at + 2 + len(frame), name="row_number")
    return drop_blank(path, frame)


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
    release_memory(len(frame))  # the untrimmed columns and transcoding buffers
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
        raise _unreadable_csv(path, exc) from None
    frame = frame.fillna("")
    for column in frame.columns:
        frame[column] = frame[column].astype("str").str.strip()
    return frame


def _unreadable_csv(path: Path, exc: Exception) -> LoadError:
    """The parser's own text (English) goes to the log only; the supplier reads what to do."""
    log.info("%s: CSV-parser: %s", path.name, exc)
    return LoadError(
        f"{path.name}: CSV kan niet gelezen worden (een aanhalingsteken dat niet gesloten wordt, een cel van "
        "meer dan 131 072 tekens, of een afgebroken bestand?). Sla het opnieuw op als CSV UTF-8 of .xlsx. "
        "Er is niets geladen."
    )


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
