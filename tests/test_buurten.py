"""Loading CBS wijk- en buurtkaarten: real files, a second indeling year, repairs and broken input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import select

from buurtbeeld.settings import Settings
from etl import geo
from etl.load_buurten import load_buurten
from tests.helpers import batches, count, snapshot
from warehouse.db import get_engine
from warehouse.models import Buurt, BuurtCorrespondence, Gemeente, Wijk


def _codes(url: str, year: int, gemeente: str) -> set[str]:
    with get_engine(url).connect() as conn:
        return set(
            conn.execute(
                select(Buurt.code).where(Buurt.indeling_year == year, Buurt.gemeente_code == gemeente)
            ).scalars()
        )


def test_groningen_2015_then_2017_builds_a_correct_correspondence(settings: Settings, real_data: Path) -> None:
    url = settings.warehouse_url
    # Slochteren (GM0040) too: part of it (Meerstad, Harkstede, Lageland) joined Groningen in 2017.
    out15 = load_buurten(real_data / "geometry/cbs_buurten_2015_nl_wgs84.geojson", 2015, settings, ["GM0014", "GM0040"])
    assert out15.status == "loaded", out15.message
    assert len(_codes(url, 2015, "GM0014")) == 106
    assert count(url, "gemeente", indeling_year=2015) == 2

    out17 = load_buurten(real_data / "geometry/cbs_buurten_2017_groningen_wgs84.geojson", 2017, settings)
    assert out17.status == "loaded", out17.message
    codes15, codes17 = _codes(url, 2015, "GM0014"), _codes(url, 2017, "GM0014")
    assert len(codes17) == 108
    shared = codes15 & codes17
    assert len(shared) == 105

    with get_engine(url).connect() as conn:
        pairs = conn.execute(select(BuurtCorrespondence).where(BuurtCorrespondence.from_year == 2015)).all()
    primary = {p.from_code: p.to_code for p in pairs if p.is_primary}
    # Every 2015 Groningen buurt has a successor; an unchanged code follows itself.
    assert codes15 <= set(primary)
    assert all(primary[c] == c for c in shared)
    # The one 2015 code that disappeared went wholly into one 2017 buurt.
    (gone,) = codes15 - codes17
    successors = [p for p in pairs if p.from_code == gone]
    assert primary[gone] in codes17 and max(p.share_of_from for p in successors) > 0.9
    # Shares of each 2015 buurt add up to 1, so counts moved with them are conserved.
    for code in codes15:
        assert sum(p.share_of_from for p in pairs if p.from_code == code) == pytest.approx(1.0)
    # The three new 2017 codes lie in former Slochteren and are reached from its 2015 buurten.
    slochteren = _codes(url, 2015, "GM0040")
    for code in codes17 - codes15:
        assert any(p.to_code == code and p.from_code in slochteren for p in pairs), code


def test_baarn_2024_corresponds_to_baarn_2015(settings: Settings, real_data: Path) -> None:
    url = settings.warehouse_url
    assert load_buurten(real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson", 2024, settings).ok
    assert len(_codes(url, 2024, "GM0308")) == 21
    # Loading the earlier year afterwards builds the same correspondence (from 2015 to 2024).
    out = load_buurten(real_data / "geometry/cbs_buurten_2015_nl_wgs84.geojson", 2015, settings, ["GM0308"])
    assert out.ok, out.message
    codes15, codes24 = _codes(url, 2015, "GM0308"), _codes(url, 2024, "GM0308")
    assert len(codes15 & codes24) == 17
    with get_engine(url).connect() as conn:
        pairs = conn.execute(select(BuurtCorrespondence).where(BuurtCorrespondence.to_year == 2024)).all()
    primary = {p.from_code: p.to_code for p in pairs if p.is_primary}
    # Lage Vuursche was recoded BU03080300 -> BU03080500 with (nearly) the same boundary.
    assert primary["BU03080300"] == "BU03080500"
    assert {p.from_code for p in pairs} == codes15


@pytest.mark.slow
def test_all_of_the_netherlands_2015(sqlite_settings: Settings, real_data: Path) -> None:
    out = load_buurten(real_data / "geometry/cbs_buurten_2015_nl_wgs84.geojson", 2015, sqlite_settings)
    assert out.status == "loaded", out.message
    url = sqlite_settings.warehouse_url
    assert count(url, "buurt") == 12_173
    assert count(url, "gemeente") == 392
    with get_engine(url).connect() as conn:
        sample = conn.execute(select(Buurt).where(Buurt.code == "BU00140000")).one()
    geom = shapely.from_geojson(sample.geometry)
    assert geom.is_valid and geom.geom_type in {"Polygon", "MultiPolygon"}
    assert 6.5 < sample.label_lon < 6.6 and 53.2 < sample.label_lat < 53.25


def test_reloading_the_same_file_is_a_no_op(settings: Settings, real_data: Path) -> None:
    path = real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson"
    assert load_buurten(path, 2024, settings).status == "loaded"
    before = snapshot(settings.warehouse_url)
    again = load_buurten(path, 2024, settings)
    assert again.status == "unchanged"
    assert "al geladen" in again.message
    assert snapshot(settings.warehouse_url) == before
    assert len(batches(settings.warehouse_url)) == 1


def _write_gpkg_rd(path: Path, rows: list[dict], crs: str | None = geo.RD) -> Path:
    gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_file(path, layer="buurten", driver="GPKG")
    return path


def _square(x: float, y: float, size: float = 500.0) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def _row(code: str, geom: shapely.Geometry, **extra: str) -> dict:
    return {
        "buurtcode": code,
        "buurtnaam": f"Buurt {code[-2:]}",
        "wijkcode": code[:8].replace("BU", "WK"),
        "gemeentecode": "GM" + code[2:6],
        "gemeentenaam": "Testgemeente",
        "geometry": geom,
        **extra,
    }


def test_geopackage_in_rd_with_an_invalid_polygon_is_repaired(settings: Settings, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(155000, 463000), (155500, 463500), (155500, 463000), (155000, 463500)])
    assert not bowtie.is_valid
    rows = [
        _row("BU99990000", _square(155000, 463000)),
        _row("BU99990001", _square(155500, 463000)),
        _row("BU99990002", bowtie),
    ]
    out = load_buurten(_write_gpkg_rd(tmp_path / "b.gpkg", rows), 2024, settings)
    assert out.status == "loaded", out.message
    assert out.summary["geometrie_hersteld"] == 1
    with get_engine(settings.warehouse_url).connect() as conn:
        stored = {b.code: b for b in conn.execute(select(Buurt)).all()}
        wijk = conn.execute(select(Wijk)).one()
        gemeente = conn.execute(select(Gemeente)).one()
    assert shapely.from_geojson(stored["BU99990002"].geometry).is_valid
    # Area is measured in RD metres: 500 x 500 m.
    assert stored["BU99990000"].area_m2 == pytest.approx(250_000, rel=1e-6)
    lon, lat = json.loads(stored["BU99990000"].geometry)["coordinates"][0][0]
    assert 5.3 < lon < 5.5 and 52.0 < lat < 52.2  # RD (155000, 463000) is near Amersfoort
    assert wijk.code == "WK999900" and gemeente.code == "GM9999"


def test_file_without_crs_in_rd_coordinates_is_recognised(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "no_crs.geojson"
    gdf = gpd.GeoDataFrame([_row("BU99990000", _square(155000, 463000))], geometry="geometry")
    path.write_text(gdf.to_json())
    assert load_buurten(path, 2024, settings).ok
    with get_engine(settings.warehouse_url).connect() as conn:
        buurt = conn.execute(select(Buurt)).one()
    assert 5.3 < buurt.label_lon < 5.5


BROKEN = {
    "not_geo.geojson": (b"dit is geen geojson", "geen GeoJSON of GeoPackage"),
    "empty.geojson": (b"", "leeg"),
    "garbage.gpkg": (bytes(range(256)) * 20, "geen GeoJSON of GeoPackage"),
    "no_features.geojson": (b'{"type":"FeatureCollection","features":[]}', "geen"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_geo_files_give_a_message_and_change_nothing(
    settings: Settings, real_data: Path, tmp_path: Path, name: str
) -> None:
    load_buurten(real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson", 2024, settings)
    before = snapshot(settings.warehouse_url)
    content, expected = BROKEN[name]
    path = tmp_path / name
    path.write_bytes(content)
    from etl.errors import LoadError

    try:
        out = load_buurten(path, 2024, settings)
        message = out.message
        assert out.status == "failed"
        assert batches(settings.warehouse_url)[-1].status == "failed"
    except LoadError as exc:  # refused before a batch exists (empty file)
        message = str(exc)
    assert expected in message and name in message
    assert snapshot(settings.warehouse_url) == before


def test_missing_columns_are_named(settings: Settings, tmp_path: Path) -> None:
    rows = [{"id": "BU99990000", "geometry": _square(155000, 463000)}]
    out = load_buurten(_write_gpkg_rd(tmp_path / "cols.gpkg", rows), 2024, settings)
    assert out.status == "failed"
    assert "buurtcode" in out.message and "BU_CODE" in out.message and "wijkcode" in out.message


def test_bad_codes_are_rejected_with_row_and_reason_and_too_many_refuse_the_file(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        _row("BU99990000", _square(155000, 463000)),
        _row("BU9999000", _square(155500, 463000)),
        _row("BU99990002", _square(156000, 463000), wijkcode="WK999901"),
    ]
    before = snapshot(settings.warehouse_url)
    out = load_buurten(_write_gpkg_rd(tmp_path / "codes.gpkg", rows), 2024, settings)
    assert out.status == "refused"
    assert "2 van 3 regels afgekeurd" in out.message and "niets geladen" in out.message
    assert snapshot(settings.warehouse_url) == before
    from warehouse.reads import batch_rejects

    _, rejects = batch_rejects(settings.warehouse_url, out.batch_id)
    reasons = {(r.regel, r.kolom): r.reden for r in rejects.itertuples()}
    assert "BU + 8" in reasons[(2, "buurtcode")]
    assert "hoort niet bij deze wijkcode" in reasons[(3, "wijkcode")]
    assert list(settings.quarantine_dir.glob(f"batch_{out.batch_id}_*.csv"))


def test_a_few_bad_rows_load_the_rest_within_the_reject_share(settings: Settings, tmp_path: Path) -> None:
    rows = [_row(f"BU999900{i:02d}", _square(155000 + 500 * i, 463000)) for i in range(30)]
    rows.append(_row("BU99990099", shapely.Polygon()))  # no geometry
    out = load_buurten(_write_gpkg_rd(tmp_path / "mostly_ok.gpkg", rows), 2024, settings)
    assert out.status == "loaded" and out.rows_loaded == 30 and out.rows_rejected == 1
    assert count(settings.warehouse_url, "rejected_row", batch_id=out.batch_id) == 1


def test_unknown_gemeente_filter_is_reported(settings: Settings, real_data: Path) -> None:
    out = load_buurten(real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson", 2024, settings, ["GM0014"])
    assert out.status == "failed" and "GM0014 komt niet voor" in out.message


def test_incidents_are_assigned_on_the_buurt_as_drawn_not_the_map(settings: Settings, tmp_path: Path) -> None:
    """Two buurten share a border with a 1.5 m bump, which the map's 2 m simplification straightens.
    An incident 0.5 m inside the bump belongs to the buurt of the bump, not to its neighbour."""
    import pandas as pd

    from etl.load_bvh import load_bvh
    from tests.test_bvh import GOOD
    from warehouse.models import Incident

    bump = [(155000, 463400), (155001.5, 463400), (155001.5, 463600), (155000, 463600)]
    west = shapely.Polygon([(154000, 463000), (155000, 463000), *bump, (155000, 464000), (154000, 464000)])
    east = shapely.Polygon([(155000, 463000), (156000, 463000), (156000, 464000), (155000, 464000), *bump[::-1]])
    assert west.contains(shapely.Point(155001, 463500)) and not east.contains(shapely.Point(155001, 463500))
    gdf = gpd.GeoDataFrame(
        {
            "buurtcode": ["BU99990001", "BU99990002"],
            "buurtnaam": ["West", "Oost"],
            "wijkcode": ["WK999900"] * 2,
            "wijknaam": ["Centrum"] * 2,
            "gemeentecode": ["GM9999"] * 2,
            "gemeentenaam": ["Voorbeeldstad"] * 2,
        },
        geometry=[west, east],
        crs=geo.RD,
    )
    gdf.to_file(tmp_path / "buurten_2024.gpkg", layer="buurten", driver="GPKG")
    assert load_buurten(tmp_path / "buurten_2024.gpkg", 2024, settings).ok
    with get_engine(settings.warehouse_url).connect() as conn:
        web = shapely.from_geojson(conn.execute(select(Buurt.geometry).where(Buurt.code == "BU99990001")).scalar())
    on_map = gpd.GeoSeries([web], crs=geo.WGS84).to_crs(geo.RD).iloc[0]
    assert not on_map.contains(shapely.Point(155001, 463500))  # the map alone would give it to Oost

    row = {k: v.format(i=1) for k, v in GOOD.items()} | {"X": "155001", "Y": "463500"}
    pd.DataFrame([row]).to_csv(tmp_path / "bvh.csv", sep=";", index=False)
    assert load_bvh(tmp_path / "bvh.csv", settings).ok
    with get_engine(settings.warehouse_url).connect() as conn:
        assert conn.execute(select(Incident.buurt_code)).scalars().all() == ["BU99990001"]
