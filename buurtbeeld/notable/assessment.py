"""The assessment of one month (or week): tails, BH per area level over the non-degenerate tests,
the min_count rule and the direction."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from buurtbeeld.notable.baselines import Baseline
from buurtbeeld.notable.method import DEFAULT, Method
from buurtbeeld.notable.overdispersion import dispersion
from buurtbeeld.notable.tails import benjamini_hochberg, lower_tail, upper_tail


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


def assess(
    observed: np.ndarray,
    base: Baseline,
    category: np.ndarray,
    method: Method = DEFAULT,
    level: np.ndarray | None = None,
    inv_k: np.ndarray | None = None,
) -> Assessment:
    """Test every series of one month.

    The family of Benjamini–Hochberg is the non-degenerate tests of each area level: a category
    with no registrations in the month nor in the history is not a test (it cannot be significant,
    and 80 % of the family were such cells, which made the FDR look kept while it was not).
    `inv_k` is the month-level 1/k per series (default: `dispersion` per level × category)."""
    y = np.asarray(observed, dtype=float)
    n = len(y)
    category = np.asarray(category)
    level = np.full(n, "") if level is None else np.asarray(level)
    inv = dispersion(base, level, category, method) if inv_k is None else np.asarray(inv_k, dtype=float)
    mu = np.maximum(base.expected, 0.5 / 12)  # a series that never had a case still has some chance
    inv_size = inv + np.nan_to_num(base.log_var, nan=0.0)
    history_total = base.history_total if len(base.history_total) == n else np.ones(n)
    tested = np.isfinite(base.expected) & ((y > 0) | (history_total > 0))
    p_up = np.where(tested, upper_tail(y, mu, inv_size), np.nan)
    p_down = np.where(tested, lower_tail(y, mu, inv_size), np.nan)
    p_two = np.minimum(1.0, 2.0 * np.minimum(p_up, p_down))
    q = np.full(n, np.nan)
    for lvl in np.unique(level):
        at = level == lvl
        q[at] = benjamini_hochberg(p_two[at])
    significant = q <= method.fdr
    up = significant & (y > mu) & (y >= method.min_count)
    down = significant & (y < mu) & (mu >= method.min_count)
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
    )
