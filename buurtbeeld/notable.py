"""What counts as "notable" in a month: expected counts, exceedance p-values and the false discovery rate.

Pure functions on numpy arrays (no I/O), shared by the monthly analyses and the dashboard.

Method, and what was taken from where:

* **Baseline (Farrington, flexible; Noufaily et al. 2013).** With three or more years of history the
  reference values are the same month and the month either side (window w = 1) in each of up to
  five earlier years; a log-linear Poisson regression with the population as offset is fitted per
  series, and its trend is kept only when it is significant at 5 % (with the quasi-Poisson
  dispersion), the fit rests on at least three years, and the prediction stays within the range of
  the reference values: Farrington's three guards against a runaway trend. Taken in simplified form:
  the down-weighting of past outbreaks (a reference month with an Anscombe residual above 2.58 is
  left out and the fit repeated), so one burglary wave does not hide next year's. Not taken: the
  2/3-power transformation of the threshold, because the exact count distribution below makes it
  unnecessary, and Farrington's smooth weights, because dropping is easier to explain in "Hoe lezen".
* **Short history** (6 to 35 months): the mean of the previous 12 months (or all there are; outbreak
  months left out as above), scaled
  by a seasonal index taken from the whole gemeente's series of the same category when it is busy
  enough (≥ 100 cases a year): a buurt's own seasonal pattern is too noisy to estimate.
* **The baseline is itself an estimate (Poisson e-test, Krishnamoorthy & Thomson 2004).** The e-test
  compares two Poisson rates without pretending one of them is known. We keep that idea but not its
  double sum: the predictive distribution of the month's count is a gamma-mixed Poisson (negative
  binomial) whose extra variance is the estimation variance of log(expected) from the fit. That
  vectorises over hundreds of thousands of series and reduces to the exact Poisson tail as history
  grows.
* **Overdispersion.** Per category, pooled over all areas, the Dean–Lawless score test against the
  negative binomial; when it rejects at 5 %, the moment estimate of 1/k is added to the predictive
  variance (NB2: Var = μ + μ²/k).
* **Multiple testing.** Benjamini–Hochberg across every test of the month (all areas, all
  categories, both directions). A rise is never called notable below `min_count`
  cases, a fall never when fewer than `min_count` were expected. Every cell with a baseline stays in
  the family, also those that cannot be flagged: leaving out cells because of their observed count
  would make the family look cleaner than it is (measured: the false discovery proportion doubled).
  The default level is 10 %, the false discovery proportion a reader is promised in "Hoe lezen".
  Texts rank findings by the difference their reader sees (buurtbeeld.narrative.notable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

Z_975 = 1.959963984540054


@dataclass(frozen=True)
class Method:
    """The knobs of the method; defaults are those described in the module docstring."""

    min_count: int = 5
    fdr: float = 0.10
    years: int = 5
    window: int = 1
    full_years: int = 3
    short_months: int = 12
    min_months: int = 6
    trend_alpha: float = 0.05
    dispersion_alpha: float = 0.05
    seasonal_min_year_total: float = 100.0


DEFAULT = Method()


@dataclass
class Baseline:
    """Expected count per series for the target month, Var(log expected), and the method used."""

    expected: np.ndarray
    log_var: np.ndarray
    kind: np.ndarray  # 'trend' | 'seizoen' | 'recent' | 'geen'
    ref_y: np.ndarray  # (series, n_ref) reference counts, for the dispersion test
    ref_mu: np.ndarray  # (series, n_ref) their fitted values
    n_params: np.ndarray  # parameters fitted per series (1 or 2)


# --- count distributions -----------------------------------------------------------------------------


def upper_tail(y: np.ndarray, mu: np.ndarray, inv_size: np.ndarray | float = 0.0) -> np.ndarray:
    """P(Y ≥ y) for Y Poisson(mu), or negative binomial with Var = mu + mu² · inv_size."""
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    inv = np.broadcast_to(np.asarray(inv_size, dtype=float), np.broadcast_shapes(y.shape, mu.shape))
    pois = stats.poisson.sf(y - 1, mu)
    size = 1.0 / np.where(inv > 0, inv, 1.0)
    nb = stats.nbinom.sf(y - 1, size, size / (size + mu))
    return np.where(inv > 0, nb, pois)


def lower_tail(y: np.ndarray, mu: np.ndarray, inv_size: np.ndarray | float = 0.0) -> np.ndarray:
    """P(Y ≤ y) for the same distributions as upper_tail."""
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    inv = np.broadcast_to(np.asarray(inv_size, dtype=float), np.broadcast_shapes(y.shape, mu.shape))
    pois = stats.poisson.cdf(y, mu)
    size = 1.0 / np.where(inv > 0, inv, 1.0)
    nb = stats.nbinom.cdf(y, size, size / (size + mu))
    return np.where(inv > 0, nb, pois)


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


# --- baselines ---------------------------------------------------------------------------------------


def seasonal_index(total: np.ndarray, method: Method = DEFAULT) -> float:
    """Last year's same month (± window) against the 12 months centred on it, for one busy series
    (oldest first, ending at the month before the target). 1.0 when there is too little to say."""
    h = len(total)
    if h < 12 + method.window + 1:
        return 1.0
    same = total[h - 12 - method.window : h - 12 + method.window + 1]
    # The 12 months centred on last year's month; with less history, the last 12 months.
    year = total[h - 18 : h - 6] if h >= 18 else total[h - 12 :]
    if year.sum() < method.seasonal_min_year_total:
        return 1.0
    return float(np.clip(same.mean() / year.mean(), 0.5, 2.0))


def _reference_offsets(history: int, method: Method) -> np.ndarray:
    """Months back from the target month that form Farrington's reference set."""
    offsets = [
        12 * year + d
        for year in range(1, method.years + 1)
        for d in range(-method.window, method.window + 1)
        if 12 * year + d <= history
    ]
    return np.array(offsets, dtype=int)


def anscombe(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Anscombe residuals of Poisson counts: near-normal even for small means (Farrington's choice)."""
    mu = np.maximum(mu, 1e-9)
    return 1.5 * (np.cbrt(y) ** 2 - np.cbrt(mu) ** 2) / mu ** (1 / 6)


def _fit_loglinear(
    y: np.ndarray, exposure: np.ndarray, t: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Per-row weighted Poisson regression log mu = log exposure + a + b t by Newton steps, vectorised.

    Returns a, b and the inverse Fisher information entries (v_aa, v_bb)."""
    w = np.ones_like(y) if w is None else w
    rate = ((w * y).sum(axis=1) + 0.5) / (w * exposure).sum(axis=1)
    a, b = np.log(rate), np.zeros(len(y))
    for _ in range(25):
        mu = exposure * np.exp(a[:, None] + b[:, None] * t[None, :])
        r = w * (y - mu)
        mu = w * mu
        ua, ub = r.sum(axis=1), (r * t).sum(axis=1)
        iaa, iab, ibb = mu.sum(axis=1), (mu * t).sum(axis=1), (mu * t * t).sum(axis=1)
        det = iaa * ibb - iab**2
        det = np.where(det > 1e-12, det, np.nan)
        da, db = (ibb * ua - iab * ub) / det, (iaa * ub - iab * ua) / det
        da, db = np.nan_to_num(np.clip(da, -5, 5)), np.nan_to_num(np.clip(db, -1, 1))
        a, b = a + da, b + db
        if np.nanmax(np.abs(np.concatenate([da, db])), initial=0) < 1e-8:
            break
    mu = w * exposure * np.exp(a[:, None] + b[:, None] * t[None, :])
    iaa, iab, ibb = mu.sum(axis=1), (mu * t).sum(axis=1), (mu * t * t).sum(axis=1)
    det = np.where(iaa * ibb - iab**2 > 1e-12, iaa * ibb - iab**2, np.nan)
    return a, b, ibb / det, iaa / det


def baseline(
    history: np.ndarray,
    exposure: np.ndarray | None = None,
    season: np.ndarray | None = None,
    method: Method = DEFAULT,
) -> Baseline:
    """Expected counts for the month after `history` ((series, months) counts, oldest first).

    `exposure` is (series, months + 1): what the count is proportional to (population × weeks in the
    month), the last column the target month (ones when absent). `season` is a per-series seasonal
    index used with short history."""
    y = np.asarray(history, dtype=float)
    n, h = y.shape
    e = np.ones((n, h + 1)) if exposure is None else np.asarray(exposure, dtype=float)
    e = np.where(np.isfinite(e) & (e > 0), e, np.nan)
    e = np.where(np.isnan(e).any(axis=1, keepdims=True), 1.0, e)  # unknown exposure: plain counts
    kind = np.full(n, "geen", dtype=object)
    expected, log_var = np.full(n, np.nan), np.full(n, np.nan)
    n_params = np.ones(n)
    if h < method.min_months:
        empty = np.empty((n, 0))
        return Baseline(expected, log_var, kind, empty, empty, n_params)

    if h >= 12 * method.full_years:
        offsets = _reference_offsets(h, method)
        cols = h - offsets
        ry, re = y[:, cols], e[:, cols]
        t = -offsets.astype(float)
        a, b, _, _ = _fit_loglinear(ry, re, t)
        w = _outbreak_weights(ry, re * np.exp(a[:, None] + b[:, None] * t[None, :]))
        a, b, v_aa, v_bb = _fit_loglinear(ry, re, t, w)
        fitted = re * np.exp(a[:, None] + b[:, None] * t[None, :])
        dof = np.maximum(w.sum(axis=1) - 2, 1)
        pearson = (w * (ry - fitted) ** 2 / np.where(fitted > 0, fitted, np.nan)).sum(axis=1)
        phi = np.maximum(1.0, pearson / dof)
        trend_z = np.abs(b) / np.sqrt(phi * v_bb)
        pred = e[:, h] * np.exp(a)
        in_range = pred <= (ry / re).max(axis=1) * e[:, h]
        keep = (trend_z > stats.norm.isf(method.trend_alpha / 2)) & in_range & ((w * ry).sum(axis=1) > 0)
        keep &= np.isfinite(pred) & np.isfinite(v_aa)
        wy = (w * ry).sum(axis=1)
        mean_rate = wy / (w * re).sum(axis=1)
        expected = np.where(keep, pred, mean_rate * e[:, h])
        log_var = np.where(keep, phi * v_aa, 1.0 / (wy + 0.5))
        ref_mu = np.where(keep[:, None], fitted, mean_rate[:, None] * re)
        n_params = np.where(keep, 2.0, 1.0)
        kind = np.where(keep, "trend", "seizoen").astype(object)
        return Baseline(expected, log_var, kind, np.where(w > 0, ry, np.nan), ref_mu, n_params)

    m = min(h, method.short_months)
    ry, re = y[:, h - m :], e[:, h - m : h]
    w = _outbreak_weights(ry, (ry.sum(axis=1) / re.sum(axis=1))[:, None] * re)
    wy = (w * ry).sum(axis=1)
    mean_rate = wy / (w * re).sum(axis=1)
    s = np.ones(n) if season is None else np.asarray(season, dtype=float)
    expected = mean_rate * e[:, h] * s
    log_var = 1.0 / (wy + 0.5)
    kind = np.where(s != 1.0, "recent_seizoen", "recent").astype(object)
    return Baseline(expected, log_var, kind, np.where(w > 0, ry, np.nan), mean_rate[:, None] * re, n_params)


def _outbreak_weights(y: np.ndarray, fitted: np.ndarray, limit: float = 2.58) -> np.ndarray:
    """Farrington's reweighting, in its simplest form: a reference month whose Anscombe residual
    exceeds 2.58 (an earlier outbreak) is left out, so one bad month does not raise the baseline for
    a year. At most half of a series' months are left out."""
    out = (anscombe(y, fitted) > limit).astype(float)
    keep = np.where(out.sum(axis=1, keepdims=True) * 2 > y.shape[1], 1.0, 1.0 - out)
    return keep


# --- the assessment of one month ---------------------------------------------------------------------


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


def assess(
    observed: np.ndarray,
    base: Baseline,
    category: np.ndarray,
    method: Method = DEFAULT,
) -> Assessment:
    """Test every series of one month; `category` (per series) pools the overdispersion test."""
    y = np.asarray(observed, dtype=float)
    mu = np.maximum(base.expected, 0.5 / 12)  # a series that never had a case still has some chance
    inv_k = np.zeros(len(y))
    category = np.asarray(category)
    for cat in np.unique(category):
        rows = (category == cat) & np.isfinite(base.expected)
        if base.ref_y.shape[1] == 0 or not rows.any():
            continue
        _, p, k_inv = dispersion_test(base.ref_y[rows], base.ref_mu[rows], base.n_params[rows])
        if p < method.dispersion_alpha:
            inv_k[rows] = k_inv
    inv_size = inv_k + np.nan_to_num(base.log_var, nan=0.0)
    tested = np.isfinite(base.expected)
    p_up = np.where(tested, upper_tail(y, mu, inv_size), np.nan)
    p_down = np.where(tested, lower_tail(y, mu, inv_size), np.nan)
    p_two = np.minimum(1.0, 2.0 * np.minimum(p_up, p_down))
    q = benjamini_hochberg(p_two)
    significant = q <= method.fdr
    up = significant & (y > mu) & (y >= method.min_count)
    down = significant & (y < mu) & (mu >= method.min_count)
    direction = np.where(up, "hoog", np.where(down, "laag", "")).astype(object)
    return Assessment(y, base.expected, p_up, p_down, q, direction, y - base.expected, inv_size, base.kind)
