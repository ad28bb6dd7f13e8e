"""Disclosure rules on hand-made tables: what is hidden, and that nothing hidden can be recomputed."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from buurtbeeld import disclosure as d
from buurtbeeld.periods import containing, month_of_week, months_of, weeks_of_month

T = 5


def protect_group(parent: int, children: list[int]) -> list[int]:
    """One parent (index 0) and its children; returns the statuses."""
    counts = [parent, *children]
    n = len(children)
    return d.protect(np.array(counts), np.zeros(n, int), np.arange(1, n + 1), T).tolist()


def test_primary_hides_one_to_four_and_shows_zero() -> None:
    assert d.primary_status(np.array([0, 1, 4, 5, 120]), T).tolist() == [0, 1, 1, 0, 0]


def test_single_hidden_child_gets_a_complementary_partner() -> None:
    # wijk 27 = 3 + 9 + 15: the 3 is primary; shown alone it is 27 - 9 - 15. The smallest sibling (9) goes too.
    assert protect_group(27, [3, 9, 15]) == [0, 1, 2, 0]


def test_hidden_pair_that_pins_its_values_is_protected() -> None:
    # 1 + 1 + 10 = 12: two primary cells summing to 2 can only be 1 and 1.
    assert protect_group(12, [1, 1, 10]) == [0, 1, 1, 2]
    # 4 + 4 + 10 = 18: two primary cells summing to 8 can only be 4 and 4.
    assert protect_group(18, [4, 4, 10]) == [0, 1, 1, 2]
    # 2 + 3 + 10 = 15: 5 could be 1+4, 2+3, 3+2 or 4+1: nothing pinned, nothing more hidden.
    assert protect_group(15, [2, 3, 10]) == [0, 1, 1, 0]


def test_zero_siblings_are_never_used_and_a_parent_without_partner_is_hidden() -> None:
    # 8 = 3 + 5 + 0: the 5 is the only non-zero partner.
    assert protect_group(8, [3, 5, 0]) == [0, 1, 2, 0]
    # 7 = 3 + 0 + 0 + 4? no: here 6 = 3 + 3 with no other sibling: both primary, sum 6 pins nothing (3+3, 2+4, ...)
    assert protect_group(6, [3, 3]) == [0, 1, 1]


def test_protection_cascades_across_levels() -> None:
    # gemeente(0) = wijk A(1) + wijk B(2); A = b1(3) + b2(4); B = b3(5) + b4(6).
    counts = np.array([40, 12, 28, 2, 10, 20, 8])
    parent = np.array([0, 0, 1, 1, 2, 2])
    child = np.array([1, 2, 3, 4, 5, 6])
    status = d.protect(counts, parent, child, T)
    assert status[3] == d.PRIMARY and status[4] == d.SECONDARY
    assert_not_derivable(counts, parent, child, status)


def assert_not_derivable(counts: np.ndarray, parent: np.ndarray, child: np.ndarray, status: np.ndarray) -> None:
    """Brute force: for every shown parent, enumerate the hidden children's possible values (primary: 1..T-1,
    secondary: T..parent) consistent with the parent; no hidden child may have a single possible value."""
    for p in np.unique(parent):
        if status[p] != d.SHOWN:
            continue
        kids = child[parent == p]
        hidden = [k for k in kids if status[k] != d.SHOWN]
        if not hidden:
            continue
        rest = counts[p] - sum(counts[k] for k in kids if status[k] == d.SHOWN)
        ranges = [range(1, T) if status[k] == d.PRIMARY else range(T, rest + 1) for k in hidden]
        options = [combo for combo in itertools.product(*ranges) if sum(combo) == rest]
        for i in range(len(hidden)):
            assert len({combo[i] for combo in options}) > 1, f"child {hidden[i]} of {p} is derivable: {options}"


@pytest.mark.parametrize("seed", range(40))
def test_random_hierarchies_leave_nothing_derivable(seed: int) -> None:
    """Random buurt counts in 3 wijken: after protection no shown total pins a hidden buurt (brute force)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=3)
    buurten = rng.choice([0, 0, 1, 2, 3, 4, 6, 9, 14], size=int(sizes.sum()))
    wijk_of = np.repeat(np.arange(3), sizes)
    wijken = np.bincount(wijk_of, weights=buurten, minlength=3).astype(int)
    counts = np.concatenate([[buurten.sum()], wijken, buurten])
    parent = np.concatenate([np.zeros(3, int), 1 + wijk_of])
    child = np.concatenate([1 + np.arange(3), 4 + np.arange(len(buurten))])
    status = d.protect(counts, parent, child, T)
    assert not ((counts > 0) & (counts < T) & (status == d.SHOWN)).any()
    assert_not_derivable(counts, parent, child, status)


def test_derivable_from_components_and_windows() -> None:
    keys = pd.DataFrame({"month": ["m1"] * 4 + ["m2"] * 4})
    counts = pd.Series([3, 9, 7, 6, 2, 3, 8, 0])
    status = pd.Series([1, 0, 0, 0, 1, 1, 0, 0])
    found = d.derivable_from_components(keys, counts, status, T)
    assert found.to_dict() == {"m1": True, "m2": False}  # one hidden week; two hidden weeks summing to 5

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
    assert d.label(3, d.PRIMARY, T) == "<5"
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
