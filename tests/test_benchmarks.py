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


def test_the_semi_oracle_finds_a_clear_rise_and_leaves_ordinary_months() -> None:
    """benchmarks/semi_oracle.py: with a level from 12 months drawn at the truth, a month at four
    times a level of 20 is flagged, 60 months at their expected count are not."""
    import numpy as np
    import pandas as pd

    from benchmarks.semi_oracle import semi_oracle_flags

    mu = np.r_[np.full(60, 20.0), 20.0]
    cells = pd.DataFrame(
        {"gemeente": "GM1", "month": "2025-01", "mu_true": mu, "inv_true": 0.01, "observed": np.r_[mu[:-1], 80.0]}
    )
    flags = semi_oracle_flags(cells, 12, np.random.default_rng(1))
    assert flags.iloc[-1] == "hoog"
    assert (flags.iloc[:-1] == "").all()
