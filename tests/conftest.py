"""Test fixtures: real SQLite files and a real PostgreSQL (one fresh schema per test).

PostgreSQL comes from BUURTBEELD_TEST_POSTGRES_URL (CI starts one with .ci/postgres.sh). Without it a
PostgreSQL test is skipped on a developer machine but FAILS in CI (CI=true), so CI never passes on
skipped database tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from buurtbeeld.settings import Settings

if TYPE_CHECKING:
    from etl.demo import DemoFiles

ROOT = Path(__file__).resolve().parent.parent
SHARED_REAL = ROOT.parent / "shared" / "data" / "real"
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
