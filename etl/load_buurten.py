"""Load a CBS wijk- en buurtkaart (GeoPackage or GeoJSON, RD New or WGS84) for one indeling year."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, delete, insert, select

from buurtbeeld.settings import Settings
from etl import geo
from etl.batch import LoadOutcome, Prepared, run_load
from etl.columns import map_columns
from etl.errors import LoadError
from schemas.areas import CleanBuurt, RawBuurt
from schemas.validation import validate
from warehouse.models import Buurt, BuurtCorrespondence, Gemeente, Wijk

# CBS publishes the map with shapefile-style names (BU_CODE) up to ~2020 and snake_case since.
ALIASES: dict[str, tuple[str, ...]] = {
    "buurtcode": ("buurtcode", "BU_CODE", "statcode", "CODE"),
    "buurtnaam": ("buurtnaam", "BU_NAAM", "statnaam", "NAAM"),
    "wijkcode": ("wijkcode", "WK_CODE"),
    "wijknaam": ("wijknaam", "WK_NAAM"),
    "gemeentecode": ("gemeentecode", "GM_CODE"),
    "gemeentenaam": ("gemeentenaam", "GM_NAAM"),
}
REQUIRED = ("buurtcode", "buurtnaam", "wijkcode", "gemeentecode")
_CODE_COLUMNS = ("buurtcode", "wijkcode", "gemeentecode")


def load_buurten(
    path: Path, year: int, settings: Settings, gemeenten: Sequence[str] = (), run_by: str = "cli"
) -> LoadOutcome:
    wanted = sorted({g.strip().upper() for g in gemeenten if g.strip()})
    return run_load(
        "buurten",
        path,
        {"jaar": year, "gemeenten": wanted},
        lambda p: prepare_buurten(p, year, wanted),
        settings,
        run_by,
    )


def read_geo(path: Path) -> gpd.GeoDataFrame:
    import pyogrio
    from pyogrio.errors import DataSourceError

    try:
        layers = pyogrio.list_layers(path)
        names = [str(n) for n, _ in layers]
        layer = next((n for n in names if "buurt" in n.lower()), names[0] if names else None)
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (DataSourceError, ValueError, OSError, RuntimeError) as exc:
        raise LoadError(
            f"{path.name}: geen GeoJSON of GeoPackage met buurtvlakken (kan niet gelezen worden: {exc})."
        ) from None
    if gdf.empty:
        raise LoadError(f"{path.name}: het bestand bevat geen buurten.")
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        raise LoadError(f"{path.name}: het bestand bevat geen geometrie (een buurtkaart is nodig).")
    return gdf


def normalise(gdf: gpd.GeoDataFrame, file_name: str, gemeenten: Sequence[str]) -> gpd.GeoDataFrame:
    """Canonical text columns, codes trimmed and upper-case, 1-based feature numbers as index."""
    attrs = map_columns(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), ALIASES, REQUIRED, file_name)
    out = pd.DataFrame(index=pd.RangeIndex(1, len(gdf) + 1, name="row_number"))
    for column in ALIASES:
        values = attrs[column] if column in attrs else pd.Series(None, index=attrs.index)
        text = values.astype("str").where(values.notna()).str.strip().to_numpy()
        out[column] = pd.Series(text, index=out.index, dtype="str")
    for column in _CODE_COLUMNS:
        out[column] = out[column].str.upper()
    result = gpd.GeoDataFrame(out, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    if gemeenten:
        present = set(result["gemeentecode"].dropna())
        unknown = [g for g in gemeenten if g not in present]
        if unknown:
            raise LoadError(
                f"{file_name}: gemeente {', '.join(unknown)} komt niet voor in dit bestand "
                f"({len(present)} gemeenten, bv. {', '.join(sorted(present)[:5])})."
            )
        result = result[result["gemeentecode"].isin(gemeenten)]
    return result


def prepare_buurten(path: Path, year: int, gemeenten: Sequence[str]) -> Prepared:
    raw = read_geo(path)
    gdf = normalise(raw, path.name, gemeenten)
    gdf = geo.assume_crs(gdf)
    try:
        gdf = gdf.to_crs(geo.RD)
    except Exception as exc:  # pyproj raises several types for unusable CRSs
        raise LoadError(f"{path.name}: coördinatenstelsel {gdf.crs} kan niet naar RD worden omgezet: {exc}") from None
    repaired, n_repaired = geo.repair(gdf.geometry)
    gdf = gdf.set_geometry(repaired)
    attrs = pd.DataFrame(gdf.drop(columns="geometry"))
    attrs["has_geometry"] = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.fillna(True).to_numpy()
    valid, rejects = validate(RawBuurt, attrs)
    if valid.empty:
        return Prepared(len(gdf), 0, rejects, lambda conn, batch_id: {}, {"geometrie_hersteld": n_repaired})

    geoms = gdf.geometry.loc[valid.index]
    clean = valid.copy()
    clean["indeling_year"] = year
    clean["geometry_geojson"] = geo.web_geometry(geoms)
    clean["area_m2"] = geoms.area.round(1)
    clean = clean.join(geo.label_points(geoms))
    clean = CleanBuurt.validate(clean, lazy=True)
    buurten_rd = gpd.GeoDataFrame(clean, geometry=geoms, crs=geo.RD)
    summary = {"geometrie_hersteld": n_repaired, "gemeenten": sorted(clean["gemeentecode"].unique().tolist())}

    def write(conn: Connection, batch_id: int) -> dict[str, Any]:
        # New areas change the hierarchy (and the correspondence): republish those gemeenten entirely.
        return {
            **summary,
            **write_areas(conn, batch_id, year, buurten_rd),
            "_publish": dict.fromkeys(summary["gemeenten"]),
        }

    return Prepared(len(gdf), len(clean), rejects, write, summary)


def _area_rows(gdf_rd: gpd.GeoDataFrame, by: str) -> pd.DataFrame:
    dissolved = geo.dissolve(gdf_rd, by)
    dissolved.index = dissolved[by]
    return pd.DataFrame({"geometry": geo.web_geometry(dissolved.geometry), "area_m2": dissolved.geometry.area.round(1)})


def _text_or(value: object, default: str) -> str:
    return default if value is None or pd.isna(value) or not str(value).strip() else str(value)


def write_areas(conn: Connection, batch_id: int, year: int, buurten: gpd.GeoDataFrame) -> dict[str, Any]:
    """Replace this year's areas of the gemeenten in the file, then rebuild their correspondences."""
    gm_codes = sorted(buurten["gemeentecode"].unique())
    for model in (Buurt, Wijk):
        conn.execute(delete(model).where(model.indeling_year == year, model.gemeente_code.in_(gm_codes)))
    conn.execute(delete(Gemeente).where(Gemeente.indeling_year == year, Gemeente.code.in_(gm_codes)))

    gemeenten = _area_rows(buurten, "gemeentecode")
    names = buurten.groupby("gemeentecode")["gemeentenaam"].first()
    conn.execute(
        insert(Gemeente),
        [
            {
                "indeling_year": year,
                "code": code,
                "name": _text_or(names.get(code), code),
                "geometry": row.geometry,
                "area_m2": row.area_m2,
                "batch_id": batch_id,
            }
            for code, row in gemeenten.iterrows()
        ],
    )
    wijken = _area_rows(buurten, "wijkcode")
    first = buurten.groupby("wijkcode")[["wijknaam", "gemeentecode"]].first()
    conn.execute(
        insert(Wijk),
        [
            {
                "indeling_year": year,
                "code": code,
                "name": _text_or(first.at[code, "wijknaam"], f"Wijk {code}"),
                "gemeente_code": first.at[code, "gemeentecode"],
                "geometry": row.geometry,
                "area_m2": row.area_m2,
                "batch_id": batch_id,
            }
            for code, row in wijken.iterrows()
        ],
    )
    conn.execute(
        insert(Buurt),
        [
            {
                "indeling_year": year,
                "code": code,
                "name": name,
                "wijk_code": wk,
                "gemeente_code": gm,
                "geometry": gj,
                "geometry_rd": rd,
                "area_m2": area,
                "label_lon": lon,
                "label_lat": lat,
                "batch_id": batch_id,
            }
            for code, name, wk, gm, gj, rd, area, lon, lat in zip(
                buurten["buurtcode"],
                buurten["buurtnaam"],
                buurten["wijkcode"],
                buurten["gemeentecode"],
                buurten["geometry_geojson"],
                shapely.to_wkb(np.asarray(buurten.geometry.values)),
                buurten["area_m2"],
                buurten["label_lon"],
                buurten["label_lat"],
                strict=True,
            )
        ],
    )
    corr = rebuild_correspondence(conn, year, buurten)
    return {"buurten": len(buurten), "wijken": len(wijken), "gemeenten_geladen": len(gemeenten), **corr}


def _stored_buurten(conn: Connection, year: int, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Buurten of another year whose label point lies within the bounds (WGS84), as RD geometries."""
    minx, miny, maxx, maxy = bounds
    margin = 0.02  # ~1.5 km: buurten straddling the edge of the new area
    rows = conn.execute(
        select(Buurt.code, Buurt.geometry).where(
            Buurt.indeling_year == year,
            Buurt.label_lon.between(minx - margin, maxx + margin),
            Buurt.label_lat.between(miny - margin, maxy + margin),
        )
    ).all()
    if not rows:
        return gpd.GeoDataFrame({"code": []}, geometry=[], crs=geo.RD)
    geoms = shapely.from_geojson([r.geometry for r in rows])
    return gpd.GeoDataFrame({"code": [r.code for r in rows]}, geometry=geoms, crs=geo.WGS84).to_crs(geo.RD)


def rebuild_correspondence(conn: Connection, year: int, buurten_rd: gpd.GeoDataFrame) -> dict[str, Any]:
    """Correspondence with the nearest earlier and later indeling years already in the warehouse."""
    years = set(conn.execute(select(Buurt.indeling_year).distinct()).scalars())
    earlier = max((y for y in years if y < year), default=None)
    later = min((y for y in years if y > year), default=None)
    bounds = tuple(buurten_rd.to_crs(geo.WGS84).total_bounds)
    new = gpd.GeoDataFrame(
        {"code": buurten_rd["buurtcode"].to_numpy()}, geometry=buurten_rd.geometry.to_numpy(), crs=geo.RD
    )
    summary: dict[str, Any] = {}
    for other, is_from in ((earlier, True), (later, False)):
        if other is None:
            continue
        stored = _stored_buurten(conn, other, bounds)
        old, newer = (stored, new) if is_from else (new, stored)
        from_year, to_year = (other, year) if is_from else (year, other)
        pairs = geo.correspondence(old, newer, from_year, to_year)
        _delete_pairs(conn, from_year, to_year, old["code"].tolist(), newer["code"].tolist())
        if len(pairs):
            conn.execute(insert(BuurtCorrespondence), pairs.to_dict("records"))
        changed = int((~pairs["is_primary"] | (pairs["method"] != "same_code")).sum()) if len(pairs) else 0
        summary[f"correspondentie_{from_year}_{to_year}"] = {"paren": len(pairs), "gewijzigd": changed}
    return summary


def _delete_pairs(conn: Connection, from_year: int, to_year: int, from_codes: list[str], to_codes: list[str]) -> None:
    base = (BuurtCorrespondence.from_year == from_year, BuurtCorrespondence.to_year == to_year)
    for column, codes in ((BuurtCorrespondence.from_code, from_codes), (BuurtCorrespondence.to_code, to_codes)):
        for start in range(0, len(codes), 5000):
            conn.execute(delete(BuurtCorrespondence).where(*base, column.in_(codes[start : start + 5000])))
