"""The national seasonal profile shipped with the package (read: buurtbeeld.national_profile)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from buurtbeeld import national_profile
from etl import bvh, national_season

# Groups without monthly politie figures: zedenmisdrijven are published per year only.
WITHOUT = {"zeden"}


def test_every_group_of_the_catalogue_has_a_national_profile() -> None:
    """The shipped file follows the MK catalogue: a group added there without re-deriving the
    profile would silently lose its season."""
    profiles = national_profile.profiles()
    groups = {c.group_code for c in bvh.catalogue()[1].values()}
    assert set(profiles) == groups - WITHOUT
    for group, factors in profiles.items():
        assert factors.shape == (12,), group
        assert abs(factors.mean() - 1.0) < 1e-3, group
        assert ((factors > 0.5) & (factors < 2.0)).all(), group
    # What every analyst knows of the Dutch year: burglary peaks in the dark months, overlast in summer.
    assert profiles["woninginbraak"][11] > 1.25 > 0.85 > profiles["woninginbraak"][5]
    assert profiles["overlast"][6] > 1.15 > 0.9 > profiles["overlast"][0]


def test_a_months_factor_is_the_mean_of_its_iso_days() -> None:
    """The warehouse's January 2025 is 30 December 2024 to 2 February 2025 (the ISO weeks whose
    Thursday falls in it), its December 2026 30 November 2026 to 3 January 2027."""
    factors = national_profile.factors_for(np.array(["woninginbraak", "onbekend"]), ["2025-01", "2026-12"])
    burglary = national_profile.profiles()["woninginbraak"]
    np.testing.assert_allclose(factors[0, 0], (2 * burglary[11] + 31 * burglary[0] + 2 * burglary[1]) / 35)
    np.testing.assert_allclose(factors[0, 1], (burglary[10] + 31 * burglary[11] + 3 * burglary[0]) / 35)
    assert np.isnan(factors[1]).all()


def test_new_years_night_goes_with_the_iso_month_that_holds_it() -> None:
    """Vernieling's January excess is New Year's night. 1 January 2027 is a Friday: its week is
    ISO December 2026, which then carries the night; 1 January 2026 is a Thursday (ISO January).
    No other group's January stands out like it."""
    profiles = national_profile.profiles()
    damage = national_profile.factors_for(np.array(["vernieling"]), ["2025-12", "2026-01", "2026-12", "2027-01"])[0]
    assert damage[1] > 1.2 > 1.0 > damage[0] and damage[2] > 1.2 > 1.0 > damage[3]
    for group, factors in profiles.items():
        excess = factors[0] - (factors[11] + factors[1]) / 2
        assert (excess > 0.1) == (group in national_profile.JAARWISSELING), (group, excess)


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


def test_the_lockdown_months_do_not_move_the_profile() -> None:
    """Whatever March 2020 to December 2021 held, the profile is the same."""
    season = 1 + 0.3 * np.cos(2 * np.pi * (np.arange(12) - 11) / 12)
    monthly = _monthly(season, np.random.default_rng(4))
    scrambled = monthly.copy()
    covid = (monthly.index >= "2020-03-01") & (monthly.index <= "2021-12-01")
    scrambled.loc[covid, "x"] *= np.where(np.arange(covid.sum()) % 2, 3.0, 0.3)
    np.testing.assert_allclose(
        national_season.seasonal_factors(scrambled)["x"], national_season.seasonal_factors(monthly)["x"]
    )


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


def test_the_profile_is_derived_end_to_end_from_files_laid_out_as_the_source(tmp_path: Path) -> None:
    """`python -m etl.national_season` end to end on figures laid out as the source is: twelve years
    of two soorten and the overlast total (with its year totals dated at 1 January, as cbsodataR does)."""
    dates = pd.date_range("2012-01-01", "2023-12-01", freq="MS")
    rng = np.random.default_rng(5)
    crime = pd.concat(
        pd.DataFrame(
            {"crime_type_code": name, "date": dates.strftime("%Y-%m-%d"), "frequency": rng.poisson(900, len(dates))}
        )
        for name in ("1.1.1 Diefstal/inbraak woning", "2.2.1 Vernieling cq. zaakbeschadiging")
    )
    monthly = rng.poisson(20000, len(dates))
    years = pd.DataFrame({"date": [f"{y}-01-01" for y in range(2012, 2024)], "frequency": 240000})
    disorder = pd.concat([pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "frequency": monthly}), years])
    disorder = disorder.assign(crime_type_code="Totaal registraties overlast")
    crime.to_csv(tmp_path / "crime.csv", index=False)
    disorder.to_csv(tmp_path / "disorder.csv", index=False)
    out = tmp_path / "profiel.csv"
    assert national_season.main([str(tmp_path / "crime.csv"), str(tmp_path / "disorder.csv")], out) == 0
    written = pd.read_csv(out, sep=";", comment="#")
    assert set(written["groep"]) == {"woninginbraak", "vernieling", "overlast"}
    assert written.groupby("groep")["factor"].mean().between(0.999, 1.001).all()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("crime_type_code,datum,frequency\nx,2012-01-01,3\n", "kolom(men) date ontbreken"),
        ("crime_type_code,date,frequency\nx,2012-01-01,3\nx,januari,4\n", "regel 3: kolom date (JJJJ-MM-DD)"),
        ("crime_type_code,date,frequency\nx,2012-01-01,drie\n", "regel 2: kolom frequency"),
        ("crime_type_code,date,frequency\nx,2012-01-01,3\n", "1 jaar; een seizoenspatroon vraagt er minstens 4"),
    ],
)
def test_a_broken_source_writes_nothing_and_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, said: str
) -> None:
    source = tmp_path / "bron.csv"
    source.write_text(content)
    out = tmp_path / "profiel.csv"
    assert national_season.main([str(source), str(source)], out) == 2
    message = capsys.readouterr().err
    assert message.startswith("Niets geschreven.") and str(source) in message and said in message, message
    assert not out.exists()
