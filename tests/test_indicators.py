"""Loading indicators: CBS Kerncijfers (wide, sentinels), gemeente files (wide/long), broken input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from buurtbeeld.settings import Settings
from etl.errors import LoadError
from etl.load_buurten import load_buurten
from etl.load_indicators import load_indicators
from tests.helpers import batches, count, snapshot
from warehouse.db import get_engine
from warehouse.models import Indicator, IndicatorValue


def _values(url: str, indicator: str) -> dict[str, tuple[float | None, str]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(IndicatorValue.area_code, IndicatorValue.value, IndicatorValue.status).where(
                IndicatorValue.indicator_code == indicator
            )
        ).all()
    return {r.area_code: (r.value, r.status) for r in rows}


def test_population_file_sums_match_and_population_is_the_denominator(settings: Settings, real_data: Path) -> None:
    path = real_data / "indicators/cbs_85984NED_2024_inwoners_per_buurt.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    out = load_indicators(path, settings, period="2024")
    assert out.status == "loaded", out.message
    assert out.rows_loaded == len(rows) == 14_518
    with get_engine(settings.warehouse_url).connect() as conn:
        total = conn.execute(
            select(func.sum(IndicatorValue.value)).where(IndicatorValue.indicator_code == "aantal_inwoners")
        ).scalar()
        population = conn.execute(select(Indicator).where(Indicator.is_population)).all()
    assert total == sum(int(r["population"]) for r in rows)
    assert [p.code for p in population] == ["aantal_inwoners"]


@pytest.mark.slow
def test_cbs_kerncijfers_selection_loads_every_numeric_column(settings: Settings, real_data: Path) -> None:
    path = real_data / "indicators/cbs_85984NED_2024_kerncijfers_selectie_per_buurt.csv"
    out = load_indicators(path, settings, period="2024")
    assert out.status == "loaded", out.message
    assert out.rows_loaded == 13_761
    assert set(out.summary["kolommen_overgeslagen"]) == {"buurt_naam", "Gemeentenaam_1", "SoortRegio_2", "Codering_3"}
    assert len(out.summary["indicatoren"]) == 11
    frame = pd.read_csv(path, dtype=str)
    expected = frame.set_index("WijkenEnBuurten")["HuishoudensTotaal_29"].astype(float)
    stored = _values(settings.warehouse_url, "huishoudens_totaal")
    assert stored["BU00140000"] == (expected["BU00140000"], "ok")
    assert sum(v for v, _ in stored.values()) == pytest.approx(expected.sum())


def test_cbs_sentinels_and_dots_are_secret_never_zero(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "kerncijfers.csv"
    path.write_text(
        "WijkenEnBuurten,Gemeentenaam_1,AantalInwoners_5,HuishoudensMetEenLaagInkomen_78,WWUitkering_90\n"
        "GM9999    ,Voorbeeldstad      ,12345,12.5,300\n"
        "BU99990000,Voorbeeldstad      ,5,-99997,-99999999\n"
        "BU99990001,Voorbeeldstad      ,1200,.,-99995\n"
        "BU99990002,Voorbeeldstad      ,0,,0\n"
    )
    out = load_indicators(path, settings, period="2024")
    assert out.status == "loaded", out.message
    low = _values(settings.warehouse_url, "huishoudens_laag_inkomen")
    assert low["GM9999"] == (12.5, "ok")
    assert low["BU99990000"] == (None, "geheim")
    assert low["BU99990001"] == (None, "geheim")
    assert low["BU99990002"] == (None, "geheim")
    ww = _values(settings.warehouse_url, "WWUitkering")
    assert ww["BU99990000"] == (None, "geheim") and ww["BU99990002"] == (0.0, "ok")
    # An indicator outside the catalogue keeps its CBS name and an honest unknown unit.
    with get_engine(settings.warehouse_url).connect() as conn:
        unit = conn.execute(select(Indicator.unit).where(Indicator.code == "WWUitkering")).scalar_one()
    assert unit == "onbekend"


def test_gemeente_long_xlsx_with_dutch_decimals(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "sociaal.xlsx"
    pd.DataFrame(
        {
            "Buurtcode": ["BU99990000", "BU99990000", "BU99990001"],
            "Indicator": ["schuldhulp", "bijstand", "schuldhulp"],
            "Periode": ["2024", "2024", "2024"],
            "Waarde": ["12", "3,5", "1.204,0"],
        }
    ).to_excel(path, index=False)
    out = load_indicators(path, settings)
    assert out.status == "loaded", out.message
    assert _values(settings.warehouse_url, "schuldhulpverlening") == {
        "BU99990000": (12.0, "ok"),
        "BU99990001": (1204.0, "ok"),
    }
    assert _values(settings.warehouse_url, "bijstandsuitkeringen")["BU99990000"] == (3.5, "ok")


def test_title_lines_above_the_header_and_semicolons_in_cp1252(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "gemeente.csv"
    text = "Overzicht sociaal domein\nGemaakt door afdeling O&S – 2024\n\nbuurtcode;Schuldhulp;Wmo\nBU99990000;12;40\n"
    path.write_bytes(text.encode("cp1252"))
    out = load_indicators(path, settings, period="2024")
    assert out.status == "loaded", out.message
    assert _values(settings.warehouse_url, "wmo_clienten") == {"BU99990000": (40.0, "ok")}


def test_reloading_is_a_no_op_and_a_revised_file_updates(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "inw.csv"
    path.write_text("buurtcode,inwoners\nBU99990000,100\nBU99990001,200\n")
    assert load_indicators(path, settings, period="2024").status == "loaded"
    before = snapshot(settings.warehouse_url)
    assert load_indicators(path, settings, period="2024").status == "unchanged"
    assert snapshot(settings.warehouse_url) == before
    revised = tmp_path / "inw_v2.csv"
    revised.write_text("buurtcode,inwoners\nBU99990000,100\nBU99990001,250\n")
    assert load_indicators(revised, settings, period="2024").status == "loaded"
    assert _values(settings.warehouse_url, "aantal_inwoners")["BU99990001"] == (250.0, "ok")
    assert count(settings.warehouse_url, "indicator_value") == 2


def test_gemeente_filter(settings: Settings, real_data: Path) -> None:
    path = real_data / "indicators/cbs_85984NED_2024_inwoners_per_buurt.csv"
    out = load_indicators(path, settings, period="2024", gemeenten=["GM0308"])
    assert out.ok
    assert set(_values(settings.warehouse_url, "aantal_inwoners")) == {
        r["nhood_id"] for r in csv.DictReader(path.open()) if r["nhood_id"].startswith("BU0308")
    }


def test_bad_cells_are_rejected_with_row_column_value_and_the_rest_loads(settings: Settings, tmp_path: Path) -> None:
    rows = ["buurtcode,inwoners,bijstand"] + [f"BU999900{i:02d},{100 + i},{i}" for i in range(40)]
    rows[5] = "BU99990004,veel,4"
    path = tmp_path / "one_bad.csv"
    path.write_text("\n".join(rows) + "\n")
    out = load_indicators(path, settings, period="2024")
    assert out.status == "loaded" and out.rows_rejected == 1
    from warehouse.reads import batch_rejects

    _, rejects = batch_rejects(settings.warehouse_url, out.batch_id)
    (reject,) = rejects.itertuples()
    assert (reject.regel, reject.kolom, reject.waarde) == (6, "inwoners", "veel")
    assert "geen getal" in reject.reden
    # The row's other value is good and loaded; the bad cell is not there, not as zero either.
    assert "BU99990004" not in _values(settings.warehouse_url, "aantal_inwoners")
    assert _values(settings.warehouse_url, "bijstandsuitkeringen")["BU99990004"] == (4.0, "ok")


def test_unknown_and_malformed_codes_refuse_the_file(settings: Settings, real_data: Path, tmp_path: Path) -> None:
    assert load_buurten(real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson", 2024, settings).ok
    before = snapshot(settings.warehouse_url)
    path = tmp_path / "codes.csv"
    path.write_text("buurtcode,inwoners\nBU03080000,100\nBU03089999,5\nBaarn-Centrum,10\n")
    out = load_indicators(path, settings, period="2024")
    assert out.status == "refused"
    assert snapshot(settings.warehouse_url) == before
    from warehouse.reads import batch_rejects

    _, rejects = batch_rejects(settings.warehouse_url, out.batch_id)
    reasons = dict(zip(rejects["waarde"], rejects["reden"], strict=True))
    assert "onbekende buurtcode" in reasons["BU03089999"]
    assert "geen CBS-gebiedscode" in reasons["BAARN-CENTRUM"]


BROKEN = {
    "empty.csv": (b"", "leeg"),
    "only_header.csv": (b"buurtcode,inwoners\n", "geen gegevensregels"),
    "binary.csv": (bytes(range(256)) * 40, "binaire gegevens"),
    "truncated.xlsx": (b"PK\x03\x04" + b"\x00" * 100, "kan niet gelezen worden"),
    "not_excel.xlsx": (b"buurtcode,inwoners\nBU99990000,1\n", "geen geldig Excel-bestand"),
    "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    "bad_encoding.csv": (b"buurtcode,naam\nBU99990000,caf\x81\x8d\n", "tekenset"),
    "no_code_column.csv": (b"naam,inwoners\nCentrum,100\n", "geen kolom met gebiedscodes"),
    "no_numbers.csv": (b"buurtcode,naam\nBU99990000,Centrum\n", "geen kolommen met getallen"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_give_a_specific_message_and_change_nothing(settings: Settings, tmp_path: Path, name: str) -> None:
    good = tmp_path / "good.csv"
    good.write_text("buurtcode,inwoners\nBU99990000,100\n")
    assert load_indicators(good, settings, period="2024").ok
    before = snapshot(settings.warehouse_url)
    n_batches = len(batches(settings.warehouse_url))
    content, expected = BROKEN[name]
    path = tmp_path / name
    path.write_bytes(content)
    try:
        out = load_indicators(path, settings, period="2024")
        assert out.status == "failed"
        message = out.message
        assert len(batches(settings.warehouse_url)) == n_batches + 1
    except LoadError as exc:
        message = str(exc)
    assert expected in message, message
    assert name in message
    assert "Traceback" not in message
    assert snapshot(settings.warehouse_url) == before


def test_wide_file_without_period_asks_for_one(sqlite_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("buurtcode,inwoners\nBU99990000,100\n")
    out = load_indicators(path, sqlite_settings)
    assert out.status == "failed" and "--periode" in out.message


def test_an_indicator_for_several_buurten_is_computed_as_the_area_would_have_it() -> None:
    """Found by an outside review: the Buurtprofiel gave the gemeente a density of 4.331,9 (the
    population-weighted mean of buurt densities) and the monthly analysis 2.033 (their median); the
    gemeente's density is its people over its area."""
    from buurtbeeld.indicator_totals import combined

    inwoners = np.array([1000.0, 1000.0, 50.0])
    density = np.array([1000.0, 4000.0, np.nan])  # 1 km², 0,25 km², and a small buurt CBS leaves out
    assert combined(density, inwoners, "inwoners per km²") == pytest.approx(2000 / 1.25)
    assert combined(np.array([10.0, 20.0]), np.array([1000.0, 3000.0]), "%") == pytest.approx(17.5)
    assert combined(np.array([3.0, 4.0]), np.array([np.nan, np.nan]), "aantal") == 7.0
    assert np.isnan(combined(np.array([3.0, np.nan]), np.array([1.0, 1.0]), "aantal"))  # not the whole
    assert np.isnan(combined(np.array([np.nan]), np.array([10.0]), "%"))
