"""Runs in a subprocess of tests/test_dags.py (Airflow keeps process-wide state: config, logging,
its own SQLAlchemy settings), with AIRFLOW_HOME and the warehouse set in the environment.

    python tests/dag_runner.py parse           -> JSON facts about every DAG in dags/
    python tests/dag_runner.py run DAG [CONF]  -> dag.test(); JSON run state and task states
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

DAGS = Path(__file__).resolve().parent.parent / "dags"


def parse() -> dict:
    from airflow.dag_processing.dagbag import BundleDagBag

    ours = ("etl", "warehouse", "buurtbeeld", "dashboard", "pandas", "geopandas")
    facts: dict = {"files": {}, "dags": {}}
    for file in sorted(DAGS.glob("*.py")):
        started = time.perf_counter()
        # As the dag-processor does: the bundle (the dags folder) is on sys.path for _defaults.py.
        bag = BundleDagBag(dag_folder=str(file), bundle_path=DAGS, bundle_name="dags-folder")
        facts["files"][file.name] = {
            "seconds": round(time.perf_counter() - started, 3),
            "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
            "dags": sorted(bag.dag_ids),
        }
        for dag_id, dag in bag.dags.items():
            timetable = dag.timetable
            inner = getattr(timetable, "timetable", timetable)
            facts["dags"][dag_id] = {
                "tags": sorted(dag.tags),
                "owner": sorted({t.owner for t in dag.tasks}),
                "min_retries": min(t.retries for t in dag.tasks),
                "timezone": str(getattr(inner, "_timezone", getattr(inner, "timezone", ""))),
                "schedule": type(timetable).__name__,
                "catchup": dag.catchup,
                "max_active_runs": dag.max_active_runs,
                "doc": bool(dag.doc_md),
                "callbacks": all(t.on_failure_callback for t in dag.tasks),
                "timeouts": all(t.execution_timeout for t in dag.tasks) and dag.dagrun_timeout is not None,
                "tasks": sorted(t.task_id for t in dag.tasks),
            }
    facts["imported"] = sorted(m for m in sys.modules if m.split(".")[0] in ours)
    return facts


def run(dag_id: str, conf: dict) -> dict:
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")
    dag = bag.get_dag(dag_id)
    started = time.perf_counter()
    dagrun = dag.test(run_conf=conf or None)
    seconds = time.perf_counter() - started
    tis = {
        f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: str(ti.state)
        for ti in dagrun.get_task_instances()
    }
    return {"state": str(dagrun.state), "tasks": tis, "seconds": round(seconds, 1)}


if __name__ == "__main__":
    out = parse() if sys.argv[1] == "parse" else run(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
    print("RESULT " + json.dumps(out))
