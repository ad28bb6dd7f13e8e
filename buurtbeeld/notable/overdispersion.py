"""Month-level overdispersion (1/k) per area level × category, by simulated moments on a robust
statistic, shrunk by empirical Bayes towards the level's value across its categories."""

from __future__ import annotations

import numpy as np

from buurtbeeld.disclosure import round_shared, rounding_variance
from buurtbeeld.notable.baselines import Baseline
from buurtbeeld.notable.method import DEFAULT, Method
from buurtbeeld.notable.seasons import PROFILE_INV_K, robust_index


def _row_median(z: np.ndarray) -> np.ndarray:
    """The median of each row over its non-NaN values (0 for an empty row); np.nanmedian is ten times
    slower on many short rows."""
    n = np.isfinite(z).sum(axis=-1)
    ordered = np.sort(np.where(np.isfinite(z), z, np.inf), axis=-1)
    lo = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, np.minimum(n // 2, z.shape[-1] - 1)[..., None], axis=-1)[..., 0]
    return np.where(n > 0, (lo + hi) / 2, 0.0)


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The value below which half of the weight lies."""
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    if cum[-1] <= 0:
        return 0.0
    return float(x[order][np.searchsorted(cum, cum[-1] / 2)])


# The largest month-level 1/k the search looks for (k = 0.05): far beyond what registrations show.
UNBOUNDED = 20.0


def _robust_inv_k(
    y: np.ndarray, shape: np.ndarray, method: Method, profiled: bool = False, rounded: int | None = None
) -> float:
    """Month-level 1/k of one group of series (rows: series, columns: reference months) by simulated
    moments on a robust statistic.

    For a candidate 1/k every series' level is fitted on its months as the baseline fits it (the
    mean on the `shape` of fitted values, outbreak months capped at 3 negative-binomial sd); the
    statistic is the weighted median over the series of each series' median of |y − mu| / sd over
    its months, weights (mu / (1 + mu/k))² with mu at most 20 (what a series says about 1/k: with 2
    expected a month is nearly Poisson whatever k is; and no few large series decide). The estimate
    is the 1/k at which the data's statistic equals that of negative-binomial draws at the same means
    treated alike. Robust where outbreaks are: a series' median ignores up to half of its months, the
    median over series up to half of the series, and the capped fit keeps an outbreak from shifting
    the series' other months. The plain moment estimate (Dean–Lawless) let the benchmark's 30 planted
    outbreaks a month to 15-20 times the truth (recall a tenth of the oracle's).

    Until December 2026 a series with any month over the cap was left out altogether (then the
    benchmark planted its largest strata in the same few series 6-10 months of 12). That also left
    out the busy and strongly seasonal series, whose spread is what matters most, and biased 1/k low
    (busy series 0.02-0.03 where the truth was 0.06-0.1). Kept in, on the independent benchmark the
    FDR met 10 % in 32 of 36 settings against 26, at 5 % less recall.

    Tried in December 2026 and not kept: the weighted mean of min(|z|, 1.5)² (Huber's clipping)
    instead of the medians. On simulated categories its root mean squared error was 1.1-2.3 times
    lower in 11 of 12 settings, but on the independent benchmark, after the shrinkage across
    categories, FDP ≤ 0.10 held in 16 settings against 17, judged recall strata short of the target
    69 against 66 and repeated level-shift messages 6 against 2 (FDR ≤ 0.10: 35 against 33).

    `profiled`: the shape is a profile fitted on these same series (the gemeente's robust factor of
    each month over its buurten, etl.analyses and buurtbeeld.weekly). That fit takes up part of every
    month's spread: a month in which the buurten ran high together, as month effects of independent
    buurten do in a category carried by a few, is read as the season. The draws then get the same
    fit (`_profile_of`), or the statistic of the data is compared with draws that kept all of their
    spread: on null gemeenten of the independent generator at k month 5 the categories' 1/k came out
    at 0.178 on the fitted profile against 0.200 on each series' true shape (truth 0.2; with the fit
    in the draws 0.206), and the buurt tests' upper tail fell below 5 · 10⁻⁴ 1.46 times as often as
    promised (1.10 times with the fit in the draws, 1.02 with the true 1/k;
    benchmarks/analyses_far_tail.py). A wijk's profile is the gemeente's, fitted on buurten; the
    draws of the wijken are fitted over the wijken, which takes up about the same share of a wijk's
    spread (the wijken make up the same gemeente).

    `rounded` (a base): `y` are published figures of the counts (the gedeeld audience's,
    disclosure.round_shared): the draws are rounded the same way (with cell keys of a fixed seed)
    before the statistic is taken, so the estimate is the counts' 1/k, not the counts' and the
    rounding's together.

    NaN where the data bound no 1/k below `UNBOUNDED`: the data's statistic stays above the draws'
    however large 1/k is. That happens in sparse groups (a dozen series of 1-2 a month, rounded to
    fives more often: 3 of 30 simulated wijk categories at 1 a month), where draws at a large 1/k
    are mostly empty series whose own fitted level is 0. Until December 2026 the search then
    returned about 36: in the demo's gedeeld wijken woninginbraak came out at 0.645 and 0.378 after
    the shrinkage (the intern estimate 0.009), so that "20 against 5 expected" was not notable."""
    valid = np.isfinite(y) & np.isfinite(shape) & (shape > 0)
    # Only rows and columns with a reference month: the draws below depend on the shape, and columns
    # of padding (another level's longer reference set) would change them without changing the data.
    rows, cols = valid.any(axis=1), valid.any(axis=0)
    y, shape, valid = y[rows][:, cols], shape[rows][:, cols], valid[rows][:, cols]
    if not valid.any() or np.where(valid, shape, 0.0).sum() < 1:
        return 0.0
    y0, s0 = np.where(valid, y, 0.0), np.where(valid, shape, 0.0)
    reps = max(1, int(np.ceil(1000 / valid.sum())))
    normal = np.random.default_rng(20261203).standard_normal((reps, *y0.shape))
    mask = np.broadcast_to(valid, normal.shape)

    def fit(yy: np.ndarray, inv: float, s: np.ndarray) -> np.ndarray:
        """The capped level per series (as `_capped`) on the shape `s`."""
        ok = np.broadcast_to(valid, yy.shape)
        total = s.sum(axis=-1, keepdims=True)
        mu = s * yy.sum(axis=-1, keepdims=True) / total
        a = method.outbreak_cap_z * np.sqrt(1.0 + mu * inv)
        cap = np.ceil((np.cbrt(mu) ** 2 + a * mu ** (1 / 6) / 1.5) ** 1.5)
        return s * np.where(ok, np.minimum(yy, cap), 0.0).sum(axis=-1, keepdims=True) / total

    def statistic(yy: np.ndarray, inv: float, s: np.ndarray = s0) -> float:
        fitted = fit(yy, inv, s)
        mu = np.maximum(fitted, 1e-9)
        ok = np.broadcast_to(valid, yy.shape)
        z = np.where(ok, np.abs(yy - mu) / np.sqrt(mu * (1.0 + mu * inv)), np.nan)
        level = np.minimum(np.nanmean(np.where(ok, mu, np.nan), axis=-1), 20.0)
        w = (level / (1.0 + level * inv)) ** 2
        middle = _row_median(z)
        if (w > 0).sum(axis=-1).mean() >= 100:  # enough series for the median over them to be precise
            return _weighted_median(middle.ravel(), w.ravel())
        return float((w * middle).sum() / max(w.sum(), 1e-12))

    mu_obs = np.maximum(s0 * y0.sum(axis=1, keepdims=True) / s0.sum(axis=1, keepdims=True), 1e-9)

    def draws_at(inv: float) -> np.ndarray:
        # The same draws for every candidate (a fixed seed: monotone in 1/k, reproducible): gamma
        # month effects by Wilson–Hilferty from fixed normals, then Poisson counts.
        if inv > 0:
            k = 1.0 / inv
            g = np.maximum(1 - 1 / (9 * k) + normal * np.sqrt(1 / (9 * k)), 0) ** 3
        else:
            g = np.ones_like(normal)
        counts = np.random.default_rng(20261204).poisson(mu_obs[None] * g)
        if rounded:
            counts = round_shared(counts, np.random.default_rng(20261206).random(counts.shape), rounded)
        return np.where(mask, counts.astype(float), 0.0)

    def gap(inv: float, fitted: bool = False) -> float:
        draws = draws_at(inv)
        return statistic(y0, inv) - statistic(draws, inv, s0 * _profile_of(draws, s0, valid, rounded) if fitted else s0)

    if gap(0.0) <= 0:
        inv = 0.0
    else:
        lo, hi = 0.0, 0.05
        while gap(hi) > 0:
            if hi >= UNBOUNDED:
                return np.nan
            lo, hi = hi, hi * 3
        for _ in range(5):  # the bracket spans a factor 3: five halvings of its log leave 3.5 %
            mid = np.sqrt(lo * hi) if lo > 0 else hi / 3
            lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
        inv = float(np.sqrt(lo * hi) if lo > 0 else hi / 2)
    if not profiled or gap(inv, True) <= 0:
        return inv
    # A fitted profile only takes spread away, so the root with it lies above: searched from there,
    # with the fit in every draw (a root by bisection each time, so a narrow bracket: across the
    # whole range it tripled the analyses' run time).
    lo, hi = inv, max(inv * 1.5, 0.01)
    while gap(hi, True) > 0:
        if hi >= UNBOUNDED:
            return np.nan
        lo, hi = hi, hi * 1.5
    for _ in range(3):  # a factor 1.5: three halvings of its log leave 2.6 %
        mid = np.sqrt(lo * hi) if lo > 0 else hi / 1.5
        lo, hi = (mid, hi) if gap(mid, True) > 0 else (lo, mid)
    return float(np.sqrt(lo * hi) if lo > 0 else hi / 1.5)


def _profile_of(draws: np.ndarray, shape: np.ndarray, valid: np.ndarray, rounded: int | None = None) -> np.ndarray:
    """(reps, 1, months): per replicate the robust factor of each month over the series, scaled to a
    mean of 1 over the months, as etl.analyses fits the gemeente's profile on its buurten
    (`robust_index` of the counts against each series' mean on `shape`). Its linear form, a ratio of
    sums with the same influence per series, took up half as much of the median-based statistic."""
    reps, n, months = draws.shape
    rate = draws.sum(axis=-1, keepdims=True) / np.maximum(shape.sum(axis=-1, keepdims=True), 1e-12)
    m = np.swapaxes(rate * shape[None], 1, 2).reshape(reps * months, n)
    y = np.swapaxes(draws, 1, 2).reshape(reps * months, n)
    ok = np.broadcast_to(valid.T[None], (reps, months, n)).reshape(reps * months, n) & (m > 0)
    factor = robust_index(y, m, np.full(y.shape, PROFILE_INV_K), ok, rounded).reshape(reps, 1, months)
    return factor / factor.mean(axis=-1, keepdims=True)


TOTAL = "*"  # the group code of an area's all-categories total (etl.analyses.ALL, buurtbeeld.weekly.ALL)


def dispersion(
    base: Baseline,
    level: np.ndarray,
    category: np.ndarray,
    method: Method = DEFAULT,
    total: str = TOTAL,
    only: np.ndarray | None = None,
    profiled: np.ndarray | None = None,
    rounded: int | None = None,
) -> np.ndarray:
    """Month-level 1/k per series: a robust estimate per area level × category from the reference
    months (`_robust_inv_k`), shrunk by empirical Bayes towards the level's value across its
    categories: weight τ² / (τ² + v), with v the estimate's sampling variance from what its months
    say about 1/k (`_sampling_variance`), τ² the spread of the categories' true values and the
    level's value their random-effects mean (`_between_categories`, DerSimonian–Laird). A sparse
    category's own estimate is noisy and, cut at 0, biased up (simulated categories with 1 expected
    a month: 0.07-0.10 where the truth is 0.01, tests/test_notable.py): where the level's categories
    are alike it takes the level's value; a category whose data say it differs keeps its own. With
    fewer than three categories of their own the spread cannot be told from the noise: they are
    shrunk by n / (n + `dispersion_prior`) towards the level's pooled value (n their reference months
    with mu ≥ 1), which was the rule for every category until December 2026 (a month with 1 expected
    counted as much as one with 20).

    Estimated per level because month effects average out in sums: pooled over levels, the wijk and
    gemeente series (largest Σmu²) set a buurt's dispersion (measured: 0.07-0.20 of the true one at
    k = 2-5). For the same reason the areas' all-categories totals (`total`) are not part of the
    categories' pooled value: a sum of categories is far less overdispersed, and its large counts
    carried the weighted median (measured on the benchmark at k = 2 by month: pooled 0.27 where every
    category's 1/k was 0.5, and bedrijfsinbraak's buurten shrunk to 0.10). The totals, one series per
    area and nothing alike to borrow from, get their own estimate, shrunk by n / (n + 100) towards
    the level's value over all series where they have few months.

    Tried before and not kept: the same shrinkage with v from a parametric bootstrap (a third more
    time) while the robust statistic still left out series with an outbreak month: a category
    estimate that was biased rather than noisy (winkeldiefstal's 0.00 ± 0.002 where the truth was
    0.2) then kept its own value.

    `only` (per series) limits the work to the level × category pairs of those series (0 elsewhere).
    `profiled` (per series) marks the series whose reference months are read on the gemeente's
    profile, fitted on the series of their category (see `_robust_inv_k`). The level's pooled value
    (`_pooled`, for levels with fewer than three categories of their own and for the totals' pull)
    mixes categories and is estimated without that fit, so it stays a little low there. `rounded`:
    the reference months are published figures, not counts (`_robust_inv_k`)."""
    out = np.zeros(len(category))
    if base.ref_y.shape[1] == 0:
        return out
    level, category = np.asarray(level), np.asarray(category)
    ok = np.isfinite(base.expected) & (np.nan_to_num(base.ref_y).sum(axis=1) > 0)
    wanted = np.ones(len(category), dtype=bool) if only is None else np.asarray(only, dtype=bool)
    fitted = np.zeros(len(category), dtype=bool) if profiled is None else np.asarray(profiled, dtype=bool)
    for lvl in np.unique(level[wanted]):
        at_level = ok & (level == lvl)
        cats = np.intersect1d(category[at_level], category[(level == lvl) & wanted])
        if not len(cats):
            continue
        # Every category of the level, also where `only` wants a few: the centre and the spread are
        # the level's, and the previous month's re-computation must give what that month gave.
        own: dict[str, tuple[float, np.ndarray, int]] = {}  # category: (own estimate, months' mu, months)
        for c in np.unique(category[at_level]):
            r = at_level & (category == c)
            n = int((np.nan_to_num(base.ref_mu[r]) >= 1).sum())
            # A category's own estimate only where it could say something (and costs a simulation):
            # a gemeente's one series per category takes the level's value.
            if n >= method.dispersion_prior:
                inv_c = _robust_inv_k(base.ref_y[r], base.ref_mu[r], method, bool(fitted[r].all()), rounded)
                if np.isfinite(inv_c):  # else its data bound no 1/k: it takes the level's, as a sparse one
                    own[c] = (inv_c, base.ref_mu[r], n)
        alike = [c for c in own if c != total]
        shrunk: dict[str, float] = {}
        if len(alike) >= 3:
            raw = np.array([own[c][0] for c in alike])
            # Sampling variances at the categories' median, so that an estimate that hit 0 does not
            # make its own category the most precise.
            variance = np.array([_sampling_variance(own[c][1], float(np.median(raw)), rounded) for c in alike])
            centre, spread = _between_categories(raw, variance)
            shrunk = dict(zip(alike, centre + spread / (spread + variance) * (raw - centre), strict=True))
        else:
            # Too few categories to tell their spread from their noise: the level's pooled value,
            # worth `dispersion_prior` months.
            centre = _pooled(base, at_level & (category != total), method, rounded)
            shrunk = {c: _by_months(own[c][0], own[c][2], centre, method) for c in alike}
        for c in cats:
            into = (level == lvl) & (category == c)
            if c == total:
                everything = _pooled(base, at_level, method, rounded)
                out[into] = _by_months(own[c][0], own[c][2], everything, method) if c in own else everything
            else:
                out[into] = shrunk.get(c, centre)
    return out


# Var(_robust_inv_k) ≈ this / the information Σ (mu / (1 + mu / k))² (mu capped at 20 as in its
# weights): about five times the maximum-likelihood variance, measured on simulated series at
# 1/k = 0.012-0.6 and 0.7-20 a month (5-23 times 1 / information; tests/test_notable.py).
ESTIMATE_VARIANCE = 10.0


def _sampling_variance(mu: np.ndarray, inv: float, rounded: int | None = None) -> float:
    """The sampling variance of a group's robust 1/k, from what its reference months say about it:
    a month's share of information is its month effect's variance mu²/k over its whole variance, the
    rounding's included where the months are published figures (`rounded`, a base). Without the
    rounding's, the gedeeld estimates of sparse categories counted as sure as the counts' (measured
    mean squared error over this variance: 9.6 for a dozen wijken at 2 a month and 15 for 100 buurten
    at 1; with it 0.35-2.2 from 1 to 30 a month)."""
    m = np.minimum(np.nan_to_num(np.asarray(mu, dtype=float)), 20.0)  # as the statistic's weights
    noise = m * (1.0 + m * max(inv, 0.0))
    if rounded:
        noise = noise + rounding_variance(m, rounded)
    share = np.where(noise > 0, m**2 / np.where(noise > 0, noise, 1.0), 0.0)
    information = float((share**2).sum())
    return ESTIMATE_VARIANCE / information if information > 0 else np.inf


def _by_months(own: float, months: int, pooled: float, method: Method) -> float:
    """A group's own 1/k shrunk towards `pooled` by months / (months + `dispersion_prior`)."""
    return (months * own + method.dispersion_prior * pooled) / (months + method.dispersion_prior)


def _pooled(base: Baseline, among: np.ndarray, method: Method, rounded: int | None = None) -> float:
    """The robust 1/k of at most 300 of the series `among`, evenly spread (its cost grows with the
    series, its precision hardly beyond a few hundred); NaN without any."""
    rows = np.flatnonzero(among)
    if not len(rows):
        return np.nan
    rows = rows[:: max(1, len(rows) // 300)]
    inv = _robust_inv_k(base.ref_y[rows], base.ref_mu[rows], method, rounded=rounded)
    # A level whose series together bound no 1/k gets the largest searched: no test there can flag.
    return inv if np.isfinite(inv) else UNBOUNDED


def _between_categories(raw: np.ndarray, variance: np.ndarray) -> tuple[float, float]:
    """The level's 1/k and the variance τ² of the categories' true 1/k around it, from their
    estimates and sampling variances (DerSimonian–Laird: τ² from Cochran's Q around the
    precision-weighted mean; the level's value the random-effects mean, weights 1 / (v + τ²), so that
    one busy category that truly differs does not carry it).

    The level's value is made from the categories' estimates, not from one robust estimate over a
    sample of the level's series: that statistic (a weighted median of per-series medians of small
    counts) is coarse, and on the benchmark it came out at 0.005 from 300 of one month's buurt series
    and at 0.030 from all of them at k week 20 (truth 0.012, the categories' own 0.00-0.05)."""
    w = 1.0 / variance
    mean = float((w * raw).sum() / w.sum())
    q = float((w * (raw - mean) ** 2).sum())
    spread = max(0.0, (q - (len(raw) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    w_random = 1.0 / (variance + spread)
    return float((w_random * raw).sum() / w_random.sum()), spread
