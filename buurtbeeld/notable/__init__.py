"""What counts as "notable" in a month: expected counts, exceedance p-values and the false discovery rate.

Pure functions on numpy arrays (no I/O), shared by the monthly analyses and the dashboard.

Method, and what was taken from where:

* **Baseline (Farrington, flexible; Noufaily et al. 2013).** With three or more years of history the
  reference values are the same month and the month either side (window w = 1) in each of up to
  five earlier years; a log-linear Poisson regression with the population as offset is fitted per
  series, and its trend is kept only when it is significant at 5 % (with the quasi-Poisson
  dispersion), the fit rests on at least three years, and the prediction stays within the range of
  the reference values: Farrington's three guards against a runaway trend. A fourth guards the
  other way: the fit must converge (with every case at one end of the reference years it has no
  maximum and runs off towards an expectation of nothing). Taken in simplified form:
  the down-weighting of past outbreaks (a reference month with an Anscombe residual above 2.58,
  scaled by the negative-binomial spread, is left out and the fit repeated), so one burglary wave
  does not hide next year's. Not taken: the
  2/3-power transformation of the threshold, because the exact count distribution below makes it
  unnecessary, and Farrington's smooth weights, because dropping is easier to explain in "Hoe lezen".
* **Buurten and wijken, at every history length**: the level of the last 12 months (earlier
  outbreaks capped at 3 negative-binomial sd), on the gemeente's monthly profile of the category,
  times the gemeente's index of the target month (`robust_index` of its buurten: a mid-p PIT score
  root, so one buurt's outbreak does not move it much; from 24 months of history combined by inverse
  variance with the gemeente's same month a year before, as far as its seasons repeat). This needs
  no earlier year, so 6-13 months
  of history get a seasonal correction the gemeente need not supply; measured on the benchmark it
  also beats the buurt's own few same-month values (median |log error| 0.13 against 0.19 with 48
  months). The level is shrunk towards the other series of its level and category (`shrunk`:
  empirical Bayes with a smooth prior estimated by g-modeling, Efron 2016; a business park's
  level lies where that prior is thin and keeps its own), so a level of a few cases is not taken
  at face value. Stadsdelen and the gemeente (whose own series would
  explain itself away) keep Farrington from three years, before that the last 12 months times
  last year's gemeente season (from 13 months; with less, none: the texts then say "zonder
  seizoenscorrectie").
* **Level shifts** (`level_shift`, `shift_state`, buurten and wijken): a changepoint test on the last
  3-12 months against up to 12 before, at least 5 (exact negative-binomial tail ≤ 1e-5 without the
  month furthest on the new side, so one outbreak is not a new level; ratio ≥ 1.5, the first month on
  the new side, the last two nearer the new level than the old, so an outbreak of two months is not
  one either). After a shift the new level is the baseline. A shift found in
  one of the three months before, or by the previous month's analysis with its own profile and 1/k
  (`shift_before`, re-computed by etl.analyses), holds while the months since have a tail ≤ 1e-3
  and the last two are not both nearer the old level. It is announced once: in the month whose
  analysis has it while neither of the two analyses before compared with it that way.
* **The baseline is itself an estimate (Poisson e-test, Krishnamoorthy & Thomson 2004).** The e-test
  compares two Poisson rates without pretending one of them is known. We keep that idea but not its
  double sum: the month's count is negative binomial (the month effect) around a level with a beta-prime
  uncertainty whose shapes are the cases behind it (the history's, and the seasonal index's) and the
  history's months × k (`level_mixed_tails`); with iid months that is the beta negative binomial, the
  exact predictive distribution. Adding the level's variance to 1/k in one negative binomial, as before
  December 2026, gave p ≤ 1e-4 three to four times too often at k = 2.
* **Overdispersion.** Month-level 1/k per area level × category (`dispersion`): a simulated-moments
  estimate on series medians of |z| around a capped fit (the draws get the same fit of the
  gemeente's monthly profile as the data where the series are read on one: fitted on the same
  buurten, it takes up part of their spread), shrunk by empirical Bayes (weight τ² / (τ² +
  v), DerSimonian–Laird) towards the random-effects mean of the level's categories, v from what
  its months say about 1/k: a sparse category's noisy estimate takes the level's value where the
  categories are alike, a category whose data say it differs keeps its own (with fewer than three
  categories of their own: by n / (n + 100) towards the level's pooled value). Per level, because month
  effects average out in sums (pooled over levels, a buurt's 1/k was 0.07-0.20 of the truth), and
  without the all-categories totals in the pool for the same reason; robust, because the plain moment
  estimate let earlier outbreaks set it (15-20 times the truth on the benchmark). Always used: a test
  that switches it on only when significant is not calibrated.
* **Multiple testing.** Benjamini–Hochberg per area level over the non-degenerate tests: a category
  with no registrations in the month nor in its history is not a test (80 % of the old family were
  such p = 1 cells, which made the FDR look kept while it was not). A rise is never called notable
  below `min_count` cases, a fall never when fewer than `min_count` were expected. The default
  level is 10 %, the false discovery proportion a reader is promised in "Hoe lezen". Texts rank
  findings by the difference their reader sees (buurtbeeld.narrative.notable).

The package, by role: `method` (the knobs), `tails` (count tails, BH), `baselines` (expected counts,
Farrington), `shifts` (level shifts), `overdispersion` (1/k per level × category), `shrinkage`
(levels towards their category's), `seasons` (indices from the gemeente), `assessment` (one month's
tests). Callers use the names below.
"""

from buurtbeeld.notable.assessment import Assessment, assess
from buurtbeeld.notable.baselines import (
    Baseline,
    anscombe,
    baseline,
    parts_seasonal_index,
    seasonal_index,
    shift_before,
)
from buurtbeeld.notable.method import DEFAULT, DEFAULT_CAP_Z, Method
from buurtbeeld.notable.overdispersion import dispersion
from buurtbeeld.notable.seasons import (
    LAST_YEAR_MONTHS,
    PROFILE_INV_K,
    category_profiles,
    concurrent_season,
    gemeente_profile,
    last_year_index,
    profile_variance,
    robust_index,
    seasoned,
    too_small,
    with_last_year,
)
from buurtbeeld.notable.shifts import ShiftState, level_shift, shift_state
from buurtbeeld.notable.shrinkage import shrunk
from buurtbeeld.notable.tails import benjamini_hochberg, dispersion_test, level_mixed_tails, lower_tail, upper_tail

__all__ = [
    "DEFAULT",
    "DEFAULT_CAP_Z",
    "LAST_YEAR_MONTHS",
    "PROFILE_INV_K",
    "Assessment",
    "Baseline",
    "Method",
    "ShiftState",
    "anscombe",
    "assess",
    "baseline",
    "benjamini_hochberg",
    "category_profiles",
    "concurrent_season",
    "dispersion",
    "dispersion_test",
    "gemeente_profile",
    "last_year_index",
    "level_mixed_tails",
    "level_shift",
    "lower_tail",
    "parts_seasonal_index",
    "profile_variance",
    "robust_index",
    "seasonal_index",
    "seasoned",
    "shift_before",
    "shift_state",
    "shrunk",
    "too_small",
    "upper_tail",
    "with_last_year",
]
