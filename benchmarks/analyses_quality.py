"""Benchmark: does the monthly analysis find what was planted, and stay quiet when nothing was?

Builds two demo warehouses (SQLite) with `buurtbeeld demo`'s own generator: one with the planted
anomalies (their truth in demo/bvh/geplante_afwijkingen.csv: buurt, group, month, effective factor
over the baseline), and a null run of the same city without them. Then, for every month the demo
analyses, it runs the same statistics the analyses are written from (etl.analyses.assess_month) and
scores the buurt × category tests:

  * recall: planted excesses of >= 2.5x the baseline with >= 10 registered cases in that month,
    flagged 'opvallend hoog';                                              target >= 0.8
  * false discovery proportion: flags (either direction) at buurt × category level that are not a
    planted anomaly, over all flags of the run;                              target <= 0.10
  * null run: flags per 1 000 buurt × category tests;                        target <= 1

Wijk, stadsdeel and gemeente tests are reported but not scored: a planted buurt excess may rightly
make its wijk notable too, so they have no clean truth.

    .venv/bin/python benchmarks/analyses_quality.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

GEMEENTE = "GM9999"
MIN_FACTOR, MIN_CASES = 2.5, 10


def demo_warehouse(folder: Path, plant: bool):
    """The demo in `folder` (built once; reused when it is complete)."""
    from buurtbeeld.settings import Settings
    from etl.demo import run_demo

    settings = Settings(data_dir=folder, warehouse_url=f"sqlite:///{folder / 'buurtbeeld.sqlite'}")
    done = folder / "klaar"
    if not done.exists():
        started = time.perf_counter()
        for line in run_demo(settings, plant=plant):
            print("   ", line, flush=True)
        done.write_text(f"{time.perf_counter() - started:.0f}")
    return settings


def flags_by_month(settings) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every test of every analysed month: the statistics frame of assess_month, with the month."""
    from etl import analyses
    from warehouse import analyses as store
    from warehouse.db import get_engine

    with get_engine(settings.warehouse_url).connect() as conn:
        months = store.current_months(conn, GEMEENTE)
    frames = []
    for month in months:
        frame, *_ = analyses.assess_month(analyses.read_inputs(settings, GEMEENTE, month))
        frames.append(frame.assign(month=month))
    tests = pd.concat(frames, ignore_index=True)
    levels = {level: int((tests["area_level"] == level).sum()) for level in ("buurt", "wijk", "stadsdeel", "gemeente")}
    return tests, levels


def score(tests: pd.DataFrame, truth: pd.DataFrame) -> dict[str, object]:
    cells = tests[(tests["area_level"] == "buurt") & (tests["group_code"] != "*")]
    flagged = cells[cells["direction"] != ""]
    planted = set(zip(truth["buurt"], truth["group"], truth["month"], strict=True))
    is_true = [k in planted for k in zip(flagged["area_code"], flagged["group_code"], flagged["month"], strict=True)]
    merged = truth.merge(
        cells, left_on=["buurt", "group", "month"], right_on=["area_code", "group_code", "month"], how="left"
    )
    eligible = merged[(merged["factor"] >= MIN_FACTOR) & (merged["observed"] >= MIN_CASES)]
    hits = eligible[eligible["direction"] == "hoog"]
    missed = eligible[eligible["direction"] != "hoog"][["buurt", "group", "month", "factor", "observed", "expected"]]
    others = tests[(tests["area_level"] != "buurt") & (tests["direction"] != "")]
    return {
        "maanden": int(tests["month"].nunique()),
        "buurt_x_categorie_toetsen": len(cells),
        "gemarkeerd": len(flagged),
        "waarvan_hoog": int((flagged["direction"] == "hoog").sum()),
        "geplant_totaal": len(truth),
        "geplant_in_doel (>=2.5x, >=10)": len(eligible),
        "gevonden": len(hits),
        "recall": round(len(hits) / len(eligible), 3) if len(eligible) else None,
        "vals_gemarkeerd": len(flagged) - sum(is_true),
        "fdp": round((len(flagged) - sum(is_true)) / len(flagged), 3) if len(flagged) else 0.0,
        "per_1000_toetsen": round(1000 * len(flagged) / len(cells), 3),
        "gemist": missed.round(1).to_dict("records"),
        "wijk_stadsdeel_gemeente_gemarkeerd": len(others),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", help="keep (and reuse) the two demo warehouses in this folder")
    args = parser.parse_args()
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-analyses-quality-"))
    print(f"Werkmap: {work}", flush=True)

    print("Demo met geplante afwijkingen ...", flush=True)
    planted = demo_warehouse(work / "geplant", plant=True)
    truth = pd.read_csv(planted.data_dir / "demo" / "bvh" / "geplante_afwijkingen.csv")
    tests, levels = flags_by_month(planted)
    with_anomalies = score(tests, truth) | {"toetsen_per_niveau": levels}
    print("geplant:", json.dumps(with_anomalies, ensure_ascii=False, indent=1), flush=True)

    print("Nulrun (dezelfde stad, geen afwijkingen) ...", flush=True)
    null = demo_warehouse(work / "nul", plant=False)
    tests, levels = flags_by_month(null)
    without = score(tests, truth.iloc[0:0]) | {"toetsen_per_niveau": levels}
    print("nulrun:", json.dumps(without, ensure_ascii=False, indent=1), flush=True)

    checks = [
        ("recall", with_anomalies["recall"], ">= 0.8", (with_anomalies["recall"] or 0) >= 0.8),
        ("fdp", with_anomalies["fdp"], "<= 0.10", with_anomalies["fdp"] <= 0.10),
        ("nulrun per 1 000", without["per_1000_toetsen"], "<= 1", without["per_1000_toetsen"] <= 1.0),
    ]
    for name, value, target, ok in checks:
        print(f"{name}: {value} (doel {target}) {'OK' if ok else 'NIET GEHAALD'}")
    sys.exit(0 if all(ok for *_, ok in checks) else 1)


if __name__ == "__main__":
    main()
