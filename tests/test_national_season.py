"""The national seasonal profile shipped with the package (etl.national_season)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl import bvh, national_season

# Groups without monthly politie figures: zedenmisdrijven are published per year only.
WITHOUT = {"zeden"}


def test_every_group_of_the_catalogue_has_a_national_profile() -> None:
    """The shipped file follows the MK catalogue: a group added there without re-deriving the
    profile would silently lose its season."""
    profiles = national_season.profiles()
    groups = {c.group_code for c in bvh.catalogue()[1].values()}
    assert set(profiles) == groups - WITHOUT
    for group, factors in profiles.items():
        assert factors.shape == (12,), group
        assert abs(factors.mean() - 1.0) < 1e-3, group
        assert ((factors > 0.5) & (factors < 2.0)).all(), group
    # What every analyst knows of the Dutch year: burglary peaks in the dark months, overlast in summer.
    assert profiles["woninginbraak"][11] > 1.25 > 0.85 > profiles["woninginbraak"][5]
    assert profiles["overlast"][6] > 1.15 > 0.9 > profiles["overlast"][0]


def test_factors_follow_the_calendar_month() -> None:
    factors = national_season.factors_for(np.array(["woninginbraak", "onbekend"]), ["2024-12", "2025-01"])
    np.testing.assert_allclose(factors[0], national_season.profiles()["woninginbraak"][[11, 0]])
    assert np.isnan(factors[1]).all()


def _monthly(season: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Twelve years of counts: growth of 3 % a year, the season per day, noise of 2 %, and the
    spring of 2020 at half (a lockdown)."""
    dates = pd.date_range("2012-01-01", "2023-12-01", freq="MS")
    t = np.arange(len(dates))
    daily = 100 * 1.03 ** (t / 12) * season[dates.month - 1] * rng.lognormal(0, 0.02, len(t))
    daily[(dates >= "2020-03-01") & (dates <= "2020-05-01")] *= 0.5
    return pd.DataFrame({"x": daily * dates.days_in_month}, index=dates)


def test_the_profile_is_the_season_not_the_trend_nor_a_lockdown() -> None:
    season = 1 + 0.3 * np.cos(2 * np.pi * (np.arange(12) - 11) / 12)
    factors = national_season.seasonal_factors(_monthly(season, np.random.default_rng(3)))["x"]
    np.testing.assert_allclose(factors.to_numpy(), season / season.mean(), atol=0.015)


def test_groups_sum_their_soorten_and_overlast_has_no_year_totals() -> None:
    """cbsodataR dates a year total at its first of January, beside January's own figure: the
    overlast table of the source holds both."""
    dates = pd.to_datetime(["2012-01-01", "2012-02-01"])
    crime = pd.DataFrame(
        {
            "crime_type_code": ["1.1.1 Diefstal/inbraak woning"] * 2 + ["2.4.1 Burengerucht"] * 2,
            "date": list(dates) * 2,
            "frequency": [10, 20, 1, 2],
        }
    )
    disorder = pd.DataFrame(
        {
            "crime_type_code": ["Totaal registraties overlast"] * 3,
            "date": [dates[0], dates[0], dates[1]],
            "frequency": [100, 1300, 200],
        }
    )
    wide = national_season.group_series(crime, disorder, {"1.1.1": "woninginbraak", "2.4.1": "overlast"})
    assert wide.loc[dates[0], "woninginbraak"] == 10 and wide.loc[dates[1], "woninginbraak"] == 20
    assert list(wide["overlast"]) == [101, 202]
