"""The monthly statistics on real registrations: is the predictive distribution calibrated where
nothing was planted?

`analyses_quality.py` scores the tests on generated data whose truth it knows. Real data have no
known truth, but they have what no generator was designed to have. Two real sources from
../shared/data/real (see its PROVENANCE.md), never copied into the repository:

* **groningen**: Groningen's BVH export of bicycle theft, January 2013 to September 2017 (15 947
  incidents), loaded end to end (the 2017 buurtkaart, `load_bvh`) and analysed month by month from
  January 2014 as a gemeente that started delivering in January 2013 would have it
  (`assess_month`: buurten and wijken, one category);
* **mik**: politie "Misdaad in kaart", woninginbraak and pogingen per PC4, the full months
  2023-05..2026-05, with the PC4 as buurt and its first digit as gemeente (nine regions of ~370
  buurten, each many real gemeenten), straight into `month_statistics` from the 13th month on. No
  population: the exposure is the days of the month. Once as published and once with its exact
  duplicate rows counted once.

Beside the buurt tests, the gemeente level with 6-13 months of history, where the expected count
is read on the national seasonal profile (buurtbeeld.national_profile): Groningen's bicycle thefts as a
gemeente that started delivering in January 2013-2016, and each Misdaad in kaart region as one
gemeente from every start month; registered over expected with the profile and without any
seasonal correction (what the product did before it had one). And the buurt level of small
gemeenten whose category is too small for a concurrent index (Misdaad in kaart's PC4s grouped by
their first two digits), on the national profile and without a correction, by month (the
monthly analyses) and by week (the Weekoverzicht's "opvallend deze week" list).

Real series have real outbreaks, so there is no null flag rate to measure. What a calibrated test
must show is in the bulk: the randomised probability integral transform (PIT) of every buurt test
under the product's predictive distribution, P(Y < y) + U P(Y = y), is uniform where nothing
happened, and most months are such. Its deciles show how it is off (a U: the predictive
distribution too narrow; a hump: too wide; a slope: the expected count biased), overall and within
bands of the expected count. Most series here have less than one registration a month, where the
deciles can hardly move: registered over expected per band is the sharper check of the level, and
the small p-values are compared with what the product's own predictive distribution implies (a
discrete test reaches p < 0,01 far less often than 1 %), not with the level itself. Real outbreaks
add to the last decile and the small p-values.

    .venv/bin/python benchmarks/analyses_real.py [--workdir DIR] [--bron groningen|mik|beide]

Writes test-artifacts/analyses_real.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REAL = ROOT.parent / "shared" / "data" / "real"
GRONINGEN = REAL / "crime" / "politie_bvh_export_fietsdiefstal_groningen_2013_2017.xlsx"
BUURTEN_2017 = REAL / "geometry" / "cbs_buurten_2017_groningen_wgs84.geojson"
MIK = REAL / "crime" / "politie_misdaad_in_kaart_woninginbraak_per_pc4_2023_2026.csv"
ARTIFACT = ROOT / "test-artifacts" / "analyses_real.md"
SEED = 20261205
LAST = "2017-08"  # the export ends in September 2017


def randomised_pit(p_up: np.ndarray, p_down: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """P(Y < y) + U P(Y = y) from the tails P(Y >= y) and P(Y <= y): uniform under the model."""
    below = 1.0 - p_up
    return below + rng.uniform(size=len(p_up)) * np.clip(p_down - below, 0.0, 1.0)


def implied_small_p(tests: pd.DataFrame, alphas: tuple[float, ...], rng: np.random.Generator, draws: int) -> dict:
    """How many two-sided p-values below each alpha the product's own predictive distribution
    implies for these tests: counts drawn from it (the level from its beta prime, the month from the
    negative binomial around it), then p-values by the product's own tails. For small counts a
    discrete test reaches p < alpha far less often than alpha, so that, not alpha, is the yardstick."""
    from buurtbeeld.notable.assessment import MIN_EXPECTED, tails

    mu = np.maximum(tests["expected"].to_numpy(dtype=float), MIN_EXPECTED)
    inv, size = tests["inv_k"].to_numpy(dtype=float), tests["inv_size"].to_numpy(dtype=float)
    cases, months_k = tests["cases"].to_numpy(dtype=float), tests["months_k"].to_numpy(dtype=float)
    mixed = np.isfinite(cases)
    a, b = np.maximum(np.where(mixed, cases, 1.0), 0.5), np.maximum(np.where(mixed, months_k, 1.0), 0.5)
    counts = {alpha: 0.0 for alpha in alphas}
    for _ in range(draws):
        level = np.where(mixed, mu * b / a * rng.gamma(a) / rng.gamma(b), mu)
        spread = np.where(mixed, inv, size)
        month = np.where(spread > 0, rng.gamma(1.0 / np.maximum(spread, 1e-12), np.maximum(spread, 1e-12)), 1.0)
        y = rng.poisson(level * month).astype(float)
        up, down = tails(y, mu, inv, size, cases, months_k, np.ones(len(y), dtype=bool))
        p_two = np.minimum(1.0, 2 * np.minimum(up, down))
        for alpha in alphas:
            counts[alpha] += float((p_two < alpha).sum()) / draws
    return counts


def groningen_tests(workdir: Path) -> pd.DataFrame:
    """Every buurt test of every month 2014-01..2017-08 (the last full month) of the real Groningen
    export (p_up, p_down, observed, expected, direction, kind)."""
    from benchmarks.analyses_quality import captured_assessments
    from buurtbeeld import notable
    from buurtbeeld.settings import Settings
    from etl import analyses
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from warehouse.db import upgrade

    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'groningen.sqlite'}"
    upgrade(url)
    settings = Settings(data_dir=workdir / "var", warehouse_url=url, hash_secret="benchmark")
    assert load_buurten(BUURTEN_2017, 2017, settings).ok
    out = load_bvh(GRONINGEN, settings)
    assert out.status == "loaded", out.message
    inputs = analyses.read_inputs(settings, "GM0014", LAST)
    frames = []
    for month in analyses.month_range("2014-01", LAST):
        cells = inputs.cells[inputs.cells["period"] <= month]
        with captured_assessments() as seen:
            frame, *_ = analyses.assess_month(replace(inputs, month=month, cells=cells), notable.DEFAULT)
        a = seen[-1]
        rows = ((frame["area_level"] == "buurt") & (frame["group_code"] != analyses.ALL) & a.tested).to_numpy()
        frames.append(_rows(a, rows, month, "GM0014", frame["group_code"].to_numpy()[rows]))
    return pd.concat(frames, ignore_index=True)


def _rows(a: object, rows: np.ndarray, month: str, gemeente: str, group: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gemeente": gemeente,
            "month": month,
            "group": group,
            "observed": a.observed[rows],
            "expected": a.expected[rows],
            "p_up": a.p_up[rows],
            "p_down": a.p_down[rows],
            "direction": a.direction[rows],
            "kind": a.kind[rows],
            "inv_k": a.inv_k[rows],
            "inv_size": a.inv_size[rows],
            "cases": a.cases[rows],
            "months_k": a.months_k[rows],
            "history": a.history_total[rows],
        }
    )


def mik_tests(unique: bool = False) -> pd.DataFrame:
    """Every PC4 test of the months 2024-05..2026-05 (12 months of history or more) of Misdaad in
    kaart, per region (the PC4's first digit) as one gemeente; with `unique`, exact duplicate rows
    (same PC4, day and kind: genuine separate incidents or the scraper's repeats, the file cannot
    tell) counted once."""
    from buurtbeeld import national_profile, notable
    from etl import analyses

    raw = pd.read_csv(MIK, dtype=str)
    if unique:
        raw = raw.drop_duplicates()
    raw["month"] = pd.to_datetime(raw["Datum"], format="%d-%m-%Y").dt.strftime("%Y-%m")
    months = analyses.month_range("2023-05", "2026-05")  # the first and last months are partial
    raw = raw[raw["month"].isin(months)]
    raw["group"] = np.where(raw["Soort"].str.startswith("Poging"), "poging", "woninginbraak")
    counts = raw.groupby(["Postcode", "group", "month"]).size().unstack("month", fill_value=0)
    counts = counts.reindex(columns=months, fill_value=0)
    days = np.array([pd.Period(m).days_in_month for m in months], dtype=float)
    frames = []
    for region, part in counts.groupby(counts.index.get_level_values("Postcode").str[0]):
        # Every PC4 of the region gets both categories (a row of zeros where it had none).
        pc4 = part.index.get_level_values("Postcode").unique()
        full = part.reindex(pd.MultiIndex.from_product([pc4, ["poging", "woninginbraak"]]), fill_value=0)
        keys = pd.DataFrame(
            {
                "area_level": "buurt",
                "area_code": full.index.get_level_values(0),
                "group_code": full.index.get_level_values(1),
            }
        )
        dense = full.to_numpy(dtype=float)
        # Pogingen are fewer than 30 a month in four regions: read on the national profile of
        # woninginbraak (politie's 1.1.1 counts them with it), as the product reads such a category.
        profile = national_profile.profiles()["woninginbraak"][[int(m[5:7]) - 1 for m in months]]
        for t in range(12, len(months)):
            offset = np.broadcast_to(days[: t + 1], (len(keys), t + 1))
            national = np.broadcast_to(profile[: t + 1], offset.shape)
            a = analyses.month_statistics(
                dense[:, : t + 1], offset, keys, ["poging", "woninginbraak"], notable.DEFAULT, national=national
            )
            rows = a.tested
            frames.append(_rows(a, rows, months[t], f"PC{region}", keys["group_code"].to_numpy()[rows]))
    return pd.concat(frames, ignore_index=True)


def short_history(months_from: int = 6, months_to: int = 13) -> pd.DataFrame:
    """Each region of Misdaad in kaart as one gemeente (woninginbraak and pogingen together, as
    politie's 1.1.1 counts them) with 6-13 months of history, every start month of the file: the
    gemeente level's expected count read on the national profile (buurtbeeld.national_profile) and without
    any seasonal correction (what it was before). The national profile is from 2012-2023; these data
    run from May 2023, so they did not make it."""
    from buurtbeeld import national_profile, notable
    from etl import analyses

    raw = pd.read_csv(MIK, dtype=str)
    raw["month"] = pd.to_datetime(raw["Datum"], format="%d-%m-%Y").dt.strftime("%Y-%m")
    months = analyses.month_range("2023-05", "2026-05")
    raw = raw[raw["month"].isin(months)]
    counts = raw.groupby([raw["Postcode"].str[0], "month"]).size().unstack("month", fill_value=0)
    counts = counts.reindex(columns=months, fill_value=0)
    keys = pd.DataFrame({"area_level": "gemeente", "area_code": counts.index, "group_code": "woninginbraak"})
    dense = counts.to_numpy(dtype=float)
    days = np.array([pd.Period(m).days_in_month for m in months], dtype=float)
    rows = []
    for start in range(len(months) - months_from):
        for h in range(months_from, months_to + 1):
            window = slice(start, start + h + 1)
            if window.stop > len(months):
                break
            offset = np.broadcast_to(days[window], (len(keys), h + 1))
            # Calendar months here (the file has days), not the warehouse's ISO months.
            calendar = [int(m[5:7]) - 1 for m in months[window]]
            factors = np.broadcast_to(national_profile.profiles()["woninginbraak"][calendar], (len(keys), h + 1))
            for season, national in (("landelijk", factors), ("geen", None)):
                a = analyses.month_statistics(
                    dense[:, window], offset, keys, ["woninginbraak"], notable.DEFAULT, national=national
                )
                rows.append(
                    pd.DataFrame(
                        {
                            "season": season,
                            "month": months[window.stop - 1],
                            "observed": a.observed,
                            "expected": a.expected,
                            "p": np.minimum(a.p_up, a.p_down),
                            "direction": a.direction,
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def small_gemeenten() -> pd.DataFrame:
    """The buurt level of small gemeenten: Misdaad in kaart's PC4s grouped by their first two digits
    (90 areas of 12-66 PC4s, 77 of them under 30 burglaries and attempts a month: too few for a
    concurrent index), each area a gemeente that started delivering in May 2023 and its PC4s its
    buurten, analysed every month from its seventh (6-30 months of history). Read on the national
    profile (what the product does for such a category) and without any seasonal correction (what
    it did until December 2026). One category, as politie's 1.1.1 counts it; calendar months."""
    from buurtbeeld import national_profile, notable
    from etl import analyses

    raw = pd.read_csv(MIK, dtype=str)
    raw["month"] = pd.to_datetime(raw["Datum"], format="%d-%m-%Y").dt.strftime("%Y-%m")
    months = analyses.month_range("2023-05", "2026-05")
    raw = raw[raw["month"].isin(months)]
    counts = raw.groupby(["Postcode", "month"]).size().unstack("month", fill_value=0)
    counts = counts.reindex(columns=months, fill_value=0)
    days = np.array([pd.Period(m).days_in_month for m in months], dtype=float)
    profile = national_profile.profiles()["woninginbraak"][[int(m[5:7]) - 1 for m in months]]
    rows = []
    for area, part in counts.groupby(counts.index.str[:2]):
        keys = pd.DataFrame({"area_level": "buurt", "area_code": part.index, "group_code": "woninginbraak"})
        dense = part.to_numpy(dtype=float)
        for t in range(6, len(months)):
            window = slice(max(0, t - analyses.HISTORY_MONTHS + 1), t + 1)
            offset = np.broadcast_to(days[window], (len(keys), window.stop - window.start))
            for season, national in (("landelijk", np.broadcast_to(profile[window], offset.shape)), ("geen", None)):
                a = analyses.month_statistics(
                    dense[:, window], offset, keys, ["woninginbraak"], notable.DEFAULT, national=national
                )
                every = np.arange(len(keys))
                frame = _rows(a, every, months[t], f"PC{area}", keys["group_code"].to_numpy())
                rows.append(frame.assign(season=season, depth=t, tested=np.asarray(a.tested, dtype=bool)))
    return pd.concat(rows, ignore_index=True)


def small_gemeenten_table(tests: pd.DataFrame, rng: np.random.Generator) -> str:
    """Per history band: the gemeente-months whose category had no concurrent index, their PC4s'
    registered over expected summed per gemeente-month (its log: the seasonal error and the
    sampling noise of a few dozen cases), the PC4 tests at two-sided p < 0,01 (counted, and as the
    product's own predictive distribution implies: `implied_small_p`) and notable."""
    seasonless = tests[(tests["season"] == "landelijk") & (tests["kind"] == "recent_landelijk")]
    chosen = tests.merge(seasonless[["gemeente", "month"]].drop_duplicates(), on=["gemeente", "month"])
    header = (
        "historie",
        "seizoenscorrectie",
        "gemeente-maanden",
        "PC4-toetsen",
        "gemiddelde log(Σ geregistreerd / Σ verwacht)",
        "wortel gemiddeld kwadraat",
        "slechtste kalendermaand",
        "p < 0,01: geteld (model)",
        "opvallend",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    band = np.where(chosen["depth"] < 14, "6-13 maanden", "14-30 maanden")
    for (hist, season), part in chosen.groupby([band, "season"], sort=False):
        sums = part.groupby(["gemeente", "month"])[["observed", "expected"]].sum()
        sums = sums[sums["observed"] > 0]
        lr = np.log(sums["observed"] / sums["expected"])
        by_month = lr.groupby(lr.index.get_level_values("month").str[5:7]).mean()
        worst = by_month.abs().idxmax()
        tested = part[part["tested"]]
        p_two = np.minimum(1.0, 2 * np.minimum(tested["p_up"], tested["p_down"]))
        implied = implied_small_p(tested, (0.01,), rng, 20)[0.01]
        lines.append(
            f"| {hist} | {season} | {len(sums)} | {len(tested)} | {lr.mean():+.3f} | {np.sqrt((lr**2).mean()):.3f} "
            f"| {worst}: {by_month[worst]:+.3f} | {(p_two < 0.01).sum()} ({implied:.1f}) "
            f"| {(part['direction'] != '').sum()} |"
        )
    return "\n".join(lines) + "\n"


def small_gemeenten_weeks() -> pd.DataFrame:
    """The Weekoverzicht's list (buurtbeeld.weekly.notable_week) on the same small gemeenten as
    `small_gemeenten`: each PC2 area's PC4s as its buurten, every ISO week from the 27th (26 history
    weeks) of 2023-W19..2026-W21, read on the national profile and without any seasonal correction
    (what the list did until December 2026). Only areas under 30 a week on average over the history
    (as `notable.too_small` decides), so that no week's concurrent index is in the comparison."""
    from buurtbeeld import national_profile, weekly

    raw = pd.read_csv(MIK, dtype=str)
    iso = pd.to_datetime(raw["Datum"], format="%d-%m-%Y").dt.isocalendar()
    raw["week"] = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    weeks = [w for w in sorted(raw["week"].unique()) if "2023-W19" <= w <= "2026-W21"]  # whole weeks only
    counts = raw[raw["week"].isin(weeks)].groupby(["Postcode", "week"]).size().rename("count").reset_index()
    counts = counts.rename(columns={"Postcode": "area_code", "week": "period"}).assign(group_code="woninginbraak")
    rows = []
    for area, part in counts.groupby(counts["area_code"].str[:2]):
        for t in range(weekly.WEEK.recent_weeks, len(weeks)):
            history = weeks[t - weekly.WEEK.recent_weeks : t]
            mean = part[part["period"].isin(history)]["count"].sum() / len(history)
            if mean >= weekly.WEEK.as_method().concurrent_min:
                continue
            for season, national in (("landelijk", national_profile.factors_for), ("geen", None)):
                out = weekly.notable_week(part, weeks[t], history, national=national)
                rows.append(
                    out.assign(
                        gemeente=f"PC{area}",
                        month=weeks[t],
                        calendar=notable_month(weeks[t]),
                        season=season,
                        p_two=np.minimum(1.0, 2 * out["p"]),
                    )
                )
    return pd.concat(rows, ignore_index=True)


def notable_month(week: str) -> str:
    """The calendar month of the week's Thursday ('01'..'12'), as the warehouse counts months."""
    from buurtbeeld.periods import month_of_week, parse_week

    return month_of_week(*parse_week(week))[5:7]


def small_gemeenten_weeks_table(tests: pd.DataFrame) -> str:
    """Per seasonal correction: the gemeente-weeks, their PC4s' registered over expected summed per
    gemeente-week, two-sided p < 0,01 and notable."""
    header = (
        "seizoenscorrectie",
        "gemeente-weken",
        "PC4-toetsen",
        "gemiddelde log(Σ geregistreerd / Σ verwacht)",
        "wortel gemiddeld kwadraat",
        "slechtste kalendermaand",
        "p < 0,01",
        "opvallend",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for season, part in tests.groupby("season", sort=False):
        sums = part.groupby(["gemeente", "month", "calendar"])[["observed", "expected"]].sum()
        sums = sums[sums["observed"] > 0]
        lr = np.log(sums["observed"] / sums["expected"])
        by_month = lr.groupby(lr.index.get_level_values("calendar")).mean()
        worst = by_month.abs().idxmax()
        lines.append(
            f"| {season} | {len(sums)} | {len(part)} | {lr.mean():+.3f} | {np.sqrt((lr**2).mean()):.3f} "
            f"| {worst}: {by_month[worst]:+.3f} | {(part['p_two'] < 0.01).sum()} | {(part['direction'] != '').sum()} |"
        )
    return "\n".join(lines) + "\n"


def groningen_short_history(workdir: Path) -> pd.DataFrame:
    """The gemeente level of the Groningen export with 6-13 months of history: a gemeente that
    started delivering in January of 2013, 2014, 2015 or 2016, its months 7-14, read on the national
    profile and, for comparison, without any seasonal correction (the profile patched away, which is
    what the product did before it had one). Run after `groningen_tests` (its warehouse)."""
    from unittest import mock

    from buurtbeeld import national_profile, notable
    from buurtbeeld.settings import Settings
    from etl import analyses

    url = f"sqlite:///{workdir / 'groningen.sqlite'}"
    settings = Settings(data_dir=workdir / "var", warehouse_url=url, hash_secret="benchmark")
    inputs = analyses.read_inputs(settings, "GM0014", LAST)
    rows = []
    for start in ("2013-01", "2014-01", "2015-01", "2016-01"):
        for month in analyses.month_range(start, LAST)[6:14]:
            period = inputs.cells["period"]
            cells = inputs.cells[(period >= start) & (period <= month)]
            for season in ("landelijk", "geen"):
                flat = (lambda g, m: np.full((len(g), len(m)), np.nan)) if season == "geen" else None
                with mock.patch.object(national_profile, "factors_for", flat or national_profile.factors_for):
                    frame, *_ = analyses.assess_month(replace(inputs, month=month, cells=cells), notable.DEFAULT)
                row = frame[(frame["area_level"] == "gemeente") & (frame["group_code"] == "fietsendiefstal")]
                rows.append(row.assign(season=season, month=month, p=np.nan))
    return pd.concat(rows, ignore_index=True)


def short_history_table(tests: pd.DataFrame) -> str:
    """Error of the gemeente level's expected count, with and without the national profile."""
    log_ratio = np.log(tests["observed"] / tests["expected"])
    lines = [
        "| seizoenscorrectie | toetsen | gemiddelde log(geregistreerd / verwacht) | wortel gemiddeld kwadraat "
        "| slechtste kalendermaand | p < 0,01 | opvallend |",
        "|---|---|---|---|---|---|---|",
    ]
    for season, part in tests.assign(lr=log_ratio).groupby("season", sort=False):
        by_month = part.groupby(part["month"].str[5:7])["lr"].mean()
        worst = by_month.abs().idxmax()
        lines.append(
            f"| {season} | {len(part)} | {part['lr'].mean():+.3f} | {np.sqrt((part['lr'] ** 2).mean()):.3f} "
            f"| {worst}: {by_month[worst]:+.3f} | {(part['p'] < 0.01).sum() if part['p'].notna().any() else '–'} "
            f"| {(part['direction'] != '').sum()} |"
        )
    return "\n".join(lines) + "\n"


ALPHAS = (0.01, 0.001)
BANDS = ((0.0, 0.5), (0.5, 1.0), (1.0, 3.0), (3.0, 10.0), (10.0, np.inf))


def summary(tests: pd.DataFrame, rng: np.random.Generator, draws: int = 20) -> dict[str, object]:
    """Deciles of the randomised PIT (each should hold 10 %), Kolmogorov-Smirnov distance, observed
    over expected registrations, and two-sided p-values below 0.01 and 0.001: observed and implied
    by the product's own predictive distribution (`implied_small_p`); flags."""
    from scipy import stats

    pit = randomised_pit(tests["p_up"].to_numpy(), tests["p_down"].to_numpy(), rng)
    p_two = np.minimum(1.0, 2 * np.minimum(tests["p_up"], tests["p_down"]))
    flags = tests["direction"].fillna("").astype(str)
    implied = implied_small_p(tests, ALPHAS, rng, draws)
    return {
        "tests": len(tests),
        "deciles": np.histogram(pit, bins=np.linspace(0, 1, 11))[0] / len(pit),
        "ks": float(stats.kstest(pit, "uniform").statistic),
        "ratio": float(tests["observed"].sum() / tests["expected"].sum()),
        **{f"p<{alpha:g}": int((p_two < alpha).sum()) for alpha in ALPHAS},
        **{f"implied p<{alpha:g}": implied[alpha] for alpha in ALPHAS},
        "hoog": int((flags == "hoog").sum()),
        "laag": int((flags == "laag").sum()),
    }


def calibration_rows(tests: pd.DataFrame) -> pd.DataFrame:
    """The tests a calibration check can use: not those of a series without any case in its
    history, which is tested only in a month with one, so its PIT is near 1 by construction."""
    return tests[tests["history"] > 0]


def table(results: dict[str, pd.DataFrame], rng: np.random.Generator) -> str:
    """A Markdown table: per source all tests, then per band of the expected count.

    Per band, because the expected count is an estimate from the history and the other buurten,
    not from the month tested: a calibrated predictive distribution is calibrated within any band
    of it. A band whose registrations run below its expectation (and whose PIT slopes down) shows
    levels that came out high by chance being taken at face value: the level is not shrunk towards
    the other series' levels."""
    head = (
        "| bron | verwacht | toetsen | PIT-decielen (elk 10 %) | KS | geregistreerd / verwacht "
        "| p < 0,01 (model) | p < 0,001 (model) | opvallend hoog / laag per 1 000 |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for name, everything in results.items():
        tests = calibration_rows(everything)
        expected = tests["expected"]
        parts = [(f"alle (zonder {len(everything) - len(tests)} zonder historie)", tests)] + [
            (f"{lo:g}–{hi:g}", tests[(expected >= lo) & (expected < hi)]) for lo, hi in BANDS
        ]
        for band, part in parts:
            if len(part) < 200:
                continue
            s = summary(part, rng)
            deciles = " ".join(f"{100 * d:.0f}" for d in s["deciles"])
            per = 1000 / s["tests"]
            small = " | ".join(f"{s[f'p<{a:g}']} ({s[f'implied p<{a:g}']:.1f})" for a in ALPHAS)
            lines.append(
                f"| {name} | {band} | {s['tests']} | {deciles} | {s['ks']:.3f} | {s['ratio']:.2f} "
                f"| {small} | {s['hoog'] * per:.1f} / {s['laag'] * per:.1f} |"
            )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the Groningen warehouse")
    parser.add_argument("--bron", choices=("groningen", "mik", "beide"), default="beide")
    args = parser.parse_args()
    if not REAL.exists():
        sys.exit(f"{REAL} ontbreekt: dit benchmark leest de echte data naast de checkout.")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        short = {}
        if args.bron in ("groningen", "beide"):
            results["Groningen fietsendiefstal 2014-01 t/m 2017-08 (BVH)"] = groningen_tests(workdir / "groningen")
            short["Groningen fietsendiefstal, start 2013-2016"] = groningen_short_history(workdir / "groningen")
        if args.bron in ("mik", "beide"):
            results["Misdaad in kaart woninginbraak 2024–2026 (PC4)"] = mik_tests()
            results["idem, dubbele regels één keer"] = mik_tests(unique=True)
            short["Misdaad in kaart, regio's als gemeente"] = short_history()
            small = small_gemeenten()
            small_weeks = small_gemeenten_weeks()
    text = (
        "# Maandanalyses op echte registraties: kalibratie\n\n"
        "Gerandomiseerde PIT van elke niet-ontaarde buurttoets onder de voorspellende verdeling van "
        "het product; p-waarden: geteld (volgens het model zelf verwacht).\n\n"
        + table(results, np.random.default_rng(SEED))
    )
    for name, tests in short.items():
        text += f"\n## Gemeenteniveau met 6-13 maanden historie ({name})\n\n" + short_history_table(tests)
    if args.bron in ("mik", "beide"):
        text += (
            "\n## Buurtniveau van kleine gemeenten: een categorie zonder gelijktijdige index "
            "(Misdaad in kaart, PC2-gebieden als gemeente, PC4 als buurt)\n\n"
            + small_gemeenten_table(small, np.random.default_rng(SEED))
            + "\n## Idem per week: de lijst 'opvallend deze week' (PC2-gebieden onder 30 per week)\n\n"
            + small_gemeenten_weeks_table(small_weeks)
        )
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(text)
    print(text)
    print(f"Geschreven: {ARTIFACT}")


if __name__ == "__main__":
    main()
