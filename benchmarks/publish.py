"""Benchmark: publishing the cube, for a whole warehouse and for one weekly delivery.

  * full republish (`publish` of every week, the work of `buurtbeeld publiceer` without the analyses)
    of the benchmark city (600 buurten, --rows incidents over --years years) and of the demo gemeente;
  * a weekly delivery: the seconds a load spends reading and writing, and the seconds it then spends
    publishing. Target (published-figures issue): publishing <= 2x the load.

    .venv/bin/python benchmarks/publish.py [--rows N] [--years N] [--demo DIR] [--repeat N]

--demo DIR reuses a demo warehouse (data dir of `buurtbeeld demo`); without it the demo part is skipped.
Runs on SQLite. Each figure is the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import benchmark_city  # noqa: E402


def _publish_all(url: str, gemeente: str, settings: object) -> float:
    from etl.publish import publish
    from warehouse.db import load_transaction

    extra = {"secret": settings.cell_key()} if "secret" in inspect.signature(publish).parameters else {}
    start = time.perf_counter()
    with load_transaction(url) as conn:
        publish(conn, gemeente, settings.suppression_threshold, None, **extra)
    return time.perf_counter() - start


def city(workdir: Path, rows: int, years: int) -> tuple[object, list[Path]]:
    """The benchmark city's warehouse with `rows` incidents over `years` years, and four weekly exports after it."""
    import numpy as np
    import pandas as pd

    from buurtbeeld.settings import Settings
    from etl.demo_bvh import random_export
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from warehouse.db import upgrade

    rng = np.random.default_rng(7)
    gpkg = workdir / "buurten_600.gpkg"
    town = benchmark_city(rng, gpkg)
    url = f"sqlite:///{workdir / 'city.sqlite'}"
    upgrade(url)
    settings = Settings(data_dir=workdir / "var", warehouse_url=url, hash_secret="benchmark")
    assert load_buurten(gpkg, 2024, settings).ok
    end = pd.Timestamp("2026-11-02")  # a Monday
    start = end - pd.Timedelta(days=365 * years)
    history = workdir / "history.csv"
    random_export(town, rows, str(start.date()), str(end.date()), rng).to_csv(history, sep=";", index=False)
    outcome = load_bvh(history, settings)
    assert outcome.ok, outcome.message
    weekly = []
    for week in range(4):
        first = end + pd.Timedelta(weeks=week)
        export = random_export(
            town, rows // (52 * years), str(first.date()), str((first + pd.Timedelta(weeks=1)).date()), rng
        )
        export["Incident Identificatie"] = export["Incident Identificatie"] + f"-w{week}"
        path = workdir / f"week_{week}.csv"
        export.to_csv(path, sep=";", index=False)
        weekly.append(path)
    return settings, weekly


def weekly_loads(settings: object, exports: list[Path]) -> list[dict[str, float]]:
    from etl.load_bvh import load_bvh

    out = []
    for path in exports:
        outcome = load_bvh(path, settings)
        assert outcome.ok, outcome.message
        laps = outcome.summary["duur_s"]
        out.append({"load": laps["voorbereiden"] + laps["schrijven"], "publish": laps["publiceren"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--demo", type=Path, help="data dir of a demo warehouse to republish")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings, exports = city(Path(tmp), args.rows, args.years)
        weeks = weekly_loads(settings, exports)
        results["weekly"] = {
            "load_s": statistics.median(w["load"] for w in weeks),
            "publish_s": statistics.median(w["publish"] for w in weeks),
        }
        results["weekly"]["publish/load"] = results["weekly"]["publish_s"] / results["weekly"]["load_s"]
        runs = [_publish_all(settings.warehouse_url, "GM9999", settings) for _ in range(args.repeat)]
        results["city_full_republish_s"] = statistics.median(runs)
    if args.demo:
        from buurtbeeld.settings import Settings

        demo = Settings(data_dir=args.demo)
        runs = [_publish_all(demo.warehouse_url, "GM9999", demo) for _ in range(args.repeat)]
        results["demo_full_republish_s"] = statistics.median(runs)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
