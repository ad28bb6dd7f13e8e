"""The demo gemeente Voorbeeldstad (GM9999): fictitious, deterministic, in the real file formats.

It writes what a gemeente would receive (a CBS buurtkaart as GeoPackage in RD New, a CBS Kerncijfers
CSV, the gemeente's own indicator spreadsheet, a stadsdelen mapping) and loads them through the same
loaders as real files. Nothing here describes real people or places.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from buurtbeeld.progress import Progress, unchanged
from buurtbeeld.settings import Settings
from etl import geo
from etl.demo_bvh import Anomaly, City, weekly_exports

SEED = 2026
GEMEENTE_CODE, GEMEENTE_NAAM = "GM9999", "Voorbeeldstad"
INDELING_YEAR = 2024
CENTRE_RD = (155_000.0, 463_000.0)  # fictitious: any point inside RD's range will do
RADIUS_M = 4_500.0
WIJKEN = [
    "Binnenstad",
    "Oude Haven",
    "Molenwijk",
    "Parkwijk",
    "Spoorzone",
    "De Akkers",
    "Hoogveld",
    "Waterkwartier",
    "Bosrand",
    "Nieuw-West",
    "Kerkebuurt",
    "Industriehaven",
]
BUURT_SUFFIXES = ["Noord", "Zuid", "Oost", "West", "Midden"]
STADSDELEN = ["Centrum", "Noord", "Oost", "Zuid-West"]
BUURTEN_PER_WIJK = 5


WEEKS = 156  # three years of weekly deliveries
N_ANOMALIES = 20
ANOMALY_MIN_CASES = 14.0  # expected cases in a planted month: enough to matter to a stadsdeel manager


@dataclass
class DemoFiles:
    buurten: Path
    stadsdelen: Path
    kerncijfers: Path
    gemeente_indicatoren: Path
    bvh: list[Path] = field(default_factory=list)
    anomalies: Path | None = None


def _voronoi_in(region: shapely.Geometry, points: np.ndarray) -> list[shapely.Geometry]:
    """Cells of the points clipped to region, in the order of the points."""
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=region)
    parts = list(shapely.get_parts(cells))
    ordered = []
    for x, y in points:
        pt = shapely.Point(x, y)
        cell = next(c for c in parts if c.contains(pt))
        ordered.append(cell.intersection(region))
    return ordered


def _points_in(region: shapely.Geometry, n: int, rng: np.random.Generator, spacing: float) -> np.ndarray:
    minx, miny, maxx, maxy = region.bounds
    found: list[tuple[float, float]] = []
    while len(found) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if region.contains(shapely.Point(x, y)) and all(np.hypot(x - a, y - b) > spacing for a, b in found):
            found.append((x, y))
    return np.array(found)


def make_buurten(
    rng: np.random.Generator, wijken: list[str] = WIJKEN, per_wijk: int = BUURTEN_PER_WIJK, radius: float = RADIUS_M
) -> gpd.GeoDataFrame:
    """Buurten (60 in 12 wijken by default), as CBS 2024 snake_case attributes, in RD New."""
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    radii = radius * (1 + 0.12 * np.sin(3 * angles) + 0.05 * rng.standard_normal(72))
    city = shapely.Polygon(
        np.column_stack([CENTRE_RD[0] + radii * np.cos(angles), CENTRE_RD[1] + radii * np.sin(angles)])
    )
    wijk_seeds = _points_in(city.buffer(-600), len(wijken), rng, spacing=1500)
    # The wijk closest to the centre is the Binnenstad.
    order = np.argsort(np.hypot(wijk_seeds[:, 0] - CENTRE_RD[0], wijk_seeds[:, 1] - CENTRE_RD[1]))
    wijk_seeds = wijk_seeds[order]
    records = []
    for w, wijk in enumerate(_voronoi_in(city, wijk_seeds)):
        wijkcode = f"WK9999{w:02d}"
        seeds = _points_in(wijk.buffer(-100), per_wijk, rng, spacing=250)
        for b, cell in enumerate(_voronoi_in(wijk, seeds)):
            records.append(
                {
                    "buurtcode": f"BU9999{w:02d}{b:02d}",
                    "buurtnaam": f"{wijken[w]}-{BUURT_SUFFIXES[b] if b < len(BUURT_SUFFIXES) else b + 1}",
                    "wijkcode": wijkcode,
                    "wijknaam": wijken[w],
                    "gemeentecode": GEMEENTE_CODE,
                    "gemeentenaam": GEMEENTE_NAAM,
                    "water": "NEE",
                    "geometry": cell,
                }
            )
    return gpd.GeoDataFrame(records, geometry="geometry", crs=geo.RD)


def stadsdelen_for(buurten: gpd.GeoDataFrame) -> pd.DataFrame:
    """Binnenstad and its nearest neighbour form Centrum; the other ten wijken go, in compass order,
    into three stadsdelen of 3-4 wijken each, named after the direction they lie in."""
    wijken = buurten.dissolve(by="wijkcode", as_index=False)
    centre = wijken.geometry.centroid
    angle = np.degrees(np.arctan2(centre.y - CENTRE_RD[1], centre.x - CENTRE_RD[0])) % 360
    outer = sorted(range(2, len(wijken)), key=lambda i: angle.iloc[i])
    chunks = [outer[0:3], outer[3:6], outer[6:]]
    directions = {"Oost": 0.0, "Noord": 90.0, "Zuid-West": 225.0}

    def mean_angle(chunk: list[int]) -> float:
        rad = np.radians(angle.iloc[chunk])
        return float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())) % 360)

    def gap(a: float, b: float) -> float:
        return min(abs(a - b), 360 - abs(a - b))

    best = min(
        itertools.permutations(directions),
        key=lambda names: sum(gap(mean_angle(c), directions[n]) for c, n in zip(chunks, names, strict=True)),
    )
    name_of = {i: "Centrum" for i in (0, 1)}
    for chunk, name in zip(chunks, best, strict=True):
        name_of.update({i: name for i in chunk})
    return pd.DataFrame(
        [
            {"Stadsdeel": name_of[i], "Wijkcode": code, "Wijknaam": WIJKEN[i]}
            for i, code in enumerate(wijken["wijkcode"])
        ]
    )


def make_population(buurten: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Inhabitants and a hidden deprivation score per buurt; a few buurten are nearly empty."""
    n = len(buurten)
    inwoners = np.round(rng.lognormal(np.log(1900), 0.55, n) / 5) * 5
    empty = rng.choice(n, size=3, replace=False)  # business park, park, harbour: CBS hides their figures
    inwoners[empty] = rng.choice([0, 5, 15, 35], size=3)
    deprivation = rng.beta(2, 4, n)
    deprivation[buurten["wijkcode"].isin(["WK999901", "WK999906"]).to_numpy()] += 0.35  # two poorer wijken
    return pd.DataFrame(
        {
            "code": buurten["buurtcode"].to_numpy(),
            "inwoners": inwoners.astype(int),
            "deprivation": np.clip(deprivation, 0, 1),
        }
    )


def kerncijfers(buurten: gpd.GeoDataFrame, pop: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A CBS 85984NED-style wide table (padded codes, numbered keys, -99997 for secret values)."""
    inw = pop["inwoners"].to_numpy()
    dep = pop["deprivation"].to_numpy()
    share_young = np.clip(0.16 + 0.05 * rng.standard_normal(len(inw)) + 0.05 * dep, 0.05, 0.35)
    hh_size = np.clip(2.1 + 0.3 * rng.standard_normal(len(inw)) - 0.2 * dep, 1.2, 3.2)
    huishoudens = np.round(inw / hh_size / 5) * 5
    area_km2 = buurten.geometry.area.to_numpy() / 1e6
    table = pd.DataFrame(
        {
            "WijkenEnBuurten": buurten["buurtcode"].to_numpy(),
            "Gemeentenaam_1": GEMEENTE_NAAM.ljust(40),
            "SoortRegio_2": "Buurt     ",
            "Codering_3": buurten["buurtcode"].to_numpy(),
            "AantalInwoners_5": inw,
            "k_0Tot15Jaar_8": np.round(inw * share_young / 5) * 5,
            "k_65JaarOfOuder_12": np.round(
                inw * np.clip(0.2 - 0.08 * dep + 0.04 * rng.standard_normal(len(inw)), 0.03, 0.5) / 5
            )
            * 5,
            "HuishoudensTotaal_29": huishoudens,
            "GemiddeldeHuishoudensgrootte_33": hh_size.round(1),
            "Bevolkingsdichtheid_34": np.round(inw / area_km2),
            "GemiddeldeWOZWaardeVanWoningen_35": np.round(420 - 220 * dep + 30 * rng.standard_normal(len(inw))),
            "HuishoudensMetEenLaagInkomen_78": np.round(4 + 22 * dep + rng.standard_normal(len(inw)), 1),
            "PersonenPerSoortUitkeringBijstand_86": np.round(inw * (0.01 + 0.07 * dep) / 10) * 10,
        }
    )
    small = inw < 50
    for column in [
        "k_0Tot15Jaar_8",
        "k_65JaarOfOuder_12",
        "GemiddeldeHuishoudensgrootte_33",
        "GemiddeldeWOZWaardeVanWoningen_35",
        "HuishoudensMetEenLaagInkomen_78",
        "PersonenPerSoortUitkeringBijstand_86",
    ]:
        table[column] = table[column].astype("float64")
        table.loc[small, column] = -99997  # CBS: geheim
    wijk_rows = (
        table.assign(WijkenEnBuurten=buurten["wijkcode"].to_numpy())
        .groupby("WijkenEnBuurten", as_index=False)[["AantalInwoners_5", "HuishoudensTotaal_29"]]
        .sum()
    )
    wijk_rows["Gemeentenaam_1"] = GEMEENTE_NAAM.ljust(40)
    wijk_rows["SoortRegio_2"] = "Wijk      "
    wijk_rows["Codering_3"] = wijk_rows["WijkenEnBuurten"]
    wijk_rows["WijkenEnBuurten"] = wijk_rows["WijkenEnBuurten"].str.ljust(10)
    return pd.concat([table, wijk_rows], ignore_index=True)


def gemeente_indicatoren(pop: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The gemeente's own registrations, long form, three years."""
    rows = []
    rates = {
        "schuldhulpverlening": 0.012,
        "huurachterstanden": 0.015,
        "bijzondere_bijstand": 0.03,
        "wmo_clienten": 0.05,
    }
    for year in (2023, 2024, 2025):
        for code, inw, dep in pop[["code", "inwoners", "deprivation"]].itertuples(index=False):
            for indicator, rate in rates.items():
                expected = inw * rate * (0.4 + 2.2 * dep) * (1 + 0.04 * (year - 2023))
                rows.append(
                    {
                        "Buurtcode": code,
                        "Indicator": indicator,
                        "Periode": str(year),
                        "Waarde": int(rng.poisson(expected)),
                        "Eenheid": "aantal",
                        "Bron": "Gemeente Voorbeeldstad, sociaal domein",
                    }
                )
    return pd.DataFrame(rows)


def last_complete_week_start(today: date) -> date:
    """Monday of the last full ISO week before today: what the Monday-morning delivery covers."""
    return today - timedelta(days=today.weekday() + 7)


def demo_city(buurten: gpd.GeoDataFrame, pop: pd.DataFrame) -> City:
    risk = 0.6 + 1.2 * pop["deprivation"].to_numpy()
    risk[buurten["wijkcode"].to_numpy() == "WK999900"] *= 1.8  # the Binnenstad is a hotspot
    labels = np.array([f"Wijk {c[-2:]} {n}" for c, n in zip(buurten["wijkcode"], buurten["wijknaam"], strict=True)])
    return City(
        GEMEENTE_CODE,
        buurten["buurtcode"].to_numpy(),
        buurten["buurtnaam"].to_numpy(),
        labels,
        np.asarray(buurten.geometry.values),
        pop["inwoners"].to_numpy().astype(float),
        risk,
    )


def plant_anomalies(city: City, months: list[str], rng: np.random.Generator) -> list[Anomaly]:
    """Known truth for scoring the monthly analyses: groups in populated buurten at 3-4x their rate and
    at least ANOMALY_MIN_CASES cases, in months that have a year of history before them."""
    populated = np.flatnonzero(city.population > 1500)
    months = months[12:]
    if not months:  # a short history (the tests' small gemeente) has no month with a year before it
        return []
    groups = ["overlast", "fietsendiefstal", "vernieling", "geweld", "woninginbraak"]
    return [
        Anomaly(
            str(city.codes[rng.choice(populated)]),
            groups[i % len(groups)],
            months[rng.integers(0, len(months))],
            float(np.round(rng.uniform(3.0, 4.0), 1)),
            ANOMALY_MIN_CASES,
        )
        for i in range(N_ANOMALIES)
    ]


def _spoil(frame: pd.DataFrame, week: int) -> pd.DataFrame:
    """A handful of bad rows, as real deliveries have: no id, an unreadable date, an Excel-mangled code."""
    frame = frame.copy()
    row = frame.index[0]
    kind = (week // 13) % 3
    if kind == 0:
        frame.loc[row, "Incident Identificatie"] = ""
    elif kind == 1:
        frame.loc[row, "Kennisnamedatum/tijd"] = "31-02-2025"
        frame.loc[row, "Begin-pleegdatum/tijd"] = "gisteren"
    else:
        frame.loc[row, "Incidentsoort code"] = "17-dec"
    return frame


def write_bvh_exports(
    target: Path,
    buurten: gpd.GeoDataFrame,
    pop: pd.DataFrame,
    rng: np.random.Generator,
    today: date,
    plant: bool = True,
    progress: Progress = unchanged,
    weeks: int = WEEKS,
) -> tuple[list[Path], Path]:
    """`weeks` weekly exports (the demo: 156) up to the last complete week: xlsx, every fourth as
    ;-separated cp1252 CSV."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("bvh_*"):
        old.unlink()
    city = demo_city(buurten, pop)
    first = last_complete_week_start(today) - timedelta(weeks=weeks - 1)
    months = sorted({(first + timedelta(weeks=w, days=3)).strftime("%Y-%m") for w in range(weeks)})[1:-2]
    anomalies = plant_anomalies(city, months, rng) if plant else []
    truth = target / "geplante_afwijkingen.csv"
    paths = []
    exports = weekly_exports(city, first.isoformat(), weeks, anomalies, rng)
    for i, (label, frame) in enumerate(progress(exports, weeks, "Demo-exports schrijven")):
        if i % 13 == 5:
            frame = _spoil(frame, i)
        if i % 4 == 3:
            path = target / f"bvh_export_voorbeeldstad_{label}.csv"
            frame.to_csv(path, sep=";", index=False, encoding="cp1252")
        else:
            path = target / f"bvh_export_voorbeeldstad_{label}.xlsx"
            frame.to_excel(path, index=False, sheet_name="Incidenten")
        paths.append(path)
    # Written after generation: the generator fills in each anomaly's baseline and effective factor.
    pd.DataFrame([vars(a) for a in anomalies], columns=list(Anomaly.__dataclass_fields__)).to_csv(truth, index=False)
    return paths, truth


def write_files(
    target: Path,
    today: date | None = None,
    plant: bool = True,
    progress: Progress = unchanged,
    weeks: int = WEEKS,
) -> DemoFiles:
    """The demo gemeente's files; fewer `weeks` give the same city with a shorter history (the tests'
    small gemeente)."""
    rng = np.random.default_rng(SEED)
    target.mkdir(parents=True, exist_ok=True)
    buurten = make_buurten(rng)
    pop = make_population(buurten, rng)
    files = DemoFiles(
        buurten=target / "cbs_wijkenbuurten_2024_voorbeeldstad.gpkg",
        stadsdelen=target / "stadsdelen_voorbeeldstad.xlsx",
        kerncijfers=target / "cbs_85984NED_2024_kerncijfers_voorbeeldstad.csv",
        gemeente_indicatoren=target / "sociaal_domein_per_buurt_2023_2025.xlsx",
    )
    for path in (files.buurten, files.stadsdelen, files.kerncijfers, files.gemeente_indicatoren):
        path.unlink(missing_ok=True)
    buurten.to_file(files.buurten, layer="buurten", driver="GPKG")
    stadsdelen_for(buurten).to_excel(files.stadsdelen, index=False, sheet_name="Stadsdelen")
    kerncijfers(buurten, pop, rng).to_csv(files.kerncijfers, index=False)
    gemeente_indicatoren(pop, rng).to_excel(files.gemeente_indicatoren, index=False, sheet_name="Indicatoren")
    files.bvh, files.anomalies = write_bvh_exports(
        target / "bvh", buurten, pop, rng, today or date.today(), plant, progress, weeks
    )
    return files


def run_demo(
    settings: Settings,
    plant: bool = True,
    again: bool = False,
    today: date | None = None,
    progress: Progress = unchanged,
) -> Iterator[str]:
    """Generate the demo files, load them into the configured warehouse and write the monthly analyses
    of every month; yields progress lines. `plant=False` gives the same city without planted anomalies
    (the null run of benchmarks/analyses_quality.py). A warehouse that already holds the demo up to
    the last complete week, with its analyses, is left as it is unless `again`: opening the demo a
    second time takes seconds, not minutes. `progress` wraps the long steps (the CLI shows a bar)."""
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from etl.load_indicators import load_indicators
    from etl.load_stadsdelen import load_stadsdelen
    from warehouse.db import upgrade

    upgrade(settings.warehouse_url)
    today = today or date.today()
    if not again and _complete(settings, today):
        yield (
            "De demo staat al in het warehouse, bijgewerkt t/m de laatste volledige week: niets opnieuw "
            "geladen (buurtbeeld demo --opnieuw maakt alles opnieuw)."
        )
        yield from _warehouse_summary(settings)
        return
    files = write_files(settings.data_dir / "demo", today=today, plant=plant, progress=progress)
    yield f"Demobestanden geschreven in {files.buurten.parent}"
    outcomes = [
        load_buurten(files.buurten, INDELING_YEAR, settings, run_by="demo"),
        load_stadsdelen(files.stadsdelen, settings, run_by="demo"),
        load_indicators(files.kerncijfers, settings, period=str(INDELING_YEAR), run_by="demo"),
        load_indicators(files.gemeente_indicatoren, settings, run_by="demo"),
    ]
    for outcome in outcomes:
        yield f"  [{outcome.status}] {outcome.message}"
    bvh_outcomes = [
        load_bvh(path, settings, run_by="demo")
        for path in progress(files.bvh, len(files.bvh), f"{len(files.bvh)} BVH-exports laden")
    ]
    loaded = [o for o in bvh_outcomes if o.status == "loaded"]
    yield (
        f"  [bvh] {len(loaded)} exports geladen, {sum(o.rows_loaded for o in loaded)} regels, "
        f"{sum(o.rows_rejected for o in bvh_outcomes)} afgekeurd (zie buurtbeeld batches)"
    )
    outcomes += bvh_outcomes
    failed = [o for o in outcomes if not o.ok]
    if failed:
        from etl.errors import LoadError

        raise LoadError("Demo niet volledig geladen: " + "; ".join(o.message for o in failed))
    from etl.analyses import generate_all

    done = generate_all(settings, GEMEENTE_CODE, run_by="demo", progress=progress)
    yield (
        f"  [analyses] {len(done)} maanden geanalyseerd ({done[0].month} t/m {done[-1].month}), "
        f"{sum(g.notable for g in done)} opvallende uitkomsten"
        if done
        else "  [analyses] te weinig maanden voor een analyse"
    )
    yield from _warehouse_summary(settings)


def _complete(settings: Settings, today: date) -> bool:
    """Whether the warehouse holds the demo gemeente up to the last complete week before `today`, and
    its monthly analyses."""
    from sqlalchemy import func, select

    from warehouse import published
    from warehouse.db import get_engine
    from warehouse.models import AreaAnalysis

    latest = last_complete_week_start(today).isocalendar()
    with get_engine(settings.warehouse_url).connect() as conn:
        weeks = published.all_weeks(conn, GEMEENTE_CODE)
        analyses = conn.execute(
            select(func.count()).select_from(AreaAnalysis).where(AreaAnalysis.gemeente_code == GEMEENTE_CODE)
        ).scalar_one()
    return len(weeks) >= WEEKS and max(weeks) == (latest.year, latest.week) and analyses > 0


def _warehouse_summary(settings: Settings) -> Iterator[str]:
    from sqlalchemy import func, select

    from warehouse.db import get_engine
    from warehouse.models import Buurt, IndicatorValue, Stadsdeel, Wijk

    with get_engine(settings.warehouse_url).connect() as conn:
        n_buurt = conn.execute(
            select(func.count()).select_from(Buurt).where(Buurt.gemeente_code == GEMEENTE_CODE)
        ).scalar()
        n_wijk = conn.execute(
            select(func.count()).select_from(Wijk).where(Wijk.gemeente_code == GEMEENTE_CODE)
        ).scalar()
        n_sd = conn.execute(
            select(func.count()).select_from(Stadsdeel).where(Stadsdeel.gemeente_code == GEMEENTE_CODE)
        ).scalar()
        n_ind = conn.execute(
            select(func.count(func.distinct(IndicatorValue.indicator_code))).where(
                IndicatorValue.area_code.like("BU9999%")
            )
        ).scalar()
    from sqlalchemy.engine import make_url

    yield (
        f"Voorbeeldstad ({GEMEENTE_CODE}): {n_sd} stadsdelen, {n_wijk} wijken, {n_buurt} buurten, "
        f"{n_ind} indicatoren per buurt."
    )
    yield f"Warehouse: {make_url(settings.warehouse_url).render_as_string(hide_password=True)}"
