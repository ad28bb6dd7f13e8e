"""A real Airflow on SQLite metadata: `airflow dag-processor`, `airflow scheduler` (LocalExecutor) and
`airflow api-server` (the Execution API, through which Airflow 3 tasks get their context and report
their state) run as processes, as docker-compose runs them. bvh_weekly is triggered while the inbox is
empty; once its sensor has looked and rescheduled itself, a police file is dropped, and the run must
load it. test_dags.py runs the same DAGs with dag.test(), which has no scheduler, executor or API."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, Airflow
from tests.helpers import batches
from tests.synthetic import WEEKS, counts_file, write_city
from warehouse.db import upgrade

pytestmark = pytest.mark.slow

if importlib.util.find_spec("airflow") is None:
    if IN_CI:
        raise RuntimeError("CI=true but Airflow is not installed (python3 dev.py test installs the airflow extra)")
    pytest.skip("Airflow is not installed (uv sync --extra airflow)", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = Path(sys.executable).with_name("airflow")
DEADLINE = 360  # seconds from the first process start to the finished run (alone: 47-83 s; CI runs it beside others)
RUN_ID = "scheduler_smoke"
DAG_ID = "bvh_weekly"


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


FINISHED = {"success", "failed", "skipped", "upstream_failed", "removed"}
SENSOR = """SELECT ti.state, (SELECT count(*) FROM task_reschedule r WHERE r.ti_id = ti.id) FROM task_instance ti
             WHERE ti.dag_id = ? AND ti.run_id = ? AND ti.task_id = 'wacht_op_bestanden'"""


class Processes:
    """Airflow's long-running commands, each in its own process group with its output in a file. Leaving
    the `with` block, however it is left, ends every group, the task processes of the scheduler too."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.task_logs = Path(env["AIRFLOW_HOME"]) / "logs" / f"dag_id={DAG_ID}"
        self.running: dict[str, subprocess.Popen] = {}
        self.started = time.monotonic()
        logs.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, name: str, *args: str) -> None:
        with open(self.logs / f"{name}.log", "wb") as out:
            self.running[name] = subprocess.Popen(
                [AIRFLOW, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_for(self, what: str, condition: Callable[[], Any]) -> Any:
        """condition()'s first true value; fails with every log when a process died or time is up."""
        while True:
            dead = {name: p.returncode for name, p in self.running.items() if p.poll() is not None}
            assert not dead, f"Airflow process(es) exited: {dead}\n{self.report()}"
            found = condition()
            if found:
                return found
            elapsed = time.monotonic() - self.started
            assert elapsed < DEADLINE, f"no {what} after {elapsed:.0f} s\n{self.report()}"
            time.sleep(0.5)

    def cli(self, *args: str) -> str:
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:], self.report())
        return done.stdout

    def report(self) -> str:
        parts = []
        for log in [*sorted(self.logs.glob("*.log")), *sorted(self.task_logs.rglob("*.log"))]:
            text = log.read_text(errors="replace")
            parts.append(f"----- {log} (last 3000 chars)\n{text[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for p in self.running.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        ends = time.monotonic() + 15
        for p in self.running.values():
            with suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.1, ends - time.monotonic()))
        for p in self.running.values():
            with suppress(ProcessLookupError):  # what is left: a stuck process, or tasks the leader left behind
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=15)


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """A read of Airflow's metadata while the scheduler writes it."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def api_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/execution/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_scheduler_loads_a_file_dropped_after_the_run_started(tmp_path: Path, metadata: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    upgrade(url)
    api_port = free_port()
    airflow = Airflow(
        tmp_path,
        url,
        metadata,
        # The checkout under test, also in the task processes (not what an installed package points at).
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",  # worker processes at most: the machine may have two cores
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
        # The scheduler signs each task's token, the API server checks it: one secret for both, not one
        # generated by whichever process happens to write airflow.cfg first.
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(16),
        AIRFLOW__CORE__FERNET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        # Only the triggered run: unpausing would otherwise also start the latest scheduled one.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
        AIRFLOW__BUURTBEELD__INBOX_POKE_SECONDS="2",
    )
    db = Path(airflow.env["AIRFLOW_HOME"]) / "airflow.db"
    gpkg, _, codes = write_city(tmp_path / "bron")
    from etl.load_buurten import load_buurten

    assert load_buurten(gpkg, 2024, airflow.settings).ok
    inbox = airflow.inbox / "bvh"
    inbox.mkdir(parents=True, exist_ok=True)
    source = counts_file(tmp_path / "bron" / "bvh_2025-W01.csv", codes, WEEKS[52:53], 1, None)

    with Processes(airflow.env, tmp_path / "logs") as up:
        up.start("api-server", "api-server", "--apps", "execution", "--workers", "1",
                 "--host", "127.0.0.1", "--port", str(api_port))  # fmt: skip
        up.start("dag-processor", "dag-processor")
        up.start("scheduler", "scheduler", "--skip-serve-logs")  # no log server on the fixed port 8793
        up.wait_for("bvh_weekly parsed", lambda: query(db, "SELECT 1 FROM serialized_dag WHERE dag_id = ?", DAG_ID))
        parsed = time.monotonic()
        up.cli("dags", "unpause", DAG_ID)
        up.cli("dags", "trigger", DAG_ID, "--run-id", RUN_ID, "--conf", json.dumps({"wachten": True}))
        triggered = time.monotonic()
        up.wait_for("Execution API", lambda: api_up(api_port))

        # The sensor looked at the empty inbox, did not skip (wachten) and gave its slot back until its next look.
        def looked() -> list[tuple[Any, ...]]:
            return [row for row in query(db, SENSOR, DAG_ID, RUN_ID) if row[1] or row[0] in FINISHED]

        [(state, looks)] = up.wait_for("look at the empty inbox", looked)
        assert state not in FINISHED, (state, up.report())
        assert not list(inbox.iterdir())
        (inbox / source.name).write_bytes(source.read_bytes())
        dropped = time.monotonic()

        ended = "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ? AND state IN ('success', 'failed')"
        [(final,)] = up.wait_for("end of the run", lambda: query(db, ended, DAG_ID, RUN_ID))
        done = time.monotonic()
        tasks = dict(
            query(db, "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?", DAG_ID, RUN_ID)
        )
        assert final == "success", (tasks, up.report())
        [(runs,)] = query(db, "SELECT count(*) FROM dag_run WHERE dag_id = ?", DAG_ID)

    assert tasks["wacht_op_bestanden"] == tasks["laden_en_aggregeren"] == tasks["warehouse_bijgewerkt"] == "success"
    assert runs == 1
    [batch] = [b for b in batches(url) if b.kind == "bvh"]
    lines = source.read_text().splitlines()
    assert batch.file_name == source.name and batch.status == "loaded" and batch.rows_loaded == len(lines) - 1, batch
    assert not list(inbox.iterdir())  # filed away
    assert list((airflow.settings.archive_dir / "ontvangen" / "bvh").rglob(source.name))
    phases = {"parsed": parsed, "triggered": triggered, "first look": dropped, "success": done}
    print(", ".join(f"{name} at {at - up.started:.0f} s" for name, at in phases.items()), f"({looks} look)")
