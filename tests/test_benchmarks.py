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


def test_the_trend_bound_follows_a_trend_its_history_shows_and_keeps_a_flat_level() -> None:
    """benchmarks/semi_oracle.py --trend: a series growing 15 % a year (the generator's fast growers)
    at 1 000 a month has its tested month's level within 2 % from 48 months, where the mean of
    its last 12 months is 8 % low; a flat series keeps its level; with 12 months of 5 a month the
    level rests on the months (60 cases), not on the trend's prior alone."""
    import numpy as np

    from benchmarks.semi_oracle import trend_level

    before = np.arange(1, 49)
    growing, flat = 1000.0 * np.exp(-0.15 * before / 12), np.full(48, 1000.0)
    history = np.round(np.vstack([growing, flat, np.full(48, 5.0)]))
    level, shape = trend_level(history, np.array([48, 48, 12]), np.full(3, 0.001), np.zeros(3))
    assert abs(level[0] / 1000.0 - 1) < 0.02 and history[0, :12].mean() / 1000.0 < 0.93
    assert abs(level[1] / 1000.0 - 1) < 0.02
    assert abs(level[2] / 5.0 - 1) < 0.1 and 20 < shape[2] < 70
    assert shape[0] > 1000


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


def test_the_shift_semi_oracle_says_a_doubling_later_than_the_oracle_and_a_steady_level_never() -> None:
    """benchmarks/semi_oracle.py --verschuiving: the shift oracle's test with the old level from 12
    months drawn at the truth. A level of 10 doubled: said in nearly every draw, on average later
    than the oracle's fifth month (the old level is an estimate: earlier where it came out low);
    the same months at the old level: never."""
    import numpy as np

    from benchmarks.analyses_quality import shift_oracle_at
    from benchmarks.semi_oracle import semi_shift_at
    from buurtbeeld import notable

    rng = np.random.default_rng(5)
    mu, inv = np.full(12, 10.0), np.full(12, 0.01)
    oracle = shift_oracle_at(np.full(12, 20.0), mu, inv, notable.DEFAULT)
    doubled = [semi_shift_at(np.full(12, 20.0), mu, inv, 12, rng) for _ in range(200)]
    steady = [semi_shift_at(np.full(12, 10.0), mu, inv, 12, rng) for _ in range(200)]
    found = [t for t in doubled if t is not None]
    assert oracle == 4 and len(found) >= 190 and np.mean(found) > oracle + 0.5
    assert all(t is None for t in steady)


def test_the_swaps_put_the_expected_count_and_the_spread_where_they_say() -> None:
    """benchmarks/semi_oracle.py --ruil: one planted rise (30 on a true 10) among 60 ordinary cells.
    The product expected 25 for it (an estimate gone high) and 5 for a null cell at a true 10 with
    15 registered (gone low). With the true expected count the rise is found and the null is not;
    with the product's expected count and no spread beyond the true 1/k the null is flagged and the
    rise missed: each swap reads the column it names."""
    import numpy as np
    import pandas as pd

    from benchmarks.semi_oracle import swap_table

    n = 62
    cells = pd.DataFrame(
        {
            "gemeente": "GM1",
            "month": "2025-01",
            "planted": True,
            "tested": True,
            "generated": np.r_[np.full(n - 2, 10.0), 30.0, 15.0],
            "mu_true": 10.0,
            "inv_true": 0.001,
            "expected": np.r_[np.full(n - 2, 10.0), 25.0, 5.0],
            "inv_product": 0.001,
            "anomaly": ["" for _ in range(n - 2)] + ["stijging", ""],
            "stratum": ["" for _ in range(n - 2)] + ["10-30", ""],
            "direction": "",
            "oracle": "",
        }
    )
    table = swap_table(cells)
    true_expected, product_expected = table["waar verwacht, spreiding product"], table["verwacht product, waar 1/k"]
    assert true_expected[0][2] == 1.0 and true_expected[1] == 0.0
    assert product_expected[0][2] == 0.0 and product_expected[1] == 1.0
    assert np.isnan(true_expected[0][0])  # no rise planted in that stratum


def test_the_judged_strata_are_the_bands_the_oracle_can_see() -> None:
    """benchmarks/semi_oracle.py --oordeel judges the rises analyses_quality.score_setting judges:
    per stratum the bands where the oracle finds at least 0.3 (a band at exactly 0.3 included, one
    at 0.2 not; the same band name in another stratum apart), with the product's and the oracle's
    recall over them; the semi-oracle finds rises of 80 on a level of 10, and not one at 12."""
    import numpy as np
    import pandas as pd

    from benchmarks.analyses_quality import score_setting
    from benchmarks.semi_oracle import judged_table

    # (stratum, band, observed, oracle finds, product finds) per group of ten rises
    plan = [
        ("10-30", "1.5-2", 80.0, 3, 1),  # oracle 0.3: judged
        ("10-30", "3-4", 80.0, 2, 9),  # oracle 0.2: not judged
        ("30-100", "3-4", 12.0, 5, 4),  # judged, in its own stratum; too small for the semi-oracle
    ]
    rows = [dict(observed=10.0, anomaly="", stratum="", band="", oracle="", direction="") for _ in range(200)]
    for stratum, band, observed, oracle, product in plan:
        for i in range(10):
            rows.append(
                dict(
                    observed=observed,
                    anomaly="stijging",
                    stratum=stratum,
                    band=band,
                    oracle="hoog" if i < oracle else "",
                    direction="hoog" if i >= 10 - product else "",
                )
            )
    cells = pd.DataFrame(rows).assign(
        gemeente="GM1",
        month="2025-01",
        planted=True,
        tested=True,
        mu_true=10.0,
        inv_true=0.01,
        expected=10.0,
        inv_product=0.01,
        generated=lambda c: c["observed"],
        p_product=0.5,
        p_oracle=0.5,
        shift_new=False,
        oracle_shift=False,
        family=1,
    )
    null = cells.iloc[:50].assign(planted=False, gemeente="GM2")
    scored = score_setting(pd.concat([cells, null], ignore_index=True))
    table = judged_table(cells, 12, np.random.default_rng(1), 3)
    assert set(table) == {"10-30", "30-100"}
    for stratum, (n, product, _semi, oracle) in table.items():
        assert (n, product, oracle) == scored["strata"][(stratum, "beoordeeld")]
    assert table["10-30"] == (10, 0.1, 1.0, 0.3)
    assert table["30-100"][:2] == (10, 0.4) and table["30-100"][2] == 0.0


def test_the_mean_z2_is_one_where_the_spread_is_the_counts_own() -> None:
    """benchmarks/analyses_quality.py's calibration diagnostic: negative-binomial counts around an
    expected count of 10 with 1/k = 0.2 give a mean z² near 1 when the product allows that spread,
    and 2 when it allows a quarter of it (variance 30 against 15)."""
    import numpy as np
    import pandas as pd

    from benchmarks.analyses_quality import _mean_z2

    rng = np.random.default_rng(7)
    y = rng.poisson(10.0 * rng.gamma(5.0, 0.2, 40_000))
    honest = pd.DataFrame({"observed": y, "expected": 10.0, "inv_product": 0.2})
    assert abs(_mean_z2(honest) - 1.0) < 0.03
    assert abs(_mean_z2(honest.assign(inv_product=0.05)) - 2.0) < 0.06
    # A mean over cells, not a ratio of sums: half the cells at 2 expected and honest, half at 50
    # with a quarter of their 1/k allowed (z² 550 / 175): (1 + 3.14) / 2, where Σ over Σ gives 3.1.
    small = pd.DataFrame({"observed": rng.poisson(2.0 * rng.gamma(5.0, 0.2, 40_000)), "expected": 2.0})
    large = pd.DataFrame({"observed": rng.poisson(50.0 * rng.gamma(5.0, 0.2, 40_000)), "expected": 50.0})
    mixed = pd.concat([small.assign(inv_product=0.2), large.assign(inv_product=0.05)], ignore_index=True)
    assert abs(_mean_z2(mixed) - (1 + 550 / 175) / 2) < 0.08
