"""Test fixtures: real SQLite files and a real PostgreSQL (one fresh schema per test), and an Airflow
home for the DAG tests (test_dags.py, test_scheduler.py).

PostgreSQL comes from BUURTBEELD_TEST_POSTGRES_URL (CI starts one with .ci/postgres.sh). Without it a
PostgreSQL test is skipped on a developer machine but FAILS in CI (CI=true), so CI never passes on
skipped database tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text

from buurtbeeld.settings import Settings

if TYPE_CHECKING:
    from etl.demo import DemoFiles

ROOT = Path(__file__).resolve().parent.parent
SHARED_REAL = ROOT.parent / "shared" / "data" / "real"
DAG_RUNNER = ROOT / "tests" / "dag_runner.py"
PG_URL = os.environ.get("BUURTBEELD_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need_postgres() -> str:
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but BUURTBEELD_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI.")
        pytest.skip("no PostgreSQL (set BUURTBEELD_TEST_POSTGRES_URL, see .ci/postgres.sh)")
    return PG_URL


@pytest.fixture
def real_data() -> Path:
    """../shared/data/real, the real public CBS/politie files (never copied into the repo)."""
    if not SHARED_REAL.exists():
        pytest.skip("../shared/data/real is absent")
    return SHARED_REAL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a brand-new schema, dropped afterwards."""
    base = need_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    from warehouse.db import get_engine

    get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for a migrated, empty warehouse on the parametrised database."""
    from warehouse.db import upgrade

    upgrade(db_url)
    return Settings(data_dir=tmp_path / "var", warehouse_url=db_url, hash_secret="test-secret")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """SQLite only: for behaviour that does not depend on the database (file parsing, messages)."""
    from warehouse.db import upgrade

    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    upgrade(url)
    return Settings(data_dir=tmp_path / "var", warehouse_url=url, hash_secret="test-secret")


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory that `build` fills once per test run, shared by the xdist workers: the first one
    builds it under a file lock; the others wait and reuse it."""
    import fcntl

    base = factory.getbasetemp()
    # Under xdist every worker has its own basetemp inside the run's; share the run's one.
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "done"
        if not done.exists():
            build(root)
            done.touch()
    return root


class Airflow:
    """An Airflow home with a migrated SQLite metadata database, and a Buurtbeeld data folder."""

    def __init__(self, root: Path, warehouse_url: str, metadata: Path, **env: str) -> None:
        self.root = root
        self.settings = Settings(data_dir=root / "var", warehouse_url=warehouse_url, hash_secret="test-secret")
        self.inbox = self.settings.inbox_dir
        home = root / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_BUURTBEELD_INBOX": json.dumps({"conn_type": "fs", "extra": {"path": str(self.inbox)}}),
            "BUURTBEELD_DATA_DIR": str(self.settings.data_dir),
            "BUURTBEELD_WAREHOUSE_URL": warehouse_url,
            "BUURTBEELD_HASH_SECRET": "test-secret",
            "BUURTBEELD_INBOX_SETTLE_SECONDS": "0",  # files are dropped whole here, unless a test says otherwise
            **env,
        }
        shutil.copy(metadata, home / "airflow.db")

    def call(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, str(DAG_RUNNER), *args], env=self.env, capture_output=True, text=True, timeout=600
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert done.returncode == 0 and lines, (done.stdout[-4000:], done.stderr[-4000:])
        return json.loads(lines[-1][len("RESULT ") :])

    def run(self, dag_id: str, **conf: Any) -> dict[str, Any]:
        return self.call("run", dag_id, json.dumps(conf))

    def start(self, dag_id: str, **conf: Any) -> subprocess.Popen:
        """A run in the background, for files that arrive while it runs (see `finish`)."""
        command = [sys.executable, str(DAG_RUNNER), "run", dag_id, json.dumps(conf)]
        return subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, process: subprocess.Popen) -> dict[str, Any]:
        stdout, stderr = process.communicate(timeout=600)
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        assert process.returncode == 0 and lines, (stdout[-4000:], stderr[-4000:])
        return json.loads(lines[-1][len("RESULT ") :])

    def drop(self, kind: str, *files: Path) -> None:
        folder = self.inbox / kind
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copy(f, folder / f.name)


@pytest.fixture(scope="session")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated Airflow metadata database, copied into every test's Airflow home: `airflow db migrate`
    takes 10-20 s, and its result does not depend on the test."""

    def build(root: Path) -> None:
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(root),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
        }
        env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        airflow = Path(sys.executable).with_name("airflow")
        done = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    return built_once(tmp_path_factory, "airflow-metadata", build) / "airflow.db"


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The full demo (156 weekly exports) on SQLite, built once per test run."""
    from etl.demo import run_demo

    def build(root: Path) -> None:
        lines = list(run_demo(settings_in(root)))
        (root / "lines.txt").write_text("\n".join(lines), encoding="utf-8")

    def settings_in(root: Path) -> Settings:
        return Settings(data_dir=root / "var", warehouse_url=f"sqlite:///{root / 'var' / 'buurtbeeld.sqlite'}")

    return settings_in(built_once(tmp_path_factory, "demo-warehouse", build))


@pytest.fixture(scope="session")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The small gemeente most loading tests use: the demo's city (60 buurten in 4 stadsdelen, its
    indicators) with 14 weekly exports instead of 156, written in seconds once per test run."""
    import pickle

    from etl.demo import write_files

    def build(root: Path) -> None:
        (root / "files.pickle").write_bytes(pickle.dumps(write_files(root / "files", weeks=14)))

    root = built_once(tmp_path_factory, "small-files", build)
    return pickle.loads((root / "files.pickle").read_bytes())


@pytest.fixture
def demo_city(settings: Settings, small_files: DemoFiles) -> Settings:
    """A migrated warehouse on the parametrised database with the small gemeente's buurten loaded."""
    from etl.load_buurten import load_buurten

    assert load_buurten(small_files.buurten, 2024, settings).ok
    return settings


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo gemeente's input files (buurten, indicators, three years of weekly exports), written
    once per test run: writing them takes some 25 s. Tests read them; loading copies them into the
    test's own archive."""
    import pickle

    from etl.demo import write_files

    def build(root: Path) -> None:
        (root / "files.pickle").write_bytes(pickle.dumps(write_files(root / "files")))

    root = built_once(tmp_path_factory, "demo-files", build)
    return pickle.loads((root / "files.pickle").read_bytes())


# The fast tier (`-m "not slow"`) must not wait for the full demo: a test that needs its size is slow by
# what it uses, so it is marked here rather than by hand in every module.
_SLOW_FIXTURES = {"demo_warehouse", "demo_files"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
