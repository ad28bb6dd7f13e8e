"""The national seasonal profile per dashboard group (`buurtbeeld/data/landelijk_seizoen.csv`), read
for the series that have no season of their own: a gemeente's and its stadsdelen's categories with
less than 14 months of history, the buurten and wijken of a category too small for the gemeente's
concurrent index (etl.analyses), and the same buurten in a week (buurtbeeld.weekly).

Here, not in etl, because the dashboard's weekly list reads it too and may not import etl. How the
file is made, and from which public figures, is etl.national_season (the builder)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from buurtbeeld.periods import month_span, parse_week

PROFILE = Path(__file__).parent / "data" / "landelijk_seizoen.csv"
SOURCE = "Politie (CBS 47022NED en 47024NED), Nederland, 2012-2023"
# Groups whose January excess is New Year's night (fireworks damage): vernieling's January is 1.30
# against 0.96 and 0.99 around it; no other group's January stands 0.1 above its neighbours' mean
# (tests/test_national_season.py).
JAARWISSELING = frozenset({"vernieling"})


@lru_cache(maxsize=1)
def profiles() -> dict[str, np.ndarray]:
    """Group -> 12 factors (January first)."""
    frame = pd.read_csv(PROFILE, sep=";", comment="#")
    return {
        g: part.sort_values("maand")["factor"].to_numpy(dtype=float) for g, part in frame.groupby("groep", sort=False)
    }


def daily_factors(factors: np.ndarray, days: pd.DatetimeIndex, new_year: bool) -> np.ndarray:
    """Each day's factor: its calendar month's. For a jaarwisseling group, January's excess over the
    mean of December and February sits on 1 January (the night's damage), the rest of January at
    that mean level; January's mean is unchanged."""
    out = factors[days.month - 1].astype(float)
    excess = factors[0] - (factors[11] + factors[1]) / 2
    if new_year and excess > 0:
        january = days.month == 1
        out[january] -= excess
        out[january & (days.day == 1)] += excess * 31
    return out


def factors_for(groups: np.ndarray, periods: list[str]) -> np.ndarray:
    """(series, periods) national factors of each series' group in each period: a month ('YYYY-MM':
    the ISO weeks whose Thursday falls in it, as the warehouse counts months) or an ISO week
    ('YYYY-Www'); NaN where the group has no profile (the total of all categories, zedenmisdrijven,
    a gemeente's own groups).

    A period's factor is the mean of its days' (`daily_factors`): an ISO month starts up to three
    days before or after the calendar month, and when 1 January is a Friday, Saturday or Sunday the
    jaarwisseling falls in ISO December (2026, 2027): read on calendar months, December's vernieling
    would be some 30 % above its expectation and January's as far below. A week across two calendar
    months takes each day's own month."""
    out = np.full((len(groups), len(periods)), np.nan)
    for g in np.unique(groups):
        if g in profiles():
            out[groups == g] = [_period_factor(str(g), p) for p in periods]
    return out


@lru_cache(maxsize=16384)
def _period_factor(group: str, period: str) -> float:
    # Cached: the national benchmark asks for the same 36 months of 19 groups for each of 345
    # gemeenten, and the dashboard for the same 27 weeks of every gemeente.
    if "-W" in period:
        start = date.fromisocalendar(*parse_week(period), 1)
        end = start + timedelta(days=7)
    else:
        start, end = month_span([period])
    days = pd.date_range(start, end, inclusive="left")
    return float(daily_factors(profiles()[group], days, group in JAARWISSELING).mean())


def read_on_profile(
    factors: np.ndarray,
    dense: np.ndarray,
    group: np.ndarray,
    area: np.ndarray,
    without: np.ndarray,
    recent: int,
    pool: np.ndarray,
    total: str = "*",
) -> tuple[np.ndarray, np.ndarray] | None:
    """The series read on the national profile and their factors: those `without` a season of their
    own whose group has a profile (`factors`: `factors_for` of the periods of `dense`, the history
    and the tested period last). Scaled to a mean of 1 over the `recent` periods before the tested
    one, as the gemeente's profile is, so that the level is the same rate and the tested period's
    factor is its season. An area's `total` of all categories takes its own mix: its categories'
    factors weighted by their cases over those periods, a category without a profile counted flat;
    where its categories are not among the series, the mix of the `pool` series (the gemeente's;
    all categories where the pool has none).
    `area`: one id per series, the same for an area's total and its categories.

    Why: a series with too few cases for a season of its own, read without one, expects a December
    burglary month some 30 % too low; read on the national profile, the residuals its 1/k is
    estimated from hold how far the gemeente's season differs from the country's."""
    h = dense.shape[1] - 1
    if h < 1 or not without.any():
        return None
    m = min(h, recent)
    factors = np.array(factors, dtype=float)
    totals = np.flatnonzero(without & (group == total))
    if len(totals):
        parts = group != total
        known = np.isfinite(factors[parts]).all(axis=1)
        # Each category's level on its own profile: its cases alone would weigh a category by its
        # season inside the window (an independent review: a total 2.5 % off where its parts were exact).
        window = np.where(known[:, None], factors[parts, h - m : h], 1.0)
        weight = dense[parts, h - m : h].sum(axis=1) / window.sum(axis=1)
        mixed = pd.DataFrame(np.where(known[:, None], factors[parts], 1.0) * weight[:, None]).groupby(area[parts])
        sums = mixed.sum().reindex(area[totals]).to_numpy()
        weights = pd.Series(weight).groupby(area[parts]).sum().reindex(area[totals]).to_numpy()
        profiled = pd.Series(weight * known).groupby(area[parts]).sum().reindex(area[totals]).to_numpy()
        ok = np.nan_to_num(profiled) > 0
        factors[totals[ok]] = sums[ok] / weights[ok, None]
        # A total whose categories are not among the series (the gedeeld audience's buurten: only
        # their total is offered) takes the pool's mix; the same buurt read intern got its own.
        alone = np.isnan(weights)
        pooled = pool[parts] if pool[parts].any() else np.ones(int(parts.sum()), dtype=bool)
        if alone.any() and (weight * known)[pooled].sum() > 0:
            mix = np.where(known[:, None], factors[parts], 1.0)[pooled] * weight[pooled, None]
            factors[totals[alone]] = mix.sum(axis=0) / weight[pooled].sum()
    rows = without & np.isfinite(factors).all(axis=1)
    if not rows.any():
        return None
    factors = np.where(rows[:, None], factors, 1.0)
    factors = factors / factors[:, h - m : h].mean(axis=1, keepdims=True)
    return rows, factors
