"""Weekly BVH export: the real Groningen file, revisions, privacy, and a corpus of bad files."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from buurtbeeld.settings import Settings
from etl.errors import LoadError
from etl.load_buurten import load_buurten
from etl.load_bvh import load_bvh
from tests.helpers import batches, snapshot
from warehouse.db import get_engine
from warehouse.models import Base, Incident, IncidentRevision, WeeklyCount

GRONINGEN = "crime/politie_bvh_export_fietsdiefstal_groningen_2013_2017.xlsx"
BUURTEN_2017 = "geometry/cbs_buurten_2017_groningen_wgs84.geojson"
COLUMNS = (
    pd.read_csv(
        Path(__file__).parent.parent.parent / "shared/data/real/codes/bvh_export_kolommen_voorbeeld_groningen_2017.csv"
    )["kolom"].tolist()
    if (Path(__file__).parent.parent.parent / "shared/data/real/codes").exists()
    else []
)


def _scalar(url: str, stmt) -> object:
    with get_engine(url).connect() as conn:
        return conn.execute(stmt).scalar()


@pytest.fixture
def groningen(settings: Settings, real_data: Path) -> Settings:
    assert load_buurten(real_data / BUURTEN_2017, 2017, settings).ok
    return settings


def test_real_groningen_export_is_fully_accounted_for(groningen: Settings, real_data: Path) -> None:
    url = groningen.warehouse_url
    out = load_bvh(real_data / GRONINGEN, groningen)
    assert out.status == "loaded", out.message
    routes = out.summary["toewijzing"]
    assert out.rows_loaded + out.rows_rejected == 15_947
    assert routes["xy"] / 15_947 >= 0.99
    assert sum(routes.values()) == out.rows_loaded
    assert _scalar(url, select(func.count()).select_from(Incident)) == out.rows_loaded
    assert _scalar(url, select(func.sum(WeeklyCount.count)).where(WeeklyCount.group_code == "*")) == out.rows_loaded
    by_year = {}
    with get_engine(url).connect() as conn:
        for (stamp,) in conn.execute(select(Incident.kennisname_at)):
            by_year[stamp.year] = by_year.get(stamp.year, 0) + 1
    assert by_year == {2013: 3691, 2014: 3380, 2015: 3576, 2016: 3515, 2017: 1785}

    again = load_bvh(real_data / GRONINGEN, groningen)
    assert again.status == "unchanged"


def _all_text(url: str) -> set[str]:
    values: set[str] = set()
    with get_engine(url).connect() as conn:
        for table in Base.metadata.tables.values():
            for row in conn.execute(select(table)):
                values |= {str(v) for v in row if v is not None}
    return values


def test_no_address_or_voorval_id_reaches_the_warehouse(groningen: Settings, real_data: Path) -> None:
    assert load_bvh(real_data / GRONINGEN, groningen).ok
    source = pd.read_excel(real_data / GRONINGEN, sheet_name="Incidenten", dtype=str, engine="calamine")
    stored = _all_text(groningen.warehouse_url)
    # Some CBS buurten are named after a street ("Peizerweg"): public area names are not addresses.
    with get_engine(groningen.warehouse_url).connect() as conn:
        public = set(conn.execute(text("SELECT name FROM buurt UNION SELECT name FROM wijk")).scalars())
    streets = set(source["Pleegstraatnaam"].dropna()) - public
    # Full PC6 postcodes only: a bare PC4 such as 9711 also occurs as an ordinary id or count.
    postcodes = {p for p in source["Pleegpostcode"].dropna() if re.fullmatch(r"\d{4}\s?[A-Z]{2}", p)}
    ids = set(source["Incident Identificatie"]) | set(source["Bronregistratie"])
    assert not stored & streets
    assert not stored & postcodes
    assert not stored & ids
    assert not any(re.fullmatch(r"\d{4}\s?[A-Z]{2}", v) for v in stored)
    columns = {c.name for t in Base.metadata.tables.values() for c in t.columns}
    assert not {c for c in columns if re.search(r"straat|huisnummer|postcode|adres|naam_?slachtoffer", c)}
    # Times no finer than the outputs need: to the second, kennisname was a key back to the export.
    with get_engine(groningen.warehouse_url).connect() as conn:
        times = pd.DataFrame(conn.execute(select(Incident.pleeg_at, Incident.kennisname_at)).all())
    assert len(times) == 15_947
    assert (times["pleeg_at"] == times["pleeg_at"].dt.floor("h")).all()
    assert (times["kennisname_at"].dropna() == times["kennisname_at"].dropna().dt.floor("D")).all()
    assert times["kennisname_at"].nunique() < 2_000  # days, where seconds were unique for 98.5 %


def test_a_revising_export_moves_exactly_those_incidents(groningen: Settings, real_data: Path, tmp_path: Path) -> None:
    url = groningen.warehouse_url
    assert load_bvh(real_data / GRONINGEN, groningen).ok
    before = pd.read_excel(real_data / GRONINGEN, sheet_name="Incidenten", dtype=str, engine="calamine")
    revised = before.head(10).copy()
    revised.loc[revised.index[:5], "Incidentsoort code"] = "B70"  # reclassified: straatroof
    begin = pd.to_datetime(revised["Begin-pleegdatum/tijd"])
    revised.loc[revised.index[5:], "Begin-pleegdatum/tijd"] = (begin[5:] - pd.Timedelta(days=21)).astype(str)
    revised.loc[revised.index[5:], "Eind-pleegdatum/tijd"] = (begin[5:] - pd.Timedelta(days=21)).astype(str)
    path = tmp_path / "herziening.csv"
    revised.to_csv(path, sep=";", index=False, encoding="cp1252")
    total = _scalar(url, select(func.sum(WeeklyCount.count)).where(WeeklyCount.group_code == "*"))

    out = load_bvh(path, groningen)
    assert out.status == "loaded", out.message
    assert out.summary["incidenten"]["gewijzigd"] == 10 and out.summary["incidenten"]["nieuw"] == 0
    assert _scalar(url, select(func.count()).select_from(IncidentRevision)) == 10
    assert _scalar(url, select(func.count()).select_from(Incident)) == 15_947
    assert _scalar(url, select(func.sum(WeeklyCount.count)).where(WeeklyCount.group_code == "*")) == total
    assert (
        _scalar(
            url,
            select(func.sum(WeeklyCount.count)).where(WeeklyCount.group_code == "straatroof"),
        )
        == 5
    )
    # Aggregates equal a recount from the facts after the move.
    with get_engine(url).connect() as conn:
        recount = conn.execute(
            text("SELECT buurt_code, iso_year, iso_week, count(*) FROM incident GROUP BY 1, 2, 3")
        ).all()
        stored = conn.execute(
            select(WeeklyCount.buurt_code, WeeklyCount.iso_year, WeeklyCount.iso_week, WeeklyCount.count).where(
                WeeklyCount.group_code == "*"
            )
        ).all()
    assert sorted(map(tuple, recount)) == sorted(map(tuple, stored))


def _stored_and_recounted(url: str) -> tuple[list[tuple], list[tuple]]:
    """weekly_count as the loads left it, and as a full recount of every week from the incidents."""
    from warehouse.weekly import refresh_weekly_counts, touched

    wc = WeeklyCount.__table__
    with get_engine(url).connect() as conn:
        stored = sorted(map(tuple, conn.execute(select(wc)).all()))
        touched.create(conn)
        weeks = select(Incident.gemeente_code, Incident.iso_year, Incident.iso_week).distinct()
        conn.execute(touched.insert().from_select(["gemeente_code", "iso_year", "iso_week"], weeks))
        refresh_weekly_counts(conn)
        recounted = sorted(map(tuple, conn.execute(select(wc)).all()))
        conn.rollback()
    return stored, recounted


@pytest.mark.parametrize("bulk", [False, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_weekly_counts_of_new_and_revisited_weeks_equal_a_full_recount(
    groningen: Settings, real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    """A week without earlier counts is counted from the file itself, other weeks by a recount: both
    must give what recounting every week from the incidents gives, at every level, also when the
    file is cleaned and counted in parts.

    bulk: both loads count as large (warehouse.bulk.secondary_indexes_deferred drops the secondary
    indexes, and on PostgreSQL the keys, and builds them again), as a first load of 50 000+ rows
    does: the same counts, and the schema is whole again after each load (`alembic check`)."""
    url = groningen.warehouse_url
    if bulk:
        monkeypatch.setattr("warehouse.bulk.BULK_MIN_ROWS", 1_000)
    # Cleaned and written in parts (warehouse.incidents.PendingIncidents) as a million-row file is.
    monkeypatch.setattr("warehouse.incidents._CLEAN_ROWS", 997)

    def schema_whole() -> None:
        from alembic import command

        from warehouse.db import alembic_config

        command.check(alembic_config(url))

    rows = pd.read_excel(real_data / GRONINGEN, sheet_name="Incidenten", dtype=str, engine="calamine")
    first = tmp_path / "eerste.csv"
    rows.iloc[:12_000].to_csv(first, sep=";", index=False, encoding="cp1252")
    assert load_bvh(first, groningen).ok
    schema_whole()
    stored, recounted = _stored_and_recounted(url)
    assert stored == recounted and len(stored) > 1000

    # The rest of the file (new rows in old and new weeks), 10 revised rows, and 3 rows in a week
    # nobody delivered before.
    later = rows.iloc[11_990:].copy()
    later.loc[later.index[:10], "Incidentsoort code"] = "B70"
    extra = rows.iloc[:3].copy()
    extra["Incident Identificatie"] = extra["Incident Identificatie"] + "-N"
    for column in ("Begin-pleegdatum/tijd", "Eind-pleegdatum/tijd", "Kennisnamedatum/tijd"):
        extra[column] = "2018-03-01 12:00:00"
    second = tmp_path / "tweede.csv"
    pd.concat([later, extra]).to_csv(second, sep=";", index=False, encoding="cp1252")
    out = load_bvh(second, groningen)
    assert out.status == "loaded", out.message
    assert out.summary["incidenten"]["gewijzigd"] == 10
    schema_whole()
    stored, recounted = _stored_and_recounted(url)
    assert stored == recounted
    with get_engine(url).connect() as conn:
        assert conn.execute(select(func.sum(WeeklyCount.count)).where(WeeklyCount.group_code == "*")).scalar() == (
            len(rows) + 3 - out.rows_rejected
        )


# --- bad files ------------------------------------------------------------------------------------


GOOD = {
    "Incident Identificatie": "PL9999_BVH_{i}",
    "Incidentsoort code": "A20",
    "Incidentsoort": "Woninginbraak",
    "Pleegstraatnaam": "Dorpsstraat",
    "Pleeghuisnummer met toev.": "{i}",
    "Pleegpostcode": "3811AB",
    "Pleeggemeente": "Voorbeeldstad",
    "Pleegbuurt": "Binnenstad-Noord",
    "Begin-pleegdatum/tijd": "03-11-2025 20:00",
    "Eind-pleegdatum/tijd": "04-11-2025 07:00",
    "Kennisnamedatum/tijd": "04-11-2025 08:15",
    "Poging": "N",
    "X": "155000",
    "Y": "463000",
}


def _rows(n: int = 40) -> list[dict[str, str]]:
    return [{k: v.format(i=i) for k, v in GOOD.items()} for i in range(n)]


def _csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    pd.DataFrame(rows).to_csv(path, sep=";", index=False, encoding=encoding)
    return path


def _bad(name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    rows = _rows()
    if name == "missing_columns.csv":
        return _csv(path, [{k: v for k, v in r.items() if k != "Incidentsoort code"} for r in rows])
    if name == "empty.csv":
        path.write_bytes(b"")
    elif name == "garbage.xlsx":
        path.write_bytes(bytes(range(256)) * 50)
    elif name == "truncated.xlsx":
        full = tmp_path / "full.xlsx"
        pd.DataFrame(rows).to_excel(full, index=False)
        path.write_bytes(full.read_bytes()[:600])
    elif name == "utf16.csv":
        return _csv(path, rows, encoding="utf-16")
    elif name == "two_sheets.xlsx":  # an export split over two sheets: reading one would lose the other
        with pd.ExcelWriter(path) as book:
            pd.DataFrame([{"Export": "BVH", "Gemaakt": "10-11-2025"}]).to_excel(
                book, sheet_name="Informatie", index=False
            )
            pd.DataFrame(rows[:20]).to_excel(book, sheet_name="Deel 1", index=False)
            pd.DataFrame(rows[20:]).to_excel(book, sheet_name="Deel 2", index=False)
    elif name in ("zipped.xlsx", "spreadsheet.ods"):
        import zipfile

        with zipfile.ZipFile(path, "w") as archive:
            if name.endswith(".ods"):
                archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            archive.writestr("bvh.csv", _csv(tmp_path / "inner.csv", rows).read_text())
    elif name == "report.pdf":
        path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)))
    elif name == "webpage.xls":
        path.write_text("<html><body><table><tr><td>Incident Identificatie</td></tr></table></body></html>")
    elif name == "neither_utf8_nor_cp1252.csv":
        # 0x81 is undefined in Windows-1252 and invalid as UTF-8 on its own.
        text = _csv(path, rows, encoding="cp1252").read_bytes()
        path.write_bytes(text.replace(b"Incidentsoort code", b"Incidentsoort\x81code", 1) + b"PL\x81;\n")
        return path
    elif name == "duplicate_ids.csv":
        for r in rows[:3]:
            r["Incident Identificatie"] = "PL9999_BVH_DUBBEL"
        return _csv(path, rows)
    elif name == "future_dates.csv":
        for r in rows[:3]:
            r["Kennisnamedatum/tijd"] = "01-01-2099 10:00"
        return _csv(path, rows)
    elif name == "dates_in_1900.csv":
        for r in rows[:3]:
            r["Begin-pleegdatum/tijd"] = r["Eind-pleegdatum/tijd"] = "01-01-1900 00:00"
        return _csv(path, rows)
    elif name == "mixed_date_orders.csv":
        rows[0]["Kennisnamedatum/tijd"] = "11/23/2025 08:15"
        return _csv(path, rows)
    elif name == "deed_after_report.csv":
        for r in rows[:3]:
            r["Begin-pleegdatum/tijd"] = r["Eind-pleegdatum/tijd"] = "09-11-2025 20:00"
        return _csv(path, rows)
    elif name == "mangled_codes.csv":
        for r in rows[:3]:
            r["Incidentsoort code"] = "17-dec"
        return _csv(path, rows)
    elif name == "unknown_buurtcode.csv":
        for r in rows:
            r["CBS buurtcode"] = "BU99990000"
        for r in rows[:3]:
            r["CBS buurtcode"] = "BU99998888"
        return _csv(path, rows)
    elif name == "xy_not_a_number.csv":  # one bad value sends the whole column to the slow parser
        for r in rows[:3]:
            r["X"] = "X155000"
        return _csv(path, rows)
    elif name == "xy_not_in_nl.csv":
        for r in rows[:3]:
            r["X"], r["Y"] = "52.1", "5.1"
        return _csv(path, rows)
    return path


# name -> (expected text in the message or a reject reason, status)
BAD = {
    "missing_columns.csv": ("Incidentsoort code", "failed"),
    "empty.csv": ("leeg", "failed"),
    "garbage.xlsx": ("geen geldig Excel-bestand", "failed"),
    "truncated.xlsx": ("kan niet gelezen worden", "failed"),
    "utf16.csv": ("binaire gegevens", "failed"),
    "two_sheets.xlsx": ("gegevens op 2 tabbladen ('Deel 1', 'Deel 2')", "failed"),
    "zipped.xlsx": ("zip-archief", "failed"),
    "spreadsheet.ods": ("OpenDocument", "failed"),
    "report.pdf": ("PDF-bestand", "failed"),
    "webpage.xls": ("webpagina (HTML)", "failed"),
    "neither_utf8_nor_cp1252.csv": ("tekenset niet herkend", "failed"),
    "duplicate_ids.csv": ("meer dan eens", "refused"),
    "future_dates.csv": ("in de toekomst", "refused"),
    "mangled_codes.csv": ("door Excel omgezet", "refused"),
    "mixed_date_orders.csv": ("twee volgordes", "failed"),
    "dates_in_1900.csv": ("ligt voor de vroegste toegestane datum", "refused"),
    "deed_after_report.csv": ("meer dan een dag na de kennisnamedatum", "refused"),
    "unknown_buurtcode.csv": ("staat niet in de CBS-buurtindeling", "refused"),
    "xy_not_in_nl.csv": ("geen Rijksdriehoek", "refused"),
    "xy_not_a_number.csv": ("geen Rijksdriehoek", "refused"),
}


def test_a_file_in_us_date_order_is_read_month_first(demo_city: Settings, tmp_path: Path) -> None:
    """A weekly file whose days are all 12 or less reads either way; the order is decided for the
    whole file (its dates lie within a week one way, months apart the other), not row by row."""
    rows = _rows(40)
    for i, r in enumerate(rows):
        day = 3 + i % 5
        r["Begin-pleegdatum/tijd"] = f"11-{day:02d}-2025 20:00"
        r["Eind-pleegdatum/tijd"] = f"11-{day:02d}-2025 21:00"
        r["Kennisnamedatum/tijd"] = f"11-{day + 1:02d}-2025 08:15"
    out = load_bvh(_csv(tmp_path / "bvh_us.csv", rows), demo_city)
    assert (out.status, out.rows_loaded, out.rows_rejected) == ("loaded", 40, 0), out.message
    stored = _scalar(demo_city.warehouse_url, select(func.min(Incident.kennisname_at)))
    assert str(stored).startswith("2025-11-04"), stored


def test_the_earliest_plausible_date_is_a_setting(demo_city: Settings, tmp_path: Path) -> None:
    """A registration of 2004 loads under the default bound (2000) and is rejected, with the setting
    named, once BUURTBEELD_BVH_EARLIEST_DATE is 2005-01-01; the other rows load."""
    from warehouse.reads import batch_rejects

    rows = _rows(40)
    rows[0]["Begin-pleegdatum/tijd"] = rows[0]["Eind-pleegdatum/tijd"] = "03-11-2004 20:00"
    rows[0]["Kennisnamedatum/tijd"] = "04-11-2004 08:15"
    old = _csv(tmp_path / "bvh_2004.csv", rows)
    later = demo_city.model_copy(update={"bvh_earliest_date": date(2005, 1, 1)})
    out = load_bvh(old, later)
    assert (out.rows_loaded, out.rows_rejected) == (39, 1), out.message
    rejects = batch_rejects(later.warehouse_url, out.batch_id)[1]
    assert set(rejects["kolom"]) == {"Begin-pleegdatum/tijd", "Kennisnamedatum/tijd"}, rejects
    assert rejects["reden"].str.contains("vroegste toegestane datum (BUURTBEELD_BVH_EARLIEST_DATE", regex=False).all()
    again = load_bvh(_csv(tmp_path / "bvh_2004_b.csv", [{**r, "Poging": "J"} for r in rows]), demo_city)
    assert (again.rows_loaded, again.rows_rejected) == (40, 0), again.message


def test_ragged_csv_rows_are_read_without_losing_any(demo_city: Settings, tmp_path: Path) -> None:
    """Arrow refuses rows with more fields than the header (a trailing ';', a stray delimiter); the
    reader then falls back to pandas, which keeps every row."""
    path = _csv(tmp_path / "ragged.csv", _rows(40))
    lines = path.read_text().splitlines()
    lines[5] += ";losse tekst"  # one row with an extra field
    lines[0] += ";"  # and a header with a trailing delimiter
    path.write_text("\n".join(lines) + "\n")
    out = load_bvh(path, demo_city)
    assert out.status == "loaded", out.message
    assert out.rows_in == 40 and out.rows_loaded == 40


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_bvh_files_give_a_specific_message_and_change_nothing(
    demo_city: Settings, tmp_path: Path, name: str
) -> None:
    url = demo_city.warehouse_url
    assert load_bvh(_csv(tmp_path / "good.csv", _rows(40)), demo_city).ok
    before = snapshot(url)
    expected, status = BAD[name]
    try:
        out = load_bvh(_bad(name, tmp_path), demo_city)
    except LoadError as exc:
        assert status == "failed" and expected in str(exc)
        assert snapshot(url) == before
        return
    assert out.status == status, out.message
    text_seen = out.message
    if status == "refused":
        from warehouse.reads import batch_rejects

        _, rejects = batch_rejects(url, out.batch_id)
        assert len(rejects) >= 3
        assert rejects["regel"].notna().all() and rejects["kolom"].notna().all()
        text_seen += " ".join(rejects["reden"])
    assert expected in text_seen, text_seen
    assert "Traceback" not in text_seen
    # Rejected rows keep no incident id or location either.
    stored = _all_text(url)
    assert not any(v.startswith("PL9999_BVH") for v in stored)
    assert not stored & {"3811AB", "52.1", "5.1", "X155000"}
    assert snapshot(url) == before
    assert batches(url)[-1].status == status
    # A file that does not read as a delivery is not kept in the archive as if it were one.
    archived = batches(url)[-1].archive_path
    assert (archived is None) == (status == "failed"), archived


def test_rows_of_another_gemeente_are_reported_and_kept_out(demo_city: Settings, tmp_path: Path) -> None:
    """A row without a buurt whose Pleeggemeente names another gemeente does not land in this
    gemeente's 'onbekende locatie': it is counted apart, per name, and the rows still add up. A row
    that names another gemeente but lies in a buurt here (x/y) is this gemeente's."""
    rows = _rows(40)
    for r in rows[:2]:
        r["X"], r["Y"], r["Pleegbuurt"], r["Pleeggemeente"] = "120000", "487000", "Nergens", "Amsterdam"
    rows[2]["Pleeggemeente"] = "Amsterdam"  # x/y in Voorbeeldstad
    rows[3]["X"], rows[3]["Y"], rows[3]["Pleegbuurt"] = "120000", "487000", "Nergens"  # no other name
    out = load_bvh(_csv(tmp_path / "other.csv", rows), demo_city)
    assert out.status == "loaded", out.message
    assert (out.rows_loaded, out.rows_rejected) == (38, 0)
    assert out.summary["regels_herkend"] == {"andere gemeente (Amsterdam)": 2}
    assert out.summary["toewijzing"]["onbekend"] == 1 and out.summary["toewijzing"]["xy"] == 37
    url = demo_city.warehouse_url
    assert _scalar(url, select(func.count()).select_from(Incident)) == 38
    unknown = select(func.sum(WeeklyCount.count)).where(
        WeeklyCount.buurt_code == "onbekend", WeeklyCount.group_code == "*"
    )
    assert _scalar(url, unknown) == 1


def test_unknown_mk_codes_and_xy_outside_the_gemeente_are_kept_and_reported(
    demo_city: Settings, tmp_path: Path
) -> None:
    rows = _rows(40)
    rows[0]["Incidentsoort code"] = "Z999"
    rows[1]["X"], rows[1]["Y"] = "120000", "487000"  # Amsterdam: in NL, not in Voorbeeldstad
    rows[1]["Pleegbuurt"] = "Nergens"
    out = load_bvh(_csv(tmp_path / "mixed.csv", rows), demo_city)
    assert out.status == "loaded" and out.rows_loaded == 40
    assert out.summary["onbekende_mk_codes"] == {"Z999": 1}
    assert out.summary["xy_buiten_indeling"] == 1 and out.summary["toewijzing"]["onbekend"] == 1
    url = demo_city.warehouse_url
    assert _scalar(url, select(func.count()).select_from(Incident).where(Incident.group_code == "onbekend")) == 1
    assert (
        _scalar(
            url,
            select(func.sum(WeeklyCount.count)).where(
                WeeklyCount.buurt_code == "onbekend",
                WeeklyCount.group_code == "*",
                WeeklyCount.gemeente_code == "GM9999",
            ),
        )
        == 1
    )


def test_provisional_weeks_follow_the_latest_delivery(demo_city: Settings, tmp_path: Path) -> None:
    url = demo_city.warehouse_url
    rows = _rows(10)
    for i, r in enumerate(rows):
        day = pd.Timestamp("2025-10-06") + pd.Timedelta(days=7 * i)  # ten Mondays, weeks 41..50
        r["Begin-pleegdatum/tijd"] = r["Eind-pleegdatum/tijd"] = f"{day:%d-%m-%Y} 12:00"
        r["Kennisnamedatum/tijd"] = f"{day:%d-%m-%Y} 13:00"
    out = load_bvh(_csv(tmp_path / "weeks.csv", rows), demo_city)
    assert out.summary["incidenten"]["voorlopig"] == ["GM9999 2025-W49", "GM9999 2025-W50"]
    with get_engine(url).connect() as conn:
        flags = dict(
            conn.execute(
                select(WeeklyCount.iso_week, WeeklyCount.is_provisional).where(WeeklyCount.group_code == "*")
            ).all()
        )
    assert [w for w, p in sorted(flags.items()) if p] == [49, 50]

    def week_file(name: str, mondays: list[str], offset: int) -> Path:
        later = _rows(offset + len(mondays))[offset:]  # new voorval ids
        for r, day in zip(later, mondays, strict=True):
            r["Begin-pleegdatum/tijd"] = r["Eind-pleegdatum/tijd"] = f"{day} 12:00"
            r["Kennisnamedatum/tijd"] = f"{day} 13:00"
        return _csv(tmp_path / name, later)

    # A late file about earlier weeks does not move the horizon back; a newer one moves it on.
    late = load_bvh(week_file("late.csv", ["20-10-2025"], 10), demo_city)
    assert late.summary["incidenten"]["voorlopig"] == ["GM9999 2025-W49", "GM9999 2025-W50"]
    newer = load_bvh(week_file("newer.csv", ["22-12-2025"], 11), demo_city)
    assert newer.summary["incidenten"]["voorlopig"] == ["GM9999 2025-W51", "GM9999 2025-W52"]
    with get_engine(url).connect() as conn:
        flagged = conn.execute(
            select(WeeklyCount.iso_week).where(WeeklyCount.is_provisional.is_(True)).distinct()
        ).scalars()
        assert sorted(flagged) == [52]  # week 51 has no counts to flag


def test_postcode_table_assigns_rows_without_xy(demo_city: Settings, tmp_path: Path) -> None:
    table = tmp_path / "pc6hnr.csv"
    # CBS publishes the buurtcode as 8 digits without "BU".
    table.write_text("PC6;Huisnummer;Buurt2024\n3811AB;1;99990101\n3811AB;2;99990102\n3811AB;3;99990102\n")
    rows = _rows(40)
    for r in rows[:4]:
        r["X"] = r["Y"] = ""
        r["Pleegbuurt"] = "Onbekende buurt"
    rows[0]["Pleeghuisnummer met toev."] = "1 A"  # exact: BU99990101
    rows[1]["Pleeghuisnummer met toev."] = "77"  # no exact match: PC6 majority, BU99990102
    rows[2]["Pleegpostcode"] = "3811 ab"  # normalised
    rows[2]["Pleeghuisnummer met toev."] = "2"
    rows[3]["Pleegpostcode"] = "1234ZZ"  # not in the table: onbekend
    out = load_bvh(_csv(tmp_path / "pc.csv", rows), demo_city, postcodes=table)
    assert out.status == "loaded", out.message
    assert out.summary["toewijzing"]["postcode"] == 3 and out.summary["toewijzing"]["onbekend"] == 1
    with get_engine(demo_city.warehouse_url).connect() as conn:
        routes = dict(
            conn.execute(
                select(Incident.buurt_code, func.count())
                .where(Incident.assign_route == "postcode")
                .group_by(Incident.buurt_code)
            ).all()
        )
    assert routes == {"BU99990101": 1, "BU99990102": 2}


def test_buurt_level_counts_feed_the_same_weekly_aggregate(demo_city: Settings, tmp_path: Path) -> None:
    url = demo_city.warehouse_url
    assert load_bvh(_csv(tmp_path / "incidents.csv", _rows(10)), demo_city).ok  # 10 x A20 in 2025-W45
    counts = tmp_path / "aantallen.csv"
    counts.write_text(
        "Buurtcode;Week;Soort misdrijf;Aantal\n"
        "BU99990000;2025-W45;1.1.1 Diefstal/inbraak woning;3\n"  # soort misdrijf -> woninginbraak
        "BU99990000;2025-W46;A72;7\n"  # MK code -> fietsendiefstal
        "BU99990001;2025 46;Overlast;12\n"  # group label
        "BU99990001;2025-W46;Iets anders;2\n"  # unknown: kept, flagged
        "BU99990002;2025-W46;A72;veel\n"  # bad count: rejected
    )
    out = load_bvh(counts, demo_city)
    assert out.status == "refused" and out.rows_rejected == 1  # 1 of 5 rows is 20%: refused by policy
    from warehouse.reads import batch_rejects

    _, rejects = batch_rejects(url, out.batch_id)
    assert rejects[["regel", "kolom", "waarde"]].values.tolist() == [[6, "Aantal", "veel"]]
    assert "geen geheel getal" in rejects["reden"].iloc[0]
    ok = tmp_path / "aantallen_ok.csv"
    ok.write_text("\n".join(counts.read_text().splitlines()[:5]) + "\n")
    out = load_bvh(ok, demo_city)
    assert out.status == "loaded", out.message
    assert out.summary["onbekende_categorieen"] == {"Iets anders": 1}

    def total(**where: object) -> int:
        stmt = select(func.sum(WeeklyCount.count))
        for k, v in where.items():
            stmt = stmt.where(getattr(WeeklyCount, k) == v)
        return _scalar(url, stmt) or 0

    assert total(group_code="*", iso_week=45) == 10 + 3
    # A group's total is the sum of its rows: its MK codes, and MK '*' for what came per category.
    assert total(group_code="woninginbraak", iso_week=45) == 10 + 3
    assert total(group_code="woninginbraak", mk_code="*", iso_week=45) == 3
    assert total(group_code="fietsendiefstal", mk_code="A72", iso_week=46) == 7
    assert total(group_code="overlast", mk_code="*", iso_week=46) == 12
    assert total(group_code="onbekend", mk_code="*") == 2
    assert total(group_code="*", iso_week=46) == 21
    # A corrected re-delivery replaces the cell instead of adding to it.
    fix = tmp_path / "aantallen_correctie.csv"
    fix.write_text("Buurtcode;Week;MK;Aantal\nBU99990000;2025-W46;A72;5\n")
    again = load_bvh(fix, demo_city)
    assert again.summary["aantallen"]["cellen_vervangen"] == 1
    assert total(group_code="fietsendiefstal", mk_code="A72", iso_week=46) == 5


def test_high_impact_crime_groups_come_from_the_settings(demo_city: Settings, tmp_path: Path) -> None:
    from warehouse.models import CrimeCategory

    assert load_bvh(_csv(tmp_path / "a.csv", _rows(10)), demo_city).ok
    with get_engine(demo_city.warehouse_url).connect() as conn:
        hic = set(conn.execute(select(CrimeCategory.group_code).where(CrimeCategory.is_hic).distinct()).scalars())
        total = conn.execute(select(func.count()).select_from(CrimeCategory)).scalar()
    assert hic == {"woninginbraak", "straatroof", "overval"}
    assert total == 224  # the 217 politie MK codes (F614 listed twice) plus 8 overlast codes
    custom = demo_city.model_copy(update={"hic_groups": ["geweld", "woninginbraak"]})
    assert load_bvh(_csv(tmp_path / "b.csv", _rows(11)), custom).ok
    with get_engine(demo_city.warehouse_url).connect() as conn:
        hic = set(conn.execute(select(CrimeCategory.group_code).where(CrimeCategory.is_hic).distinct()).scalars())
    assert hic == {"geweld", "woninginbraak"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "leeg"),
        (b"PC6;Huisnummer\n3811AB;1\n", "buurtcode"),  # no buurtcode column
        (bytes(range(256)) * 20, "binaire gegevens"),
    ],
)
def test_broken_postcode_table_gives_a_message_and_changes_nothing(
    demo_city: Settings, tmp_path: Path, content: bytes, expected: str
) -> None:
    url = demo_city.warehouse_url
    before = snapshot(url)
    n_batches = len(batches(url))
    table = tmp_path / "pc6hnr.csv"
    table.write_bytes(content)
    with pytest.raises(LoadError) as exc:
        load_bvh(_csv(tmp_path / "x.csv", _rows(5)), demo_city, postcodes=table)
    assert expected in str(exc.value) and "pc6hnr.csv" in str(exc.value)
    assert snapshot(url) == before and len(batches(url)) == n_batches


@pytest.mark.slow
def test_footer_blank_and_repeated_rows_are_recognised_not_rejected(
    groningen: Settings, real_data: Path, tmp_path: Path
) -> None:
    """The real Groningen export with a block of 100 rows delivered twice, a blank row and a
    'Totaal;15947' footer: every incident is loaded once, nothing is refused or rejected, and the
    batch accounts for every row it read."""
    import openpyxl
    import pandas as pd

    # Read with calamine and write in openpyxl's streaming mode: loading the real workbook into
    # openpyxl's object model takes a minute, the load under test five seconds.
    rows = pd.read_excel(real_data / GRONINGEN, header=None, dtype=object, engine="calamine")
    rows = rows.astype(object).where(rows.notna(), None).values.tolist()
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in [*rows, *rows[2000:2100], [None] * len(rows[0]), ["Totaal", 15_947]]:
        sheet.append(row)
    variant = tmp_path / "groningen_met_voettekst.xlsx"
    book.save(variant)

    out = load_bvh(variant, groningen)
    assert out.status == "loaded", out.message
    assert (out.rows_loaded, out.rows_rejected) == (15_947, 0)
    recognised = out.summary["regels_herkend"]
    assert recognised == {"dubbele regel (één keer geladen)": 100, "totaalregel": 1, "lege regel": 1}, recognised
    assert out.rows_loaded + out.rows_rejected + sum(recognised.values()) == 15_947 + 100 + 1 + 1
    assert "100 × dubbele regel" in out.message and "1 × totaalregel" in out.message
    assert _scalar(groningen.warehouse_url, select(func.count()).select_from(Incident)) == 15_947


# --- found by the fuzzer (tests/test_fuzz_loading.py), one plain example each ---------------------


_DATE_COLUMNS = ("Begin-pleegdatum/tijd", "Eind-pleegdatum/tijd", "Kennisnamedatum/tijd")


def test_a_file_without_date_columns_has_its_rows_refused_not_a_crash(demo_city: Settings, tmp_path: Path) -> None:
    """No pleegdatum and no kennisname column at all: every row lacks a date (a reject each), so the
    file is refused by the reject policy. It used to stop with ValueError ('No objects to
    concatenate') from deciding the file's date order over no columns; and in a run of several files
    putting it in order stopped with IndexError."""
    from etl.load_bvh import delivery_order
    from warehouse.reads import batch_rejects

    url = demo_city.warehouse_url
    before = snapshot(url)
    rows = [{k: v for k, v in r.items() if k not in _DATE_COLUMNS} for r in _rows(10)]
    path = _csv(tmp_path / "zonder_datums.csv", rows)
    out = load_bvh(path, demo_city)
    assert (out.status, out.rows_in, out.rows_rejected) == ("refused", 10, 10), out.message
    _, rejects = batch_rejects(url, out.batch_id)
    assert set(rejects["reden"]) == {"geen pleegdatum en geen kennisnamedatum"}
    assert snapshot(url) == before
    good = _csv(tmp_path / "goed.csv", _rows(5))
    assert delivery_order([str(path), str(good)]) == [str(good), str(path)]


@pytest.mark.parametrize("garbage", ["45-45-2025 25:61", "32-13-2025", "00-45-2025"])
def test_a_date_that_is_none_either_way_is_a_rejected_row_not_two_date_orders(
    demo_city: Settings, tmp_path: Path, garbage: str
) -> None:
    """'45-45-2025' is no date day first and none month first: its row is refused as an unrecognised
    date and the others load. It used to count as evidence for both orders and refuse the whole file
    ("Datums in twee volgordes ... '45-45-2025' is dag-maand; '45-45-2025' is maand-dag")."""
    rows = _rows(40)
    rows[7]["Kennisnamedatum/tijd"] = garbage
    out = load_bvh(_csv(tmp_path / "onzin_datum.csv", rows), demo_city)
    assert (out.status, out.rows_loaded, out.rows_rejected) == ("loaded", 39, 1), out.message


# The text of a library's exception (English, with paths of the server) is no message for a supplier.
_ENGLISH = re.compile(r"error|exception|traceback|invalid|could not|EOF|/tmp/", re.IGNORECASE)


@pytest.mark.parametrize("name", ["afgekapt.xlsx", "open_aanhalingsteken.csv"])
def test_an_unreadable_file_is_refused_in_dutch_without_library_text(
    demo_city: Settings, tmp_path: Path, name: str
) -> None:
    """A truncated workbook's message carried calamine's 'calamine error: Xlsx error: Zip error: invalid
    Zip archive ...' with the server's path of the file; a CSV row with an opening quote that never
    closes, pandas' 'Error tokenizing data. C error: EOF inside string ...'."""
    url = demo_city.warehouse_url
    before = snapshot(url)
    path = tmp_path / name
    if name.endswith(".xlsx"):
        full = tmp_path / "heel.xlsx"
        pd.DataFrame(_rows(20)).to_excel(full, index=False)
        path.write_bytes(full.read_bytes()[:7])
    else:
        lines = _csv(tmp_path / "heel.csv", _rows(20)).read_text().splitlines()
        lines[5] = '"' + lines[5]
        path.write_text("\n".join(lines) + "\n")
    out = load_bvh(path, demo_city)
    assert out.status == "failed" and "kan niet gelezen worden" in out.message, out.message
    assert out.message.startswith(f"{name}: ") and not _ENGLISH.search(out.message), out.message
    assert snapshot(url) == before


def test_a_refusal_from_deep_in_the_reading_names_the_file(demo_city: Settings, tmp_path: Path) -> None:
    """The date order of a file and the gemeente of its rows are decided where the file's name is not
    known: their refusals ("Datums in twee volgordes ...", "Geen enkele regel valt in een buurt ...")
    did not say which file, as every other refusal does."""
    mixed = _rows(40)
    mixed[0]["Kennisnamedatum/tijd"] = "11/23/2025 08:15"
    elsewhere = [{**r, "X": "120000", "Y": "487000", "Pleegbuurt": "Nergens", "Pleeggemeente": ""} for r in _rows(5)]
    for name, rows, expected in [
        ("twee_volgordes.csv", mixed, "twee volgordes"),
        ("nergens.csv", elsewhere, "Geen enkele regel valt in een buurt"),
    ]:
        out = load_bvh(_csv(tmp_path / name, rows), demo_city)
        assert out.status == "failed" and expected in out.message, out.message
        assert out.message.startswith(f"{name}: "), out.message
        assert batches(demo_city.warehouse_url)[-1].message == out.message


def test_a_file_of_only_a_footer_total_is_refused_not_a_crash(demo_city: Settings, tmp_path: Path) -> None:
    """A header, blank rows and a 'Totaal' footer, no incident: refused as a file without data rows. It
    used to stop with ValueError ('No objects to concatenate'), as no row was left to validate."""
    url = demo_city.warehouse_url
    before = snapshot(url)
    path = tmp_path / "alleen_totaal.csv"
    path.write_text(";".join(GOOD) + "\n" + ";" * 13 + "\nTotaal;0\n")
    out = load_bvh(path, demo_city)
    assert out.status == "failed", out.message
    assert out.message.startswith("alleen_totaal.csv: het bestand heeft een kopregel maar geen gegevensregels")
    assert "1 × totaalregel" in out.message
    assert snapshot(url) == before
