"""The weekly "opvallend deze week" list (buurtbeeld.weekly) on simulated negative-binomial weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from buurtbeeld import national_profile, notable, weekly
from buurtbeeld.periods import weeks_before

GROUPS = ["A", "B", "C", "D"]
GROUP_SCALE = np.array([3.0, 1.0, 0.4, 0.15])  # weekly mean of a typical buurt: busy to rare categories
LAST = "2026-W47"


def simulate(
    k: float, seed: int, n_buurt: int = 80, n_weeks: int = 40, jump: dict[int, float] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Weekly counts (buurt, group, week) of one gemeente: buurten of lognormal size, a gemeente-wide
    season, negative-binomial weeks (a gamma week effect of shape k per cell). `jump`: group -> factor
    of the true mean in the last week, for every buurt (a gemeente-wide rise)."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 0.8, n_buurt)
    t = np.arange(n_weeks)
    season = 1.0 + 0.3 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 2 * np.pi))
    mu = size[:, None, None] * GROUP_SCALE[None, :, None] * season[None, None, :]
    for g, factor in (jump or {}).items():
        mu[:, g, -1] *= factor
    y = rng.poisson(rng.gamma(k, mu / k))
    return y, mu, [weeks_before(LAST, n_weeks - 1 - i) for i in range(n_weeks)]


def as_frame(y: np.ndarray, weeks: list[str]) -> pd.DataFrame:
    """The long form the dashboard reads: one row per buurt × group × week with a count, plus the
    buurt's all-categories total (group '*'); zeros are not stored."""
    total = y.sum(axis=1, keepdims=True)
    full = np.concatenate([total, y], axis=1)
    b, g, t = np.nonzero(full)
    return pd.DataFrame(
        {
            "period": np.array(weeks)[t],
            "area_code": [f"BU{i:04d}" for i in b],
            "group_code": np.array(["*", *GROUPS])[g],
            "count": full[b, g, t],
        }
    )


def run(y: np.ndarray, weeks: list[str]) -> pd.DataFrame:
    return weekly.notable_week(as_frame(y, weeks), weeks[-1], weekly.history_weeks(weeks, weeks[-1]))


@pytest.mark.parametrize("k", [2.0, 5.0, 20.0])
def test_few_false_flags_under_the_null(k: float) -> None:
    """No rise anywhere: at most 1 flag per 1 000 non-degenerate tests (the issue's target), over
    30 simulated weeks of 80 buurten (some 11 800 tests per k). Measured: 2, 0 and 1 flags, 0.17, 0
    and 0.08 per 1 000 at k = 2, 5, 20 (5, 0 and 2 before the level-mixed tail of December 2026, 1, 0
    and 1 before the level's shrinkage)."""
    flags = tests = 0
    for seed in range(30):
        result = run(*_drop_mu(simulate(k, seed)))
        flags += int((result["rank"] > 0).sum())
        tests += result.attrs["tests"]
    assert tests > 10_000
    assert flags / tests <= 1 / 1000, (flags, tests)


def _drop_mu(sim: tuple[np.ndarray, np.ndarray, list[str]]) -> tuple[np.ndarray, list[str]]:
    y, _, weeks = sim
    return y, weeks


@pytest.mark.parametrize("k", [2.0, 5.0, 20.0])
def test_a_large_rise_in_one_buurt_is_found_and_ranked_first(k: float) -> None:
    """A rise that the oracle (true mean, true k) would put at 1 in 10 million, planted in a busy
    buurt's category A, heads the list in each of 5 simulated weeks."""
    for seed in range(200, 205):
        y, mu, weeks = simulate(k, seed)
        buurt = int(np.argsort(mu[:, 0, -1])[-5])  # the fifth busiest: not the one that sets the scale
        true_mu = mu[buurt, 0, -1]
        candidates = np.arange(1, 2000)
        planted = int(candidates[np.argmax(notable.upper_tail(candidates, true_mu, 1 / k) < 1e-7)])
        y[buurt, 0, -1] = planted
        listed = weekly.notable_only(run(y, weeks))
        assert len(listed), (seed, planted, true_mu)
        first = listed.iloc[0]
        assert first["area_code"] == f"BU{buurt:04d}", listed.head()
        assert first["direction"] == "hoog"
        cell = listed[(listed["area_code"] == f"BU{buurt:04d}") & (listed["group_code"] == "A")]
        assert len(cell) == 1 and cell["observed"].iloc[0] == planted


def test_a_gemeente_wide_rise_alone_flags_no_buurt() -> None:
    """Every buurt 1.8 times its usual category A in the tested week (a seasonal peak the history has
    not seen): the gemeente's index lifts every expectation, so the rise is no buurt's finding."""
    flags, observed, recent = 0, 0.0, 0.0
    for seed in range(300, 310):
        y, _, weeks = simulate(5.0, seed, jump={0: 1.8})
        result = run(y, weeks)
        flags += int((result["rank"] > 0).sum())
        a = result[result["group_code"] == "A"]
        # The expectations carry the rise: together they are the week's count, not the recent level.
        assert a["expected"].sum() == pytest.approx(a["observed"].sum(), rel=0.15)
        observed, recent = observed + a["observed"].sum(), recent + y[:, 0, -27:-1].mean(axis=1).sum()
    assert observed > 1.4 * recent  # a check on the check: the rise is there, in the counts
    assert flags <= 1


def test_the_family_holds_only_cells_with_registrations() -> None:
    """A category a buurt never had, this week nor before, is not a test; nothing pads the family."""
    y, _, weeks = simulate(5.0, 7)
    y[:, 3, :] = 0  # category D never registered anywhere
    y[:10, 2, :] = 0  # category C never in the first ten buurten
    frame = as_frame(y, weeks)
    result = weekly.notable_week(frame, weeks[-1], weekly.history_weeks(weeks, weeks[-1]))
    tested_weeks = [*weekly.history_weeks(weeks, weeks[-1]), weeks[-1]]
    expected_tests = frame[frame["period"].isin(tested_weeks)].groupby(["area_code", "group_code"]).ngroups
    assert result.attrs["tests"] == len(result) == expected_tests
    assert "D" not in set(result["group_code"])
    assert not ((result["group_code"] == "C") & result["area_code"].isin([f"BU{i:04d}" for i in range(10)])).any()


def test_the_minimum_count_and_the_ranking_by_excess() -> None:
    """Four registrations where there were none before is very unlikely but below the minimum of 5; two real
    rises are ranked by their excess, not by their p-value."""
    y, mu, weeks = simulate(20.0, 11)
    quiet = int(np.argmin(mu[:, 3, -1]))
    y[quiet, 3, :] = 0
    y[quiet, 3, -1] = 4
    busy = np.argsort(mu[:, 0, -1])
    small, large = int(busy[-20]), int(busy[-2])
    y[small, 1, -1] = int(mu[small, 1, -1] * 8) + 12  # a small base, a huge ratio
    y[large, 0, -1] = int(mu[large, 0, -1] * 4) + 10  # a larger base, a larger excess
    result = run(y, weeks)
    listed = weekly.notable_only(result)
    rare = result[(result["area_code"] == f"BU{quiet:04d}") & (result["group_code"] == "D")]
    assert rare["direction"].iloc[0] == "" and rare["p"].iloc[0] < 1e-3
    assert list(listed["rank"]) == list(range(1, len(listed) + 1))
    assert (listed["excess"].abs().diff().dropna() <= 0).all()
    by_cell = listed.set_index(["area_code", "group_code"])
    large_cell, small_cell = by_cell.loc[(f"BU{large:04d}", "A")], by_cell.loc[(f"BU{small:04d}", "B")]
    assert small_cell["p"] < large_cell["p"]  # the small base is the stronger evidence ...
    assert large_cell["rank"] < small_cell["rank"]  # ... but the larger difference comes first


def test_history_weeks_leave_out_the_week_provisional_and_missing_weeks() -> None:
    published = [weeks_before(LAST, i) for i in range(40, -1, -1)]
    provisional = [LAST, weeks_before(LAST, 1)]
    missing = [weeks_before(LAST, 5)]
    history = weekly.history_weeks(published, LAST, [*provisional, *missing], n=26)
    assert len(history) == 26 and history == sorted(history)
    assert not {LAST, *provisional, *missing} & set(history)
    assert history[-1] == weeks_before(LAST, 2)
    # An earlier week tested: only weeks before it.
    assert max(weekly.history_weeks(published, weeks_before(LAST, 10))) == weeks_before(LAST, 11)


def test_too_little_history_gives_no_tests() -> None:
    y, _, weeks = simulate(5.0, 1, n_weeks=6)
    result = run(y, weeks)
    assert result.empty and result.attrs["tests"] == 0
    assert list(result.columns) == weekly.COLUMNS


def test_evidence_text() -> None:
    assert weekly.evidence_text(1 / 2345) == "kans 1 op 2.300"
    assert weekly.evidence_text(0.0004) == "kans 1 op 2.500"
    assert weekly.evidence_text(1 / 45) == "kans 1 op 45"
    assert weekly.evidence_text(1e-9) == "kans kleiner dan 1 op 100.000"


@pytest.mark.parametrize("k", [5.0, 20.0])
def test_the_week_level_dispersion_is_estimated_without_bias(k: float) -> None:
    """The weekly profile is fitted on the same buurten whose weeks estimate 1/k; estimated on draws
    that get the same fit, every category's 1/k is within 15 % of the truth on average (until
    December 2026, without that fit in the draws: 0.16 at k = 5 and 0.042-0.047 at k = 20)."""
    estimates: dict[str, list[float]] = {g: [] for g in GROUPS}
    for seed in range(600, 620):
        y, _, weeks = simulate(k, seed)
        hist = [weeks.index(w) for w in weekly.history_weeks(weeks, weeks[-1])]
        group = np.tile(np.array(GROUPS), y.shape[0])
        _, inv = weekly._first_pass(
            y[:, :, hist].reshape(len(group), len(hist)).astype(float), group, weekly.WEEK.as_method()
        )
        for g in GROUPS:
            estimates[g].append(float(inv[group == g][0]))
    for g, values in estimates.items():
        assert np.mean(values) == pytest.approx(1 / k, rel=0.15), (g, np.mean(values))


@pytest.mark.parametrize("k", [5.0, 20.0])
def test_recall_close_to_the_oracle_and_few_false_discoveries(k: float) -> None:
    """Eight rises of ×2.5-4 a week in cells with 3 or more expected, over 60 simulated weeks: the list
    finds at least 0.9 of what an oracle finds that knows everything but the level (the true k and
    season, the level estimated from the same 26 history weeks, the exact predictive tail, BH and
    minimum), and few of its flags are false. The full oracle (true means) sees more: no method that
    has to estimate the level can match it, and a list that did (recall 0.11 against 0.12 at k = 5
    until December 2026) paid with a far tail several times too light. Measured: 58 and 236 found
    (that oracle 54 and 262, the full oracle 79 and 277), 6 and 7 false flags, at k = 5 and 20 (59
    and 238, 5 and 7 with the gamma prior of the level's shrinkage until 6 December 2026); the
    list finds more than that oracle at k = 5, where it must estimate 1/k (at k 5 its mean estimate
    is 0.19) and the oracle's level rests on few cases.

    Until December 2026 the week's index counted every buurt, and the eight rises lifted it, and every
    expectation, by about 10 %: the list found 43 and 207 (0.80 and 0.79 of that oracle), and this
    test asked for 0.8 only (seeds 400-419: 12 and 72 of 12 and 89). With the far tails left out of
    the index where more buurten lie there than the model allows (`notable.seasons._trim_bounds`) 59
    and 238. Before that again the list found 14 and 84 of seeds 400-419 on a 1/k that its profile's
    fit had biased low (0.16 at k = 5, truth 0.2), which made its far tail 1.6 times too heavy at k = 5."""
    found = oracle_found = estimating_found = planted_total = flags = false = 0
    for seed in range(400, 460):
        y, mu, weeks = simulate(k, seed)
        rng = np.random.default_rng(seed)
        cells = [(b, g) for b in range(y.shape[0]) for g in range(len(GROUPS)) if mu[b, g, -1] >= 3]
        planted = set()
        for i in rng.choice(len(cells), size=min(8, len(cells)), replace=False):
            b, g = cells[i]
            y[b, g, -1] = rng.poisson(mu[b, g, -1] * rng.uniform(2.5, 4.0))
            planted.add((f"BU{b:04d}", GROUPS[g]))
        result = run(y, weeks)
        cells_tested = result[result["group_code"] != "*"]  # the oracle knows the groups' means
        flagged = {
            (a, g) for a, g, d in cells_tested[["area_code", "group_code", "direction"]].itertuples(index=False) if d
        }
        b = cells_tested["area_code"].str[2:].astype(int).to_numpy()
        g = cells_tested["group_code"].map({name: i for i, name in enumerate(GROUPS)}).to_numpy()
        truth, obs = mu[b, g, -1], cells_tested["observed"].to_numpy()
        p = np.minimum(1, 2 * np.minimum(notable.upper_tail(obs, truth, 1 / k), notable.lower_tail(obs, truth, 1 / k)))
        hit = (notable.benjamini_hochberg(p) <= 0.10) & (obs > truth) & (obs >= 5)
        oracle = set(zip(cells_tested["area_code"][hit], cells_tested["group_code"][hit], strict=True))
        # The oracle without the level: S cases in the n history weeks, scaled by the true season
        # (level_mixed_tails is checked against scipy's closed form in tests/test_notable.py).
        hist = [weeks.index(w) for w in weekly.history_weeks(weeks, weeks[-1])]
        cases = y[b, g][:, hist].sum(axis=1) + 0.5
        level = truth * cases / mu[b, g][:, hist].sum(axis=1)
        n = np.full(len(obs), 1.0)
        up, down = notable.level_mixed_tails(obs, level, n / k, cases, n * len(hist) * k)
        hit = (notable.benjamini_hochberg(np.minimum(1, 2 * np.minimum(up, down))) <= 0.10) & (obs > level) & (obs >= 5)
        estimating = set(zip(cells_tested["area_code"][hit], cells_tested["group_code"][hit], strict=True))
        planted_total += len(planted)
        found, oracle_found = found + len(planted & flagged), oracle_found + len(planted & oracle)
        estimating_found += len(planted & estimating)
        flags, false = flags + len(flagged), false + len(flagged - planted)
    assert estimating_found <= oracle_found  # knowing less finds less: the comparison is not rigged
    assert found >= 0.9 * estimating_found - 2, (found, estimating_found, oracle_found, planted_total)
    if k >= 20:
        assert oracle_found >= 0.3 * planted_total  # a setting where recall means something
    assert false <= 0.15 * flags + 1, (false, flags)


def _burglary_weeks(seed: int, n_buurt: int = 60, per_week: float = 10.0) -> tuple[np.ndarray, list[str]]:
    """(buurt, week) true weekly means of a small burglary category (`per_week` in the gemeente on
    average: too few for the gemeente's index) over 80 weeks ending in week 52 of 2025, drawn on the
    national profile's weekly factors."""
    rng = np.random.default_rng(seed)
    weeks = [weeks_before("2025-W52", 79 - i) for i in range(80)]
    season = national_profile.factors_for(np.array(["woninginbraak"]), weeks)[0]
    size = rng.lognormal(0.0, 0.8, n_buurt)
    return per_week * (size / size.sum())[:, None] * season[None, :], weeks


def _burglary_frame(y: np.ndarray, weeks: list[str]) -> pd.DataFrame:
    b, t = np.nonzero(y)
    return pd.DataFrame(
        {
            "period": np.array(weeks)[t],
            "area_code": [f"BU{i:04d}" for i in b],
            "group_code": "woninginbraak",
            "count": y[b, t],
        }
    )


def test_a_small_category_is_read_on_the_national_season() -> None:
    """A burglary category of some 10 cases a week in the gemeente's 60 buurten, drawn on the national
    profile (its weeks from December's 1.42 to June's 0.78): every week of the last 52 is tested on
    its 26 weeks before. The list's expected count summed over the buurten follows the season: the
    root mean square of log(Σ expected / Σ true mean) is under 0.12, where a list without the
    profile (as until December 2026: no index below 30 cases a week) errs by the season itself (its
    worst week more than 0.25 off). Measured: 0.057 against 0.252 (the worst week 0.22 against 0.44)."""
    errors: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(3):
        mu, weeks = _burglary_weeks(seed)
        y = np.random.default_rng(seed + 10).poisson(mu)
        counts = _burglary_frame(y, weeks)
        for t in range(28, 80):
            history = weekly.history_weeks(weeks[:t], weeks[t])
            for with_profile in (True, False):
                out = weekly.notable_week(
                    counts,
                    weeks[t],
                    history,
                    national=national_profile.factors_for if with_profile else None,
                )
                expected = out.loc[out["group_code"] == "woninginbraak", "expected"].sum()
                tested = out.loc[out["group_code"] == "woninginbraak", "area_code"].str[2:].astype(int)
                errors[with_profile].append(float(np.log(expected / mu[tested.to_numpy(), t].sum())))
    on, off = (np.array(errors[w]) for w in (True, False))
    rms = {w: float(np.sqrt(np.mean(e**2))) for w, e in ((True, on), (False, off))}
    assert rms[True] < 0.12, rms
    assert np.abs(off).max() > 0.25 and rms[False] > 2 * rms[True], rms
