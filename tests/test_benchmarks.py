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


def test_the_shift_oracle_says_a_doubling_once_it_shows_and_a_steady_level_never() -> None:
    """benchmarks/analyses_quality.py judges the level-shift message against the same test knowing
    the old level: a level of 10 doubled from the first analysed month shows in the analysis of the
    fifth (four months read, the highest left out: 60 against 30, a tail below 1e-5; the fourth
    month's analysis has 40 against 20); the same months at the old level, or an outbreak of one
    month, never."""
    import numpy as np

    from benchmarks.analyses_quality import shift_oracle_at
    from buurtbeeld import notable

    mu, inv = np.full(12, 10.0), np.zeros(12)
    assert shift_oracle_at(np.full(12, 20.0), mu, inv, notable.DEFAULT) == 4
    assert notable.upper_tail(60.0, 30.0) <= notable.DEFAULT.shift_p < notable.upper_tail(40.0, 20.0)
    assert shift_oracle_at(np.full(12, 10.0), mu, inv, notable.DEFAULT) is None
    assert shift_oracle_at(np.r_[40.0, np.full(11, 10.0)], mu, inv, notable.DEFAULT) is None
