"""Benchmark: how long Airflow takes to parse each DAG file, and a weekly bvh_weekly run on the demo.

1. Parse time per file in dags/, as the dag-processor parses it (BundleDagBag on the one file, in a
   fresh process after `import airflow`, with bytecode compiled). Target: <= 2 s per file.
2. A weekly run: the demo city with all but its last weekly export loaded through etl, then the last
   export dropped into the inbox and `airflow dags test bvh_weekly` timed end to end (wait, load,
   aggregate, publish, refresh revised analyses, file away).

    .venv/bin/python benchmarks/dags.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DAGS = ROOT / "dags"

PARSE = """
import sys, time
import airflow  # noqa: F401  (the dag-processor has it imported already)
from airflow.dag_processing.dagbag import BundleDagBag
started = time.perf_counter()
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[2], bundle_name="dags-folder")
assert not bag.import_errors, bag.import_errors
print(time.perf_counter() - started)
"""


def airflow_env(work: Path, data_dir: Path) -> dict[str, str]:
    from buurtbeeld.settings import Settings

    inbox = Settings(data_dir=data_dir).inbox_dir
    home = work / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_BUURTBEELD_INBOX": json.dumps({"conn_type": "fs", "extra": {"path": str(inbox)}}),
        "BUURTBEELD_DATA_DIR": str(data_dir),
        "BUURTBEELD_WAREHOUSE_URL": "",
    }


def parse_times(env: dict[str, str]) -> dict[str, float]:
    compileall.compile_dir(DAGS, quiet=1)
    out = {}
    for file in sorted(DAGS.glob("*.py")):
        if file.name.startswith("_"):
            continue
        runs = []
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-c", PARSE, str(file), str(DAGS)], env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr[-2000:]
            runs.append(float(done.stdout.strip().splitlines()[-1]))
        out[file.name] = round(min(runs), 3)
    return out


def weekly_run(work: Path, env: dict[str, str], data_dir: Path) -> dict[str, object]:
    from buurtbeeld.settings import Settings
    from etl.demo import INDELING_YEAR, write_files
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from etl.load_indicators import load_indicators
    from etl.load_stadsdelen import load_stadsdelen
    from warehouse.db import upgrade

    settings = Settings(data_dir=data_dir)
    upgrade(settings.warehouse_url)
    files = write_files(work / "bron")
    load_buurten(files.buurten, INDELING_YEAR, settings)
    load_stadsdelen(files.stadsdelen, settings)
    load_indicators(files.kerncijfers, settings, period=str(INDELING_YEAR))
    print(f"  {len(files.bvh) - 1} weken vooraf laden ...", flush=True)
    for path in files.bvh[:-1]:
        load_bvh(path, settings)
    from etl.analyses import generate_all

    generate_all(settings, "GM9999")
    inbox = settings.inbox_dir / "bvh"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(files.bvh[-1], inbox / files.bvh[-1].name)
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, check=True)
    started = time.perf_counter()
    done = subprocess.run([airflow, "dags", "test", "bvh_weekly"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    assert done.returncode == 0 and "state=success" in done.stdout + done.stderr, done.stderr[-3000:]
    return {"bestand": files.bvh[-1].name, "airflow_dags_test_s": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-dags-"))
    data_dir = work / "var"
    env = airflow_env(work, data_dir)
    results = {"parse_s_per_file": parse_times(env)}
    print(json.dumps(results), flush=True)
    results["weekly_run"] = weekly_run(work, env, data_dir)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
