"""The dashboard's one query module: every read the dashboard makes is a function here.

All reads are of aggregates (the published cube, areas, indicators, batches), never of incident rows,
except `weekday_dagdeel`, which groups incidents in SQL and protects the result before returning it.
Counts leave this module already masked by buurtbeeld.disclosure for the audience the caller names
(default gedeeld): a hidden count is NaN with its status beside it, so no caller can show what it was;
for the intern audience every count is exact.

Results are cached per warehouse state: the cache key holds the id of the latest load batch, so a new
load invalidates everything at once (DESIGN: "cached per warehouse load").
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from buurtbeeld import disclosure
from buurtbeeld.periods import DAGDELEN, period_start
from warehouse import deliveries, published
from warehouse.bulk import read_frame
from warehouse.db import get_engine
from warehouse.models import (
    Buurt,
    Gemeente,
    Incident,
    Indicator,
    IndicatorValue,
    LoadBatch,
    PublishedCount,
    SavedView,
    WeeklyCount,
    Wijk,
)

P = ParamSpec("P")
T = TypeVar("T")
LEVELS = ("gemeente", "stadsdeel", "wijk", "buurt")
LEVEL_LABELS = {"gemeente": "Gemeente", "stadsdeel": "Stadsdeel", "wijk": "Wijk", "buurt": "Buurt"}
ALL = "*"


STATE_TTL_S = 2.0  # how long a request may trust the last seen load id (a new load shows within 2 s)
_state: dict[str, tuple[float, int]] = {}


def state(url: str) -> int:
    """How many batches have finished: the version the caches are keyed by (a load's batch row is
    written when it starts, its finish time in the transaction that writes its data, so the count
    moves exactly when new data can be read). Re-read at most every STATE_TTL_S seconds, so one page
    render does not ask the database once per query."""
    now = time.monotonic()
    seen = _state.get(url)
    if seen and now - seen[0] < STATE_TTL_S:
        return seen[1]
    with get_engine(url).connect() as conn:
        value = conn.execute(select(func.count(LoadBatch.finished_at))).scalar_one()
    _state[url] = (now, value)
    return value


def cached(fn: Callable[..., T]) -> Callable[..., T]:
    """Memoise fn(url, *args) per warehouse state; arguments must be hashable. DataFrames are handed
    out as copies, so a caller that adds a column cannot change the cached answer."""
    inner = lru_cache(maxsize=512)(lambda version, url, *args: fn(url, *args))
    signature = inspect.signature(fn)

    @wraps(fn)
    def wrapper(url: str, *args: Any, **kwargs: Any) -> T:
        # Defaults filled in and keywords placed, so f(x), f(x, default) and f(x, a=default) share one entry.
        bound = signature.bind(url, *args, **kwargs)
        bound.apply_defaults()
        result = inner(state(url), *bound.args)
        return result.copy() if isinstance(result, pd.DataFrame) else result

    wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
    return wrapper


def _frame(url: str, query: Any, columns: list[str]) -> pd.DataFrame:
    with get_engine(url).connect() as conn:
        return read_frame(conn, query, columns)


# --- what exists -----------------------------------------------------------------------------------


@cached
def gemeenten(url: str) -> list[tuple[str, str]]:
    """(code, name) of gemeenten with published data, by name."""
    pc = PublishedCount
    # An index probe per gemeente (EXISTS on the leading column), not a GROUP BY over the whole cube:
    # the cube has millions of cells and this runs on every page's first render.
    has_cells = select(pc.id).where(pc.gemeente_code == Gemeente.code).exists()
    rows = _frame(
        url,
        select(Gemeente.code, Gemeente.name, Gemeente.indeling_year).where(has_cells),
        ["code", "name", "year"],
    )
    latest = rows.sort_values("year").drop_duplicates("code", keep="last")
    return sorted(zip(latest["code"], latest["name"], strict=True), key=lambda r: r[1])


@cached
def periods(url: str, gemeente: str, period_type: str) -> list[str]:
    """Published periods, oldest first."""
    pc = PublishedCount
    rows = _frame(
        url,
        select(pc.period)
        .where(pc.gemeente_code == gemeente, pc.period_type == period_type, pc.area_level == "gemeente")
        .group_by(pc.period, pc.period_start)
        .order_by(pc.period_start),
        ["period"],
    )
    return rows["period"].tolist()


@cached
def groups(url: str) -> list[tuple[str, str]]:
    """(group_code, Dutch label) of the category groups, by label."""
    from warehouse.models import CrimeCategory

    rows = _frame(url, select(CrimeCategory.group_code, CrimeCategory.group_label).distinct(), ["code", "label"])
    pairs = sorted(set(zip(rows["code"], rows["label"], strict=True)), key=lambda r: r[1])
    return [*pairs, ("onbekend", "Onbekende MK-code")]


@cached
def mk_codes(url: str, gemeente: str, group: str) -> list[tuple[str, str]]:
    """(mk_code, Dutch description) of the MK codes of a group that occur in the gemeente's cube.

    Read from the weekly gemeente cells (an index range): only codes the gemeente has seen are
    offered, not all 225 of the politie list. No counts: option lists carry none."""
    from warehouse.models import CrimeCategory

    pc = PublishedCount
    codes = (
        select(pc.mk_code)
        .where(
            pc.gemeente_code == gemeente,
            pc.period_type == "week",
            pc.area_level == "gemeente",
            pc.area_code == gemeente,
            pc.group_code == group,
            pc.mk_code != ALL,
        )
        .distinct()
        .subquery()
    )
    rows = _frame(
        url,
        select(codes.c.mk_code, CrimeCategory.mk_description).join(
            CrimeCategory, CrimeCategory.mk_code == codes.c.mk_code, isouter=True
        ),
        ["code", "label"],
    )
    labels = rows["label"].where(rows["label"].notna(), "onbekende code")
    return sorted(zip(rows["code"], labels, strict=True))


@cached
def freshness(url: str, gemeente: str) -> dict[str, Any]:
    """Latest week with data, when the latest BVH delivery was loaded, the provisional weeks, and the
    weeks whose police export is missing between deliveries (their months are not complete)."""
    weeks = periods(url, gemeente, "week")
    with get_engine(url).connect() as conn:
        loaded_at = conn.execute(
            select(func.max(LoadBatch.finished_at)).where(LoadBatch.kind == "bvh", LoadBatch.status == "loaded")
        ).scalar()
        batch = conn.execute(select(func.max(LoadBatch.id)).where(LoadBatch.status == "loaded")).scalar()
        prov = conn.execute(
            select(WeeklyCount.iso_year, WeeklyCount.iso_week)
            .where(WeeklyCount.gemeente_code == gemeente, WeeklyCount.is_provisional.is_(True))
            .distinct()
        ).all()
        gaps = deliveries.gap_weeks(conn, gemeente)
    provisional = sorted(f"{y}-W{w:02d}" for y, w in prov)
    return {
        "latest_week": weeks[-1] if weeks else None,
        "loaded_at": loaded_at,
        "provisional": provisional,
        "batch_id": batch,
        "missing": sorted(f"{y}-W{w:02d}" for y, w in gaps),
    }


@cached
def areas(url: str, gemeente: str) -> pd.DataFrame:
    """Every area of the gemeente's published indeling: area_level, area_code, name, wijk, stadsdeel,
    plus geometry (GeoJSON text) and label point for buurten. Pseudo-areas ('onbekend', 'Overig')
    included, so every published cell has a name."""
    with get_engine(url).connect() as conn:
        year = published.latest_year(conn, gemeente)
        hier = published.hierarchy(conn, gemeente, year)
        buurt = pd.DataFrame(
            conn.execute(
                select(Buurt.code, Buurt.name, Buurt.geometry, Buurt.label_lon, Buurt.label_lat).where(
                    Buurt.gemeente_code == gemeente, Buurt.indeling_year == year
                )
            ).all(),
            columns=["area_code", "name", "geometry", "lon", "lat"],
        )
        wijk_names = dict(
            conn.execute(
                select(Wijk.code, Wijk.name).where(Wijk.gemeente_code == gemeente, Wijk.indeling_year == year)
            ).all()
        )
        gm_name = conn.execute(
            select(Gemeente.name).where(Gemeente.code == gemeente, Gemeente.indeling_year == year)
        ).scalar()
    has_sd = hier["stadsdeel"].notna().any()
    hier["stadsdeel"] = hier["stadsdeel"].fillna(published.OTHER_STADSDEEL) if has_sd else None
    b = buurt.merge(hier.rename(columns={"buurt_code": "area_code", "wijk_code": "wijk"}), on="area_code")
    b["area_level"] = "buurt"
    w = pd.DataFrame({"area_code": sorted(set(b["wijk"]))})
    w["name"] = w["area_code"].map(wijk_names).fillna(w["area_code"])
    w["stadsdeel"] = w["area_code"].map(b.groupby("wijk")["stadsdeel"].first())
    frames = [b, w.assign(area_level="wijk", wijk=w["area_code"])]
    if has_sd:
        sd = sorted(set(b["stadsdeel"]))
        frames.append(pd.DataFrame({"area_code": sd, "name": sd, "stadsdeel": sd, "area_level": "stadsdeel"}))
    unknown = published.UNKNOWN
    frames.append(
        pd.DataFrame(
            {
                "area_code": [unknown, unknown] + ([unknown] if has_sd else []),
                "name": ["Onbekende locatie"] * (3 if has_sd else 2),
                "area_level": ["buurt", "wijk"] + (["stadsdeel"] if has_sd else []),
                "wijk": [unknown] * (3 if has_sd else 2),
                "stadsdeel": [unknown if has_sd else None] * (3 if has_sd else 2),
            }
        )
    )
    frames.append(pd.DataFrame({"area_code": [gemeente], "name": [gm_name or gemeente], "area_level": ["gemeente"]}))
    out = pd.concat(frames, ignore_index=True)
    out["indeling_year"] = year
    return out[["area_level", "area_code", "name", "wijk", "stadsdeel", "geometry", "lon", "lat", "indeling_year"]]


@cached
def buurt_geojson(url: str, gemeente: str) -> dict[str, Any]:
    """The buurten as one GeoJSON FeatureCollection (feature id = buurtcode), parsed once per load."""
    a = areas(url, gemeente)
    b = a[(a["area_level"] == "buurt") & a["geometry"].notna()]
    import shapely
    from shapely.geometry import mapping, shape
    from shapely.geometry.polygon import orient

    def clockwise(geom: str) -> dict[str, Any]:
        # d3-geo (plotly's SVG maps) reads rings on the sphere: an exterior ring must run clockwise,
        # or it fills the whole globe except the buurt. MapLibre does not mind either way.
        g = shape(json.loads(geom))
        parts = [orient(p, sign=-1.0) for p in getattr(g, "geoms", [g])]
        return mapping(parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts))

    features = [
        {"type": "Feature", "id": code, "geometry": clockwise(geom), "properties": {}}
        for code, geom in zip(b["area_code"], b["geometry"], strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def area_name(url: str, gemeente: str, level: str, code: str) -> str:
    a = areas(url, gemeente)
    hit = a[(a["area_level"] == level) & (a["area_code"] == code)]
    return str(hit["name"].iloc[0]) if len(hit) else code


# --- counts from the published cube ------------------------------------------------------------------


def _cells_by(
    url: str,
    gemeente: str,
    period_type: str,
    period_list: tuple[str, ...],
    level: str,
    key: str,
    values: list[str],
    audience: str,
    **fixed: str,
) -> pd.DataFrame:
    """period, `key`, count (masked), status for every period x value of `key` ('area_code' or
    'group_code'), the other dimension fixed; cells without a row are zero (zeros are not stored)."""
    pc = PublishedCount.__table__
    rows = _frame(
        url,
        select(pc.c.period, pc.c[key], pc.c.count, pc.c.shared_count, pc.c.status).where(
            pc.c.gemeente_code == gemeente,
            pc.c.period_type == period_type,
            pc.c.period.in_(period_list),
            pc.c.area_level == level,
            *[pc.c[name] == value for name, value in fixed.items()],
        ),
        ["period", key, "count", "shared_count", "status"],
    )
    full = pd.MultiIndex.from_product([list(period_list), values], names=["period", key]).to_frame(index=False)
    out = full.merge(rows, on=["period", key], how="left")
    out["count"] = out["count"].fillna(0)
    out["status"] = out["status"].fillna(disclosure.SHOWN).astype(int)
    group = out[key] if key == "group_code" else fixed.get("group_code", ALL)
    mk = out[key] if key == "mk_code" else fixed.get("mk_code", ALL)
    offered = disclosure.shared_cell(
        np.full(len(out), period_type),
        np.full(len(out), level),
        np.broadcast_to(group, len(out)),
        np.broadcast_to(mk, len(out)),
    )
    return disclosure.for_audience(out, audience, offered)


@cached
def cells(
    url: str,
    gemeente: str,
    period_type: str,
    period_list: tuple[str, ...],
    level: str,
    group: str,
    mk: str = ALL,
    audience: str = disclosure.GEDEELD,
) -> pd.DataFrame:
    """period, area_code, count (NaN when hidden from the audience), status for every area of a level
    and one group (or one MK code of it)."""
    a = areas(url, gemeente)
    codes = a.loc[a["area_level"] == level, "area_code"].tolist()
    return _cells_by(
        url, gemeente, period_type, period_list, level, "area_code", codes, audience, group_code=group, mk_code=mk
    )


@cached
def series(
    url: str,
    gemeente: str,
    period_type: str,
    level: str,
    area: str,
    group: str,
    mk: str = ALL,
    audience: str = disclosure.GEDEELD,
) -> pd.DataFrame:
    """period, period_start, count (masked), status of one area and group (or MK code) over every
    published period."""
    pc = PublishedCount
    rows = _frame(
        url,
        select(pc.period, pc.count, pc.shared_count, pc.status).where(
            pc.gemeente_code == gemeente,
            pc.period_type == period_type,
            pc.area_level == level,
            pc.area_code == area,
            pc.group_code == group,
            pc.mk_code == mk,
        ),
        ["period", "count", "shared_count", "status"],
    )
    from_cube = pd.DataFrame({"period": periods(url, gemeente, period_type)})
    out = from_cube.merge(rows, on="period", how="left")
    out["count"] = out["count"].fillna(0)
    out["status"] = out["status"].fillna(disclosure.SHOWN).astype(int)
    out["period_start"] = [period_start(period_type, p) for p in out["period"]]
    offered = bool(
        disclosure.shared_cell(np.array([period_type]), np.array([level]), np.array([group]), np.array([mk]))[0]
    )
    return disclosure.for_audience(out, audience, offered)


@cached
def area_groups(
    url: str,
    gemeente: str,
    period_type: str,
    period_list: tuple[str, ...],
    level: str,
    area: str,
    audience: str = disclosure.GEDEELD,
) -> pd.DataFrame:
    """period, group_code, count (masked for the audience), status of one area for every group ('*' included)."""
    codes = [ALL, *[c for c, _ in groups(url)]]
    return _cells_by(
        url, gemeente, period_type, period_list, level, "group_code", codes, audience, area_code=area, mk_code=ALL
    )


@cached
def buurt_weeks(
    url: str, gemeente: str, period_list: tuple[str, ...], audience: str = disclosure.GEDEELD
) -> pd.DataFrame:
    """period, area_code, group_code, count (masked for the audience), status of every buurt's weekly
    cells with a count: each category group and the all-categories total ('*'), MK codes summed. Only
    stored cells (zeros are not stored): the weekly list's history, buurten × groups × half a year,
    would be mostly zeros if filled. Weekly buurt cells are outside the shared design, so for the
    gedeeld audience every count is hidden."""
    pc = PublishedCount.__table__
    rows = _frame(
        url,
        # The unique key's order: one index range per week.
        select(pc.c.period, pc.c.area_code, pc.c.group_code, pc.c.count, pc.c.shared_count, pc.c.status).where(
            pc.c.gemeente_code == gemeente,
            pc.c.period_type == "week",
            pc.c.period.in_(period_list),
            pc.c.area_level == "buurt",
            pc.c.mk_code == ALL,
        ),
        ["period", "area_code", "group_code", "count", "shared_count", "status"],
    )
    n = len(rows)
    offered = disclosure.shared_cell(
        np.full(n, "week"), np.full(n, "buurt"), rows["group_code"].to_numpy(), np.full(n, ALL)
    )
    return disclosure.for_audience(rows, audience, offered)


# --- context: population and indicators ------------------------------------------------------------


@cached
def population(url: str, gemeente: str) -> pd.DataFrame:
    """area_level, area_code, inwoners: the latest population per buurt, summed to wijk, stadsdeel and
    gemeente (CBS' own wijk/gemeente figures are used when present)."""
    a = areas(url, gemeente)
    codes = a["area_code"].tolist()
    pop_codes = select(Indicator.code).where(Indicator.is_population.is_(True))
    rows = _frame(
        url,
        select(IndicatorValue.area_code, IndicatorValue.period, IndicatorValue.value).where(
            IndicatorValue.indicator_code.in_(pop_codes), IndicatorValue.area_code.in_(codes)
        ),
        ["area_code", "period", "value"],
    )
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce").astype("float64")
    latest = rows.sort_values("period").groupby("area_code")["value"].last()
    out = a[["area_level", "area_code", "wijk", "stadsdeel"]].copy()
    out["inwoners"] = out["area_code"].map(latest).astype("float64")
    b = out[out["area_level"] == "buurt"]
    for level, key in (("wijk", "wijk"), ("stadsdeel", "stadsdeel")):
        sums = b.groupby(key)["inwoners"].sum(min_count=1).astype("float64")
        summed = out["area_code"].map(sums).astype("float64").where(out["area_level"] == level)
        out["inwoners"] = out["inwoners"].fillna(summed)
    gm = out["area_level"] == "gemeente"
    if out.loc[gm, "inwoners"].isna().all():
        out["inwoners"] = out["inwoners"].where(~gm, float(b["inwoners"].sum(min_count=1)))
    return out[["area_level", "area_code", "inwoners"]]


@cached
def indicators(url: str, gemeente: str) -> pd.DataFrame:
    """Latest value per buurt and indicator: area_code, indicator, label, unit, period, value (NaN
    when secret), with counts of people 1..threshold-1 hidden by the disclosure module."""
    a = areas(url, gemeente)
    rows = _frame(
        url,
        select(
            IndicatorValue.area_code,
            IndicatorValue.indicator_code,
            Indicator.label,
            Indicator.unit,
            IndicatorValue.period,
            IndicatorValue.value,
        )
        .join(Indicator, Indicator.code == IndicatorValue.indicator_code)
        .where(IndicatorValue.area_code.in_(a["area_code"].tolist())),
        ["area_code", "indicator", "label", "unit", "period", "value"],
    )
    rows = rows.sort_values("period").groupby(["area_code", "indicator"], as_index=False).last()
    return rows


# --- incidents by weekday and dagdeel (aggregated in SQL, protected here) ---------------------------


@cached
def weekday_dagdeel(
    url: str, gemeente: str, buurt: str, start: date, end: date, threshold: int, audience: str = disclosure.GEDEELD
) -> pd.DataFrame:
    """weekday (1 = maandag), dagdeel, count, status of every weekday × dagdeel of one buurt and period
    (zeros included): exact for the intern audience, hidden from the gedeeld one (a table of any
    period, not part of the shared design). Every cell is listed and hidden alike: with only the
    non-empty ones, or zeros shown as 0, each hidden cell read "at least 1", and a buurt whose
    total read 5 (1 to 7) with seven of them had seven cells of exactly 1."""
    i = Incident
    rows = _frame(
        url,
        select(i.weekday, i.dagdeel, func.count())
        .where(i.gemeente_code == gemeente, i.buurt_code == buurt, i.pleeg_at >= start, i.pleeg_at < end)
        .group_by(i.weekday, i.dagdeel),
        ["weekday", "dagdeel", "count"],
    )
    grid = pd.MultiIndex.from_product([range(1, 8), DAGDELEN], names=["weekday", "dagdeel"])
    rows = rows.assign(weekday=rows["weekday"].astype(int)).set_index(["weekday", "dagdeel"])["count"]
    rows = rows.reindex(grid.union(rows.index), fill_value=0).reset_index()
    # Counted from incidents for any period: the intern audience's table only, never shared.
    rows["status"] = disclosure.SHOWN
    return disclosure.for_audience(rows.assign(shared_count=np.nan), audience, offered=False)


# --- operations (Beheer) ---------------------------------------------------------------------------


@cached
def batches(url: str, limit: int = 200) -> pd.DataFrame:
    b = LoadBatch
    return _frame(
        url,
        select(
            b.id,
            b.kind,
            b.file_name,
            b.status,
            b.rows_in,
            b.rows_loaded,
            b.rows_rejected,
            b.message,
            b.started_at,
            b.finished_at,
            b.run_by,
        )
        .order_by(b.id.desc())
        .limit(limit),
        [
            "id",
            "kind",
            "file_name",
            "status",
            "rows_in",
            "rows_loaded",
            "rows_rejected",
            "message",
            "started_at",
            "finished_at",
            "run_by",
        ],
    )


@cached
def delivery_quality(url: str, limit: int = 200) -> pd.DataFrame:
    """Per BVH batch: rows, share without a buurt ('onbekend'), unknown MK codes (from the batch summary)."""
    b = LoadBatch
    rows = _frame(
        url,
        select(b.id, b.file_name, b.finished_at, b.rows_in, b.summary)
        .where(b.kind == "bvh", b.status == "loaded")
        .order_by(b.id.desc())
        .limit(limit),
        ["id", "file_name", "finished_at", "rows_in", "summary"],
    )

    def share_unknown(summary: Any) -> float | None:
        s = summary if isinstance(summary, dict) else json.loads(summary or "{}")
        routes = s.get("toewijzing", {})
        total = sum(routes.values())
        return routes.get("onbekend", 0) / total if total else None

    def unknown_mk(summary: Any) -> str:
        s = summary if isinstance(summary, dict) else json.loads(summary or "{}")
        return ", ".join(sorted(s.get("onbekende_mk_codes", {}))) or "–"

    rows["share_onbekend"] = rows["summary"].map(share_unknown)
    rows["unknown_mk"] = rows["summary"].map(unknown_mk)
    return rows.drop(columns="summary")


def delivery_registers(url: str, now: datetime | None = None) -> list[deliveries.Register]:
    """Per gemeente the weeks its police files cover and the expected weeks missing (not cached: a
    week falls due by the clock, not by a load)."""
    with get_engine(url).connect() as conn:
        return deliveries.registers(conn, now or datetime.now(UTC))


def rejects(url: str, batch_id: int) -> pd.DataFrame:
    from warehouse.reads import batch_rejects

    return batch_rejects(url, batch_id)[1]


# --- saved views -----------------------------------------------------------------------------------


def saved_views(url: str, owner: str) -> pd.DataFrame:
    query = (
        select(SavedView.id, SavedView.name, SavedView.path, SavedView.query, SavedView.created_at)
        .where(SavedView.owner == owner)
        .order_by(SavedView.name)
    )
    with get_engine(url).connect() as conn:
        return read_frame(conn, query, ["id", "name", "path", "query", "created_at"])


def save_view(url: str, owner: str, name: str, path: str, query: str) -> None:
    """Store or replace a named view (the page path and its URL query string)."""
    from datetime import UTC, datetime

    from warehouse.upsert import upsert

    with get_engine(url).begin() as conn:
        upsert(
            conn,
            SavedView.__table__,
            [{"owner": owner, "name": name, "path": path, "query": query, "created_at": datetime.now(UTC)}],
            ["owner", "name"],
            ["path", "query", "created_at"],
        )


def delete_view(url: str, owner: str, view_id: int) -> None:
    from sqlalchemy import delete

    with get_engine(url).begin() as conn:
        conn.execute(delete(SavedView).where(SavedView.owner == owner, SavedView.id == view_id))


# --- monthly analyses (stored already through disclosure control) ----------------------------------


@cached
def analysis_months(url: str, gemeente: str) -> list[str]:
    from warehouse.models import AreaAnalysis

    rows = _frame(
        url,
        select(AreaAnalysis.month)
        .where(AreaAnalysis.gemeente_code == gemeente, AreaAnalysis.superseded_at.is_(None))
        .distinct(),
        ["month"],
    )
    return sorted(rows["month"])


@cached
def analyses(url: str, gemeente: str, month: str) -> pd.DataFrame:
    """The current analyses of a month: area_level, area_code, name, stadsdeel, headline, content,
    n_notable, created_at, batch_id, method, and how many earlier versions were superseded."""
    from warehouse.models import AnalysisRun, AreaAnalysis

    aa, run = AreaAnalysis, AnalysisRun
    rows = _frame(
        url,
        select(
            aa.area_level,
            aa.area_code,
            aa.name,
            aa.stadsdeel,
            aa.headline,
            aa.content,
            aa.n_notable,
            run.created_at,
            run.based_on_batch_id,
            run.method,
        )
        .join(run, run.id == aa.run_id)
        .where(aa.gemeente_code == gemeente, aa.month == month, aa.superseded_at.is_(None)),
        [
            "area_level",
            "area_code",
            "name",
            "stadsdeel",
            "headline",
            "content",
            "n_notable",
            "created_at",
            "batch_id",
            "method",
        ],
    )
    superseded = _frame(
        url,
        select(aa.area_level, aa.area_code, func.count(aa.id))
        .where(aa.gemeente_code == gemeente, aa.month == month, aa.superseded_at.is_not(None))
        .group_by(aa.area_level, aa.area_code),
        ["area_level", "area_code", "superseded"],
    )
    out = rows.merge(superseded, on=["area_level", "area_code"], how="left")
    out["superseded"] = out["superseded"].fillna(0).astype(int)
    for column in ("content", "method"):
        out[column] = [json.loads(v) if isinstance(v, str) else v for v in out[column]]
    order = {"gemeente": 0, "stadsdeel": 1, "wijk": 2, "buurt": 3}
    return out.assign(_o=out["area_level"].map(order)).sort_values(["_o", "name"]).drop(columns="_o")
