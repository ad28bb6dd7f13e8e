"""The recent level shrunk towards the other series' levels: empirical Bayes with a gamma prior per
area level × category (Marshall 1991), series whose level the prior cannot have produced left as
they are."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from buurtbeeld.notable.baselines import Baseline
from buurtbeeld.notable.tails import lower_tail, upper_tail

RECENT = ("recent", "recent_seizoen", "recent_gemeente", "recent_gemeente_jaar")
MIN_SERIES = 10  # series a prior is estimated from: fewer cannot tell spread from noise
PLAUSIBLE_P = 0.005  # a level whose cases the prior gives a smaller tail than this keeps its own
LIMIT = 0.5  # the most a level moves, in its own standard errors
MIN_KEEP = 0.5  # the least of its variance a level keeps: the prior at most doubles its information


def shrunk(base: Baseline, level: np.ndarray, group: np.ndarray, rows: np.ndarray) -> Baseline:
    """`base` with the recent level of `rows` (per series; only those whose baseline is the recent
    level) moved towards the levels of the other series of its area level and category.

    A level from 12 months with a few cases is taken at face value by the recent baseline, while the
    other buurten's levels say that a small estimate is more often too small than too large: on
    real registrations (benchmarks/analyses_real.py) series whose expected count came out below 0,5
    a month registered 1.24-1.29 times it, those at 1-10 0.86-0.90 times. The rates r = cases /
    exposure of a level × category get a gamma prior by moments (Marshall 1991, the Clayton–Kaldor
    estimator of disease mapping): mean m the pooled rate, variance A the exposure-weighted spread
    of the rates less what their counts explain (m / mean exposure). Each series' rate becomes
    (S + α) / (E + β) with α = m² / A, β = m / A: with many cases a series keeps its own, with few it
    moves towards m. Month effects make 12 months worth fewer cases than they hold: S and E enter
    divided by 1 + mean mu / k, the factor by which they widen the level's variance.

    The prior's weight goes by exposure, and population is not every buurt's exposure: a business
    park or a shopping centre has many cases and few inhabitants, and the prior cut such levels to a
    seventh or less on the independent benchmark. So a series whose cases the prior's own predictive
    distribution (negative binomial, mean m E, size α) puts in a tail below `PLAUSIBLE_P` is not of
    the population the prior describes: it keeps its own level, and the prior is estimated again
    without it; and no level moves by more than `LIMIT` times its own standard error (limited
    translation, Efron & Morris 1972): with the gate alone, buurten of 50-490 inhabitants and 5 or
    more cases still lost up to four fifths of their level there, with a limit of one standard
    error a third, with half of one a fifth. The level's variance takes α as
    cases of information as far as the level moved towards it, at most doubling the level's own
    (both of its parts alike, so the level's uncertainty keeps its shape in
    tails.level_mixed_tails). Runs before the target month's seasonal index is applied.

    Tried and not kept (5 December 2026): a normal prior on the log rate (DerSimonian–Laird, weights
    by cases), whose normal approximation of a few cases moved small levels too far (registered over
    expected 0.68 below 0,5 in tests/test_notable.py, where the gamma prior gives 0.95)."""
    kinds = np.isin(base.kind, RECENT)
    rows = np.asarray(rows, dtype=bool) & kinds & np.isfinite(base.level_exposure) & (base.level_exposure > 0)
    if not rows.any():
        return base
    positive = base.poisson_var > 0
    widen = np.where(positive, base.log_var / np.where(positive, base.poisson_var, 1.0), 1.0)
    widen = np.where(np.isfinite(widen) & (widen >= 1.0), widen, 1.0)
    s_eff, e_eff = np.nan_to_num(base.level_cases) / widen, np.nan_to_num(base.level_exposure) / widen
    unseasoned, expected = base.unseasoned.copy(), base.expected.copy()
    log_var, poisson_var = base.log_var.copy(), base.poisson_var.copy()
    for lvl in np.unique(level[rows]):
        for g in np.unique(group[rows & (level == lvl)]):
            at = np.flatnonzero(rows & (level == lvl) & (group == g))
            prior = _gamma_prior(s_eff[at], e_eff[at])
            if prior is None:
                continue
            plausible = _plausible(s_eff[at], e_eff[at], *prior)
            at = at[plausible]
            prior = _gamma_prior(s_eff[at], e_eff[at])
            if prior is None:
                continue
            alpha, beta = prior
            full = (s_eff[at] + alpha) / (e_eff[at] + beta)
            # Limited translation (Efron & Morris 1972): no level moves by more than `LIMIT` of its own
            # standard error, so a series the prior describes badly cannot lose more than its data
            # allow. Around half a case for a series without one, as its variance has it (so a series
            # with no case never ends above one with one).
            own = np.maximum(s_eff[at], 0.5) / e_eff[at]
            step = np.sqrt(log_var[at]) * LIMIT
            rate = np.clip(full, own * np.exp(-step), own * np.exp(step))
            # Before the target month's seasonal index (month_statistics applies it after): the
            # expected count is the level times the target month's exposure.
            unseasoned[at] = rate * base.target_exposure[at]
            expected[at] = unseasoned[at]
            # The prior's α as cases of information, in proportion to how far the level moved towards
            # it, and never more than the level's own (with few series α can come out huge).
            moved = np.divide(
                np.abs(np.log(rate / own)), np.abs(np.log(full / own)), out=np.ones(len(at)), where=full != own
            )
            keep = np.maximum(1.0 / log_var[at] / (1.0 / log_var[at] + alpha * moved), MIN_KEEP)
            log_var[at], poisson_var[at] = log_var[at] * keep, poisson_var[at] * keep
    return replace(base, unseasoned=unseasoned, expected=expected, log_var=log_var, poisson_var=poisson_var)


def _gamma_prior(s: np.ndarray, e: np.ndarray) -> tuple[float, float] | None:
    """Shape α and rate β of the gamma prior of the rates by moments (Marshall 1991); None with too
    few series or rates that differ no more than their counts (no prior to tell from noise)."""
    if len(s) < MIN_SERIES or s.sum() <= 0:
        return None
    m = s.sum() / e.sum()
    spread = float((e * (s / e - m) ** 2).sum() / e.sum()) - m / e.mean()
    if spread <= 0:
        return None
    return m * m / spread, m / spread


def _plausible(s: np.ndarray, e: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Whether the prior's predictive distribution of each series' cases (negative binomial, mean
    m E, size α) puts them in neither tail below `PLAUSIBLE_P` / 2."""
    y, mu = np.round(s), alpha / beta * e
    return (upper_tail(y, mu, 1.0 / alpha) >= PLAUSIBLE_P / 2) & (lower_tail(y, mu, 1.0 / alpha) >= PLAUSIBLE_P / 2)
