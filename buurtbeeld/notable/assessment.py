"""The assessment of one month (or week): tails, BH per area level over the non-degenerate tests,
the min_count rule and the direction; of exact counts, or of the boxes of shared figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from buurtbeeld.notable.baselines import Baseline
from buurtbeeld.notable.method import DEFAULT, Method
from buurtbeeld.notable.overdispersion import dispersion
from buurtbeeld.notable.tails import benjamini_hochberg, level_mixed_tails, lower_tail, upper_tail


@dataclass
class Assessment:
    """Per series: expected, tails, q-value, direction ('hoog', 'laag' or ''), excess."""

    observed: np.ndarray
    expected: np.ndarray
    p_up: np.ndarray
    p_down: np.ndarray
    q: np.ndarray
    direction: np.ndarray
    excess: np.ndarray
    inv_size: np.ndarray
    kind: np.ndarray
    tested: np.ndarray = field(default_factory=lambda: np.empty(0))
    shift: np.ndarray = field(default_factory=lambda: np.empty(0))
    since: np.ndarray = field(default_factory=lambda: np.empty(0))
    shift_new: np.ndarray = field(default_factory=lambda: np.empty(0))
    inv_k: np.ndarray = field(default_factory=lambda: np.empty(0))  # month-level 1/k
    cases: np.ndarray = field(default_factory=lambda: np.empty(0))  # the level's shapes (level_mixed_tails)
    months_k: np.ndarray = field(default_factory=lambda: np.empty(0))
    history_total: np.ndarray = field(default_factory=lambda: np.empty(0))  # cases in the history
    shift_ended: np.ndarray = field(default_factory=lambda: np.empty(0))  # Baseline.shift_ended
    ended_since: np.ndarray = field(default_factory=lambda: np.empty(0))
    shift_resumed: np.ndarray = field(default_factory=lambda: np.empty(0))


# Where the plain negative binomial's two-sided p-value is above this, the level-mixed tail is not
# computed (it costs 61 tail evaluations a series): Benjamini–Hochberg at 10 % never rejects a p-value
# above 0.1, and such p-values do not change which of the others it rejects (their ranks and the
# family's size stay the same). The mixture can be smaller than the plain p-value (a lighter left
# tail); with plain p ≥ 0.3 it stays above 0.1 (tests/test_notable.py checks a grid).
MIXED_BELOW = 0.3
MIN_EXPECTED = 0.5 / 12  # the expected count tested: a series that never had a case still has some chance
_CHUNK = 20_000  # rows of the mixture at a time: 61 nodes × 8 bytes × a few arrays each


def level_shapes(base: Baseline) -> tuple[np.ndarray, np.ndarray]:
    """The beta-prime shapes of the level's uncertainty (tails.level_mixed_tails): the cases behind
    it (1 / the count-shaped part of Var(log expected): the history's cases and the seasonal index's),
    and what the history's month effects add, as months × k."""
    n = len(base.expected)
    if len(base.poisson_var) != n:
        raise ValueError(f"Baseline.poisson_var has {len(base.poisson_var)} rows for {n} series")
    log_var = np.nan_to_num(base.log_var, nan=0.0)
    poisson = base.poisson_var
    poisson = np.where(np.isfinite(poisson) & (poisson > 0), np.minimum(poisson, log_var), np.nan)
    extra = np.maximum(log_var - poisson, 0.0)
    cases = 1.0 / poisson
    months_k = np.where(extra > 1e-9, 1.0 / np.maximum(extra, 1e-9), 1e9)
    return cases, months_k


def tails(
    y: np.ndarray,
    mu: np.ndarray,
    inv_k: np.ndarray,
    inv_size: np.ndarray,
    cases: np.ndarray,
    months_k: np.ndarray,
    tested: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """P(Y ≥ y) and P(Y ≤ y) of each tested series (NaN elsewhere): the negative binomial with the
    level's variance added to 1/k (`inv_size`), and where that two-sided p-value is below
    `MIXED_BELOW` the count around an uncertain level (`level_mixed_tails`: month-level `inv_k`, the
    level's beta-prime shapes `cases` and `months_k`), whose far tail the summed variance makes
    several times too light (false flags where the expected came out low by chance)."""
    p_up = np.where(tested, upper_tail(y, mu, inv_size), np.nan)
    p_down = np.where(tested, lower_tail(y, mu, inv_size), np.nan)
    mixed = tested & (2.0 * np.minimum(p_up, p_down) < MIXED_BELOW) & np.isfinite(cases)
    rows = np.flatnonzero(mixed)
    for at in (rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK)):
        p_up[at], p_down[at] = level_mixed_tails(y[at], mu[at], inv_k[at], cases[at], months_k[at])
    return p_up, p_down


def assess(
    observed: np.ndarray,
    base: Baseline,
    category: np.ndarray,
    method: Method = DEFAULT,
    level: np.ndarray | None = None,
    inv_k: np.ndarray | None = None,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> Assessment:
    """Test every series of one month.

    The family of Benjamini–Hochberg is the non-degenerate tests of each area level: a category
    with no registrations in the month nor in the history is not a test (it cannot be significant,
    and 80 % of the family were such cells, which made the FDR look kept while it was not).
    `inv_k` is the month-level 1/k per series (default: `dispersion` per level × category).

    With `box` (low, high) the counts are known only to lie in it (`observed` is then the shared
    figure, and its box disclosure.rounding_box; NaN where hidden: no test). Each tail is taken at
    the end of the box nearest the expectation (P(Y ≥ low), P(Y ≤ high)), so a flag holds for every
    count the figure allows, and since the test reads the boxes alone, neither a flag nor its
    absence nor the family's cut says anything of a count beyond its figure. A rise needs
    `min_count` at the box's low end, so beside "5" (1 t/m 7) there is none; a fall beside "0"
    only where 4 would be one. Testing the shown figure itself would take a count rounded up from 1
    to 5 for a rise, and such p-values lowered the family's cut for the others."""
    y = np.asarray(observed, dtype=float)
    low, high = (y, y) if box is None else (np.asarray(box[0], dtype=float), np.asarray(box[1], dtype=float))
    return _assessed(low, high, y, base, category, method, level, inv_k)


def _assessed(
    low: np.ndarray,
    high: np.ndarray,
    y: np.ndarray,
    base: Baseline,
    category: np.ndarray,
    method: Method,
    level: np.ndarray | None,
    inv_k: np.ndarray | None,
) -> Assessment:
    n = len(y)
    category = np.asarray(category)
    level = np.full(n, "") if level is None else np.asarray(level)
    inv = dispersion(base, level, category, method) if inv_k is None else np.asarray(inv_k, dtype=float)
    mu = np.maximum(base.expected, MIN_EXPECTED)
    inv_size = inv + np.nan_to_num(base.log_var, nan=0.0)
    history_total = base.history_total if len(base.history_total) == n else np.ones(n)
    known = np.isfinite(low) & np.isfinite(high)
    tested = np.isfinite(base.expected) & known & ((high > 0) | (history_total > 0))
    cases, months_k = level_shapes(base)
    p_up, p_down = tails(low, mu, inv, inv_size, cases, months_k, tested)
    if not np.array_equal(low[known], high[known]):
        p_down = tails(high, mu, inv, inv_size, cases, months_k, tested)[1]
    p_two = np.minimum(1.0, 2.0 * np.minimum(p_up, p_down))
    q = np.full(n, np.nan)
    for lvl in np.unique(level):
        at = level == lvl
        q[at] = benjamini_hochberg(p_two[at])
    significant = q <= method.fdr
    up = significant & (low > mu) & (low >= method.min_count)
    down = significant & (high < mu) & (mu >= method.min_count)
    direction = np.where(up, "hoog", np.where(down, "laag", "")).astype(object)
    zeros = np.zeros(n)
    return Assessment(
        y,
        base.expected,
        p_up,
        p_down,
        q,
        direction,
        y - base.expected,
        inv_size,
        base.kind,
        tested,
        base.shift if len(base.shift) == n else zeros,
        base.since if len(base.since) == n else np.full(n, -1),
        base.shift_new if len(base.shift_new) == n else np.zeros(n, dtype=bool),
        inv,
        cases,
        months_k,
        history_total,
        base.shift_ended if len(base.shift_ended) == n else zeros,
        base.ended_since if len(base.ended_since) == n else np.full(n, -1),
        base.shift_resumed if len(base.shift_resumed) == n else np.zeros(n, dtype=bool),
    )
