"""The benchmarks build their warehouses with the product's own code, so a changed signature breaks
them silently until someone measures: each builder runs here at a tiny scale."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from benchmarks.dashboard import build
from warehouse.db import get_engine
from warehouse.models import PublishedCount


def test_the_dashboard_and_analyses_benchmarks_build_a_published_warehouse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    result = build(url, 1, 12, 3, 1, 2_000, seed=1, stadsdelen=2)
    assert len(result["gemeenten"]) == 1
    with get_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(PublishedCount)).scalar_one() > 100
