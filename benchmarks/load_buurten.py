"""Benchmark: load all 12 173 buurten of the CBS 2015 map (../shared) into a fresh warehouse.

Target (issue 2): under 60 s wall time and under 1.5 GB peak memory on a 2-core machine.
Each database runs in its own process so peak RSS is that load's alone.

    .venv/bin/python benchmarks/load_buurten.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FILE = ROOT.parent / "shared/data/real/geometry/cbs_buurten_2015_nl_wgs84.geojson"


from benchmarks.common import fresh_pg_database, peak_rss_mb  # noqa: E402


def one_run(url: str, data_dir: str) -> dict:
    from buurtbeeld.settings import Settings
    from etl.load_buurten import load_buurten
    from warehouse.db import upgrade

    upgrade(url)
    settings = Settings(data_dir=Path(data_dir), warehouse_url=url, hash_secret="benchmark")
    start = time.perf_counter()
    outcome = load_buurten(FILE, 2015, settings)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    again = load_buurten(FILE, 2015, settings)
    reload_seconds = time.perf_counter() - start
    return {
        "status": outcome.status,
        "buurten": outcome.rows_loaded,
        "seconds": round(seconds, 2),
        "reload_status": again.status,
        "reload_seconds": round(reload_seconds, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL server (a fresh database is made)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(*args.child)))
        return
    if not FILE.exists():
        sys.exit(f"{FILE} is absent (../shared/data/real)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{tmp}/bench.sqlite")]
        if args.postgres:
            targets.append(("PostgreSQL", fresh_pg_database(args.postgres, "bench_buurten")))
        for name, url in targets:
            start = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--child", url, tmp], capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{name} run failed:\n{out.stderr[-3000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["process_seconds"] = round(time.perf_counter() - start, 2)
            rows.append((name, result))
    header = ("database", "buurten", "load s", "target s", "peak MB", "target MB", "re-load s")
    print("{:<11} {:>8} {:>7} {:>8} {:>8} {:>9} {:>9}".format(*header))
    for name, r in rows:
        print(
            f"{name:<11} {r['buurten']:>8} {r['seconds']:>7} {60:>8} {r['peak_rss_mb']:>8} {1536:>9} "
            f"{r['reload_seconds']:>9} ({r['reload_status']})"
        )
    ok = all(r["status"] == "loaded" and r["seconds"] < 60 and r["peak_rss_mb"] < 1536 for _, r in rows)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
