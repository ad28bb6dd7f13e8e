"""The monthly statistics on real registrations: is the predictive distribution calibrated where
nothing was planted?

`analyses_quality.py` scores the tests on generated data whose truth it knows. Real data have no
known truth, but they have what no generator was designed to have. Two real sources from
../shared/data/real (see its PROVENANCE.md), never copied into the repository:

* **groningen**: Groningen's BVH export of bicycle theft January 2013 - September 2017 (15 947 incidents), loaded end to
  end (the 2017 buurtkaart, `load_bvh`) and analysed month by month from January 2014 as a gemeente
  that started delivering in January 2013 would have it (`assess_month`: buurten and wijken, one
  category);
* **mik**: politie "Misdaad in kaart", woninginbraak and pogingen per PC4, the full months
  2023-05..2026-05, with the PC4 as buurt and its first digit as gemeente (nine regions of ~370
  buurten), straight into `month_statistics` from the 13th month on. No population: the exposure is
  the days of the month.

Real series have real outbreaks, so there is no null flag rate to measure. What a calibrated test
must show is in the bulk: the randomised probability integral transform (PIT) of every
non-degenerate buurt test under the product's predictive distribution, P(Y < y) + U P(Y = y), is
uniform where nothing happened, and most months are such. Its deciles show how it is off (a U:
the predictive distribution too narrow; a hump: too wide; a slope: the expected count biased). Real
outbreaks only add to the outer deciles and to the small p-values.

    .venv/bin/python benchmarks/analyses_real.py [--workdir DIR] [--bron groningen|mik|beide]

Writes test-artifacts/analyses_real.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REAL = ROOT.parent / "shared" / "data" / "real"
GRONINGEN = REAL / "crime" / "politie_bvh_export_fietsdiefstal_groningen_2013_2017.xlsx"
BUURTEN_2017 = REAL / "geometry" / "cbs_buurten_2017_groningen_wgs84.geojson"
MIK = REAL / "crime" / "politie_misdaad_in_kaart_woninginbraak_per_pc4_2023_2026.csv"
ARTIFACT = ROOT / "test-artifacts" / "analyses_real.md"
SEED = 20261205
LAST = "2017-08"  # the export ends in September 2017


def randomised_pit(p_up: np.ndarray, p_down: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """P(Y < y) + U P(Y = y) from the tails P(Y >= y) and P(Y <= y): uniform under the model."""
    below = 1.0 - p_up
    return below + rng.uniform(size=len(p_up)) * np.clip(p_down - below, 0.0, 1.0)


def groningen_tests(workdir: Path) -> pd.DataFrame:
    """Every buurt test of every month 2014-01..2017-08 (the last full month) of the real Groningen
    export (p_up, p_down, observed, expected, direction, kind)."""
    from benchmarks.analyses_quality import captured_assessments
    from buurtbeeld import notable
    from buurtbeeld.settings import Settings
    from etl import analyses
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from warehouse.db import upgrade

    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'groningen.sqlite'}"
    upgrade(url)
    settings = Settings(data_dir=workdir / "var", warehouse_url=url, hash_secret="benchmark")
    assert load_buurten(BUURTEN_2017, 2017, settings).ok
    out = load_bvh(GRONINGEN, settings)
    assert out.status == "loaded", out.message
    inputs = analyses.read_inputs(settings, "GM0014", LAST)
    frames = []
    for month in analyses.month_range("2014-01", LAST):
        cells = inputs.cells[inputs.cells["period"] <= month]
        with captured_assessments() as seen:
            frame, *_ = analyses.assess_month(replace(inputs, month=month, cells=cells), notable.DEFAULT)
        a = seen[-1]
        rows = ((frame["area_level"] == "buurt") & (frame["group_code"] != analyses.ALL) & a.tested).to_numpy()
        frames.append(_rows(a, rows, month, "GM0014", frame["group_code"].to_numpy()[rows]))
    return pd.concat(frames, ignore_index=True)


def _rows(a: object, rows: np.ndarray, month: str, gemeente: str, group: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gemeente": gemeente,
            "month": month,
            "group": group,
            "observed": a.observed[rows],
            "expected": a.expected[rows],
            "p_up": a.p_up[rows],
            "p_down": a.p_down[rows],
            "direction": a.direction[rows],
            "kind": a.kind[rows],
        }
    )


def mik_tests() -> pd.DataFrame:
    """Every PC4 test of the months 2024-05..2026-05 (12 months of history or more) of Misdaad in
    kaart, per region (the PC4's first digit) as one gemeente."""
    from buurtbeeld import notable
    from etl import analyses

    raw = pd.read_csv(MIK, dtype=str)
    raw["month"] = pd.to_datetime(raw["Datum"], format="%d-%m-%Y").dt.strftime("%Y-%m")
    months = analyses.month_range("2023-05", "2026-05")  # the first and last months are partial
    raw = raw[raw["month"].isin(months)]
    raw["group"] = np.where(raw["Soort"].str.startswith("Poging"), "poging", "woninginbraak")
    counts = raw.groupby(["Postcode", "group", "month"]).size().unstack("month", fill_value=0)
    counts = counts.reindex(columns=months, fill_value=0)
    days = np.array([pd.Period(m).days_in_month for m in months], dtype=float)
    frames = []
    for region, part in counts.groupby(counts.index.get_level_values("Postcode").str[0]):
        # Every PC4 of the region gets both categories (a row of zeros where it had none).
        pc4 = part.index.get_level_values("Postcode").unique()
        full = part.reindex(pd.MultiIndex.from_product([pc4, ["poging", "woninginbraak"]]), fill_value=0)
        keys = pd.DataFrame(
            {
                "area_level": "buurt",
                "area_code": full.index.get_level_values(0),
                "group_code": full.index.get_level_values(1),
            }
        )
        dense = full.to_numpy(dtype=float)
        for t in range(12, len(months)):
            offset = np.broadcast_to(days[: t + 1], (len(keys), t + 1))
            a = analyses.month_statistics(dense[:, : t + 1], offset, keys, ["poging", "woninginbraak"], notable.DEFAULT)
            rows = a.tested
            frames.append(_rows(a, rows, months[t], f"PC{region}", keys["group_code"].to_numpy()[rows]))
    return pd.concat(frames, ignore_index=True)


def summary(tests: pd.DataFrame, rng: np.random.Generator) -> dict[str, object]:
    """Deciles of the randomised PIT (each should hold 10 %), Kolmogorov-Smirnov distance, and the
    share of two-sided p-values below 0.1, 0.01 and 0.001 against those levels, and flags."""
    from scipy import stats

    pit = randomised_pit(tests["p_up"].to_numpy(), tests["p_down"].to_numpy(), rng)
    deciles = np.histogram(pit, bins=np.linspace(0, 1, 11))[0] / len(pit)
    p_two = np.minimum(1.0, 2 * np.minimum(tests["p_up"], tests["p_down"]))
    flags = tests["direction"].fillna("").astype(str)
    return {
        "tests": len(tests),
        "deciles": deciles,
        "ks": float(stats.kstest(pit, "uniform").statistic),
        "p<0.1": float((p_two < 0.1).mean() / 0.1),
        "p<0.01": float((p_two < 0.01).mean() / 0.01),
        "p<0.001": float((p_two < 0.001).mean() / 0.001),
        "hoog": int((flags == "hoog").sum()),
        "laag": int((flags == "laag").sum()),
    }


def table(results: dict[str, pd.DataFrame], rng: np.random.Generator) -> str:
    """A Markdown table: one row per source, then one per category where a source has several.

    Not per band of the expected count: a band picks the series whose estimate came out high or low
    by chance (with mostly small series, the band 3-10 of Misdaad in kaart held more overestimates,
    and its PIT sloped from 14 % to 7 % while the whole was flat)."""
    head = (
        "| bron | categorie | toetsen | PIT-decielen (elk 10 %) | KS | p < 0,1 | p < 0,01 | p < 0,001 "
        "| opvallend hoog / laag per 1 000 |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for name, tests in results.items():
        groups = tests["group"].unique()
        parts = [("alle", tests)] + (
            [(g, tests[tests["group"] == g]) for g in sorted(groups)] if len(groups) > 1 else []
        )
        for group, part in parts:
            s = summary(part, rng)
            deciles = " ".join(f"{100 * d:.0f}" for d in s["deciles"])
            per = 1000 / s["tests"]
            lines.append(
                f"| {name} | {group} | {s['tests']} | {deciles} | {s['ks']:.3f} | {s['p<0.1']:.2f}× "
                f"| {s['p<0.01']:.2f}× | {s['p<0.001']:.2f}× | {s['hoog'] * per:.1f} / {s['laag'] * per:.1f} |"
            )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the Groningen warehouse")
    parser.add_argument("--bron", choices=("groningen", "mik", "beide"), default="beide")
    args = parser.parse_args()
    if not REAL.exists():
        sys.exit(f"{REAL} ontbreekt: dit benchmark leest de echte data naast de checkout.")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        if args.bron in ("groningen", "beide"):
            results["Groningen fietsendiefstal 2014-01 t/m 2017-08 (BVH)"] = groningen_tests(workdir / "groningen")
        if args.bron in ("mik", "beide"):
            results["Misdaad in kaart woninginbraak 2024–2026 (PC4)"] = mik_tests()
    text = (
        "# Maandanalyses op echte registraties: kalibratie\n\n"
        "Gerandomiseerde PIT van elke niet-ontaarde buurttoets onder de voorspellende verdeling van "
        "het product; p-aandelen als veelvoud van het niveau.\n\n" + table(results, np.random.default_rng(SEED))
    )
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(text)
    print(text)
    print(f"Geschreven: {ARTIFACT}")


if __name__ == "__main__":
    main()
