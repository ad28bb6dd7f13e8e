"""Benchmark: how long the monthly analyses of one month take.

Uses the warehouses of benchmarks/dashboard.py (built here when absent, or reused with --workdir):

  * city:     600 buurten (60 wijken, 6 stadsdelen), 19 category groups, 10 years of weekly counts
  * national: 14 500 buurten in 345 gemeenten, 19 groups, 5 years

and times `buurtbeeld analyses maand` for the last complete month end to end (read the published
cube, baselines and tests for every area x group, Dutch texts, store), split into its phases.
Targets on this 2-core machine: city <= 20 s, national <= 5 min.

    .venv/bin/python benchmarks/analyses_speed.py [--workdir DIR] [--skip-national] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS_S = {"city": 20.0, "national": 300.0}


def timed_generate(url: str, work: Path, gemeenten: list[str]) -> dict[str, object]:
    """One month for every gemeente, with the time per phase (the phases of etl.analyses.generate)."""
    from buurtbeeld.settings import Settings
    from etl import analyses
    from warehouse import analyses as store
    from warehouse.db import get_engine, upgrade

    upgrade(url)
    settings = Settings(data_dir=work, warehouse_url=url, hash_secret="benchmark")
    with get_engine(url).connect() as conn:
        month = store.published_months(conn, gemeenten[0])[-1]
    phases: dict[str, float] = defaultdict(float)
    areas = notable = 0
    original = {name: getattr(analyses, name) for name in ("read_inputs", "assess_month", "_documents")}

    def clock(name: str):  # wraps a phase so generate() itself is what runs
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original[name](*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - started

        return wrapper

    for name in original:
        setattr(analyses, name, clock(name))
    started = time.perf_counter()
    try:
        for gm in gemeenten:
            for result in analyses.generate(settings, month, gemeente=gm, run_by="benchmark"):
                areas += result.analyses
                notable += result.notable
    finally:
        for name, fn in original.items():
            setattr(analyses, name, fn)
    total = time.perf_counter() - started
    # Tests per month: one gemeente's area x group frame, times the gemeenten (they are alike here).
    frame, *_ = original["assess_month"](original["read_inputs"](settings, gemeenten[0], month))
    tests = len(frame) * len(gemeenten)
    from benchmarks.common import peak_rss_mb

    return {
        "maand": month,
        "gemeenten": len(gemeenten),
        "analyses": areas,
        "toetsen_circa": tests,
        "opvallend": notable,
        "totaal_s": round(total, 1),
        "lezen_s": round(phases["read_inputs"], 1),
        "statistiek_s": round(phases["assess_month"], 1),
        "teksten_s": round(phases["_documents"], 1),
        "opslaan_en_overig_s": round(total - sum(phases.values()), 1),
        "piek_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    from benchmarks.dashboard import build

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", help="reuse (or keep) the warehouses of benchmarks/dashboard.py in this folder")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the national warehouse (0.1 = 10%%)")
    args = parser.parse_args()
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-analyses-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"Werkmap: {work}", flush=True)
    results: dict[str, object] = {}

    city = work / "city.sqlite"
    if not city.exists():
        print("Stad bouwen: 600 buurten, 10 jaar, ~60 000 incidenten per jaar ...", flush=True)
        build(f"sqlite:///{city}", 1, 600, 60, 10, 60_000, seed=1, stadsdelen=6)
    results["city"] = timed_generate(f"sqlite:///{city}", work, ["GM7777"])
    print("city:", json.dumps(results["city"]), flush=True)

    if not args.skip_national:
        n = max(1, int(345 * args.scale))
        national = work / "national.sqlite"
        if not national.exists():
            print(f"Landelijk bouwen: {n * 42} buurten in {n} gemeenten, 5 jaar ...", flush=True)
            build(f"sqlite:///{national}", n, 42, 8, 5, int(1_000_000 * args.scale), seed=2)
        results["national"] = timed_generate(f"sqlite:///{national}", work, [f"GM{8000 + g:04d}" for g in range(n)])
        print("national:", json.dumps(results["national"]), flush=True)

    for name, target in TARGETS_S.items():
        if name in results:
            got = results[name]["totaal_s"]  # type: ignore[index]
            print(f"{name}: {got} s, doel <= {target:.0f} s, verhouding {got / target:.2f}")


if __name__ == "__main__":
    main()
