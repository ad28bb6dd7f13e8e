"""The pure steps the load's speed rests on give what the plain rule gives: buurt assignment by x/y,
lookups per distinct value, the weekly levels, the group cells the cube is published from, SQLite's
timestamp text."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import bvh
from etl.demo import make_buurten
from etl.load_bvh import attempt_flags, mapped
from etl.publish import with_group_cells
from warehouse.bulk import sqlite_timestamps
from warehouse.incidents import hash_order
from warehouse.models import WEEK_FIRST_CELL
from warehouse.weekly import provisional_flags, summed_levels


def test_xy_assignment_is_the_first_buurt_containing_the_point() -> None:
    """Grid-bucketed search = testing every buurt in order, points on shared borders and vertices,
    outside every buurt and without coordinates included; overlapping polygons (which a buurt
    indeling has not) too, so that 'first' is tested: a large square listed early and a repeat."""
    rng = np.random.default_rng(3)
    buurten = np.asarray(make_buurten(rng).geometry.values)
    minx, miny, maxx, maxy = shapely.total_bounds(buurten)
    square = shapely.box(minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    polygons = np.array([*buurten[:7], square, *buurten[7:], buurten[3]], dtype=object)
    n = 60_000
    xs = rng.uniform(minx - 800, maxx + 800, n)
    ys = rng.uniform(miny - 800, maxy + 800, n)
    vertices = shapely.get_coordinates(polygons)
    pick = rng.integers(0, len(vertices), 5_000)
    xs[:5_000], ys[:5_000] = vertices[pick, 0], vertices[pick, 1]
    xs[5_000:5_100] = np.nan

    expected = np.full(n, -1)
    for i, polygon in enumerate(polygons):
        open_rows = np.flatnonzero((expected < 0) & ~np.isnan(xs))
        expected[open_rows[shapely.intersects_xy(polygon, xs[open_rows], ys[open_rows])]] = i

    found = bvh.assign_by_xy(xs, ys, polygons)
    assert np.array_equal(found, expected)
    assert (found >= 0).sum() > n // 3 and (found[5_000:5_100] == -1).all()


def _fine(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [("GM0001", 2024, buurt, group, mk, 2026, week, count) for buurt, group, mk, week, count in rows],
        columns=[
            "gemeente_code",
            "indeling_year",
            "buurt_code",
            "group_code",
            "mk_code",
            "iso_year",
            "iso_week",
            "count",
        ],
    )


def test_weekly_levels_sum_the_fine_cells_and_add_an_all_categories_total() -> None:
    fine = _fine(
        [
            ("BU1", "inbraak", "B10", 44, 2),
            ("BU1", "inbraak", "B10", 44, 1),  # the same cell from two sources is summed
            ("BU1", "inbraak", "*", 44, 4),  # delivered for the whole category
            ("BU1", "fiets", "A72", 45, 3),
            ("BU2", "fiets", "A72", 46, 5),
        ]
    )
    cells = provisional_flags(summed_levels(fine), {"GM0001": (2026, 45)})
    got = {(r.buurt_code, r.group_code, r.mk_code, r.iso_week): (r.count, r.is_provisional) for r in cells.itertuples()}
    assert got == {
        ("BU1", "inbraak", "B10", 44): (3, False),
        ("BU1", "inbraak", "*", 44): (4, False),
        ("BU1", "fiets", "A72", 45): (3, True),
        ("BU2", "fiets", "A72", 46): (5, True),
        ("BU1", "*", "*", 44): (7, False),
        ("BU1", "*", "*", 45): (3, True),
        ("BU2", "*", "*", 46): (5, True),
    }
    # In the order of weekly_count's unique key, so that its index is built from sorted rows.
    keys = list(cells[list(WEEK_FIRST_CELL)].itertuples(index=False, name=None))
    assert keys == sorted(keys)


def test_weekly_levels_mark_each_gemeente_from_its_own_first_provisional_week() -> None:
    first = _fine([("BU1", "fiets", "A72", w, 1) for w in (44, 45, 46)])
    second = _fine([("BU2", "fiets", "A72", w, 1) for w in (44, 45, 46)]).assign(gemeente_code="GM0002")
    # GM0002 first in the rows, so a threshold taken by position in the mapping would be crossed.
    cells = provisional_flags(summed_levels(pd.concat([second, first])), {"GM0001": (2026, 46), "GM0002": (2026, 45)})
    provisional = cells[cells["mk_code"] == "A72"].groupby("gemeente_code")["is_provisional"].sum()
    assert provisional.to_dict() == {"GM0001": 1, "GM0002": 2}
    assert cells.loc[cells["mk_code"] == "A72", ["iso_week", "is_provisional"]].shape == (6, 2)


def test_a_group_cell_is_the_sum_of_its_rows_and_a_category_delivery_is_no_mk_cell() -> None:
    counts = pd.DataFrame(
        {
            "iso_year": [2026] * 4,
            "iso_week": [44, 44, 44, 45],
            "buurt_code": ["BU1"] * 4,
            "group_code": ["inbraak", "inbraak", "inbraak", "fiets"],
            "mk_code": ["B10", "B11", "*", "A72"],
            "count": [3, 2, 4, 6],
        }
    )
    cells = with_group_cells(counts)
    got = sorted((r.iso_week, r.group_code, r.mk_code, r.count) for r in cells.itertuples())
    assert got == [
        (44, "inbraak", "*", 9),
        (44, "inbraak", "B10", 3),
        (44, "inbraak", "B11", 2),
        (45, "fiets", "*", 6),
        (45, "fiets", "A72", 6),
    ]
    assert with_group_cells(counts.iloc[:0]).empty


def test_sqlite_timestamps_are_the_text_sqlalchemy_stores() -> None:
    values = np.array(["2017-09-20T17:30:00", "NaT", "2026-01-01T00:00:05.250000"], dtype="datetime64[us]")
    assert sqlite_timestamps(values).tolist() == ["2017-09-20 17:30:00.000000", None, "2026-01-01 00:00:05.250000"]
    assert sqlite_timestamps(values[:0]).tolist() == []


def test_hash_order_sorts_hashes_like_text() -> None:
    """The 64-bit key order equals sorting the hex texts; a frame that is not all 32-digit hashes
    falls back to sorting text (and still gives a full permutation)."""
    rng = np.random.default_rng(3)
    high, low = (rng.integers(0, 2**64, 5000, dtype=np.uint64, endpoint=False) for _ in range(2))
    digests = [f"{int(a):016x}{int(b):016x}" for a, b in zip(high, low, strict=True)]
    digests += ["0" * 16 + "f" * 16, "0" * 16 + "1" * 16]  # equal first 16 digits: file order kept
    hashes = pd.Series(digests, dtype="str").iloc[1:]  # a slice: Arrow's offset into its buffer
    order = hash_order(hashes)
    ordered = hashes.iloc[order].tolist()
    assert ordered == sorted(ordered, key=lambda h: h[:16]) and sorted(order) == list(range(len(hashes)))
    assert ordered.index("0" * 16 + "f" * 16) < ordered.index("0" * 16 + "1" * 16)
    odd = pd.Series(["b", None, "a" * 32, "c"], dtype="str")
    assert odd.iloc[hash_order(odd)].tolist()[:3] == ["a" * 32, "b", "c"]


def test_excel_dates_are_found_as_by_python_regex_in_few_or_many_distinct_codes() -> None:
    """Arrow's regex kernel finds what Python's regex engine finds, in a code column and in ids."""
    mangled = ["2026-01-01", "1-jan", "dec-17", "2017-09-20 17:30", "MRT-2024"]
    fine = ["B70", "BU00140101", "9711AB", "PL0100-2017-1", "", None, "F550"]
    rng = np.random.default_rng(5)
    few = pd.Series(rng.choice(np.array(mangled + fine, dtype=object), 4_000), dtype="str")
    many = pd.Series([f"PL{i}" for i in range(4_000)], dtype="str")
    many.iloc[::7] = few.iloc[::7]
    oracle = re.compile(f"^(?:{bvh._EXCEL_DATE_PATTERN})$", re.IGNORECASE)  # Python's regex engine
    for values in (few, many):
        expected = [isinstance(v, str) and oracle.match(v) is not None for v in values]
        assert bvh.looks_like_excel_date(values).tolist() == expected
    assert bvh.looks_like_excel_date(few).sum() > 1_000


def test_mapped_looks_up_each_value_and_leaves_missing_ones_none() -> None:
    values = np.array(["BU1", None, "BU2", "BU9", "BU1", np.nan], dtype=object)
    assert mapped(values, {"BU1": "GM1", "BU2": "GM2"}).tolist() == ["GM1", None, "GM2", None, "GM1", None]
    assert mapped(np.array([], dtype=object), {"BU1": "GM1"}).tolist() == []


def test_attempt_flags_read_j_and_n_and_leave_the_rest_unknown() -> None:
    poging = pd.Series(["J", "n", "N", "j", "", None, "X", "true", "FALSE", "Ja", "nee", "1"], dtype="str")
    poging.index = range(10, 10 + len(poging))
    flags = attempt_flags(poging)
    assert flags.dtype == "boolean" and list(flags.index) == list(poging.index)
    assert flags.tolist() == [True, False, False, True, pd.NA, pd.NA, pd.NA, True, False, True, False, pd.NA]


def test_a_sheet_is_read_as_stripped_text_whatever_its_cell_types(tmp_path: Path) -> None:
    """Every cell as text, blanks as '', rows numbered as the spreadsheet shows them: numbers as their
    shortest decimal, date cells as date-times, a time-only cell as its time (so that a separate
    time column joins its date column), a checkbox as true/false."""
    from etl.extract import read_table

    path = tmp_path / "export.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("Incidenten")
        book.add_worksheet("Informatie").write(0, 0, "Bevraagd op 21-09-2017 09:42")
        sheet.write_row(0, 1, ["Export politie, week 45"])
        sheet.write_row(2, 0, ["Registratienummer", "MK", "X", "Begin", "Poging", "Pleegbuurt", "Tijd", ""])
        sheet.write_row(3, 0, [" PL01-1 ", "B70", 233017, "2017-09-20 17:30", "J", " Noord ", "17:30"])
        sheet.write_row(4, 0, ["PL01-2", "C10", 233017.5, None, None, None])
        sheet.write_datetime(4, 3, dt.datetime(2017, 9, 21, 8, 0), book.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
        sheet.write_boolean(4, 4, False)
        sheet.write_datetime(4, 6, dt.time(8, 15, 30), book.add_format({"num_format": "hh:mm:ss"}))
        sheet.write_row(5, 0, ["PL01-3", "", 0.1, "", "", "Zuid"])
        sheet.write_datetime(5, 3, dt.datetime(2017, 9, 22), book.add_format({"num_format": "dd-mm-yyyy"}))
        sheet.write(5, 7, "buiten de kopregel")
        sheet.write_row(7, 0, ["", "", "", "", "", "", "", ""])
    frame = read_table(path, {"registratienummer"})
    assert list(frame.index) == [4, 5, 6]
    assert frame.to_dict("list") == {
        "Registratienummer": ["PL01-1", "PL01-2", "PL01-3"],
        "MK": ["B70", "C10", ""],
        "X": ["233017", "233017.5", "0.1"],
        "Begin": ["2017-09-20 17:30", "2017-09-21 08:00:00", "2017-09-22 00:00:00"],
        "Poging": ["J", "false", ""],
        "Pleegbuurt": ["Noord", "", "Zuid"],
        "Tijd": ["17:30", "08:15:30", ""],
    }
    assert all(str(dtype) == "str" for dtype in frame.dtypes)


def test_reading_only_the_wanted_columns_gives_what_reading_every_cell_gives(tmp_path: Path) -> None:
    """The fast way (header in the sheet's first row, wanted columns by name) is taken exactly where
    its result can be checked to equal reading every cell; everywhere else every cell is read."""
    import fastexcel

    from etl import xlsx
    from etl.columns import hints, resolve
    from etl.errors import LoadError
    from etl.header import drop_blank

    aliases = {"voorval_id": ("Registratienummer",), "mk_code": ("MK",), "x": ("X",)}

    def keep(header: list[str]) -> list[str]:
        return list(resolve(header, aliases).values())

    header = ["Registratienummer", "Straat", "MK", "", "X"]
    rows = [
        [" PL01-1 ", "Kade 1", "B70", "x", 233017],
        ["PL01-2", "", "C10", "", 233017.5],
        ["PL01-3", "Weg", "", "", ""],
    ]
    layouts = {  # name: (rows above the header, header, extra sheet first, fast way taken)
        "plain": ([], header, False, True),
        "information sheet": ([], header, True, True),
        "title above": ([["Export politie, week 45"], []], header, False, False),
        "blank rows above": ([[], []], header, False, False),
        "repeated name": ([], ["Registratienummer", "MK", "MK", "", "X"], False, False),
        "renamed-looking name": ([], ["Registratienummer", "MK", "MK_1", "", "X"], False, False),
        "no hinted name": ([], ["Nummer", "Straat", "Code", "", "Xco"], False, False),
    }
    for name, (above, names, extra_first, fast) in layouts.items():
        path = tmp_path / f"{name}.xlsx"
        with xlsxwriter.Workbook(path) as book:
            if extra_first:
                book.add_worksheet("Informatie").write(0, 0, "Bevraagd op 21-09-2017 09:42")
            sheet = book.add_worksheet("Incidenten")
            for i, row in enumerate([*above, names, *rows]):
                sheet.write_row(i, 0, row)
        reader = fastexcel.read_excel(str(path))
        assert (xlsx._by_first_row(path, reader, hints(aliases), keep) is not None) == fast, name
        try:
            every = drop_blank(path, xlsx._by_every_cell(path, reader, hints(aliases), keep))
        except LoadError as refused:
            with pytest.raises(LoadError, match=re.escape(str(refused))):
                xlsx.read_xlsx(path, hints(aliases), keep)
            continue
        read = xlsx.read_xlsx(path, hints(aliases), keep)
        pd.testing.assert_frame_equal(read, every, check_index_type=True)
        assert list(read.index) == [len(above) + 2, len(above) + 3, len(above) + 4], name


def test_a_windows_1252_csv_is_decoded_to_the_same_text_as_by_python(tmp_path: Path) -> None:
    """Windows-1252 columns are read as bytes and decoded in one step per chunk: every character
    (accents, the euro sign, the 0x80-0x9F block that Latin-1 lacks) comes out as Python's codec
    gives it, in columns with and without them, a chunk at a time."""
    import pyarrow as pa

    from etl.extract import _from_cp1252, read_table

    rows = ["Registratienummer;Pleegbuurt;Pleegplaats;X", "PL1;Café Één;€uro ‰ ñ ;12", "PL2;plain;x;", " PL3 ; Ëë ;Œ;5"]
    path = tmp_path / "export.csv"
    path.write_bytes("\r\n".join(rows).encode("cp1252"))
    frame = read_table(path, {"registratienummer"})
    assert frame.to_dict("list") == {
        "Registratienummer": ["PL1", "PL2", "PL3"],
        "Pleegbuurt": ["Café Één", "plain", "Ëë"],
        "Pleegplaats": ["€uro ‰ ñ", "x", "Œ"],
        "X": ["12", "", "5"],
    }
    every = bytes(b for b in range(32, 256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
    values = [every[i : i + 7] for i in range(0, len(every), 7)]
    column = pa.chunked_array([pa.array(values[:9], pa.binary()), pa.array(values[9:], pa.binary()).slice(2)])
    assert _from_cp1252(column).to_pylist() == [v.decode("cp1252") for v in values[:9] + values[11:]]


def test_the_tally_of_parts_is_the_tally_of_the_whole() -> None:
    """What the weekly refresh and the horizon get from a file cleaned in parts (warehouse.incidents)."""
    from warehouse.incidents import _Tally

    at = pd.Timestamp
    rows = _fine([("BU1", "fiets", "A72", w, 1) for w in (43, 44, 44)] + [("BU2", "fiets", "A72", 45, 1)])
    rows = rows.drop(columns="count").assign(
        gemeente_code=["GM0001", "GM0001", "GM0001", "GM0002"],
        kennisname_at=[at("2026-10-30"), pd.NaT, pd.NaT, pd.NaT],
        pleeg_at=[at("2026-10-20"), at("2026-10-27"), at("2026-11-01"), at("2026-11-05")],
    )
    tally = _Tally()
    tally.add(rows.iloc[:2], new=False)  # known incidents, staged
    tally.add(rows.iloc[2:], new=True)
    cells = tally.file_cells().set_index(["gemeente_code", "buurt_code", "iso_week"])["count"].to_dict()
    assert cells == {("GM0001", "BU1", 43): 1, ("GM0001", "BU1", 44): 2, ("GM0002", "BU2", 45): 1}
    assert sorted(tally.new_weeks().itertuples(index=False, name=None)) == [("GM0001", 2026, 44), ("GM0002", 2026, 45)]
    # GM0001's latest kennisname stands though its later part has none; GM0002 has none at all.
    assert tally.latest().to_dict() == {"GM0001": at("2026-10-30"), "GM0002": at("2026-11-05")}


def test_labels_and_groups_are_taken_per_row_and_missing_values_stay_apart() -> None:
    from etl.bvh import calendar, categorise, labelled

    index = pd.Index([7, 3, 9, 4])
    got = labelled(["a", "b"], np.array([1, -1, 0, 1]), index)
    assert got.index.equals(index) and got.iloc[[0, 2, 3]].tolist() == ["b", "a", "b"] and pd.isna(got.iloc[1])
    straatroof = bvh.catalogue()[1]["B70"].group_code
    groups = categorise(pd.Series(["B70", None, "X999", "B70"], index=index))
    assert groups.index.equals(index) and groups.tolist() == [straatroof, "onbekend", "onbekend", straatroof]
    times = ["2026-11-30 05:59", "2026-11-30 06:00", "2026-01-01 12:00", "2026-12-31 18:00"]
    moments = pd.Series(pd.to_datetime(times))
    days = calendar(moments)
    assert days["dagdeel"].tolist() == ["nacht", "ochtend", "middag", "avond"]
    assert days["month"].tolist() == ["2026-11", "2026-11", "2026-01", "2026-12"]
    assert days[["iso_year", "iso_week"]].values.tolist() == [[2026, 49], [2026, 49], [2026, 1], [2026, 53]]


def test_the_voorval_hash_is_keyed_blake2b_of_the_normalised_id_and_stays_so() -> None:
    """Stored hashes are compared with every later delivery's: the hash may never change. Keyed
    BLAKE2b-128 in hex of the stripped, upper-cased id; more than one chunk and non-ASCII ids too."""
    import hashlib

    ids = pd.Series([" pl0100-2017-1 ", "PL0100-2017-1", "Ë€-7", *(f"id{i}" for i in range(200_010))], dtype="str")
    ids.index = ids.index + 2
    got = bvh.voorval_hash(ids, b"geheim")
    want = [hashlib.blake2b(v.strip().upper().encode(), key=b"geheim", digest_size=16).hexdigest() for v in ids]
    assert got.tolist() == want
    assert got.index.equals(ids.index)
    assert got.iloc[0] == got.iloc[1] != bvh.voorval_hash(ids.iloc[:1], b"ander").iloc[0]
    assert bvh.voorval_hash(pd.Series([], dtype="str"), b"geheim").empty


def test_dates_are_parsed_as_python_parses_them_with_the_first_format_that_fits() -> None:
    """Arrow parses the canonical form and reads the day from the text's bytes; impossible dates
    (which Arrow rolls over), other forms and Excel serials must still come out as the plain rule
    gives them: the first of the formats that Python's strptime accepts, else a serial in range.
    A text with a character of more than one byte takes the character-counting way."""
    texts = [
        *("2017-09-20 17:30:00", "2016-02-29 23:59:59", "2017-01-31 10:00:00", "2017-09-20T17:30:00"),
        *("2017-02-30 12:00:00", "2017-02-29 00:00:00", "2017-04-31 08:00:00", "2017-13-01 00:00:00"),
        *("2017-9-5 1:02:03", "2017-09-20 17:30", "20-09-2017", "20-09-2017 17:30", "31-02-2017"),
        *("", "2017-09-20 17:30:00x", "2017-09-20 25:00:00", "43000", "12", "abc"),
    ]

    def plain(text: str) -> np.datetime64:
        for form in bvh._DATE_FORMATS:
            try:
                return np.datetime64(dt.datetime.strptime(text, form), "us")
            except ValueError:
                pass
        serial = pd.to_numeric(text, errors="coerce")
        if 20_000 <= serial <= 80_000:
            return np.datetime64(pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D"), "us")
        return np.datetime64("NaT")

    for extra in ([], ["Één 2017-09-20"]):
        values = pd.Series([*texts, *extra] * 3, dtype="str").iloc[1:]  # a slice: an offset into Arrow's buffer
        parsed = bvh.parse_datetime(values).to_numpy(dtype="datetime64[us]")
        expected = np.array([plain(t) for t in values], dtype="datetime64[us]")
        assert np.array_equal(parsed, expected, equal_nan=True)
    # A separate time column: its date column may hold a spreadsheet's date cell, read at midnight.
    days = pd.Series(["2017-09-22 00:00:00", "20-09-2017", "2017-09-22", "2017-09-22 00:00:00", ""], dtype="str")
    times = pd.Series(["08:15:30", "17:30", "", "", "08:00"], dtype="str")
    assert bvh.parse_datetime(days, times).tolist() == [
        *(pd.Timestamp("2017-09-22 08:15:30"), pd.Timestamp("2017-09-20 17:30"), pd.Timestamp("2017-09-22")),
        *(pd.Timestamp("2017-09-22"), pd.NaT),
    ]


def test_every_row_is_an_incident_or_recognised_whatever_is_mixed_in() -> None:
    """Property: an export with repeated rows, footers and blank rows mixed in at random places gives
    back exactly its incidents, once each, and counts every other row under its reason."""
    from hypothesis import given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    from etl.load_bvh import _without_non_incidents

    @hsettings(max_examples=200, deadline=None, derandomize=True)
    @given(
        st.integers(1, 30),
        st.lists(st.tuples(st.sampled_from(["repeat", "footer", "blank"]), st.integers(0, 10**6)), max_size=15),
    )
    def check(n: int, extras: list[tuple[str, int]]) -> None:
        incidents = [
            {"voorval_id": f"PL01-{i}", "mk_code": "B70", "begin_text": f"0{i % 9 + 1}-01-2026"} for i in range(n)
        ]
        rows = list(incidents)
        for kind, at in extras:
            if kind == "repeat":
                row = dict(incidents[at % n])  # a copy of an incident
            elif kind == "footer":
                row = {"voorval_id": "Totaal", "mk_code": str(n), "begin_text": ""}
            else:
                row = {"voorval_id": "", "mk_code": "", "begin_text": ""}
            rows.insert(at % (len(rows) + 1), row)
        frame = pd.DataFrame(rows, dtype="str")
        frame.index = pd.RangeIndex(2, 2 + len(frame), name="row_number")
        kept, recognised = _without_non_incidents(frame)
        assert sorted(kept["voorval_id"]) == sorted(f"PL01-{i}" for i in range(n))
        assert len(kept) + sum(recognised.values()) == len(frame)
        expected = {
            "dubbele regel (één keer geladen)": sum(k == "repeat" for k, _ in extras),
            "totaalregel": sum(k == "footer" for k, _ in extras),
            "lege regel": sum(k == "blank" for k, _ in extras),
        }
        assert recognised == {k: v for k, v in expected.items() if v}

    check()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    start=st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2035, 12, 24)),
    offsets=st.sets(st.integers(0, 6), min_size=2, max_size=7),
    sep=st.sampled_from(["-", "/"]),
    us=st.booleans(),
    with_time=st.booleans(),
)
def test_the_date_order_of_a_week_is_read_right_either_way(
    start: dt.date, offsets: set[int], sep: str, us: bool, with_time: bool
) -> None:
    """Any two or more days of one week, written day first or month first: bvh.month_first names the
    order, and parse_datetime then gives back the very dates (the days may all be 12 or less)."""
    days = [start + dt.timedelta(days=o) for o in sorted(offsets)]
    order = "%m{0}%d{0}%Y" if us else "%d{0}%m{0}%Y"
    text = pd.Series([d.strftime(order.format(sep)) + (" 08:15" if with_time else "") for d in days])
    assert bvh.month_first(text) is us
    parsed = bvh.parse_datetime(text, None, us).dt.date.tolist()
    assert parsed == days
