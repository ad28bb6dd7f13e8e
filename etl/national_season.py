"""Builds the national seasonal profile per dashboard group, shipped with the package
(`buurtbeeld/data/landelijk_seizoen.csv`, read by buurtbeeld.national_profile), for the series that
have no season of their own: a gemeente's and its stadsdelen's categories with less than 14 months
of history, or too few cases for last year's month to say anything, and the buurten of a category
too small for the gemeente's concurrent index, in months (etl.analyses) and weeks (buurtbeeld.weekly).

A gemeente that started delivering eight months ago has no past summer: without a profile its
summer bicycle thefts read as twice the expected (issue 26). Public politie figures have every
month since 2012 for the whole country.

Source: Politie open data via CBS, table 47022NED (geregistreerde misdrijven per soort misdrijf, per
maand) and 47024NED (geregistreerde overlast, per maand), region NL00 (Nederland), January 2012 to
December 2023; read from the snapshot in github.com/bernasco/staat_van_de_misdaad, commit 14f99b5
(data/NL_Crime.csv and data/NL_Disorder.csv, fetched with cbsodataR). Regenerate with

    python -m etl.national_season NL_Crime.csv NL_Disorder.csv

after a change of the groups in `etl/data/mk_categorieen.csv` (a test checks that every group has a
profile)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from buurtbeeld.national_profile import PROFILE, SOURCE
from etl import bvh

OVERLAST = "overlast"  # 47021NED/47024NED codes are not soorten: the catalogue leaves soort_code empty
# Lockdowns and curfews moved every category's months in 2020-2021 (burglary fell in spring 2020,
# shoplifting with the shops): ratios whose 13-month centred window touches March 2020 - December
# 2021 are left out.
COVID = (pd.Timestamp("2019-09-01"), pd.Timestamp("2022-06-01"))


def soort_groups() -> dict[str, str]:
    """Politie soort misdrijf code ('1.2.3') -> dashboard group, from the MK catalogue."""
    _, items = bvh.catalogue()
    return {c.soort_code: c.group_code for c in items.values() if c.soort_code}


def group_series(crime: pd.DataFrame, disorder: pd.DataFrame, groups: dict[str, str]) -> pd.DataFrame:
    """(month, group) national counts: the soorten of each group summed, overlast from its own table
    (its total) plus the soorten the catalogue puts in the group. `crime` and `disorder`: columns
    crime_type_code ('1.2.3 Diefstal van ...'), date (first of the month), frequency."""
    crime, disorder = _monthly(crime), _monthly(disorder)
    code = crime["crime_type_code"].str.extract(r"^(\d+\.\d+\.\d+)", expand=False)
    by_group = crime.assign(group=code.map(groups)).dropna(subset=["group"])
    wide = by_group.pivot_table(index="date", columns="group", values="frequency", aggfunc="sum")
    total = disorder[disorder["crime_type_code"].str.startswith("Totaal")].set_index("date")["frequency"]
    wide[OVERLAST] = wide.get(OVERLAST, 0.0) + total.reindex(wide.index).fillna(0.0)
    wide.index = pd.to_datetime(wide.index)
    return wide.sort_index()


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    """Without the year totals: cbsodataR dates a year ('2012JJ00') at its first of January, beside
    January's own figure (the overlast table holds both); a year is the larger of the two."""
    return frame.sort_values("frequency").drop_duplicates(["crime_type_code", "date"], keep="first")


def seasonal_factors(monthly: pd.DataFrame) -> pd.DataFrame:
    """(12, groups) factors of each calendar month's daily rate, mean 1 over the year: the classical
    ratio to a centred 2x12 moving average (so the trend is not read as season), the median over
    the years per calendar month (one odd year does not set it), COVID months left out (`COVID`)."""
    # Zedenmisdrijven are not published per month (0 throughout): no profile rather than a flat one.
    monthly = monthly.loc[:, monthly.sum() > 0]
    daily = monthly.div(monthly.index.days_in_month, axis=0)
    trend = daily.rolling(12, center=True).mean().rolling(2).mean().shift(-1)
    ratio = daily / trend
    ratio = ratio[(ratio.index < COVID[0]) | (ratio.index > COVID[1])]
    factors = ratio.groupby(ratio.index.month).median()
    return factors / factors.mean()


def write_profile(factors: pd.DataFrame, path: Path = PROFILE) -> None:
    """The shipped file: one row per group and calendar month, its source in the header."""
    long = factors.rename_axis("maand").reset_index().melt(id_vars="maand", var_name="groep", value_name="factor")
    with path.open("w", encoding="utf-8") as fh:
        fh.write(f"# Landelijk seizoenspatroon per groep (dagelijkse registraties, gemiddeld 1). Bron: {SOURCE};\n")
        fh.write("# afgeleid met `python -m etl.national_season` (zie daar), maanden rond 2020-2021 weggelaten.\n")
        long[["groep", "maand", "factor"]].round(4).to_csv(fh, sep=";", index=False)


COLUMNS = ("crime_type_code", "date", "frequency")
# A profile needs years: the moving average takes six months off each end, and the median wants several.
MIN_YEARS = 4


def read_source(path: Path) -> pd.DataFrame:
    """One source file (cbsodataR's export: crime_type_code, date, frequency), or a ValueError that
    says what is wrong with it."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: niet te lezen als CSV ({exc})") from exc
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: kolom(men) {', '.join(missing)} ontbreken; verwacht {', '.join(COLUMNS)}")
    dates = pd.to_datetime(frame["date"], errors="coerce", format="%Y-%m-%d")
    counts = pd.to_numeric(frame["frequency"], errors="coerce")
    for name, bad in (("date (JJJJ-MM-DD)", dates.isna()), ("frequency (een aantal)", counts.isna())):
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2  # the header is line 1
            raise ValueError(f"{path}, regel {row}: kolom {name} onleesbaar: {frame.iloc[row - 2].to_dict()}")
    if dates.dt.year.nunique() < MIN_YEARS:
        raise ValueError(f"{path}: {dates.dt.year.nunique()} jaar; een seizoenspatroon vraagt er minstens {MIN_YEARS}")
    return frame.assign(date=dates, frequency=counts)


def main(argv: list[str], out: Path = PROFILE) -> int:
    if len(argv) != 2:
        print("gebruik: python -m etl.national_season NL_Crime.csv NL_Disorder.csv", file=sys.stderr)
        return 2
    try:
        crime, disorder = (read_source(Path(p)) for p in argv)
    except ValueError as exc:
        print(f"Niets geschreven. {exc}", file=sys.stderr)
        return 2
    write_profile(seasonal_factors(group_series(crime, disorder, soort_groups())), out)
    print(f"{out} geschreven")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
