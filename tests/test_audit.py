"""The auditor: interval propagation over every relation of a cube never claims more than a linear
program can derive, catches a planted leak, and is checked against the exact LP on random cubes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from buurtbeeld import audit
from buurtbeeld import disclosure as d
from etl.publish import ALL, audit_year, cube_relations, year_cube

T = 5
HIERARCHY = pd.DataFrame(
    {
        "buurt_code": ["BU00010001", "BU00010002", "BU00010003", "BU00010101"],
        "wijk_code": ["WK000100", "WK000100", "WK000100", "WK000101"],
        "stadsdeel": ["Noord", "Noord", "Zuid", "Zuid"],
    }
)
WEEKS = [(2026, w) for w in range(1, 10)]  # January and February 2026 complete, March partial
PERIODS = {"week": [f"2026-W{w:02d}" for _, w in WEEKS], "month": ["2026-01", "2026-02"], "quarter": [], "year": []}


def random_cube(seed: int, rate: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (y, w, b, g, mk, int(rng.poisson(rate)))
        for y, w in WEEKS
        for b in [*HIERARCHY["buurt_code"], "onbekend"]
        for g, mk in (("inbraak", "A20"), ("inbraak", "A30"), ("fiets", "A72"))
    ]
    counts = pd.DataFrame(rows, columns=["iso_year", "iso_week", "buurt_code", "group_code", "mk_code", "count"])
    counts = counts[counts["count"] > 0]
    groups = counts.groupby(["iso_year", "iso_week", "buurt_code", "group_code"], as_index=False)["count"].sum()
    counts = pd.concat([counts, groups.assign(mk_code=ALL)], ignore_index=True)
    return year_cube(counts, HIERARCHY, "GM0001", T, PERIODS).reset_index(drop=True)


def test_a_total_next_to_one_hidden_part_pins_it() -> None:
    # 12 = 3 + 9 with only the 3 hidden: the attacker reads 3 exactly.
    rel = audit.Relations(np.array([0, 0]), np.array([1, 2]), np.array([0, 0]))
    counts = np.array([12, 3, 9])
    low, high = audit.attacker_box(counts, np.array([True, False, True]), np.full(3, 1.0), np.full(3, 4.0))
    low, high = audit.propagate(low, high, rel)
    assert (low[1], high[1]) == (3, 3)
    found = audit.findings(counts, np.array([False, True, False]), low, high, T, 4)
    assert len(found) == 1 and found[0].pinned and found[0].count == 3


@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.sampled_from([0.3, 0.8, 2.0]))
def test_propagation_contains_the_lp_and_the_truth(seed: int, rate: float) -> None:
    """On random cubes (area x category x week x month), for every hidden cell: the true count lies in
    the exact LP interval, which lies in the propagated one (propagation never over-claims)."""
    cube = random_cube(seed, rate)
    cube["status"] = cube["status"].astype(int)
    result = audit_year(cube, HIERARCHY, T)
    hidden = np.flatnonzero(cube["status"].to_numpy() != d.SHOWN)
    if not len(hidden):
        return
    frame = result.cells
    rel = cube_relations(cube)  # year_cube gives buurt rows their wijk and stadsdeel
    status = frame["status"].to_numpy()
    low0, high0 = audit.attacker_box(frame["count"].to_numpy(), status == d.SHOWN, *_box(status))
    lp_low, lp_high = audit.lp_bounds(low0, high0, rel, hidden)
    counts = frame["count"].to_numpy()[hidden]
    assert (lp_low <= counts + 1e-6).all() and (counts <= lp_high + 1e-6).all()
    assert (frame["low"].to_numpy()[hidden] <= lp_low + 1e-6).all()
    assert (lp_high <= frame["high"].to_numpy()[hidden] + 1e-6).all()


def _box(status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from etl.publish import hidden_box

    return hidden_box(status, T)


def test_relations_of_a_year_cube_hold_for_its_counts() -> None:
    cube = random_cube(3, 1.0)
    rel = cube_relations(cube)
    counts = cube["count"].to_numpy()
    index, heads, r = rel.compact()
    sums = np.bincount(index, weights=counts[rel.child], minlength=r)
    assert np.array_equal(sums, counts[heads])
    kinds = set(cube["period_type"].iloc[rel.child]) | set(cube["period_type"].iloc[heads])
    assert {"week", "month"} <= kinds and (cube["period_type"].iloc[heads] == "month").any()
