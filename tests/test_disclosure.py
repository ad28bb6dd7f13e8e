"""Disclosure rules: the shared figures' rounding, the audiences, windows, labels and periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from buurtbeeld import disclosure as d
from buurtbeeld.periods import containing, month_of_week, months_of, weeks_of_month

T = 5


def test_shared_figures_round_to_five_and_stay_within_the_rule() -> None:
    counts = np.arange(0, 400)
    keys = d.cell_keys([f"cel{i}" for i in range(400)], b"geheim")
    shared = d.round_shared(counts, keys, T)
    assert (shared % T == 0).all() and shared[0] == 0
    big = counts >= T
    assert (np.abs(shared[big] - counts[big]) <= 2).all()
    assert set(shared[(counts > 0) & (counts < T)]) <= {0, T}
    low, high = d.rounding_box(shared, np.zeros(400, bool), T)
    assert ((low <= counts) & (counts <= high)).all()
    assert (high - low >= 4).all()  # each figure alone leaves at least five candidate values


@given(st.integers(1, 4), st.binary(min_size=8, max_size=32))
@settings(max_examples=40, deadline=None, derandomize=True)
def test_small_counts_round_up_as_often_as_their_size_says(count: int, secret: bytes) -> None:
    """Unbiased: over many cells a count c is shown as 5 in c/5 of them; the keys need the secret."""
    names = [f"GM0001|2026-03|buurt|BU{i:08d}|fiets|*|{count}" for i in range(4000)]
    keys = d.cell_keys(names, secret)
    assert abs((d.round_shared(np.full(4000, count), keys, T) == T).mean() - count / T) < 0.04
    assert not np.array_equal(keys, d.cell_keys(names, secret + b"x"))
    assert np.array_equal(keys, d.cell_keys(names, secret))


def test_audiences_read_exact_or_shared_figures() -> None:
    frame = pd.DataFrame({"count": [3, 12, 0, 7], "shared_count": [5.0, 10.0, np.nan, np.nan], "status": [0, 0, 0, 2]})
    intern = d.for_audience(frame.copy(), d.INTERN)
    assert intern["count"].tolist() == [3, 12, 0, 7] and (intern["status"] == d.SHOWN).all()
    shared = d.for_audience(frame.copy(), d.GEDEELD, np.array([True, True, True, True]))
    assert shared["count"].tolist()[:3] == [5.0, 10.0, 0.0] and np.isnan(shared["count"].iloc[3])
    assert shared["status"].tolist() == [d.SHOWN, d.SHOWN, d.SHOWN, d.SECONDARY]
    outside = d.for_audience(frame.copy(), d.GEDEELD, False)
    assert outside["count"].isna().all() and (outside["status"] == d.SECONDARY).all()


def test_windows() -> None:
    weekly = pd.DataFrame(
        {"area": ["a"] * 4 + ["b"] * 4, "count": [5, 6, 7, 8, 5, np.nan, 7, 8], "status": [0, 0, 0, 0, 0, 1, 0, 0]}
    )
    out = d.window_sum(weekly, ["area"]).set_index("area")
    assert out.loc["a", "count"] == 26 and out.loc["a", "status"] == d.SHOWN
    assert np.isnan(out.loc["b", "count"]) and out.loc["b", "status"] == d.SECONDARY

    series = pd.Series([5.0, 6.0, np.nan, 8.0, 9.0, 10.0])
    moving = d.rolling_shown_mean(series, pd.Series([0, 0, 1, 0, 0, 0]), 2)
    assert moving.isna().tolist() == [True, False, True, True, False, False]
    assert moving.iloc[5] == 9.5


def test_labels_and_rates() -> None:
    assert d.label(40, d.SECONDARY, T) == "x"
    assert d.label(1234, d.SHOWN, T) == "1.234"
    assert d.format_number(1234.56, 1) == "1.234,6"
    rate = d.masked_rate(pd.Series([10.0, np.nan, 10.0]), pd.Series([0, 1, 0]), pd.Series([2000.0, 2000.0, 0.0]))
    assert rate.iloc[0] == 5.0 and rate.iloc[1:].isna().all()


def test_months_nest_weeks() -> None:
    assert month_of_week(2026, 1) == "2026-01"  # 1 Jan 2026 is a Thursday
    assert month_of_week(2025, 1) == "2025-01"  # week 1 of 2025 starts 30 Dec 2024; its Thursday is 2 Jan
    all_weeks = [w for y in (2024, 2025, 2026) for m in months_of(str(y)) for w in weeks_of_month(m)]
    assert len(all_weeks) == len(set(all_weeks)) == 52 + 52 + 53
    assert containing("2026-W40", "quarter") == "2026-Q4" and containing("2026-10", "year") == "2026"


def test_expected_counts_round_half_up_and_never_below_the_threshold() -> None:
    from buurtbeeld.disclosure import expected_label, expected_shown

    assert expected_shown(4.5, 5) == 5.0 and expected_shown(6.5, 5) == 7.0 and expected_shown(7.49, 5) == 7.0
    assert expected_shown(4.49, 5) is None and expected_shown(float("nan"), 5) is None
    assert expected_label(4.5, 5) == "5"


def test_a_coarse_figure_is_marked_honest_and_read_as_shown() -> None:
    """A kept total shown coarser: the nearest multiple of 2 x the threshold, 'verbatim' in its box,
    marked wherever it is read, and counted as shown by every computation (a sum with one is marked)."""
    counts = np.arange(5, 400)
    coarse = d.coarse_figure(counts, T)
    assert (
        (coarse % (2 * T) == 0).all()
        and coarse[0] == 10
        and d.coarse_figure(np.array([14, 15]), T).tolist() == [10, 20]
    )
    low, high = d.rounding_box(coarse, np.zeros(len(counts), bool), T, np.ones(len(counts), bool))
    assert ((low <= counts) & (counts <= high)).all() and (high - low == 2 * T - 1).all()
    assert d.label(10, d.COARSE, T) == "≈10" and d.rate_label(2.5, d.COARSE, T) == "≈2,5"
    frame = pd.DataFrame({"count": [7, 3], "shared_count": [10.0, 5.0], "status": [d.COARSE, d.SHOWN]})
    shared = d.for_audience(frame.copy(), d.GEDEELD, np.array([True, True]))
    assert shared["count"].tolist() == [10.0, 5.0] and shared["status"].tolist() == [d.COARSE, d.SHOWN]
    assert d.masked_rate(shared["count"], shared["status"], pd.Series([1000.0, 1000.0])).tolist() == [10.0, 5.0]
    windows = pd.DataFrame({"area": ["a", "a", "b", "b"], "count": [10.0, 5.0, 10.0, np.nan], "status": [3, 0, 3, 2]})
    out = d.window_sum(windows, ["area"]).set_index("area")
    assert out.loc["a", "count"] == 15 and out.loc["a", "status"] == d.COARSE
    assert np.isnan(out.loc["b", "count"]) and out.loc["b", "status"] == d.SECONDARY
    assert "≈10 betekent 5 t/m 14" in d.legend(T)
    # A moving window: hidden with a hidden period in it, marked with a coarse one; not yet full it
    # has no figure ("–"), which is not a hidden one.
    status = pd.Series([d.SHOWN, d.COARSE, d.SHOWN, d.SHOWN, d.SECONDARY, d.SHOWN])
    assert d.window_status(status, 2).tolist() == [d.SHOWN, d.COARSE, d.COARSE, d.SHOWN, d.SECONDARY, d.SECONDARY]
    assert d.rate_label(np.nan, d.window_status(status, 2)[0], T) == "–"


@given(st.sampled_from([0, 1, 2, 3, 4]), st.sampled_from([int, np.int64, np.int32, np.uint8]))
def test_one_status_is_visible_exactly_when_its_array_says_so(status: int, kind: type) -> None:
    """disclosure.visible answers a single status without numpy (the texts ask it of every figure):
    the same answer as for an array holding it, whatever integer type the status comes as."""
    one = d.visible(kind(status))
    assert isinstance(one, bool)
    assert one == bool(d.visible(np.array([status]))[0])
    assert one == (status in (d.SHOWN, d.COARSE))
