"""An independent test city for the analyses benchmark: weekly negative-binomial counts per buurt and
category, with their truth (expected count and dispersion per series and month).

Independent of the demo generator (etl.demo, etl.demo_bvh), and on purpose unlike it:

* **Buurten**: the 108 buurten of Groningen 2017 (CBS buurtkaart; codes, wijk structure and number of
  inhabitants) read from ../shared/data/real/ (see its PROVENANCE.md), re-coded per replicate gemeente
  (GM8xxx) and drawn as squares; the demo makes 60 Voronoi buurten with uniform populations.
* **Counts**: gamma-mixed Poisson (negative binomial) at two levels: a gamma week effect with shape
  k_week and a gamma month effect (one per series and month, shared by its weeks) with shape k_month;
  the demo draws plain Poisson counts.
* **Seasonal shapes**: twelve monthly factors per category that are not sinusoids (a dark-season
  block with a summer-holiday bump for burglary, the academic year for bicycle theft, New Year spikes
  for vandalism and nuisance, a December peak for shoplifting), and a buurt-specific amplitude; the
  demo uses one cosine per category.
* **Hotspots and trends**: a city centre wijk, random hotspot cells (×3–8), a floor of activity in
  buurten without inhabitants (business parks), a log-normal buurt × category factor, a city-wide
  trend per category and a random trend per series (some buurten grow fast).
* **Anomalies** (in the analysed months): rises stratified by the true expected count (3–5, 5–10,
  10–30, 30–100) and multiplier band (1.5–2, 2–3, 3–4), drops ×0.2–0.5, and one lasting doubling of
  one buurt × category from the first analysed month on; a series gets at most one anomaly, so
  sample size comes from replicate gemeenten rather than from planting the same series again.

Delivered as gemeenten do: the buurt-level counts form (Buurtcode;Week;Categorie;Aantal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
GRONINGEN = REAL / "geometry" / "cbs_buurten_2017_groningen_wgs84.geojson"

# Registrations per 1 000 inhabitants per month (city level), and twelve seasonal factors (Jan..Dec).
CATEGORIES: dict[str, tuple[float, list[float]]] = {
    "woninginbraak": (0.55, [1.30, 1.20, 1.00, 0.80, 0.75, 0.75, 0.90, 1.00, 0.80, 1.00, 1.45, 1.55]),
    "fietsendiefstal": (2.60, [0.90, 1.00, 1.00, 1.00, 1.05, 1.00, 0.60, 0.75, 1.45, 1.35, 1.05, 0.85]),
    "overlast": (3.80, [1.30, 0.75, 0.80, 0.95, 1.10, 1.15, 1.10, 1.10, 1.00, 0.90, 0.85, 1.40]),
    "geweld": (1.10, [1.05, 1.10, 0.95, 1.00, 1.05, 1.05, 0.95, 0.95, 1.00, 0.95, 0.95, 1.00]),
    "winkeldiefstal": (0.50, [0.90, 0.85, 0.90, 0.90, 0.90, 0.90, 0.95, 0.95, 0.90, 0.95, 1.10, 1.80]),
    "vernieling": (0.80, [1.50, 0.85, 0.85, 0.90, 0.95, 0.90, 0.85, 0.85, 0.90, 0.95, 0.95, 1.60]),
    "diefstal_uit_voertuig": (0.70, [1.10, 1.00, 0.95, 0.90, 0.90, 0.95, 1.05, 1.10, 1.00, 1.00, 1.00, 1.05]),
    "bedrijfsinbraak": (0.20, [1.25, 1.15, 1.00, 0.85, 0.80, 0.80, 0.85, 0.90, 0.95, 1.05, 1.15, 1.25]),
    "zakkenrollerij": (0.15, [0.90, 0.80, 0.85, 0.90, 1.00, 1.10, 1.25, 1.20, 0.95, 0.90, 1.00, 1.15]),
}
CITY_TREND = {"woninginbraak": -0.08, "fietsendiefstal": -0.03, "overlast": 0.05, "winkeldiefstal": 0.06}
# Each series' trend per year: the city's plus a normal deviation; a share of buurten grows fast.
SERIES_TREND_SD, GROWING_SHARE, GROWING_SLOPE = 0.06, 0.08, 0.15
CENTRE = {"overlast": 3.0, "geweld": 3.0, "zakkenrollerij": 6.0, "winkeldiefstal": 5.0, "fietsendiefstal": 4.0}
BUSINESS = {"bedrijfsinbraak": 6.0, "diefstal_uit_voertuig": 2.0, "winkeldiefstal": 2.0}
STRATA = [(3.0, 5.0), (5.0, 10.0), (10.0, 30.0), (30.0, 100.0)]
BANDS = [(1.5, 2.0), (2.0, 3.0), (3.0, 4.0)]
DROP = (0.2, 0.5)
MONTHS_PER_YEAR_WEEKS = 12 / 52.1775


@dataclass
class Template:
    """The buurten every replicate gemeente copies: wijk and buurt number, name, inhabitants."""

    wijk: np.ndarray  # 'WW'
    buurt: np.ndarray  # 'BB'
    names: np.ndarray
    population: np.ndarray


def groningen(n_buurten: int | None = None) -> Template:
    """Groningen's 2017 buurten (real codes and inhabitants); the first `n_buurten` wijken-ordered."""
    import json

    features = json.loads(GRONINGEN.read_text())["features"]
    props = sorted((f["properties"] for f in features), key=lambda p: p["BU_CODE"])
    if n_buurten:
        props = props[:n_buurten]
    pop = np.array([max(0.0, float(p["AANT_INW"] or 0)) for p in props])
    return Template(
        np.array([p["BU_CODE"][6:8] for p in props]),
        np.array([p["BU_CODE"][8:10] for p in props]),
        np.array([p["BU_NAAM"] for p in props]),
        pop,
    )


def month_weeks(first: str, last: str) -> tuple[list[str], list[tuple[int, int]], np.ndarray]:
    """Months first..last, the ISO weeks that belong to them (Thursday rule, as the warehouse counts),
    and the month index of each week."""
    months = [str(p) for p in pd.period_range(first, last, freq="M")]
    weeks, month_of = [], []
    for i, m in enumerate(months):
        day = date.fromisoformat(f"{m}-01")
        day += timedelta(days=(3 - day.weekday()) % 7)
        while day.strftime("%Y-%m") == m:
            y, w, _ = day.isocalendar()
            weeks.append((y, w))
            month_of.append(i)
            day += timedelta(days=7)
    return months, weeks, np.array(month_of)


@dataclass
class Anomaly:
    buurt: str
    group: str
    month: str
    kind: str  # 'stijging' | 'daling' | 'verdubbeling'
    factor: float
    expected: float  # true expected count without the anomaly
    stratum: str
    band: str


@dataclass
class Gemeente:
    """One replicate gemeente: its codes, the weekly counts, and the truth."""

    code: str
    buurten: np.ndarray  # buurt codes
    wijken: np.ndarray  # wijk code per buurt
    names: np.ndarray
    groups: list[str]
    months: list[str]
    weeks: list[tuple[int, int]]
    counts: np.ndarray  # (buurt, group, week) int
    mu: np.ndarray  # (buurt, group, month) true expected monthly count, without anomalies
    inv_size: np.ndarray  # (buurt, group, month) true NB2 1/k of the monthly count (moment-matched)
    anomalies: list[Anomaly] = field(default_factory=list)


def stratum_of(mu: float) -> str:
    for lo, hi in STRATA:
        if lo <= mu < hi or (hi == STRATA[-1][1] and lo <= mu <= hi):
            return f"{lo:g}-{hi:g}"
    return ""


def make_gemeente(
    code: str,
    template: Template,
    first: str,
    last: str,
    analysed: int,
    k_week: float,
    k_month: float,
    rng: np.random.Generator,
    plant: bool,
    per_cell: int = 1,
) -> Gemeente:
    """Weekly NB counts for every buurt × category from `first` to `last`; with `plant`, anomalies in
    the last `analysed` months (per month `per_cell` rises per stratum, the band turning month by month,
    and one drop, the stratum from 5 up turning) and one lasting doubling from the first analysed month
    on; each series at most one of them."""
    months, weeks, month_of = month_weeks(first, last)
    groups = list(CATEGORIES)
    nb, ng, nw, nm = len(template.population), len(groups), len(weeks), len(months)
    pop = template.population
    # Activity: inhabitants, with a floor for buurten where few live (business parks, the station).
    business = pop < 300
    base = np.maximum(pop, 250.0)[:, None] * np.array([CATEGORIES[g][0] for g in groups])[None, :] / 1000
    factor = rng.lognormal(-0.08, 0.4, (nb, ng))
    centre = template.wijk == "00"
    for j, g in enumerate(groups):
        factor[centre, j] *= CENTRE.get(g, 1.0)
        factor[business, j] *= BUSINESS.get(g, 0.5)
    hot = rng.random((nb, ng)) < 0.04
    factor[hot] *= rng.uniform(3, 8, hot.sum())
    base = base * factor  # per month, mean season and no trend
    # Seasonality: the category's shape with a buurt-specific amplitude.
    shape = np.array([CATEGORIES[g][1] for g in groups])
    shape = shape / shape.mean(axis=1, keepdims=True)
    amplitude = rng.uniform(0.5, 1.5, (nb, 1, 1))
    cal = np.array([int(m[5:7]) - 1 for m in months])
    season = np.clip(1 + amplitude * (shape[None, :, cal] - 1), 0.2, None)  # (nb, ng, nm)
    # Trends: city-wide per category plus per series; a few buurten grow fast (new housing).
    years = (np.arange(nm) - (nm - 1)) / 12  # 0 at the last month
    slope = np.array([CITY_TREND.get(g, 0.0) for g in groups])[None, :] + rng.normal(0, SERIES_TREND_SD, (nb, ng))
    growing = rng.random(nb) < GROWING_SHARE
    slope[growing] += GROWING_SLOPE
    trend = np.exp(slope[:, :, None] * years[None, None, :])
    monthly = base[:, :, None] * season * trend  # (nb, ng, nm)
    lam = monthly[:, :, month_of] * MONTHS_PER_YEAR_WEEKS  # per week, before the anomalies
    onehot = (month_of[:, None] == np.arange(nm)[None, :]).astype(float)  # (week, month)
    mu, sq = lam @ onehot, (lam**2) @ onehot
    # Y = Poisson(lam · G · W): Var = mu + mu²/k_month + (1 + 1/k_month) Σ lam²/k_week.
    im, iw = 1.0 / k_month, 1.0 / k_week
    inv_size = im + (1 + im) * iw * sq / mu**2

    wk, bk = template.wijk, template.buurt
    buurten = np.array([f"BU{code[2:]}{w}{b}" for w, b in zip(wk, bk, strict=True)])
    wijken = np.array([f"WK{code[2:]}{w}" for w in wk])
    mult = np.ones((nb, ng, nm))
    anomalies: list[Anomaly] = []
    if plant:
        first_analysed = nm - analysed
        used = np.zeros((nb, ng), dtype=bool)
        # The lasting doubling: a quiet series with 8-20 expected a month, not a hotspot.
        cand = np.argwhere((mu[:, :, first_analysed] >= 8) & (mu[:, :, first_analysed] <= 20) & ~hot)
        b, g = cand[rng.integers(len(cand))]
        used[b, g] = True
        mult[b, g, first_analysed:] = 2.0
        for t in range(first_analysed, nm):
            expected = float(mu[b, g, t])
            anomalies.append(Anomaly(buurten[b], groups[g], months[t], "verdubbeling", 2.0, expected, "", ""))
        # At most one anomaly per series: planted anew every month, the few series with 30-100 expected
        # (about 13 per gemeente) carried an anomaly in half their months, so their own history was
        # mostly outbreaks, which no surveillance baseline is built for and the oracle never sees.
        # The band turns per stratum and gemeente from a drawn offset, so no calendar month (December's
        # peaks, the last analysed month) always gets the same band.
        offset = rng.integers(len(BANDS), size=len(STRATA))
        for i, t in enumerate(range(first_analysed, nm)):
            plan = [
                ("stijging", s, BANDS[(i + j + offset[si]) % len(BANDS)])
                for si, s in enumerate(STRATA)
                for j in range(per_cell)
            ]
            plan.append(("daling", STRATA[1 + (i + offset[0]) % (len(STRATA) - 1)], DROP))
            for kind, (lo, hi), (f_lo, f_hi) in plan:
                cand = np.argwhere((mu[:, :, t] >= lo) & (mu[:, :, t] < hi) & ~used)
                if not len(cand):
                    continue
                b, g = cand[rng.integers(len(cand))]
                used[b, g] = True
                f = float(np.round(rng.uniform(f_lo, f_hi), 2))
                mult[b, g, t] = f
                band = f"x{f_lo:g}-{f_hi:g}"
                expected = float(mu[b, g, t])
                anomalies.append(
                    Anomaly(buurten[b], groups[g], months[t], kind, f, expected, stratum_of(expected), band)
                )
    g_month = rng.gamma(k_month, 1.0 / k_month, (nb, ng, nm)) if np.isfinite(k_month) else np.ones((nb, ng, nm))
    w_week = rng.gamma(k_week, 1.0 / k_week, (nb, ng, nw)) if np.isfinite(k_week) else np.ones((nb, ng, nw))
    counts = rng.poisson(lam * (mult * g_month)[:, :, month_of] * w_week)
    return Gemeente(code, buurten, wijken, template.names, groups, months, weeks, counts, mu, inv_size, anomalies)


def counts_rows(gm: Gemeente) -> pd.DataFrame:
    """The buurt-level delivery: Buurtcode;Week;Categorie;Aantal (zero cells left out, as a BVH query
    that counts registrations returns them)."""
    b, g, w = np.nonzero(gm.counts)
    labels = np.array([f"{y}-W{wk:02d}" for y, wk in gm.weeks])
    return pd.DataFrame(
        {
            "Buurtcode": gm.buurten[b],
            "Week": labels[w],
            "Categorie": np.array(gm.groups)[g],
            "Aantal": gm.counts[b, g, w],
        }
    )


def buurtkaart(gemeenten: list[Gemeente], path: Path) -> Path:
    """A CBS-style buurtkaart (GeoPackage, RD New): each buurt a 400 m square, wijken in rows, each
    gemeente 15 km east of the previous one."""
    import geopandas as gpd
    import shapely

    records = []
    for i, gm in enumerate(gemeenten):
        x0, y0 = 20_000.0 + 15_000.0 * i, 450_000.0
        for j, (code, wijk, name) in enumerate(zip(gm.buurten, gm.wijken, gm.names, strict=True)):
            row, col = int(wijk[-2:]), j % 20
            x, y = x0 + 400 * col, y0 + 400 * row
            records.append(
                {
                    "buurtcode": code,
                    "buurtnaam": name,
                    "wijkcode": wijk,
                    "wijknaam": f"Wijk {wijk[-2:]}",
                    "gemeentecode": gm.code,
                    "gemeentenaam": f"Toetsstad {gm.code[2:]}",
                    "water": "NEE",
                    "geometry": shapely.box(x, y, x + 390, y + 390),
                }
            )
    gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:28992").to_file(path, layer="buurten", driver="GPKG")
    return path
