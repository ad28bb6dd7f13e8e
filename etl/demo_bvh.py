"""Synthetic police exports in the layout of the real BVH export (Groningen, 33 columns), for the demo
and the benchmarks. Fictitious incidents only: street names, numbers and ids are made up.

Volumes follow national rates per 1 000 inwoners (politie 47025NED/47021NED, raised for a city);
burglary peaks October-March, bicycle theft in autumn, overlast in summer; a few hotspot buurten;
planted anomalies (a group in a buurt in a month at 3-4x its rate) with the truth written next to
the exports, so the monthly analyses can be scored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from etl import bvh

LAYOUT = [
    "Incident Identificatie",
    "Bronregistratie",
    "Incidentsoort code",
    "Incidentsoort",
    "Pleegstraatnaam",
    "Pleeghuisnummer met toev.",
    "Pleegpostcode",
    "Pleegplaats",
    "Pleeggemeente",
    "Pleegprovincie",
    "Pleegwijk",
    "Pleegbuurt",
    "Pleegsubbuurt",
    "Begin-pleegdag v/d week",
    "Begin-pleegdagdeel",
    "Begin-pleegdatum/tijd",
    "Eind-pleegdag v/d week",
    "Eind-pleegdagdeel",
    "Eind-pleegdatum/tijd",
    "Kennisnamedag v/d week",
    "Kennisnamedagdeel",
    "Kennisnamedatum/tijd",
    "Aangifte",
    "Poging",
    "Verdachten",
    "Aanhoudingen",
    "Opgehelderd",
    "Object",
    "Project(en)",
    "Temperatuur",
    "Weer",
    "X",
    "Y",
]
# Registrations per 1 000 inwoners per year, by MK code (a city somewhat above the national rate).
MK_RATES = {
    "A20": 1.2,
    "A30": 0.4,
    "A21": 0.6,
    "A10": 2.6,
    "A70": 0.4,
    "A72": 5.0,
    "A73": 0.6,
    "A40": 0.9,
    "A50": 2.8,
    "F550": 1.8,
    "F551": 0.5,
    "F530": 1.4,
    "F12": 0.3,
    "B70": 0.15,
    "B72": 0.06,
    "C20": 3.0,
    "C30": 1.2,
    "F40": 0.8,
    "E35": 4.0,
    "E33": 3.0,
    "E38": 1.5,
    "M22": 2.0,
    "F90": 0.7,
}
# (amplitude, month of the peak) of the yearly cycle per group.
SEASON = {
    "woninginbraak": (0.35, 12),
    "inbraak_schuur_garage": (0.3, 1),
    "fietsendiefstal": (0.3, 9),
    "overlast": (0.3, 7),
    "geweld": (0.1, 6),
    "vernieling": (0.15, 1),
}
REVISED_MK = {"A20": "A30", "A30": "A20", "A72": "A73", "C20": "C30", "F550": "F551", "E35": "E38", "A10": "A70"}
WEEKDAYS = np.array(["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"])
DAGDELEN = np.array(["nacht", "ochtend", "middag", "avond"])
STREETS = np.array(
    [
        "Dorpsstraat",
        "Kerkstraat",
        "Molenweg",
        "Stationsplein",
        "Havenkade",
        "Parklaan",
        "Schoolstraat",
        "Julianalaan",
        "Beatrixstraat",
        "Lindelaan",
        "Eikenlaan",
        "Marktplein",
        "Bleekveld",
        "Zuiderhof",
    ]
)


@dataclass
class City:
    """What the generator needs of a gemeente: buurten (RD polygons) with population and risk."""

    gemeente: str
    codes: np.ndarray
    names: np.ndarray
    wijk_labels: np.ndarray
    polygons_rd: np.ndarray
    population: np.ndarray
    risk: np.ndarray  # multiplier per buurt (hotspots > 1)


def sample_points(polygons: np.ndarray, per_polygon: int, rng: np.random.Generator) -> np.ndarray:
    """(n_polygons, per_polygon, 2) random points inside each polygon (rejection sampling)."""
    out = np.empty((len(polygons), per_polygon, 2))
    for i, poly in enumerate(polygons):
        minx, miny, maxx, maxy = poly.bounds
        found = np.empty((0, 2))
        while len(found) < per_polygon:
            cand = np.column_stack([rng.uniform(minx, maxx, per_polygon * 3), rng.uniform(miny, maxy, per_polygon * 3)])
            found = np.vstack([found, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
        out[i] = found[:per_polygon]
    return out


def seasonality(mk_codes: list[str], months: np.ndarray) -> np.ndarray:
    """(len(months), len(mk_codes)) multiplier, mean 1 over a year."""
    groups = bvh.categorise(pd.Series(mk_codes)).to_numpy()
    out = np.ones((len(months), len(mk_codes)))
    for j, group in enumerate(groups):
        amplitude, peak = SEASON.get(group, (0.05, 6))
        out[:, j] = 1 + amplitude * np.cos(2 * np.pi * (months - peak) / 12)
    return out


def incident_frame(
    city: City,
    buurt_idx: np.ndarray,
    mk: np.ndarray,
    begin: np.ndarray,
    ids: np.ndarray,
    rng: np.random.Generator,
    points: np.ndarray,
) -> pd.DataFrame:
    """Rows in the BVH layout for incidents given by buurt index, MK code, begin time and id number."""
    n = len(ids)
    _, catalogue = bvh.catalogue()
    window = rng.choice([0, 1, 3, 8, 14, 60], size=n, p=[0.3, 0.25, 0.2, 0.15, 0.08, 0.02]).astype("timedelta64[h]")
    end = begin + window
    delay = (rng.exponential(10, size=n) * 60).astype("int64").astype("timedelta64[m]")
    late = rng.random(n) < 0.03  # registered one to three weeks later
    delay[late] += rng.integers(7, 22, size=late.sum()).astype("timedelta64[D]")
    kennis = end + delay
    pick = rng.integers(0, points.shape[1], size=n)
    xy = points[buurt_idx, pick]

    def day(ts: np.ndarray) -> np.ndarray:
        return WEEKDAYS[(ts.astype("datetime64[D]").view("int64") - 4) % 7]

    def part(ts: np.ndarray) -> np.ndarray:
        hours = (ts.astype("datetime64[h]").view("int64")) % 24
        return DAGDELEN[hours // 6]

    def stamp(ts: np.ndarray) -> np.ndarray:
        return np.char.replace(np.datetime_as_string(ts.astype("datetime64[s]"), unit="s"), "T", " ")

    id_text = np.char.add("PL9999_BVH_", ids.astype("str"))
    return pd.DataFrame(
        {
            "Incident Identificatie": id_text,
            "Bronregistratie": np.char.add("PL9999_BVH_B", ids.astype("str")),
            "Incidentsoort code": mk,
            "Incidentsoort": [catalogue[c].mk_description if c in catalogue else "" for c in mk],
            "Pleegstraatnaam": STREETS[rng.integers(0, len(STREETS), n)],
            "Pleeghuisnummer met toev.": rng.integers(1, 250, n).astype("str"),
            "Pleegpostcode": np.char.add(
                rng.integers(3800, 3899, n).astype("str"),
                np.array(["AB", "CD", "EF", "GH", "JK"])[rng.integers(0, 5, n)],
            ),
            "Pleegplaats": "Voorbeeldstad",
            "Pleeggemeente": "Voorbeeldstad",
            "Pleegprovincie": "Utrecht",
            "Pleegwijk": city.wijk_labels[buurt_idx],
            "Pleegbuurt": city.names[buurt_idx],
            "Pleegsubbuurt": city.names[buurt_idx],
            "Begin-pleegdag v/d week": day(begin),
            "Begin-pleegdagdeel": part(begin),
            "Begin-pleegdatum/tijd": stamp(begin),
            "Eind-pleegdag v/d week": day(end),
            "Eind-pleegdagdeel": part(end),
            "Eind-pleegdatum/tijd": stamp(end),
            "Kennisnamedag v/d week": day(kennis),
            "Kennisnamedagdeel": part(kennis),
            "Kennisnamedatum/tijd": stamp(kennis),
            "Aangifte": np.where(rng.random(n) < 0.8, "J", "N"),
            "Poging": np.where(rng.random(n) < 0.1, "J", "N"),
            "Verdachten": "0",
            "Aanhoudingen": "0",
            "Opgehelderd": np.where(rng.random(n) < 0.1, "J", "N"),
            "Object": "Openbare Weg/-Water",
            "Project(en)": "",
            "Temperatuur": "",
            "Weer": "Geen data aanwezig",
            "X": xy[:, 0].round().astype("int64").astype("str"),
            "Y": xy[:, 1].round().astype("int64").astype("str"),
        }
    )[LAYOUT]


def random_export(city: City, n: int, start: str, end: str, rng: np.random.Generator) -> pd.DataFrame:
    """n incidents spread uniformly over [start, end), weighted by population, risk and MK rates."""
    weights = city.population * city.risk
    buurt_idx = rng.choice(len(city.codes), size=n, p=weights / weights.sum())
    codes = list(MK_RATES)
    rates = np.array([MK_RATES[c] for c in codes])
    mk = np.array(codes)[rng.choice(len(codes), size=n, p=rates / rates.sum())]
    t0, t1 = np.datetime64(start, "m"), np.datetime64(end, "m")
    begin = t0 + rng.integers(0, int((t1 - t0).astype("int64")), size=n).astype("timedelta64[m]")
    points = sample_points(city.polygons_rd, 64, rng)
    return incident_frame(city, buurt_idx, mk, begin, np.arange(1, n + 1), rng, points)


@dataclass
class Anomaly:
    """A planted excess: the group's rate in the buurt that month times `factor`, raised further where
    needed to reach `min_cases` expected cases (a burglary series, not a blip). `baseline` is filled
    in by the generator: the expected count without the anomaly."""

    buurt: str
    group: str
    month: str
    factor: float
    min_cases: float = 0.0
    baseline: float = 0.0


def weekly_exports(
    city: City, first_monday: str, weeks: int, anomalies: list[Anomaly], rng: np.random.Generator
) -> Iterator[tuple[str, pd.DataFrame]]:
    """(ISO week label, export) per week: incidents registered that week, plus late revisions of
    incidents from earlier weeks (a new MK code), as a police analyst delivers them."""
    codes = list(MK_RATES)
    groups = bvh.categorise(pd.Series(codes)).to_numpy()
    rates = np.array([MK_RATES[c] for c in codes]) / 52.18
    points = sample_points(city.polygons_rd, 64, rng)
    start = np.datetime64(first_monday, "m")
    week_starts = start + np.arange(weeks) * np.timedelta64(7, "D")
    months = (week_starts + np.timedelta64(3, "D")).astype("datetime64[M]")
    season = seasonality(codes, months.astype("int64") % 12 + 1)
    lam = (city.population * city.risk / 1000)[None, :, None] * rates[None, None, :] * season[:, None, :]
    month_text = np.datetime_as_string(months, unit="M")
    code_pos = {c: i for i, c in enumerate(city.codes)}
    for a in anomalies:
        cell = np.ix_(month_text == a.month, [code_pos[a.buurt]], groups == a.group)
        a.baseline = float(lam[cell].sum())
        a.factor = float(np.round(max(a.factor, a.min_cases / max(a.baseline, 1e-9)), 2))
        lam[cell] *= a.factor
    counts = rng.poisson(lam)  # (week, buurt, mk)
    w, b, m = np.nonzero(counts)
    reps = counts[w, b, m]
    w, b, m = np.repeat(w, reps), np.repeat(b, reps), np.repeat(m, reps)
    begin = week_starts[w] + rng.integers(0, 7 * 24 * 60, size=len(w)).astype("timedelta64[m]")
    frame = incident_frame(city, b, np.array(codes)[m], begin, np.arange(1, len(w) + 1), rng, points)
    kennis = pd.to_datetime(frame["Kennisnamedatum/tijd"])
    week_of = ((kennis - pd.Timestamp(first_monday)).dt.days // 7).to_numpy()
    for i in range(weeks):
        export = frame[week_of == i]
        earlier = frame[(week_of < i) & (week_of >= i - 3)]
        revised = earlier.sample(frac=0.01, random_state=int(rng.integers(0, 2**31))).copy()
        if len(revised):
            # A corrected classification where one exists, else a corrected (one day earlier) date.
            old = revised["Incidentsoort code"]
            revised["Incidentsoort code"] = old.map(REVISED_MK).fillna(old)
            same = revised["Incidentsoort code"] == old
            shifted = pd.to_datetime(revised.loc[same, "Begin-pleegdatum/tijd"]) - pd.Timedelta(days=1)
            revised.loc[same, "Begin-pleegdatum/tijd"] = shifted.dt.strftime("%Y-%m-%d %H:%M:%S")
        iso = (pd.Timestamp(first_monday) + pd.Timedelta(weeks=i)).isocalendar()
        yield f"{iso[0]}-W{iso[1]:02d}", pd.concat([export, revised])
