"""A hostile-input corpus for the BVH loader, as hypothesis strategies that produce whole files.

Every file starts as an export of the demo gemeente Voorbeeldstad (GM9999) in the shape of
tests.test_bvh.GOOD, in a week of autumn 2025, and is then corrupted the ways deliveries go wrong:
headers renamed, dropped, repeated or pushed below title lines; another delimiter, encoding, BOM or
line ending; invalid bytes, ragged rows, quotes and line breaks inside cells, formula-looking and very
long cells; dates in every accepted format and in none, far past and future, a deed after its
kennisname, Excel serials; MK codes valid, invalid and turned into dates by Excel; footer totals,
blank rows, exact repeats, the same id with other contents, rows of another gemeente, incidents the
warehouse already holds (the same or revised); as xlsx with extra, empty or second data sheets;
truncated files, and files that are no table at all (0 bytes, binary junk, zip, ODS, PDF, HTML, old
.xls, UTF-16).

`hostile_files()` gives a HostileFile: its bytes, a name, what was done to it (for the statistics),
and, when it is known from how the file was written, how many data rows it holds.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta

from hypothesis import strategies as st

from etl import bvh
from etl import load_counts as counts
from etl.columns import resolve
from tests.test_bvh import GOOD

# The template warehouse holds _rows(TEMPLATE_ROWS) of tests.test_bvh: ids PL9999_BVH_0.., week 2025-W45.
TEMPLATE_ROWS = 20
TEMPLATE = [{k: v.format(i=i) for k, v in GOOD.items()} for i in range(TEMPLATE_ROWS)]
COLUMNS = list(GOOD)
REQUIRED_COLUMNS = ("Incident Identificatie", "Incidentsoort code")
DATE_COLUMNS = ("Begin-pleegdatum/tijd", "Eind-pleegdatum/tijd", "Kennisnamedatum/tijd")
# The columns prepare_bvh reads (its aliases): a row blank in all of them is no data row.
_ALIASES = {**bvh.ALIASES, **{f"count_{k}": v for k, v in counts.ALIASES.items()}}

# Other spellings a supplier may use for a column (all accepted: docs/loading.md), and its case/separator variants.
RENAMES = {
    "Incident Identificatie": ["Voorvalnummer", "Registratienummer", "incident_identificatie", "INCIDENT-ID"],
    "Incidentsoort code": ["MK", "MK-code", "Maatschappelijke klasse code", "incidentsoort  code"],
    "Begin-pleegdatum/tijd": ["Begindatum", "Pleegdatum begin", "begin pleegdatum/tijd"],
    "Eind-pleegdatum/tijd": ["Einddatum", "Eind pleegdatum"],
    "Kennisnamedatum/tijd": ["Kennisname", "Registratiedatum", "KENNISNAME_DATUM/TIJD"],
    "X": ["RD X", "X-coördinaat", "Pleeg X"],
    "Y": ["RD Y", "Y-coördinaat", "Pleeg Y"],
    "Pleegbuurt": ["Buurt"],
    "Pleeggemeente": ["Gemeente", "Pleegplaats"],
    "Pleegpostcode": ["Postcode", "PC6"],
}
# Renames that lose a required column (no accepted spelling).
BAD_RENAMES = {"Incident Identificatie": "Zaaknummer", "Incidentsoort code": "Soort"}

HOSTILE_CELLS = [
    "",
    "   ",
    "=1+2",
    '=HYPERLINK("http://x")',
    "@SUM(A1:A2)",
    "+31 6 1234",
    "-2+3",
    "x" * 5_000,
    '"aanhalingstekens" in "tekst"',
    "regel 1\nregel 2",
    "a;b,c\td",
    "café € ü ß",
    "漢字",
    "NULL",
    "nan",
    "#N/B",
    "0",
    "-1",
    "1e308",
    "inf",
]
FUTURE_DATES = ["01-01-2099 10:00", "2100-01-01", "80000"]
GARBAGE_DATES = ["gisteren", "31-02-2025", "2025-13-45", "00-00-0000", "45-45-2025 25:61", "2025/11/03", "1-1"]
BAD_MK = ["", "A", "B7", "7B0", "B70000", "ZZ99", "17-dec", "2025-01-01", "dec-17", "A20 A21"]
GOOD_MK = ["A20", "B70", "a72", " F614 ", "Z999", "A20A"]

DATE_FORMATS = [
    "%d-%m-%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M:%S",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y-%m-%dT%H:%M:%S",
    "excel",
    "us",
]
_EXCEL_EPOCH = datetime(1899, 12, 30)


class HostileFile:
    """A generated file: its name and bytes, what was done to it, and (when the way it was written
    says) how many non-blank rows it holds below its header. Not a dataclass: hypothesis prints a
    failing example by its repr, which shows only the head of the bytes."""

    def __init__(self, name: str, data: bytes, notes: list[str] | None = None, data_rows: int | None = None) -> None:
        self.name, self.data, self.notes, self.data_rows = name, data, notes or [], data_rows

    def __repr__(self) -> str:  # hypothesis prints the falsifying example: keep it readable
        head = self.data[:600]
        return f"HostileFile({self.name!r}, {len(self.data)} bytes, {self.notes}, rows={self.data_rows}, {head!r})"


def _date_text(moment: datetime, fmt: str) -> str | float:
    if fmt == "excel":
        return f"{(moment - _EXCEL_EPOCH).total_seconds() / 86_400:.6f}".rstrip("0").rstrip(".")
    if fmt == "us":
        return moment.strftime("%m/%d/%Y %H:%M")
    return moment.strftime(fmt)


@st.composite
def incident_rows(draw: st.DrawFn, fmt: str, start: datetime, prefix: str) -> tuple[list[dict[str, str]], list[str]]:
    """5-40 rows of one delivery week, each a GOOD row or one of its hostile variants."""
    n = draw(st.integers(5, 40))
    rows, notes = [], []
    # Most rows are as the police deliver them; a few (now and then many) are hostile.
    hostile = draw(st.sampled_from([0, 0, 1, 1, 1, 2, 2, 3, 5, n]))
    odd = set(draw(st.lists(st.integers(0, n - 1), min_size=min(hostile, n), max_size=hostile, unique=True)))
    kinds = st.sampled_from(
        [
            "bestaand_gelijk",
            "bestaand_herzien",
            "andere_gemeente",
            "pleeg_na_kennisname",
            "ver_verleden",
            "toekomst",
            "onzin_datum",
            "mk_fout",
            "mk_anders",
            "geen_id",
            "buurtcode",
            "buurtcode_fout",
            "xy_fout",
            "geen_datum",
            "ander_formaat",
            "poging",
        ]
    )
    for i in range(n):
        kind = draw(kinds) if i in odd else "gewoon"
        begin = start + timedelta(hours=draw(st.integers(0, 6 * 24)), minutes=draw(st.sampled_from([0, 15, 30])))
        end = begin + timedelta(hours=draw(st.integers(0, 30)))
        known = end + timedelta(hours=draw(st.integers(0, 48)))
        row = {k: v.format(i=i) for k, v in GOOD.items()}
        row["Incident Identificatie"] = f"{prefix}-{i}"
        row["Begin-pleegdatum/tijd"] = _date_text(begin, fmt)
        row["Eind-pleegdatum/tijd"] = _date_text(end, fmt)
        row["Kennisnamedatum/tijd"] = _date_text(known, fmt)
        # Spread over the city centre (inside Voorbeeldstad's buurten).
        row["X"] = str(155_000 + draw(st.integers(-1_500, 1_500)))
        row["Y"] = str(463_000 + draw(st.integers(-1_500, 1_500)))
        if kind == "bestaand_gelijk":
            row = dict(TEMPLATE[draw(st.integers(0, TEMPLATE_ROWS - 1))])
        elif kind == "bestaand_herzien":
            row = dict(TEMPLATE[draw(st.integers(0, TEMPLATE_ROWS - 1))])
            row["Incidentsoort code"] = draw(st.sampled_from(["B70", "A72", "F614"]))
        elif kind == "andere_gemeente":
            row["X"], row["Y"], row["Pleegbuurt"], row["Pleeggemeente"] = "120000", "487000", "Nergens", "Amsterdam"
        elif kind == "pleeg_na_kennisname":
            later = known + timedelta(days=draw(st.integers(2, 30)))
            row["Begin-pleegdatum/tijd"] = row["Eind-pleegdatum/tijd"] = _date_text(later, fmt)
        elif kind == "ver_verleden":
            row[draw(st.sampled_from(DATE_COLUMNS))] = draw(st.sampled_from(["01-01-1900 00:00", "1899-12-31", "1"]))
        elif kind == "toekomst":
            row[draw(st.sampled_from(DATE_COLUMNS))] = draw(st.sampled_from(FUTURE_DATES))
        elif kind == "onzin_datum":
            row[draw(st.sampled_from(DATE_COLUMNS))] = draw(st.sampled_from(GARBAGE_DATES))
        elif kind == "mk_fout":
            row["Incidentsoort code"] = draw(st.sampled_from(BAD_MK))
        elif kind == "mk_anders":
            row["Incidentsoort code"] = draw(st.sampled_from(GOOD_MK))
        elif kind == "geen_id":
            row["Incident Identificatie"] = draw(st.sampled_from(["", "  "]))
        elif kind == "buurtcode":
            row["CBS buurtcode"] = f"BU9999{draw(st.integers(0, 11)):02d}{draw(st.integers(0, 4)):02d}"
        elif kind == "buurtcode_fout":
            row["CBS buurtcode"] = draw(st.sampled_from(["BU12345678", "BU123", "GM9999", "99990101"]))
        elif kind == "xy_fout":
            row["X"], row["Y"] = draw(st.sampled_from([("52.1", "5.1"), ("X155000", "463000"), ("", "463000")]))
        elif kind == "geen_datum":
            for column in DATE_COLUMNS:
                row[column] = ""
        elif kind == "ander_formaat":  # another accepted format in the same file
            row["Kennisnamedatum/tijd"] = _date_text(known, draw(st.sampled_from(DATE_FORMATS[:8])))
        elif kind == "poging":
            row["Poging"] = draw(st.sampled_from(["J", "ja", "nee", "waar", "onwaar", "true", "?", ""]))
        if kind != "gewoon":
            notes.append(f"regel:{kind}")
        rows.append(row)
    return rows, notes


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[object]], list[str], list[str]]:
    """(header, rows as cells under it, title lines above it, notes): a delivery before it is written."""
    fmt = draw(st.sampled_from(DATE_FORMATS))
    # A week of autumn 2025: before, at or after the template's week 45 (an older export is possible).
    start = datetime(2025, 9, 1) + timedelta(days=draw(st.integers(0, 100)))
    prefix = draw(st.sampled_from(["FZ", "pl0100-2025", "Ü-id", "=id"])) + str(draw(st.integers(0, 999)))
    rows, notes = draw(incident_rows(fmt, start, prefix))
    notes.append(f"datum:{fmt}")

    columns = list(COLUMNS)
    if any("CBS buurtcode" in r for r in rows):
        columns.append("CBS buurtcode")
    # Optional columns left out, and the order shuffled.
    optional = [c for c in columns if c not in REQUIRED_COLUMNS]
    most = draw(st.sampled_from([0] * 6 + [1, 2, 4]))
    dropped = draw(st.lists(st.sampled_from(optional), unique=True, max_size=most))
    if ("X" in dropped) != ("Y" in dropped):  # a file with x and no y has no location in any row
        dropped = [c for c in dropped if c not in ("X", "Y")] if draw(st.booleans()) else [*dropped, "X", "Y"]
        dropped = list(dict.fromkeys(dropped))
    if dropped:
        notes.append("kolommen:weggelaten")
    columns = [c for c in columns if c not in dropped]
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
        notes.append("kolommen:volgorde")
    header = list(columns)
    for i, name in enumerate(header):
        if name in RENAMES and draw(st.integers(0, 9)) == 0:
            header[i] = draw(st.sampled_from(RENAMES[name]))
            notes.append("kop:hernoemd")
    trouble = draw(st.sampled_from(["geen"] * 8 + ["verplicht_weg", "dubbel", "leeg", "extra", "aantal"]))
    cells = [[r.get(c, "") for c in columns] for r in rows]
    if trouble == "verplicht_weg":
        name = draw(st.sampled_from(REQUIRED_COLUMNS))
        header[columns.index(name)] = BAD_RENAMES[name]
    elif trouble == "dubbel":
        at = draw(st.integers(0, len(header) - 1))
        header.append(header[at])
        cells = [[*r, r[at]] for r in cells]
    elif trouble == "leeg":
        header[draw(st.integers(0, len(header) - 1))] = ""
    elif trouble == "extra":
        header.append("Opmerking")
        cells = [[*r, draw(st.sampled_from(HOSTILE_CELLS))] for r in cells]
    elif trouble == "aantal":  # a count column beside an incident id: still the incident form
        header.append("Aantal")
        cells = [[*r, "1"] for r in cells]
    if trouble != "geen":
        notes.append(f"kop:{trouble}")

    # Single cells made hostile.
    for _ in range(draw(st.integers(0, 3) | st.just(0))):
        r, c = draw(st.integers(0, len(cells) - 1)), draw(st.integers(0, len(header) - 1))
        if c < len(cells[r]):
            cells[r][c] = draw(st.sampled_from(HOSTILE_CELLS))
            notes.append("cel:vijandig")

    # Rows that are no data: blank rows, a footer total, exact repeats; and the same id with other contents.
    width = len(header)
    for extra in draw(st.lists(st.sampled_from(["leeg", "totaal", "herhaling", "zelfde_id"]), max_size=4)):
        notes.append(f"regel:{extra}")
        if extra == "leeg":
            cells.insert(draw(st.integers(0, len(cells))), [""] * width)
        elif extra == "totaal":
            label = draw(st.sampled_from(["Totaal", "totaal:", "Eindtotaal", "Aantal"]))
            footer = [label, str(len(cells))] + [""] * (width - 2)
            cells.insert(draw(st.sampled_from([len(cells), len(cells), 0])), footer)
        elif extra == "herhaling":
            cells.append(list(cells[draw(st.integers(0, len(cells) - 1))]))
        else:
            copy = list(cells[draw(st.integers(0, len(cells) - 1))])
            copy[-1] = f"{copy[-1]}anders"
            cells.append(copy)

    titles: list[str] = []
    above = draw(st.sampled_from([0] * 6 + [1, 2, 3, 22]))
    if above:
        titles = [draw(st.sampled_from(["BVH export week 45", "Gemaakt op 10-11-2025", "", "Politie Eenheid X"]))]
        titles += [f"Toelichting {i}" for i in range(above - 1)]
        notes.append(f"titel:{above}")
    return header, cells, titles, notes


def data_rows(header: list[str], cells: list[list[object]]) -> int:
    """Rows with a value in a column prepare_bvh reads (as find_header and drop_blank see them)."""
    names = [h.strip() or f"kolom_{i + 1}" for i, h in enumerate(header)]
    wanted = {i for i, h in enumerate(names) if h in set(resolve(names, _ALIASES).values())}
    return sum(any(str(row[i]).strip() for i in wanted if i < len(row) and row[i] is not None) for row in cells)


@st.composite
def csv_files(draw: st.DrawFn) -> HostileFile:
    header, cells, titles, notes = draw(tables())
    delimiter = draw(st.sampled_from([";", ";", ",", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    notes += [f"csv:{delimiter!r}", f"regeleinde:{newline!r}"]
    known = True
    out = io.StringIO()
    for title in titles:
        out.write(title + newline)
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    lines = []
    for row in cells:
        line = io.StringIO()
        csv.writer(line, delimiter=delimiter, lineterminator=newline, quoting=quoting).writerow(row)
        lines.append(line.getvalue())
    rows = data_rows(header, cells)
    ragged = draw(st.sampled_from(["geen"] * 6 + ["veld_erbij", "veld_eraf", "kop_scheidingsteken", "losse_quote"]))
    if ragged != "geen" and lines:
        at = draw(st.integers(0, len(lines) - 1))
        notes.append(f"csv:{ragged}")
        if ragged == "veld_erbij":
            lines[at] = lines[at].rstrip("\r\n") + f"{delimiter}losse tekst{newline}"
        elif ragged == "veld_eraf":
            lines[at] = lines[at].rstrip("\r\n").rsplit(delimiter, 1)[0] + newline
            known = False  # the last column's value is gone: the row may now be blank
        elif ragged == "kop_scheidingsteken":
            header_text = out.getvalue()
            out = io.StringIO()
            out.write(header_text.rstrip("\r\n") + delimiter + newline)
        else:
            lines[at] = '"' + lines[at]
            known = False
    text = out.getvalue() + "".join(lines)

    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "cp1252", "cp1252", "utf-16", "ongeldig"]))
    notes.append(f"tekenset:{encoding}")
    if encoding == "ongeldig":
        data = text.encode("utf-8")
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\x81", b"\xff\xfe\x81", b"\x8d\x90"])) + data[at:]
        known = False
    elif encoding == "cp1252":
        data = text.encode("cp1252", errors="replace")
    else:
        data = text.encode(encoding)
    if draw(st.integers(0, 14)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
        notes.append("afgekapt")
        known = False
    if draw(st.integers(0, 19)) == 0:
        data = data.replace(b"A20", b"A\x0020", 1)
        notes.append("nul-byte")
        known = False
    name = draw(st.sampled_from(["bvh_week.csv", "BVH export.csv", "export.txt", "bvh.CSV"]))
    return HostileFile(name, data, notes, rows if known else None)


def _cell(value: object, column: str, kind: str) -> object:
    """A cell as a spreadsheet would hold it: text, or (kind 'getypt') a number, date or checkbox."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if kind != "getypt" or not text:
        return text
    if column in ("X", "Y") and text.lstrip("-").isdigit():
        return int(text)
    if column in DATE_COLUMNS:
        for fmt in ("%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                pass
        try:
            return float(text)  # an Excel serial as a number
        except ValueError:
            return text
    if column == "Poging" and text in ("J", "N"):
        return text == "J"
    return text


@st.composite
def xlsx_files(draw: st.DrawFn) -> HostileFile:
    import openpyxl

    header, cells, titles, notes = draw(tables())
    kind = draw(st.sampled_from(["tekst", "getypt"]))
    notes.append(f"xlsx:{kind}")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = draw(st.sampled_from(["Incidenten", "Sheet1", "Blad1"]))
    extra = draw(st.sampled_from(["geen"] * 6 + ["informatie", "leeg", "tweede_deel", "informatie_eerst"]))
    if extra == "informatie_eerst":
        info = book.active
        info.title = "Informatie"
        info.append(["Export", "BVH"])
        info.append(["Gemaakt", "10-11-2025"])
        sheet = book.create_sheet("Incidenten")
    for title in titles:
        sheet.append([title])
    sheet.append(header)
    second: list[list[object]] = []
    if extra == "tweede_deel" and len(cells) > 2:
        half = len(cells) // 2
        cells, second = cells[:half], cells[half:]
    for row in cells:
        sheet.append([_cell(v, header[i] if i < len(header) else "", kind) for i, v in enumerate(row)])
    if extra == "informatie":
        info = book.create_sheet("Informatie")
        info.append(["Export", "BVH"])
    elif extra == "leeg":
        book.create_sheet("Leeg")
    elif second:
        part = book.create_sheet("Deel 2")
        part.append(header)
        for row in second:
            part.append([_cell(v, header[i] if i < len(header) else "", kind) for i, v in enumerate(row)])
    if extra != "geen":
        notes.append(f"xlsx:blad_{extra}")
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    formulas = any(str(v).startswith("=") for row in cells for v in row) or any(h.startswith("=") for h in header)
    known = not formulas and not second
    if draw(st.integers(0, 14)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
        notes.append("afgekapt")
        known = False
    name = draw(st.sampled_from(["bvh_week.xlsx", "BVH export week 45.xlsx", "export.XLSX"]))
    return HostileFile(name, data, notes, data_rows(header, cells) if known else None)


def _zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return buffer.getvalue()


TEMPLATE_CSV = ("\n".join([";".join(COLUMNS), *(";".join(r.values()) for r in TEMPLATE)]) + "\n").encode()

# Files that are no table: each is refused for what it is (docs/loading.md, "What gets refused").
JUNK: dict[str, bytes] = {
    "leeg.csv": b"",
    "alleen_kop.csv": (";".join(COLUMNS) + "\n").encode(),
    "alleen_kop_en_lege_regels.csv": (";".join(COLUMNS) + "\n" + ";" * 13 + "\n\n").encode(),
    "spaties.csv": b"   \n\n  \n",
    "rapport.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(range(256)),
    "export.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
    "webpagina.xls": (
        b"<!DOCTYPE html><html><body><table><tr><td>Incident Identificatie</td></tr></table></body></html>"
    ),
    "tabel.csv": b"  <table><tr><td>MK</td></tr></table>",
    "export.zip.xlsx": _zipped({"bvh.csv": TEMPLATE_CSV}),
    "rekenblad.ods": _zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
    "utf16.csv": TEMPLATE_CSV.decode().encode("utf-16"),
    "afbeelding.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "willekeurig.xlsx": bytes(range(256)) * 8,
    "kapotte_zip.xlsx": b"PK\x03\x04" + bytes(200),
    "geen_kop.csv": b"1;2;3\n4;5;6\n",
    "een_kolom.csv": b"Incident Identificatie\nPL1\nPL2\n",
}


@st.composite
def junk_files(draw: st.DrawFn) -> HostileFile:
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(JUNK)))
        return HostileFile(name, JUNK[name], [f"geen_tabel:{name}"])
    data = draw(st.binary(min_size=1, max_size=2_000))
    magic = draw(st.sampled_from([b"", b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"<html>", b"\xef\xbb\xbf"]))
    name = draw(st.sampled_from(["bvh.csv", "bvh.xlsx", "bvh.xls", "bvh"]))
    return HostileFile(name, magic + data, [f"geen_tabel:binair{name[3:]}"])


def hostile_files() -> st.SearchStrategy[HostileFile]:
    """Mostly deliveries gone wrong (CSV and xlsx), some files that are no table at all, and now and then
    the very file the template warehouse already loaded (unchanged)."""
    same = st.just(HostileFile("week45.csv", TEMPLATE_CSV, ["zelfde_bestand"], TEMPLATE_ROWS))
    return st.one_of(csv_files(), csv_files(), csv_files(), xlsx_files(), xlsx_files(), junk_files(), same)


def _fixed_csv(rows: list[dict[str, str]], extra_lines: tuple[str, ...] = ()) -> bytes:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    lines = [";".join(columns), *(";".join(r.get(c, "") for c in columns) for r in rows), *extra_lines]
    return ("\n".join(lines) + "\n").encode()


def fixed_corpus() -> list[HostileFile]:
    """Named files run before the generated ones, on every database: what must load (with recognised
    rows and revisions) and what must be refused after reading the warehouse (an older export)."""
    fresh = [{**r, "Incident Identificatie": f"VAST-{i}"} for i, r in enumerate(TEMPLATE)]
    repeats = _fixed_csv([*fresh[:10], fresh[3], fresh[4], *fresh[10:]], (";" * 13, "Totaal;22"))
    elsewhere = [dict(r) for r in fresh]
    for r in elsewhere[:2]:
        r["X"], r["Y"], r["Pleegbuurt"], r["Pleeggemeente"] = "120000", "487000", "Nergens", "Amsterdam"
    revised = [{**r, "Incidentsoort code": "B70"} for r in TEMPLATE[:5]] + fresh[:5]
    older = [
        {**r, "Incidentsoort code": "B70", **dict.fromkeys(DATE_COLUMNS[:2], "29-09-2025 20:00")}
        | {"Kennisnamedatum/tijd": "30-09-2025 08:00"}
        for r in TEMPLATE[:5]
    ]
    return [
        HostileFile("vast_schoon.csv", _fixed_csv(fresh), ["vast:schoon"], 20),
        HostileFile("vast_herhaling_voettekst.csv", repeats, ["vast:herhaling_voettekst"], 23),
        HostileFile("vast_andere_gemeente.csv", _fixed_csv(elsewhere), ["vast:andere_gemeente"], 20),
        HostileFile("vast_herziening.csv", _fixed_csv(revised), ["vast:herziening"], 10),
        HostileFile("vast_oudere_levering.csv", _fixed_csv(older), ["vast:oudere_levering"], 5),
    ]
