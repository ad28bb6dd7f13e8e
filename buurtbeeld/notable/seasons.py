"""Seasons from the gemeente: robust concurrent indices (mid-p PIT roots), monthly category profiles,
and applying the target month's index to a recent-level baseline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from buurtbeeld.notable.baselines import Baseline
from buurtbeeld.notable.method import DEFAULT, Method
from buurtbeeld.notable.tails import upper_tail


def _pit_weights(m: np.ndarray, inv_k: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """sqrt(m / (1 + m/k)), at most 2: what a buurt's PIT says about the index, but no buurt more than
    a few small ones together (uncapped, the two or three outbreaks a category had in the
    benchmark's large buurten held a fifth of the weight and lifted the index ~10 %)."""
    return np.where(valid, np.minimum(np.sqrt(np.maximum(m, 0.0) / (1.0 + np.maximum(m, 0.0) * inv_k)), 2.0), 0.0)


def _mid_pit(y: np.ndarray, mu: np.ndarray, inv_k: np.ndarray) -> np.ndarray:
    """P(Y < y) + ½ P(Y = y) under NB(mu, 1/k): mean ½ exactly under the model, whatever its skew."""
    above = upper_tail(y + 1, mu, inv_k)
    return 1.0 - above - 0.5 * (upper_tail(y, mu, inv_k) - above)


def robust_index(y: np.ndarray, m: np.ndarray, inv_k: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per row, the factor s with which the counts `y` (row × buurt) follow their levels `m`: the
    root of Σ w (mid-p PIT of y under NB(s·m, 1/k) − ½) = 0, w = `_pit_weights`.

    Under the model every mid-p PIT has mean ½ exactly, whatever the skew, so the root is unbiased;
    each buurt moves it by at most its weight, so an outbreak counts as one high buurt, not as its
    size. A ratio of sums (capped or not) let the benchmark's planted outbreaks lift the gemeente's
    month by 12-15 % in the smaller categories, and every buurt's expectation (and, through the
    monthly profile, the dispersion) with it."""
    y, m = np.asarray(y, dtype=float), np.asarray(m, dtype=float)
    ok = valid & np.isfinite(m) & (m > 0) & np.isfinite(y)
    inv = np.broadcast_to(np.asarray(inv_k, dtype=float), y.shape)
    w = _pit_weights(np.where(ok, m, 0.0), inv, ok)
    lo, hi = np.full(len(y), np.log(0.2)), np.full(len(y), np.log(5.0))
    mm, yy = np.where(ok, m, 1.0), np.where(ok, y, 0.0)
    for _ in range(10):  # a factor 25 bracket: ten halvings of its log leave 0,3 %
        mid = (lo + hi) / 2
        pit = _mid_pit(yy, mm * np.exp(mid)[:, None], inv)
        score = (w * (pit - 0.5)).sum(axis=1)
        # A positive score: the counts sit high under s, so the factor is larger.
        lo, hi = np.where(score > 0, mid, lo), np.where(score > 0, hi, mid)
    return np.exp((lo + hi) / 2)


PROFILE_INV_K = 0.1  # a working 1/k for a profile's weights (its scale cancels in the normalisation)


def category_profiles(ys: list[np.ndarray], ms: list[np.ndarray]) -> np.ndarray:
    """`robust_index` per category and period at once: ys, ms per category (periods × its buurten:
    counts, levels); one row of factors per category. One call for every category × period (rows)
    over the buurten (columns, padded): the index is a root found by bisection, and scipy's tails are
    cheapest in few large calls."""
    width = max(m.shape[1] for m in ms)
    y = np.vstack([np.pad(v, ((0, 0), (0, width - v.shape[1]))) for v in ys])
    m = np.vstack([np.pad(v, ((0, 0), (0, width - v.shape[1]))) for v in ms])
    return robust_index(y, m, np.full(y.shape, PROFILE_INV_K), m > 0).reshape(len(ys), -1)


def concurrent_season(
    observed: np.ndarray,
    unseasoned: np.ndarray,
    inv_k: np.ndarray,
    groups: np.ndarray,
    use: np.ndarray,
    method: Method = DEFAULT,
) -> tuple[np.ndarray, np.ndarray]:
    """The target month's seasonal index per group from the same month in the rest of the gemeente:
    `robust_index` of the `use` series (the buurten) of the group against their recent level. Needs no
    earlier year: with 6-13 months of history it is the only seasonal correction the gemeente's own
    data can give. Returns the index per series (1 where the group has fewer than `concurrent_min`
    expected cases) and Var(log index)."""
    y, m = np.asarray(observed, dtype=float), np.asarray(unseasoned, dtype=float)
    index, var = np.ones(len(y)), np.zeros(len(y))
    names = [g for g in np.unique(groups[use])]
    rows = [np.flatnonzero(use & (groups == g) & np.isfinite(m) & (m > 0)) for g in names]
    rows = [(g, r) for g, r in zip(names, rows, strict=True) if m[r].sum() >= method.concurrent_min]
    if not rows:
        return index, var
    width = max(len(r) for _, r in rows)
    yy, mm, ii = np.zeros((len(rows), width)), np.ones((len(rows), width)), np.zeros((len(rows), width))
    valid = np.zeros((len(rows), width), dtype=bool)
    for j, (_, r) in enumerate(rows):
        yy[j, : len(r)], mm[j, : len(r)], ii[j, : len(r)], valid[j, : len(r)] = y[r], m[r], inv_k[r], True
    ratio = robust_index(yy, mm, ii, valid)
    # Leave one out, to first order: a buurt's own count does not set its own index (a large buurt
    # with an outbreak lifted its own expectation ~10 % on the benchmark). Its share of the score,
    # divided by the score's slope in log(index), is how far the root moves without it.
    w = _pit_weights(mm, ii, valid)
    pit, pit_up = _mid_pit(yy, mm * ratio[:, None], ii), _mid_pit(yy, mm * ratio[:, None] * np.exp(0.01), ii)
    slope = (w * (pit_up - pit)).sum(axis=1, keepdims=True) / 0.01
    own = ratio[:, None] * np.exp(np.clip(w * (pit - 0.5) / np.where(slope < 0, slope, -np.inf), -0.5, 0.5))
    # Var(log index): the M-estimator's sandwich Σ w² (PIT − ½)² / slope², from this month's own
    # scatter of the buurten around the index (so a buurt season unlike the gemeente's, or a category
    # carried by a few buurten, widens it), and never below the model's variance of a ratio of sums.
    sandwich = (w**2 * (pit - 0.5) ** 2).sum(axis=1) / np.maximum(slope[:, 0] ** 2, 1e-12)
    for j, (g, r) in enumerate(rows):
        mu = ratio[j] * m[r]
        index[groups == g] = ratio[j]
        index[r] = own[j, : len(r)]
        model = (mu.sum() + (inv_k[r] * mu**2).sum()) / mu.sum() ** 2
        var[groups == g] = max(model, float(sandwich[j]))
    return index, var


def seasoned(base: Baseline, season: np.ndarray, season_var: np.ndarray, label: np.ndarray) -> Baseline:
    """`base` with the target month's seasonal index applied where the baseline is the recent level
    (short history, or the new level after a shift); `label` names the index per series for the
    texts ('recent_gemeente', 'recent_seizoen'), 'recent' where the index is 1 (no correction made)."""
    short = np.isin(base.kind, ("recent", "recent_seizoen", "recent_gemeente"))
    apply = short | (base.kind == "niveau")
    s = np.asarray(season, dtype=float)
    return replace(
        base,
        expected=np.where(apply, base.unseasoned * s, base.expected),
        log_var=np.where(apply, base.log_var + np.asarray(season_var, dtype=float), base.log_var),
        # The index is a ratio of this month's counts elsewhere in the gemeente to their expectation:
        # its error is a count's (gamma-shaped, light right tail), like the history's cases, not a
        # month effect's (see tails.level_mixed_tails).
        poisson_var=np.where(apply, base.poisson_var + np.asarray(season_var, dtype=float), base.poisson_var),
        kind=np.where(short, np.where(s != 1.0, label, "recent"), base.kind).astype(object),
    )
