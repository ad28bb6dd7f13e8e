"""Pure geometry transforms for CBS buurten: GeoDataFrame in, GeoDataFrame/DataFrame out, no I/O.

All measuring and simplifying happens in RD New (EPSG:28992, metres); only the stored web geometry is
WGS84, because that is what a web map draws.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

RD = "EPSG:28992"
WGS84 = "EPSG:4326"

# Web map tolerance. At zoom 15 (a buurt filling a screen) one pixel is ~3 m on the ground at 52°N;
# 2 m keeps simplification below a pixel there, while cutting the vertices of detailed CBS polygons
# by ~5-10x. Shared borders are simplified per polygon, so neighbours may differ by up to 2 m:
# invisible on the map, and areas are measured before simplifying.
SIMPLIFY_TOLERANCE_M = 2.0
# ~0.1 m in WGS84: shorter GeoJSON without visible effect.
COORD_GRID_DEG = 1e-6
# Overlaps smaller than this share of both buurten are border slivers from differently simplified
# geometries, not real transfers of area.
SLIVER_SHARE = 0.05

# RD New's area of validity, generously: coordinates in this box are RD metres, not degrees.
_RD_BOUNDS = (-10_000.0, 280_000.0, 320_000.0, 660_000.0)


def assume_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Files without a usable CRS: RD New when the coordinates are metres in RD's range, else WGS84.

    GeoJSON readers report CRS84 for a file without a crs member, even when its coordinates are RD
    metres (a common export mistake), so a geographic CRS with coordinates beyond ±180° is RD too.
    """
    minx, miny, maxx, maxy = gdf.total_bounds
    in_rd = minx >= _RD_BOUNDS[0] and miny >= _RD_BOUNDS[1] and maxx <= _RD_BOUNDS[2] and maxy <= _RD_BOUNDS[3]
    beyond_degrees = max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90
    if gdf.crs is None:
        return gdf.set_crs(RD if in_rd and beyond_degrees else WGS84)
    if gdf.crs.is_geographic and beyond_degrees and in_rd:
        return gdf.set_crs(RD, allow_override=True)
    return gdf


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygon parts (make_valid may return lines or points next to the area)."""
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            out[i] = None
        elif geom.geom_type in {"Polygon", "MultiPolygon"}:
            out[i] = geom
        else:
            parts = [p for p in shapely.get_parts(geom) if p.geom_type in {"Polygon", "MultiPolygon"}]
            out[i] = shapely.union_all(parts) if parts else None
    return out


def repair(geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, int]:
    """make_valid the invalid geometries; returns the repaired series and how many needed it."""
    values = geoms.values.to_numpy() if hasattr(geoms.values, "to_numpy") else np.asarray(geoms)
    present = ~pd.isna(values)
    invalid = present.copy()
    invalid[present] = ~shapely.is_valid(values[present])
    fixed = values.copy()
    if invalid.any():
        fixed[invalid] = shapely.make_valid(values[invalid])
    fixed = polygonal(fixed)
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs), int(invalid.sum())


def web_geometry(geoms_rd: gpd.GeoSeries) -> pd.Series:
    """Simplified WGS84 GeoJSON text per geometry."""
    simple = shapely.simplify(np.asarray(geoms_rd.values), SIMPLIFY_TOLERANCE_M, preserve_topology=True)
    wgs = gpd.GeoSeries(simple, index=geoms_rd.index, crs=RD).to_crs(WGS84)
    gridded = shapely.set_precision(np.asarray(wgs.values), COORD_GRID_DEG, mode="keep_collapsed")
    return pd.Series(shapely.to_geojson(gridded), index=geoms_rd.index, dtype="str")


def label_points(geoms_rd: gpd.GeoSeries) -> pd.DataFrame:
    points = gpd.GeoSeries(shapely.point_on_surface(np.asarray(geoms_rd.values)), index=geoms_rd.index, crs=RD)
    wgs = points.to_crs(WGS84)
    return pd.DataFrame({"label_lon": wgs.x.round(6), "label_lat": wgs.y.round(6)}, index=geoms_rd.index)


def dissolve(gdf_rd: gpd.GeoDataFrame, by: str) -> gpd.GeoDataFrame:
    """Union of the buurt polygons per wijk or gemeente (their own geometry is not in the buurt file)."""
    return gdf_rd[[by, "geometry"]].dissolve(by=by, as_index=False)


def correspondence(old_rd: gpd.GeoDataFrame, new_rd: gpd.GeoDataFrame, from_year: int, to_year: int) -> pd.DataFrame:
    """Area-overlap correspondence from the buurten of one indeling year to those of another.

    old_rd/new_rd: columns code, geometry (RD). Pairs whose overlap is a sliver for both buurten are
    dropped; share_of_from is renormalised per from-buurt so that counts moved with it are conserved.
    """
    columns = ["from_year", "from_code", "to_year", "to_code", "share_of_from", "share_of_to", "method", "is_primary"]
    if old_rd.empty or new_rd.empty:
        return pd.DataFrame(columns=columns)
    old = old_rd[["code", "geometry"]].rename(columns={"code": "from_code"})
    new = new_rd[["code", "geometry"]].rename(columns={"code": "to_code"})
    old["from_area"] = old.geometry.area
    new["to_area"] = new.geometry.area
    pieces = gpd.overlay(old, new, how="intersection", keep_geom_type=True)
    pieces["overlap"] = pieces.geometry.area
    pairs = pieces.groupby(["from_code", "to_code"], as_index=False).agg(
        overlap=("overlap", "sum"), from_area=("from_area", "first"), to_area=("to_area", "first")
    )
    pairs["share_of_from"] = pairs["overlap"] / pairs["from_area"]
    pairs["share_of_to"] = pairs["overlap"] / pairs["to_area"]
    keep = (pairs["share_of_from"] >= SLIVER_SHARE) | (pairs["share_of_to"] >= SLIVER_SHARE)
    pairs = pairs[keep].copy()
    pairs["share_of_from"] = pairs["share_of_from"] / pairs.groupby("from_code")["share_of_from"].transform("sum")
    pairs["method"] = np.where(pairs["from_code"] == pairs["to_code"], "same_code", "overlap")
    best = pairs.groupby("from_code")["share_of_from"].transform("max")
    # Ties (rare): prefer the same code, so an unchanged buurt always follows itself.
    pairs["rank"] = pairs["share_of_from"].rank(method="first", ascending=False) - (pairs["method"] == "same_code")
    pairs["is_primary"] = False
    primary = pairs[pairs["share_of_from"] == best].sort_values("rank").drop_duplicates("from_code").index
    pairs.loc[primary, "is_primary"] = True
    pairs["from_year"] = from_year
    pairs["to_year"] = to_year
    return pairs[columns].sort_values(["from_code", "to_code"]).reset_index(drop=True)
