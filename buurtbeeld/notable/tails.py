"""Count distributions and multiple testing: exact Poisson / negative-binomial tails, the Dean–Lawless
dispersion score test, and Benjamini–Hochberg q-values."""

from __future__ import annotations

import numpy as np
from scipy import stats


def upper_tail(y: np.ndarray, mu: np.ndarray, inv_size: np.ndarray | float = 0.0) -> np.ndarray:
    """P(Y ≥ y) for Y Poisson(mu), or negative binomial with Var = mu + mu² · inv_size."""
    return _tail(y, mu, inv_size, upper=True)


def _tail(y: np.ndarray, mu: np.ndarray, inv_size: np.ndarray | float, upper: bool) -> np.ndarray:
    """Each element from the one distribution it needs (scipy's tails cost most of a month's time)."""
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    shape = np.broadcast_shapes(y.shape, mu.shape, np.shape(inv_size))
    y, mu = np.broadcast_to(y, shape).ravel(), np.broadcast_to(mu, shape).ravel()
    inv = np.broadcast_to(np.asarray(inv_size, dtype=float), shape).ravel()
    out = np.empty(y.shape)
    nb = inv > 0
    pois = ~nb
    if pois.any():
        out[pois] = stats.poisson.sf(y[pois] - 1, mu[pois]) if upper else stats.poisson.cdf(y[pois], mu[pois])
    if nb.any():
        size = 1.0 / inv[nb]
        prob = size / (size + mu[nb])
        out[nb] = stats.nbinom.sf(y[nb] - 1, size, prob) if upper else stats.nbinom.cdf(y[nb], size, prob)
    return out.reshape(shape)


def lower_tail(y: np.ndarray, mu: np.ndarray, inv_size: np.ndarray | float = 0.0) -> np.ndarray:
    """P(Y ≤ y) for the same distributions as upper_tail."""
    return _tail(y, mu, inv_size, upper=False)


def dispersion_test(y: np.ndarray, mu: np.ndarray, n_params: np.ndarray | int = 0) -> tuple[float, float, float]:
    """Dean–Lawless score test of Poisson against NB2 on pooled (y, fitted mu) pairs.

    Returns (statistic, one-sided p-value, moment estimate of 1/k ≥ 0). `n_params` per row (series)
    corrects E[(y − mu)²] = mu (1 − p/n) for values fitted in-sample."""
    y, mu = np.atleast_2d(np.asarray(y, dtype=float)), np.atleast_2d(np.asarray(mu, dtype=float))
    valid = np.isfinite(y) & np.isfinite(mu) & (mu > 0)
    n = valid.sum(axis=1, keepdims=True)
    correction = 1.0 - np.divide(
        np.broadcast_to(np.asarray(n_params, dtype=float).reshape(-1, 1), n.shape),
        n,
        out=np.zeros(n.shape),
        where=n > 0,
    )
    resid = np.where(valid, (y - mu) ** 2 - y * correction, 0.0)
    mu2 = np.where(valid, mu**2, 0.0).sum()
    if mu2 <= 0:
        return 0.0, 1.0, 0.0
    statistic = float(resid.sum() / np.sqrt(2.0 * mu2))
    return statistic, float(stats.norm.sf(statistic)), max(0.0, float(resid.sum() / mu2))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (q-values) in the input order; NaN stays NaN and is not counted as a test."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    m = len(tested)
    if m == 0:
        return q
    order = tested[np.argsort(p[tested], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q
