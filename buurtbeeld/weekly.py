"""What is notable in one week: the "opvallend deze week" list of the Weekoverzicht.

Pure functions (pandas in, DataFrame out; no I/O) on the exact weekly counts of one gemeente's
buurten. The statistics are those of the monthly analyses (buurtbeeld.notable), applied to weeks:

* **Baseline: the buurt's recent level times the gemeente's week.** Per buurt × category group (and
  the buurt's all-categories total) the level of its last `recent_weeks` published weeks (26 by
  default: half a year, enough cases for a level a buurt with one registration a week knows to
  ±20 %, short enough to follow a trend; earlier outbreak weeks capped at 3 negative-binomial sd),
  read on the gemeente's weekly profile of the category, times the gemeente's index for the tested
  week: how the gemeente's buurten as a whole do this week against their own levels
  (`notable.concurrent_season`, a robust mid-p PIT root, leave-one-out for the buurt itself). So a
  gemeente-wide rise (summer bike theft, the dark evenings' burglaries, a holiday week) lifts every
  buurt's expectation and flags none, while one buurt's outbreak does not lift the index much. This
  needs no earlier year: the season comes from the same week in the rest of the gemeente, which on
  the monthly benchmark also beat a buurt's own same-period values (median |log error| 0.13 against
  0.19). The tested week is never part of its own baseline, nor are the provisional weeks (late
  registrations still come in, so they read low) and weeks whose police export is missing (they
  read zero): the caller names the history weeks (`history_weeks`). A provisional week may itself be
  tested (the Monday list is about last week): it reads low in every buurt, and the gemeente's index
  lowers every expectation with it.
* **A category too small for the index** (fewer than 30 cases a week in the buurten together, on
  average over the history weeks: `notable.too_small`, decided on the history as the monthly analyses
  decide) is read on its national seasonal profile (buurtbeeld.national_profile: each week the mean
  of its days' factors), level and tested week alike, as the monthly analyses read such categories.
  Most categories of most gemeenten are that small in a week; without it a December burglary week
  expected some 30 % too few (simulated: root mean square of the expected total's log error 0.25,
  0.06 on the profile; tests/test_weekly.py). Zedenmisdrijven have no profile and no correction.
* **Overdispersion at the week level**, per category (`notable.dispersion` on the weekly residuals;
  one area level: buurten), shrunk by empirical Bayes towards the buurten's value across the
  categories. Weekly k is not monthly k: a week effect averages out in a month, so the month's 1/k
  would be too small for a week.
* **The test**: the two-sided tail of the week's negative-binomial count around a baseline that is
  itself estimated (`notable.assess`, `notable.level_mixed_tails`), Benjamini–Hochberg at 10 % over this
  week's tests of the gemeente (its own family, not the month's): a category a buurt has no
  registrations in, this week nor in the history, is not a test and does not pad the family. A rise is
  not called notable below 5 registrations, a fall not when fewer than 5 were expected (as the monthly
  analyses). A cell with a history stays in the family when its count this week is below 5: leaving it
  out for its count would choose the tests by their outcome, and the rest's p-values would no longer be
  uniform under the null (a buurt with 0.3 expected and 5 registered would then be one of few tests, not
  of hundreds).
* **Ranking**: by absolute excess (registered − expected) among the notable cells, as DESIGN §5
  says: the analyst's Monday list starts with the largest differences there is evidence for, not the
  largest raw increase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from buurtbeeld import national_profile, notable
from buurtbeeld.disclosure import format_number

ALL = "*"


@dataclass(frozen=True)
class WeekMethod:
    """The knobs of the weekly list; the defaults are those of the module docstring."""

    recent_weeks: int = 26
    min_weeks: int = 8  # fewer history weeks: no tests at all
    min_count: int = 5
    fdr: float = 0.10

    def as_method(self) -> notable.Method:
        """The monthly method's knobs read in weeks (its 'months' are the periods of the history)."""
        return notable.Method(
            min_count=self.min_count, fdr=self.fdr, short_months=self.recent_weeks, min_months=self.min_weeks
        )


WEEK = WeekMethod()
COLUMNS = [
    "area_code",
    "group_code",
    "observed",
    "expected",
    "excess",
    "p",
    "q",
    "direction",
    "inv_k",
    "rank",
]


def history_weeks(
    published: Sequence[str], week: str, skip: Iterable[str] = (), n: int = WEEK.recent_weeks
) -> list[str]:
    """The `n` published weeks before `week` (oldest first) that a baseline may rest on: not the week
    itself, nor the `skip`ped ones (provisional weeks, weeks without a police export)."""
    left_out = set(skip) | {week}
    earlier = [w for w in published if w < week and w not in left_out]
    return earlier[-n:] if n > 0 else []


def _first_pass(
    history: np.ndarray,
    group: np.ndarray,
    method: notable.Method,
    national: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The weekly profile and the week-level 1/k per category of the buurten's `history` weeks.
    Two passes, as the monthly analyses: this first one (every week kept) gives the residuals the
    dispersion is estimated from; the second uses it to cap outbreaks and widen the test.
    `national`: (rows, factors) of the series read on the national profile instead."""
    # The gemeente's factor of each history week, so that a gemeente-wide week is not taken for
    # overdispersion; scaled to a mean of 1 over the weeks.
    profile = notable.gemeente_profile(history, np.ones(history.shape), group, np.ones(len(history), dtype=bool))
    profile = profile / profile.mean(axis=1, keepdims=True)
    if national is not None:
        rows, factors = national
        profile[rows] = factors[rows, :-1]
    first = notable.baseline(history, None, None, method, profile, reweight=False, same_month=False)
    # The draws get the profile's fit where it was fitted on these buurten, not on the national profile.
    fitted = np.ones(len(history), dtype=bool) if national is None else ~national[0]
    return profile, notable.dispersion(first, np.full(len(history), "buurt"), group, method, profiled=fitted)


Season = Callable[[np.ndarray, list[str]], np.ndarray]


def notable_week(
    counts: pd.DataFrame,
    week: str,
    history: Sequence[str],
    method: WeekMethod = WEEK,
    national: Season | None = national_profile.factors_for,
) -> pd.DataFrame:
    """Test every buurt × category group (and buurt total, group '*') of `week` against its baseline
    from the `history` weeks (oldest first; see `history_weeks`).

    `counts`: exact weekly buurt counts of one gemeente, columns period (ISO week label), area_code,
    group_code, count; cells without a row are zero. Returns one row per test of the family
    (COLUMNS): observed, expected, excess, p (the one-sided tail in the direction of the deviation),
    q (BH), direction ('hoog', 'laag' or '') and rank (1, 2, ... for the notable cells by absolute
    excess, else 0), notable rows first. attrs['tests'] is the size of the BH family. Fewer than
    `min_weeks` history weeks: no tests (an empty frame). `national`: the national seasonal factors
    of each series' group in each week (NaN where it has none), for the categories too small for the
    gemeente's index; None reads those without a seasonal correction."""
    hist = list(history)
    empty = pd.DataFrame(
        {c: pd.Series(dtype=object if c in ("area_code", "group_code", "direction") else float) for c in COLUMNS}
    )
    empty.attrs["tests"] = 0
    if len(hist) < method.min_weeks:
        return empty
    columns = [*hist, week]
    wanted = counts[counts["period"].isin(columns)]
    dense = wanted.pivot_table(
        index=["area_code", "group_code"], columns="period", values="count", aggfunc="sum", fill_value=0
    ).reindex(columns=columns, fill_value=0)
    if dense.empty:
        return empty
    y = dense.to_numpy(dtype=float)
    keys = dense.index.to_frame(index=False)
    group = keys["group_code"].to_numpy().astype(str)
    level = np.full(len(keys), "buurt")
    m = method.as_method()
    every = np.ones(len(y), dtype=bool)
    # As the monthly analyses: which categories get the gemeente's index is decided on the history,
    # and the others are read on the national profile (level and week), where they have one.
    small = notable.too_small(y[:, :-1], group, every, m)
    on_national = (
        None
        if national is None
        else national_profile.read_on_profile(
            national(group, columns), y, group, keys["area_code"].to_numpy(), small, len(hist), every, ALL
        )
    )
    profile, inv = _first_pass(y[:, :-1], group, m, on_national)
    base = notable.baseline(y[:, :-1], None, None, m, profile, inv_k=inv, same_month=False)
    base = notable.shrunk(base, level, group, every)
    index, index_var = notable.concurrent_season(y[:, -1], base.unseasoned, inv, group, ~small, m, minimum=0.0)
    label = np.where(index_var > 0, "recent_gemeente", "recent").astype(object)
    if on_national is not None:
        rows, factors = on_national
        index[rows], index_var[rows], label[rows] = factors[rows, -1], 0.0, "recent_landelijk"
    base = notable.seasoned(base, index, index_var, label)
    a = notable.assess(y[:, -1], base, group, m, level=level, inv_k=inv)
    out = keys.assign(
        observed=a.observed,
        expected=a.expected,
        excess=a.excess,
        p=np.where(a.observed > a.expected, a.p_up, a.p_down),
        q=a.q,
        direction=a.direction,
        inv_k=inv,
    )
    out = out[np.asarray(a.tested, dtype=bool) & np.isfinite(a.q)].copy()
    flagged = out["direction"] != ""
    out["_size"] = np.where(flagged, out["excess"].abs(), -np.inf)
    out = out.sort_values(["_size", "q", "area_code", "group_code"], ascending=[False, True, True, True])
    out["rank"] = np.where(out["direction"] != "", np.cumsum(out["direction"] != ""), 0)
    out = out.drop(columns="_size").reset_index(drop=True)[COLUMNS]
    out.attrs["tests"] = len(out)
    return out


def notable_only(tests: pd.DataFrame) -> pd.DataFrame:
    """The list itself: the notable rows, ranked."""
    return tests[tests["rank"] > 0].reset_index(drop=True)


def evidence_text(p: float) -> str:
    """How surprising the count is, in words a reader weighs: the chance of a difference at least this
    large by chance alone, 'kans 1 op 2.300' (two significant digits), under one in 100 000 as such."""
    if not np.isfinite(p) or p <= 0:
        return "kans kleiner dan 1 op 100.000"
    if p < 1e-5:
        return "kans kleiner dan 1 op 100.000"
    odds = 1.0 / p
    digits = max(0, int(np.floor(np.log10(odds))) - 1)
    rounded = float(np.floor(odds / 10**digits + 0.5) * 10**digits)
    return f"kans 1 op {format_number(rounded)}"
