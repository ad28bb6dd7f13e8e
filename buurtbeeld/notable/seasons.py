"""Seasons from the gemeente: robust concurrent indices (mid-p PIT roots), monthly category profiles,
and applying the target month's index to a recent-level baseline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy import stats

from buurtbeeld.notable.baselines import RECENT, Baseline
from buurtbeeld.notable.method import DEFAULT, Method
from buurtbeeld.notable.tails import lower_tail, tail_starts, upper_tail


def _pit_weights(m: np.ndarray, inv_k: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """sqrt(m / (1 + m/k)), at most 2: what a buurt's PIT says about the index, but no buurt more than
    a few small ones together (uncapped, the two or three outbreaks a category had in the
    benchmark's large buurten held a fifth of the weight and lifted the index ~10 %)."""
    return np.where(valid, np.minimum(np.sqrt(np.maximum(m, 0.0) / (1.0 + np.maximum(m, 0.0) * inv_k)), 2.0), 0.0)


def _mid_pit(y: np.ndarray, mu: np.ndarray, inv_k: np.ndarray, rounded: int | None = None) -> np.ndarray:
    """P(Y < y) + ½ P(Y = y) under NB(mu, 1/k): mean ½ exactly under the model, whatever its skew.
    With `rounded` (a base), `y` is a published figure (disclosure.round_shared) and the PIT is the
    figure's own under the model pushed through that rounding (`_mid_pit_rounded`)."""
    if rounded:
        return _mid_pit_rounded(y, mu, inv_k, rounded)
    above = upper_tail(y + 1, mu, inv_k)
    return 1.0 - above - 0.5 * (upper_tail(y, mu, inv_k) - above)


def _mid_pit_rounded(r: np.ndarray, mu: np.ndarray, inv_k: np.ndarray, base: int) -> np.ndarray:
    """P(R < r) + ½ P(R = r) for the figure R of a count Y ~ NB(mu, 1/k) under round_shared: 0 from
    Y = 0 and from Y = c in 1..base-1 with probability 1 - c/base; base from those with c/base and
    from base..base+half; a larger multiple r from r-half..r+half (half = (base-1)//2).

    The figure's PIT has mean ½ under the model as the count's has, so an index on figures stays
    unbiased. The count's PIT of a figure is not: a 0 beside an expectation of 2 reads as a low
    month although it is 1-4 four times in five, and on the demo's wijken the month's index of a
    small category came out at 0.4 where the gemeente's own figure said 1."""
    r = base * np.round(np.asarray(r, dtype=float) / base)
    shape = np.broadcast_shapes(r.shape, np.shape(mu), np.shape(inv_k))
    r = np.broadcast_to(r, shape)
    mu = np.broadcast_to(np.asarray(mu, dtype=float), shape)
    inv = np.broadcast_to(np.asarray(inv_k, dtype=float), shape)
    half = (base - 1) // 2
    out = np.empty(shape)
    small = r <= base  # 0 or base: from the count's distribution over 0..base+half (one call)
    if small.any():
        pmf = _first_pmf(mu[small], inv[small], base + half + 1)
        cdf = np.cumsum(pmf, axis=1)
        up = (pmf[:, 1:base] * np.arange(1, base) / base).sum(axis=1)  # 1..base-1 read as base
        p_zero = cdf[:, base - 1] - up
        p_base = up + cdf[:, base + half] - cdf[:, base - 1]
        out[small] = np.where(r[small] <= 0, 0.5 * p_zero, p_zero + 0.5 * p_base)
    big = ~small  # a larger multiple r: the counts r-half..r+half
    if big.any():
        below = lower_tail(r[big] - half - 1, mu[big], inv[big])
        out[big] = below + 0.5 * (lower_tail(r[big] + half, mu[big], inv[big]) - below)
    return out


def _first_pmf(mu: np.ndarray, inv: np.ndarray, n: int) -> np.ndarray:
    """(len(mu), n): P(Y = 0..n-1) under NB(mu, 1/k) (Poisson where 1/k = 0), by the recursion
    p(c+1) = p(c) (c + k) / (c + 1) · mu / (mu + k): in numpy, a tenth of scipy's cost for a few terms."""
    mu = np.maximum(np.asarray(mu, dtype=float), 0.0)
    inv = np.asarray(inv, dtype=float)
    nb = inv > 0
    k = np.where(nb, 1.0 / np.where(nb, inv, 1.0), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p0 = np.where(nb, k * (np.log(k) - np.log(k + mu)), -mu)
        step = np.where(nb, mu / (mu + k), mu)  # times (c + k) / (c + 1), or 1 / (c + 1) for Poisson
    out = np.empty((len(mu), n))
    out[:, 0] = np.exp(log_p0)
    for c in range(n - 1):
        grow = np.where(nb, (c + np.where(nb, k, 0.0)) / (c + 1), 1.0 / (c + 1))
        out[:, c + 1] = out[:, c] * step * grow
    return out


def robust_index(
    y: np.ndarray, m: np.ndarray, inv_k: np.ndarray, valid: np.ndarray, rounded: int | None = None
) -> np.ndarray:
    """Per row, the factor s with which the counts `y` (row × buurt) follow their levels `m`: the
    root of Σ w (mid-p PIT of y under NB(s·m, 1/k) − ½) = 0, w = `_pit_weights`.

    Under the model every mid-p PIT has mean ½ exactly, whatever the skew, so the root is unbiased;
    each buurt moves it by at most its weight, so an outbreak counts as one high buurt, not as its
    size. A ratio of sums (capped or not) let the benchmark's planted outbreaks lift the gemeente's
    month by 12-15 % in the smaller categories, and every buurt's expectation (and, through the
    monthly profile, the dispersion) with it. `rounded`: `y` are published figures (`_mid_pit`)."""
    y, m = np.asarray(y, dtype=float), np.asarray(m, dtype=float)
    ok = valid & np.isfinite(m) & (m > 0) & np.isfinite(y)
    inv = np.broadcast_to(np.asarray(inv_k, dtype=float), y.shape)
    w = _pit_weights(np.where(ok, m, 0.0), inv, ok)
    mm, yy = np.where(ok, m, 1.0), np.where(ok, y, 0.0)
    return _root(lambda s: (w * (_mid_pit(yy, mm * s[:, None], inv, rounded) - 0.5)).sum(axis=1), len(y))


def _root(score: Callable[[np.ndarray], np.ndarray], rows: int) -> np.ndarray:
    """Per row, the factor in 0.2-5 at which the `score` (of the factors, decreasing) crosses 0."""
    lo, hi = np.full(rows, np.log(0.2)), np.full(rows, np.log(5.0))
    for _ in range(10):  # a factor 25 bracket: ten halvings of its log leave 0,3 %
        mid = (lo + hi) / 2
        # A positive score: the counts sit high under s, so the factor is larger.
        positive = score(np.exp(mid)) > 0
        lo, hi = np.where(positive, mid, lo), np.where(positive, hi, mid)
    return np.exp((lo + hi) / 2)


TRIM = 0.01  # the far tails a buurt's count is left out of the month's index in (`_trim_bounds`)
TRIM_GATE = 0.01  # ... when more buurten lie there than the model allows for at this level


def _trim_bounds(y: np.ndarray, mu: np.ndarray, inv: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per buurt the counts (low, high) at and beyond which it is left out of its row's index
    (`_trimmed_terms`): the tails beyond `TRIM` at the first, untrimmed root `mu`, where more of the
    row's buurten (weights `w`, 0 for padding) lie there than the model makes likely (a Poisson tail
    below `TRIM_GATE` around the number it promises) and those left in hold at least half of the
    weight; nowhere else (−1 and ∞).

    The gate, because the counts' tails are heavier than the model's (week effects in a month, a
    level's misfit), at the top more than at the bottom (few buurten expect enough to reach a lower
    tail of 1 %): trimmed wherever something lay beyond, on 15 null gemeenten of the independent
    generator at k 5/5 the index came out 1.1 % below the untrimmed one (median 0.6 %), with the
    gate 0.14 % (median 0). Half the weight, because the left-out buurten's terms rise with the
    index: with few buurten left in, the score no longer falls and the root ran to the end of its
    range (two buurten of 15 expected with 0 and 40: 0.2 instead of 1.03). Where most buurten lie
    far out, the month is the gemeente's, not a few outbreaks."""
    valid = w > 0
    low, high = tail_starts(TRIM, mu, inv)
    out = ((y <= low) | (y >= high)) & valid
    promised = np.where(valid, upper_tail(high, mu, inv) + lower_tail(low, mu, inv), 0.0).sum(axis=1)
    many = stats.poisson.sf(out.sum(axis=1) - 1, promised) < TRIM_GATE
    many &= np.where(out, 0.0, w).sum(axis=1) >= 0.5 * w.sum(axis=1)
    return np.where(many[:, None], low, -1.0), np.where(many[:, None], high, np.inf)


def _trimmed_terms(y: np.ndarray, mu: np.ndarray, inv: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Each buurt's term of the trimmed index score: (mid-p PIT − ½) for a count between `low` and
    `high` (per buurt), nothing at or beyond, plus ½ U (1 − U) − ½ L (1 − L), U = P(Y ≥ high),
    L = P(Y ≤ low).

    Bounded influence is not enough where several buurten rise at once: in the weekly list's test
    (8 rises of ×2.5-4 among 80 buurten, most in one category) they lifted the week's index, and so
    every other buurt's expectation, by about 10 %, and the list found 0.79 of what its oracle found
    (0.91 trimmed). Left out alone, the far tails would bias the root (only high counts reach the
    upper one where few are expected): ½ U (1 − U) and −½ L (1 − L) are exactly what the left-out
    counts add on average under the model, Σ P(y) (mid-PIT(y) − ½) over each tail, so every term
    keeps mean 0 under the model at fixed bounds (the bounds come from the first root: simulated,
    trimmed in every month, a mean log difference of −0.1 % from the untrimmed root, −0.45 % without
    the put-back; a 4 % larger sd). These terms rise with the index, so the root needs most of the
    weight between the bounds (`_trim_bounds`)."""
    u, lo = upper_tail(high, mu, inv), lower_tail(low, mu, inv)
    inside = (y > low) & (y < high)
    return np.where(inside, _mid_pit(y, mu, inv) - 0.5, 0.0) + 0.5 * u * (1.0 - u) - 0.5 * lo * (1.0 - lo)


PROFILE_INV_K = 0.1  # a working 1/k for a profile's weights (its scale cancels in the normalisation)


def category_profiles(ys: list[np.ndarray], ms: list[np.ndarray], rounded: int | None = None) -> np.ndarray:
    """`robust_index` per category and period at once: ys, ms per category (periods × its buurten:
    counts, levels); one row of factors per category. One call for every category × period (rows)
    over the buurten (columns, padded): the index is a root found by bisection, and scipy's tails are
    cheapest in few large calls."""
    width = max(m.shape[1] for m in ms)
    y = np.vstack([np.pad(v, ((0, 0), (0, width - v.shape[1]))) for v in ys])
    m = np.vstack([np.pad(v, ((0, 0), (0, width - v.shape[1]))) for v in ms])
    return robust_index(y, m, np.full(y.shape, PROFILE_INV_K), m > 0, rounded).reshape(len(ys), -1)


def gemeente_profile(
    counts: np.ndarray, exposure: np.ndarray, group: np.ndarray, fit_on: np.ndarray, rounded: int | None = None
) -> np.ndarray:
    """Per series and period ((series, periods) `counts` on `exposure`), the gemeente's factor for its
    category and period: `robust_index` of the category's `fit_on` series (the buurten) against
    their mean rate, so that one buurt's outbreak does not shape everyone's season. 1 for a category
    without a count in those series. The monthly analyses read it on population × weeks, the weekly
    list on ones; both scale it afterwards to the window they compare with. `rounded`: `counts` are
    published figures (`robust_index`)."""
    out = np.ones(counts.shape)
    used, ys, ms = [], [], []
    for g in np.unique(group[fit_on]):
        r = np.flatnonzero(fit_on & (group == g))
        if counts[r].sum() == 0:
            continue
        rate = counts[r].sum(axis=1) / exposure[r].sum(axis=1)
        used.append(g)
        ms.append((rate[:, None] * exposure[r]).T)  # (periods, buurten)
        ys.append(counts[r].T)
    if used:
        for g, f in zip(used, category_profiles(ys, ms, rounded), strict=True):
            out[group == g] = f[None, :]
    return out


def concurrent_season(
    observed: np.ndarray,
    unseasoned: np.ndarray,
    inv_k: np.ndarray,
    groups: np.ndarray,
    use: np.ndarray,
    method: Method = DEFAULT,
    rounded: int | None = None,
    minimum: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The target month's seasonal index per group from the same month in the rest of the gemeente:
    `robust_index` of the `use` series (the buurten) of the group against their recent level. Needs no
    earlier year: with 6-13 months of history it is the only seasonal correction the gemeente's own
    data can give. Returns the index per series (1 where the group has fewer than `concurrent_min`
    expected cases, or `minimum` where the caller decided which groups have one) and Var(log
    index). `rounded`: `observed` are published figures (`_mid_pit`); then no far tails are trimmed
    (a figure's tails are not a count's)."""
    y, m = np.asarray(observed, dtype=float), np.asarray(unseasoned, dtype=float)
    index, var = np.ones(len(y)), np.zeros(len(y))
    names = [g for g in np.unique(groups[use])]
    rows = [np.flatnonzero(use & (groups == g) & np.isfinite(m) & (m > 0)) for g in names]
    least = method.concurrent_min if minimum is None else minimum
    rows = [(g, r) for g, r in zip(names, rows, strict=True) if len(r) and m[r].sum() >= least]
    if not rows:
        return index, var
    width = max(len(r) for _, r in rows)
    yy, mm, ii = np.zeros((len(rows), width)), np.ones((len(rows), width)), np.zeros((len(rows), width))
    valid = np.zeros((len(rows), width), dtype=bool)
    for j, (_, r) in enumerate(rows):
        yy[j, : len(r)], mm[j, : len(r)], ii[j, : len(r)], valid[j, : len(r)] = y[r], m[r], inv_k[r], True
    w = _pit_weights(mm, ii, valid)
    ratio = robust_index(yy, mm, ii, valid, rounded)
    low, high = _trim_bounds(yy, mm * ratio[:, None], ii, w)
    trimmed = bool(np.isfinite(high).any()) and not rounded

    def terms(s: np.ndarray) -> np.ndarray:
        if not trimmed:  # the same terms without the tails' cost (most months)
            return _mid_pit(yy, mm * s[:, None], ii, rounded) - 0.5
        return _trimmed_terms(yy, mm * s[:, None], ii, low, high)

    if trimmed:
        ratio = _root(lambda s: (w * terms(s)).sum(axis=1), len(rows))
    # Leave one out, to first order: a buurt's own count does not set its own index (a large buurt
    # with an outbreak lifted its own expectation ~10 % on the benchmark). Its share of the score,
    # divided by the score's slope in log(index), is how far the root moves without it.
    t = terms(ratio)
    slope = (w * (terms(ratio * np.exp(0.01)) - t)).sum(axis=1, keepdims=True) / 0.01
    own = ratio[:, None] * np.exp(np.clip(w * t / np.where(slope < 0, slope, -np.inf), -0.5, 0.5))
    # Var(log index): the M-estimator's sandwich Σ w² t² / slope², from this month's own scatter of
    # the buurten around the index (so a buurt season unlike the gemeente's, or a category carried by
    # a few buurten, widens it), and never below the model's variance of a ratio of sums.
    sandwich = (w**2 * t**2).sum(axis=1) / np.maximum(slope[:, 0] ** 2, 1e-12)
    for j, (g, r) in enumerate(rows):
        mu = ratio[j] * m[r]
        index[groups == g] = ratio[j]
        index[r] = own[j, : len(r)]
        model = (mu.sum() + (inv_k[r] * mu**2).sum()) / mu.sum() ** 2
        var[groups == g] = max(model, float(sandwich[j]))
    return index, var


YEAR_PAIRS = 12  # months whose same month a year before is in the profile: the prediction's check
LAST_YEAR_MONTHS = 2 * YEAR_PAIRS  # the profile's months last_year_index needs
APART_Z = 2.58  # how far apart the month's index and last year's may lie before the month's prevails


def too_small(history: np.ndarray, groups: np.ndarray, over: np.ndarray, method: Method = DEFAULT) -> np.ndarray:
    """Per series: whether its group is too small for a concurrent index (`concurrent_season`): fewer
    than `concurrent_min` cases a period in the `over` series (the buurten) together, on average over
    the recent level's periods of `history` (the periods before the tested one). Decided on the
    history alone, so that the analyses of the periods before decide as they did, and a category of
    30-33 a month does not drop below 30 expected in every 4-week month and lose its correction there
    (1 380 of the demo's buurt rows, of two categories). Such series are read on the national profile
    where their category has one (buurtbeeld.national_profile)."""
    h = history.shape[1]
    out = np.zeros(len(groups), dtype=bool)
    if h < 1:
        return out
    mean = np.nan_to_num(history[:, h - min(h, method.short_months) :].mean(axis=1))
    for g in np.unique(groups):
        if mean[over & (groups == g)].sum() < method.concurrent_min:
            out |= groups == g
    return out


def profile_variance(y: np.ndarray, offset: np.ndarray, profile: np.ndarray, inv_k: np.ndarray) -> np.ndarray:
    """Per month, the model's variance of the log of a category's profile value (buurten × months
    counts `y` and `offset`, the category's `profile`, each buurt's 1/k): that of a ratio of sums,
    (Σ mu + Σ mu² / k) / (Σ mu)², mu each buurt's mean rate on the profile. A lower bound for the
    robust index's (which gives the busiest buurten less than their share)."""
    rate = y.sum(axis=1) / np.maximum((offset * profile[None, :]).sum(axis=1), 1e-12)
    mu = rate[:, None] * offset * profile[None, :]
    total = mu.sum(axis=0)
    return np.where(total > 0, (total + (inv_k[:, None] * mu**2).sum(axis=0)) / np.maximum(total, 1e-12) ** 2, np.inf)


def last_year_index(profile: np.ndarray, sampling_var: np.ndarray) -> tuple[float, float] | None:
    """The log of the target month's factor as the same month a year before predicts it, and the
    variance of that prediction; None with fewer than 24 months of profile (oldest first, scaled as
    the recent level reads it, the target month just after).

    The same month a year before times the year's growth G (the mean of log p(m) − log p(m − 12)
    over the last 12 months: the category's trend over that year). The variance is what the history
    says of this prediction: the mean square of its residuals over the last 12 months (each month
    predicted from its own year before, 11 degrees of freedom) less the sampling variance of the
    months predicted, which the target month's index does not share; but at least half the mean
    square (when seasons repeat exactly, a residual holds two months' sampling error and the
    prediction one) and at least the sampling variance of the month read from; plus G's variance.
    A gemeente whose months move together (weather, an event, a registration campaign) shows it
    in these residuals, and last year then counts little."""
    h = len(profile)
    span = profile[h - LAST_YEAR_MONTHS :]
    if h < LAST_YEAR_MONTHS or not np.all(np.isfinite(span) & (span > 0)):
        return None
    log_p = np.log(profile)
    d = log_p[h - YEAR_PAIRS :] - log_p[h - LAST_YEAR_MONTHS : h - YEAR_PAIRS]
    growth = float(d.mean())
    square = float(((d - growth) ** 2).sum() / (YEAR_PAIRS - 1))
    own = float(np.mean(sampling_var[h - YEAR_PAIRS :]))
    read_from = float(sampling_var[h - YEAR_PAIRS])
    if not (np.isfinite(own) and np.isfinite(read_from)):
        return None
    # Never below the sampling variance of the month it is read from: a history whose seasons
    # repeated to the decimal says nothing about that month's own noise. G's variance is square / 12,
    # and as much again because the month read from is one of G's twelve.
    variance = max(square - own, square / 2, read_from) + 2 * square / YEAR_PAIRS
    return float(log_p[h - YEAR_PAIRS]) + growth, variance


def with_last_year(
    index: np.ndarray, var: np.ndarray, log_prediction: float, prediction_var: float
) -> tuple[np.ndarray, np.ndarray]:
    """The concurrent index (per series, its Var(log)) combined with last year's prediction by
    inverse variance: what both say of the target month, each by how much it can be trusted.

    Where the two lie further apart than `APART_Z` standard deviations of their difference (1 % of
    months where both are right), the prediction's variance is raised to the squared difference
    less the index's (as DerSimonian–Laird take the spread between studies from their
    disagreement), so the month's own index prevails. Raised wherever the difference exceeded its
    variance, a third of ordinary months lost most of what last year adds (simulated, the index's
    mean squared error 0.64 of the month's own instead of 0.43). A month unlike every month of the
    history, the whole gemeente far higher or a new registration practice, is the gemeente's and no
    buurt's news: without this, seasons that had repeated well absorbed only half of such a jump (×1.4:
    the simulated wijken's expected counts 0.11 too low in log, and at 13 600 cases a month an
    independent reviewer's simulation flagged 19 of 30 wijken). A step in the category exactly a
    year before reads as a year's growth counted twice (0.09 too high), and an outbreak in last
    year's month is spread thin over the residuals; both show up here as such a difference."""
    v = np.asarray(var, dtype=float)
    log_index = np.log(index)
    square = (log_index - log_prediction) ** 2
    pv = np.where(square > APART_Z**2 * (v + prediction_var), np.maximum(prediction_var, square - v), prediction_var)
    w = pv / (v + pv)
    return np.exp(w * log_index + (1.0 - w) * log_prediction), v * pv / (v + pv)


def seasoned(base: Baseline, season: np.ndarray, season_var: np.ndarray, label: np.ndarray) -> Baseline:
    """`base` with the target month's seasonal index applied where the baseline is the recent level
    (short history, or the new level after a shift); `label` names the index per series for the
    texts (one of baselines.RECENT; 'recent' where no correction was made: the caller knows, since
    an index can come out at exactly 1)."""
    short = np.isin(base.kind, RECENT)
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
        kind=np.where(short, label, base.kind).astype(object),
    )
