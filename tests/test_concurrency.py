"""Concurrent loads are serialised: the same file loaded twice at once is loaded once."""

from __future__ import annotations

import threading
from pathlib import Path

from buurtbeeld.settings import Settings
from etl.load_indicators import load_indicators
from tests.helpers import batches, count


def _parallel(*jobs) -> list:
    results: list = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = jobs[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_same_file_twice_at_once_loads_once(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "inw.csv"
    path.write_text("buurtcode,inwoners\n" + "".join(f"BU999900{i:02d},{i}\n" for i in range(60)))
    outcomes = _parallel(*[lambda: load_indicators(path, settings, period="2024") for _ in range(3)])
    assert sorted(o.status for o in outcomes) == ["loaded", "unchanged", "unchanged"]
    assert [b.status for b in batches(settings.warehouse_url)] == ["loaded"]
    assert count(settings.warehouse_url, "indicator_value") == 60


def test_different_files_at_once_both_load(settings: Settings, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("buurtcode,inwoners\nBU99990000,10\n")
    b.write_text("buurtcode,bijstand\nBU99990000,3\n")
    outcomes = _parallel(
        lambda: load_indicators(a, settings, period="2024"), lambda: load_indicators(b, settings, period="2024")
    )
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    assert count(settings.warehouse_url, "indicator_value") == 2


def test_a_load_waits_and_runs_for_a_bounded_time_on_postgresql(pg_url: str) -> None:
    """A load that waits on another (or on a lock a crashed client left) or hangs in one statement
    fails after a bound instead of blocking every later run."""
    from sqlalchemy import text

    from warehouse.db import load_transaction

    with load_transaction(pg_url) as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "30min"
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "1h"
