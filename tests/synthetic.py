"""A small synthetic gemeente for the analyses and DAG tests: the demo's buurten and stadsdelen, and
buurt-level weekly counts (the second BVH delivery form) generated in one file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from buurtbeeld.settings import Settings
from etl.demo import SEED, kerncijfers, make_buurten, make_population, stadsdelen_for
from etl.load_buurten import load_buurten
from etl.load_stadsdelen import load_stadsdelen

GROUPS = {"Woninginbraak": 0.8, "Fietsen- en bromfietsdiefstal": 1.5, "Overlast": 2.0}  # per buurt per week
WEEKS = [(year, week) for year in (2024, 2025) for week in range(1, 53)]
HOT = "Woninginbraak"


def counts_file(path: Path, codes: list[str], weeks: list[tuple[int, int]], seed: int, hot: str | None) -> Path:
    """A buurt-level delivery: Poisson counts; in December 2025 one buurt gets 8 burglaries a week."""
    rng = np.random.default_rng(seed)
    rows = []
    for code in codes:
        for label, rate in GROUPS.items():
            for year, week in weeks:
                n = rng.poisson(rate)
                if code == hot and label == HOT and (year, week) >= (2025, 49):
                    n = 8
                rows.append((code, f"{year}-W{week:02d}", label, n))
    pd.DataFrame(rows, columns=["Buurtcode", "Week", "Categorie", "Aantal"]).to_csv(path, sep=";", index=False)
    return path


def write_city(folder: Path) -> tuple[Path, Path, list[str]]:
    """The demo's CBS buurtkaart and stadsdelen file; returns their paths and the buurtcodes."""
    buurten = make_buurten(np.random.default_rng(SEED))
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "wijkenbuurten_2024.gpkg"
    buurten.to_file(gpkg, layer="buurten", driver="GPKG")
    stadsdelen = folder / "stadsdelen.xlsx"
    stadsdelen_for(buurten).to_excel(stadsdelen, index=False)
    return gpkg, stadsdelen, sorted(buurten["buurtcode"])


def write_kerncijfers(folder: Path) -> Path:
    """The demo's CBS Kerncijfers table (wide, as CBS publishes it) for the same buurten."""
    rng = np.random.default_rng(SEED)
    buurten = make_buurten(rng)
    path = folder / "cbs_85984NED_2024_kerncijfers.csv"
    kerncijfers(buurten, make_population(buurten, rng), rng).to_csv(path, index=False)
    return path


def setup_city(settings: Settings, folder: Path) -> list[str]:
    gpkg, stadsdelen, codes = write_city(folder)
    assert load_buurten(gpkg, 2024, settings).ok
    assert load_stadsdelen(stadsdelen, settings).ok
    return codes
