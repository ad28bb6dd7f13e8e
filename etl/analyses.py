"""Monthly analyses per buurt, wijk, stadsdeel and gemeente: compute, describe, store.

`analyse` is a pure transform (published month cells + areas + population → documents); `generate`
does the I/O around it. Re-running a month replaces its analyses; a later load that revises the month
regenerates it and flags the earlier version as superseded (see warehouse.analyses.store).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from buurtbeeld import disclosure, narrative, national_profile, notable
from buurtbeeld.indicator_totals import combined
from buurtbeeld.periods import month_of_week, period_start, week_label, weeks_of_month
from buurtbeeld.progress import Progress, unchanged
from buurtbeeld.settings import Settings
from etl.errors import LoadError
from warehouse import analyses as store
from warehouse import deliveries, published, queries
from warehouse.db import get_engine

log = logging.getLogger(__name__)

ALL = "*"
HISTORY_MONTHS = 12 * 5 + 1  # Farrington: five years back, plus the window month
TREND_MONTHS = 24
LEVEL_ORDER = {"gemeente": 0, "stadsdeel": 1, "wijk": 2, "buurt": 3}
CONTEXT_INDICATORS = 4


@dataclass
class Inputs:
    """Everything `analyse` needs of one gemeente, read by `read_inputs`."""

    gemeente: str
    month: str
    cells: pd.DataFrame  # period, area_level, area_code, group_code, count, shared_count, status
    areas: pd.DataFrame  # area_level, area_code, name, wijk, stadsdeel
    groups: dict[str, str]  # group_code -> label
    population: pd.DataFrame  # area_code, year, inwoners (buurten and any area CBS publishes)
    indicators: pd.DataFrame  # area_code, indicator, label, unit, value (latest)
    provisional: list[str]  # ISO week labels of the month that are provisional
    threshold: int


@dataclass
class Generated:
    gemeente: str
    month: str
    scope: str
    analyses: int
    notable: int
    provisional: list[str]

    @property
    def line(self) -> str:
        prov = f"; voorlopig: {narrative.weeks_phrase(self.provisional)}" if self.provisional else ""
        return f"{self.gemeente} {self.month}: {self.analyses} analyses ({self.scope}), {self.notable} opvallend{prov}"


def month_range(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _population(inputs: Inputs, keys: pd.DataFrame, months: list[str]) -> np.ndarray:
    """(series, months) population per series and month: the buurt's figure of that year (nearest year
    with one), summed over buurten for wijk, stadsdeel and gemeente. NaN where nothing is known."""
    pop = inputs.population
    a = inputs.areas
    buurten = a[a["area_level"] == "buurt"]
    years = sorted({int(m[:4]) for m in months})
    if pop.empty:
        return np.full((len(keys), len(months)), np.nan)
    wide = pop.pivot_table(index="area_code", columns="year", values="inwoners", aggfunc="max")
    known = np.array(sorted(wide.columns), dtype=float)
    nearest = {y: known[np.abs(known - y).argmin()] for y in years}
    per_year = pd.DataFrame({y: wide[nearest[y]] for y in years})
    b = per_year.reindex(buurten["area_code"]).set_axis(buurten.index)
    sums = {
        "buurt": per_year.reindex(buurten["area_code"]).set_axis(buurten["area_code"].to_numpy()),
        "wijk": b.groupby(buurten["wijk"]).sum(min_count=1),
        "stadsdeel": b.groupby(buurten["stadsdeel"]).sum(min_count=1) if buurten["stadsdeel"].notna().any() else None,
        "gemeente": pd.DataFrame([b.sum(min_count=1)], index=[inputs.gemeente]),
    }
    by_area = pd.concat([f.assign(area_level=lvl) for lvl, f in sums.items() if f is not None])
    by_area = by_area.rename_axis("area_code").reset_index().drop_duplicates(["area_level", "area_code"])
    area_pop = keys[["area_level", "area_code"]].merge(by_area, on=["area_level", "area_code"], how="left")
    return area_pop[[int(m[:4]) for m in months]].to_numpy(dtype=float)


def exposure(inputs: Inputs, keys: pd.DataFrame, months: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Population per series and month, and the exposure the counts are proportional to: population ×
    ISO weeks in the month (a month has four or five; ignoring that alone makes every fifth month
    look 25 % high). A month without a figure (a buurt new or gone that year) takes the series'
    nearest month with one; a series without any uses weeks only. Per month, not per series over the
    window: the window moves a month at a time, and the months of the history must keep their
    exposure (the level-shift state of the previous month is re-computed from it)."""
    pop = _population(inputs, keys, months)
    weeks = np.array([len(weeks_of_month(m)) for m in months], dtype=float)
    known = pd.DataFrame(np.where(pop > 0, pop, np.nan)).ffill(axis=1).bfill(axis=1).to_numpy()
    return pop, np.where(np.isfinite(known), known, 1.0) * weeks[None, :]


def analyse(inputs: Inputs, method: notable.Method = notable.DEFAULT) -> list[dict[str, Any]]:
    """Documents (one per area) for the month: statistics of every area × category, then text."""
    frame, areas, trend_months, trend_values, trend_status, shared = assess_month(inputs, method)
    return _documents(inputs, areas, frame, shared, trend_months, trend_values, trend_status)


def assess_month(
    inputs: Inputs, method: notable.Method = notable.DEFAULT
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], np.ndarray, np.ndarray, pd.DataFrame]:
    """The statistics of every area × category of the month (one row each: observed, status,
    expected, direction, excess, q, kind, rate, label), the areas, the 24-month total series, and the
    same statistics as the gedeeld texts read them (`shared_statistics`)."""
    month = inputs.month
    cells = inputs.cells
    first = min(cells["period"]) if not cells.empty else month
    months = month_range(max(first, month_range(first, month)[-HISTORY_MONTHS:][0]), month)
    areas = inputs.areas[inputs.areas["area_code"] != published.UNKNOWN]
    groups = [ALL, *sorted(g for g in inputs.groups if g != published.UNKNOWN)]
    keys = pd.MultiIndex.from_product([range(len(areas)), groups], names=["area_row", "group_code"]).to_frame(
        index=False
    )
    keys = keys.assign(
        area_level=areas["area_level"].to_numpy()[keys["area_row"]],
        area_code=areas["area_code"].to_numpy()[keys["area_row"]],
    )
    index = ["area_level", "area_code", "group_code"]
    counts = (
        cells.pivot_table(index=index, columns="period", values="count", aggfunc="sum")
        .reindex(columns=months)
        .fillna(0.0)
    )
    dense = keys[index].merge(counts.reset_index(), on=index, how="left")[months].fillna(0.0).to_numpy()
    # What the documents' readers see: the shared figure (0 where no cell is stored, NaN where hidden).
    wide = cells.set_index([*index, "period"])  # one row per cell: mk '*' only
    shared = wide["shared_count"].where(disclosure.visible(wide["status"])).unstack("period").reindex(columns=months)
    present = wide["count"].unstack("period").reindex(columns=months)
    seen = keys[index].merge(shared.reset_index(), on=index, how="left")[months].to_numpy(dtype=float)
    stored = keys[index].merge(present.reset_index(), on=index, how="left")[months].notna().to_numpy()
    seen = np.where(stored, seen, 0.0)
    status_now = (
        keys[index]
        .merge(cells[cells["period"] == month][[*index, "status"]], on=index, how="left")["status"]
        .fillna(disclosure.SHOWN)
        .astype(int)
        .to_numpy()
    )
    # A cell outside the shared design (a buurt's categories) reads 'x' whatever its count, zeros
    # included: a category without a stored cell read 0 beside the others' 'x', so every 'x' was at
    # least 1 (an independent review found buurten whose hidden categories were all exactly 1).
    offered = disclosure.shared_cell(
        np.full(len(keys), "month"),
        keys["area_level"].to_numpy(),
        keys["group_code"].to_numpy(),
        np.full(len(keys), "*"),
    )
    status_now = np.where(offered, status_now, disclosure.SECONDARY)
    seen[~offered, -1] = np.nan

    pop, offset = exposure(inputs, keys, months)
    # The series whose exposure is on the common scale: with a population figure, or every series
    # where no buurt has one (then the weeks alone are everyone's exposure).
    counted = (pop > 0).any(axis=1)
    counted_rows = counted if counted.any() else None
    national = national_profile.factors_for(keys["group_code"].to_numpy(), months)
    result = month_statistics(dense, offset, keys, groups, method, counted=counted_rows, national=national)
    low, high = _boxes(seen[:, -1], status_now, inputs.threshold)
    shared = shared_statistics(
        seen, (low, high), offset, keys, offered, inputs.threshold, method, counted_rows, national
    )

    common = {
        "shown": seen[:, -1],
        "status": status_now,
        # What the recent level rests on (the texts say it: "de afgelopen 8 maanden").
        "level_months": min(len(months) - 1, method.short_months),
        "rate": disclosure.masked_rate(pd.Series(seen[:, -1]), pd.Series(status_now), pd.Series(pop[:, -1])).to_numpy(),
        # The rate of one case: a shared 0 (0 to threshold - 1) is a rate below threshold × this.
        "rate_unit": 1000.0 / disclosure.rate_base(pop[:, -1]),
        "label": keys["group_code"].map(lambda g: "Alle categorieën" if g == ALL else inputs.groups.get(g, g)),
    }
    frame = _tests_frame(keys, result, months, common)
    # No expected count beside a figure that is hidden or not offered (a buurt's categories): it
    # would rest on counts no reader has (an attacker found 230 beside 'x' in the demo's buurten).
    judged = np.isfinite(low)
    shared_frame = _tests_frame(keys, shared, months, common).assign(
        expected=np.where(judged, shared.expected, np.nan), kind=np.where(judged, shared.kind, "geen")
    )
    trend_months = months[-TREND_MONTHS:]
    totals = frame[frame["group_code"] == ALL]
    trend_values = seen[(keys["group_code"] == ALL).to_numpy(), -len(trend_months) :]
    trend_status = _status_matrix(cells, totals, trend_months)
    return frame, areas, trend_months, trend_values, trend_status, shared_frame


def _tests_frame(
    keys: pd.DataFrame, result: notable.Assessment, months: list[str], common: dict[str, Any]
) -> pd.DataFrame:
    """One row per area × category: what the texts read of an assessment."""
    return keys.assign(
        observed=result.observed,
        shown=common["shown"],
        status=common["status"],
        expected=result.expected,
        direction=result.direction,
        excess=result.excess,
        q=result.q,
        kind=result.kind,
        level_months=common["level_months"],
        tested=result.tested,
        shift=np.where(result.shift > 0, "hoger", np.where(result.shift < 0, "lager", "")),
        since=[months[i] if i >= 0 else "" for i in result.since],
        shift_new=result.shift_new,
        shift_ended=np.where(result.shift_ended > 0, "hoger", np.where(result.shift_ended < 0, "lager", "")),
        ended_since=[months[i] if i >= 0 else "" for i in result.ended_since],
        shift_resumed=result.shift_resumed,
        rate=common["rate"],
        rate_unit=common["rate_unit"],
        label=common["label"],
    )


# Levels whose series are parts of the gemeente: they get the gemeente's seasonal profile, the concurrent
# seasonal index and level-shift detection. For the gemeente (and a stadsdeel, a large part of it) the
# gemeente's own series would explain itself away.
LOCAL_LEVELS = ("buurt", "wijk")


PROFILE_MONTHS = 24  # the months the gemeente's profile is needed for: the recent level and level shifts


def _first_pass(
    dense: np.ndarray,
    offset: np.ndarray,
    level: np.ndarray,
    group: np.ndarray,
    method: notable.Method,
    only: np.ndarray | None = None,
    rounded: int | None = None,
    national: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The profile and the month-level 1/k (per area level × category; `only` the series whose
    category is needed) of the month after the history `dense[:, :-1]`. The profile: for buurten and
    wijken the gemeente's robust factor of each category and month over its finest local series
    (`_index_rows`; 1 elsewhere), scaled to a mean of 1 over the recent level's window. The 1/k: from
    a first baseline with every reference month kept, whose residuals estimate the dispersion
    (`rounded`: `dense` holds figures rounded to that base, see notable.dispersion). `national`:
    (rows, factors) of the series read on the national profile instead (`_national`)."""
    h = dense.shape[1] - 1
    local = np.isin(level, LOCAL_LEVELS)
    profile = np.ones((len(level), h))
    span = min(h, PROFILE_MONTHS)
    if span:
        window = slice(h - span, h)
        # Not fitted where the national profile takes over (in a small gemeente most categories):
        # the fit is the costliest step of the analyses.
        fit_on = _index_rows(level, group)
        if national is not None:
            fit_on = fit_on & ~national[0]
        profile[:, window] = notable.gemeente_profile(dense[:, window], offset[:, window], group, fit_on, rounded)
        profile[~local] = 1.0
        if national is not None:
            rows, factors = national
            profile[rows] = factors[rows, :h]
        recent = profile[:, h - min(h, method.short_months) :].mean(axis=1, keepdims=True)
        profile = np.where(recent > 0, profile / recent, 1.0)
    first = notable.baseline(dense[:, :-1], offset, None, method, profile, reweight=False, same_month=~local)
    # The dispersion's draws get the profile's fit only where the data's profile was fitted on these
    # series: the national profile took no spread from them, so their draws keep all of theirs.
    fitted = local if national is None else local & ~national[0]
    return profile, notable.dispersion(first, level, group, method, only=only, profiled=fitted, rounded=rounded)


def _index_rows(level: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The series a category's profile and concurrent season are taken over: its buurten, or where a
    category has none among the series, its wijken (the gedeeld statistics, which read no buurt's
    categories)."""
    rows = level == "buurt"
    for g in np.unique(group[level == "wijk"]):
        if not (rows & (group == g)).any():
            rows = rows | ((level == "wijk") & (group == g))
    return rows


def _earlier_passes(
    dense: np.ndarray,
    offset: np.ndarray,
    level: np.ndarray,
    group: np.ndarray,
    method: notable.Method,
    rounded: int | None = None,
    national: np.ndarray | None = None,
    keys: pd.DataFrame | None = None,
) -> list[tuple[np.ndarray, np.ndarray] | None] | None:
    """The profile and 1/k of the analyses two and one month before (None where the history was too
    short for a level shift then): what `_previous_shifts` re-computes their states with, the
    buurten's and wijken's categories read on the national profile as those analyses read them."""
    h = dense.shape[1] - 1
    need = method.shift_before + method.shift_after
    if h - 1 < need:
        return None
    local = np.isin(level, LOCAL_LEVELS)

    def at(end: int) -> tuple[np.ndarray, np.ndarray]:
        on = (
            None
            if national is None or keys is None
            else _national(
                national[:, :end], dense[:, :end], keys, _seasonless(dense[:, :end], level, group, method), method
            )
        )
        return _first_pass(dense[:, :end], offset[:, :end], level, group, method, local, rounded, on)

    return [at(-2) if h - 2 >= need else None, at(-1)]


def _previous_shifts(
    dense: np.ndarray,
    offset: np.ndarray,
    rows: np.ndarray,
    passes: list[tuple[np.ndarray, np.ndarray] | None],
    method: notable.Method,
) -> notable.ShiftState:
    """The level-shift state of the previous month's analysis (of `rows`: buurten and wijken),
    re-computed with that month's own profile and 1/k (`_earlier_passes`), adopting what the month
    before it found: exactly what that analysis found and compared with, given the same counts and
    population figures."""
    h = dense.shape[1] - 1
    n = len(dense)
    adopt, earlier = None, np.zeros(n)
    if passes[0] is not None:
        profile, inv = passes[0]
        two = notable.shift_before(
            dense[rows, : h - 2], offset[rows, : h - 1], profile[rows], inv[rows], method, observed=dense[rows, h - 2]
        )
        adopt = (two.found, two.found_since)
        earlier[rows] = two.sign
    profile, inv = passes[1]
    said = None if adopt is None else earlier[rows]
    one = notable.shift_before(
        dense[rows, : h - 1], offset[rows, :h], profile[rows], inv[rows], method, adopt, dense[rows, h - 1], said
    )
    full = {
        name: np.zeros(n) if name in ("sign", "found") else np.full(n, -1 if "since" in name else np.nan)
        for name in ("sign", "since", "found", "found_since", "rate_after", "cases_after")
    }
    for name, values in full.items():
        values[rows] = getattr(one, name)
    return notable.ShiftState(new=np.zeros(n, dtype=bool), earlier=earlier, **full)


def month_statistics(
    dense: np.ndarray,
    offset: np.ndarray,
    keys: pd.DataFrame,
    groups: list[str],
    method: notable.Method,
    counted: np.ndarray | None = None,
    *,
    figures: SharedFigures | None = None,
    national: np.ndarray | None = None,
) -> notable.Assessment:
    """Baselines and tests of every series ((series, months) counts, the target month last).

    Two passes: the first (every reference month kept) gives the residuals the month-level
    dispersion is estimated from, per area level × category; the second uses it for the outbreak
    weights and the estimation variance. Buurten and wijken: the level of the last 12 months (on the
    gemeente's monthly profile) times the rest of the gemeente in the same month, at every history
    length (no earlier year needed). Stadsdelen and the gemeente: Farrington from three years, before
    that the last 12 months times last year's gemeente season (from 13 months of history; before
    that none, and the texts say so).

    Level shifts (buurten and wijken) carry over from the previous month's analysis, re-computed with
    its own profile and 1/k (`_previous_shifts`): what it found holds while the data bear it out, and
    a shift is news when it compared with none that way (nor the analysis before it, as far as
    re-computed: a shift dropped for one month and found again is not said twice). Re-tested with
    this month's 1/k instead, a tail near the threshold crossed it between two months (the estimate
    moves 10-30 % a month), and the benchmark's doubling was announced twice, or never.

    `counted` (per series; default all) marks the series whose `offset` is on the common scale
    (population × weeks): only their levels are shrunk towards each other (notable.shrunk). A buurt
    without inhabitants has weeks only as its exposure, a rate thousands of times the others', and
    a prior from theirs would take its level to nothing.

    `figures`: `dense` holds published figures, not counts (`shared_statistics`).

    `national`: (series, months) factors of the national seasonal profile of each series' category
    (buurtbeeld.national_profile; NaN where it has none): the season of the gemeente's and stadsdelen's
    series where last year's month cannot give one, and of the buurten's and wijken's where their
    category is too small for a concurrent index (`_seasonless`, `_national`)."""
    level = keys["area_level"].to_numpy()
    group = keys["group_code"].to_numpy()
    local = np.isin(level, LOCAL_LEVELS)
    detect = local if figures is None else figures.detect
    rounded = None if figures is None else figures.rounded
    gm_rows = level == "gemeente"
    last_year = np.full(len(keys), np.nan)
    for g in groups:
        at_gm = gm_rows & (group == g)
        last_year[group == g] = notable.seasonal_index(dense[at_gm, :-1].sum(axis=0), method)
    seasonless = _seasonless(dense, level, group, method)
    without = (~local & np.isnan(last_year)) | seasonless
    on_national = _national(national, dense, keys, without, method)
    profile, inv = _first_pass(dense, offset, level, group, method, rounded=rounded, national=on_national)
    index_rows = _index_rows(level, group)
    # Last year's month from the category's buurten, each with its outbreak months capped as a level
    # caps them: the gemeente's total took a buurt's outbreak in full.
    for g in groups:
        at = (group == g) & np.isfinite(last_year)
        if at.any():
            rows = index_rows & (group == g)
            robust = notable.parts_seasonal_index(dense[rows, :-1], inv[rows], method)
            last_year[at] = robust if np.isfinite(robust) else last_year[at]
    passes = _earlier_passes(dense, offset, level, group, method, rounded, national, keys) if detect.any() else None
    history_inv = inv
    if figures is not None:
        # The history's rounding is variance the counts' 1/k does not hold (at 2 a month, twice a
        # count's own): as extra 1/k at the series' recent level it widens the level's uncertainty.
        # Not the month's own: its rounding is the box the test is taken on (notable.assess), and
        # added there too it halved the simulated rises found at 1-15 a month.
        history_inv = inv + figures.extra_inv
        if passes is not None:
            passes = [None if p is None else (p[0], p[1] + figures.extra_inv) for p in passes]
    previous = None if passes is None else _previous_shifts(dense, offset, np.flatnonzero(detect), passes, method)
    base = notable.baseline(
        dense[:, :-1],
        offset,
        None,
        method,
        profile,
        inv_k=history_inv,
        detect_shift=detect,
        same_month=~local,
        previous_shift=previous,
        observed=dense[:, -1],
    )
    base = notable.shrunk(base, level, group, local if counted is None else local & counted)
    # Which categories have a concurrent index is decided on the history (`_seasonless`), not again on
    # the month's expected cases: a category of 30-33 a month fell below 30 in every 4-week month and
    # went without any correction there (1 380 of the demo's buurt rows, of two categories).
    concurrent, concurrent_var = notable.concurrent_season(
        dense[:, -1], base.unseasoned, inv, group, index_rows & ~seasonless, method, rounded, minimum=0.0
    )
    concurrent, concurrent_var, label = _with_last_year(
        concurrent, concurrent_var, dense, offset, profile, history_inv, level, group, index_rows
    )
    season = np.where(local, concurrent, np.nan_to_num(last_year, nan=1.0))
    # 'recent' (no correction) only where none was made: an index or last year's month that came
    # out at exactly 1 is still a correction (the demo's zakkenrollerij of August 2025 read
    # "zonder seizoenscorrectie" beside last year's month). A concurrent index that was made has a
    # variance; one without enough cases is 1 with none.
    made = np.where(local, concurrent_var > 0, np.isfinite(last_year))
    label = np.where(made, label, "recent").astype(object)
    season_var = np.where(local, concurrent_var, 0.0)
    if on_national is not None:
        rows, factors = on_national
        season[rows], season_var[rows], label[rows] = factors[rows, -1], 0.0, "recent_landelijk"
    base = notable.seasoned(base, season, season_var, label)
    box = None if figures is None else figures.box
    return notable.assess(dense[:, -1], base, group, method, level=level, inv_k=inv, box=box)


def _seasonless(dense: np.ndarray, level: np.ndarray, group: np.ndarray, method: notable.Method) -> np.ndarray:
    """The buurten's and wijken's series whose category is too small in the gemeente for a concurrent
    index (notable.too_small over the series the index is over, `_index_rows`), decided on the
    history. They are read on the national profile where their category has one (`_national`).

    Why: in the demo's gemeente of 60 buurten 13 of the 19 categories had no index, and their
    buurten and wijken read "zonder seizoenscorrectie" in every month, December burglaries included.
    The gemeente's own profile of such a category rests on a few cases a month (sd of a month's
    factor 0.18 and more at 30); the national one does not, and a profile read from the same counts
    it corrects would hide their scatter from the 1/k."""
    local = np.isin(level, LOCAL_LEVELS)
    return local & notable.too_small(dense[:, :-1], group, _index_rows(level, group), method)


def _national(
    national: np.ndarray | None, dense: np.ndarray, keys: pd.DataFrame, without: np.ndarray, method: notable.Method
) -> tuple[np.ndarray, np.ndarray] | None:
    """The series read on the national profile (`without` a season of their own, with a profile) and
    their factors (national_profile.read_on_profile; a buurt total offered without its categories
    takes the gemeente's mix).

    Why: a gemeente's own series cannot be read on the gemeente's season, and with less than 14
    months it has no last year; its summer bicycle thefts then read as twice the expected."""
    if national is None:
        return None
    area = keys["area_level"].astype(str).to_numpy() + ":" + keys["area_code"].astype(str).to_numpy()
    pool = keys["area_level"].to_numpy() == "gemeente"
    # The same window as `_first_pass` scales the gemeente's profile over, so that it leaves these
    # as they are and the target month's factor stays on the level's scale.
    return national_profile.read_on_profile(
        national, dense, keys["group_code"].to_numpy(), area, without, method.short_months, pool, ALL
    )


@dataclass(frozen=True)
class SharedFigures:
    """What `month_statistics` needs to know when its counts are the gedeeld audience's figures."""

    box: tuple[np.ndarray, np.ndarray]  # per series, what the target month's figure says of its count
    detect: np.ndarray  # the series a level shift is looked for in
    extra_inv: np.ndarray  # the rounding's variance, as 1/k at each series' recent level
    rounded: int  # the base the figures are rounded to (disclosure.round_shared): the threshold


def shared_statistics(
    seen: np.ndarray,
    boxes: tuple[np.ndarray, np.ndarray],
    offset: np.ndarray,
    keys: pd.DataFrame,
    offered: np.ndarray,
    threshold: int,
    method: notable.Method,
    counted: np.ndarray | None = None,
    national: np.ndarray | None = None,
) -> notable.Assessment:
    """The statistics the gedeeld texts rest on: `month_statistics` on the shared figures (`seen`:
    NaN where hidden) of the series the gedeeld audience is offered (`offered`): the gemeente's and
    stadsdelen's categories, a buurt's total, a wijk's categories. Everything comes from those
    figures, what the series give each other included: the gemeente's profile and concurrent
    season (of a category over its wijken, of the total over the buurten), the 1/k per level ×
    category (estimated on the figures, with draws rounded as they are) and last year's season. A
    reader of the shared figures can compute every number of it, and other counts behind the same
    figures change nothing (DESIGN §4: texts are derived from the protected figures).

    Until December 2026 the gemeente-wide quantities came from the exact counts: beside the figures
    they moved expected counts by 0.0003-0.05 per count, which an attacker who knew every other
    count could have used at a rounding edge (a third attacker's program). Before that, the whole
    statistics did, and a level-shift sentence leaked: "het hogere niveau ... houdt geen stand"
    pinned a month shown as 5 to 1 or 2. Level shifts are looked for only where the last two years
    average twice the threshold or more: lower, a month of 1-4 reads 0 or 5 by chance, and runs of
    them passed for a shift. A hidden month reads the mean of the series' shown months: read as its
    exact count, the rounded expected counts of the twelve months after it pinned it like a vernier
    (a second attacker's program: 12 hidden counts of 1-4 to one value).

    Every series is tested on the box its shared figure allows (`boxes`, NaN where hidden:
    notable.assess with a box). A series not offered, or hidden this month, is no test and has no
    expected count."""
    level = keys["area_level"].to_numpy()
    sub = np.flatnonzero(offered)
    if not len(sub):
        return _expanded(None, sub, len(keys), seen[:, -1])
    local = np.isin(level[sub], LOCAL_LEVELS)
    visible = np.isfinite(seen[sub])
    with np.errstate(invalid="ignore"):
        shown_mean = (
            np.nanmean(np.where(visible[:, :-1], seen[sub, :-1], np.nan), axis=1) if seen.shape[1] > 1 else None
        )
    fill = np.zeros(len(sub)) if shown_mean is None else np.nan_to_num(shown_mean)
    counts = np.where(visible, seen[sub], fill[:, None])
    # Level shifts only where the last two years average twice the threshold or more: lower, most
    # months are 1-4, which read 0 or 5 by chance, and runs of them pass for a level shift (a buurt of
    # 1-7 a month, six months read 0 and then mostly 5, was "sinds juni hoger" in the demo).
    span = slice(-(PROFILE_MONTHS + 1), None)
    busy = counts[:, span].mean(axis=1) >= disclosure.busy_level(threshold)
    recent = np.nanmean(counts[:, max(0, counts.shape[1] - 1 - method.short_months) : -1], axis=1)
    level_now = np.maximum(np.nan_to_num(recent), 0.5)
    figures = SharedFigures(
        box=(boxes[0][sub], boxes[1][sub]),
        detect=local & visible[:, span].all(axis=1) & busy,
        extra_inv=disclosure.rounding_variance(level_now, threshold) / level_now**2,
        rounded=threshold,
    )
    groups = list(dict.fromkeys(keys["group_code"].to_numpy()[sub]))
    part = month_statistics(
        counts,
        offset[sub],
        keys.iloc[sub].reset_index(drop=True),
        groups,
        method,
        None if counted is None else counted[sub],
        figures=figures,
        national=None if national is None else national[sub],
    )
    return _expanded(part, sub, len(keys), seen[:, -1])


def _expanded(part: notable.Assessment | None, rows: np.ndarray, n: int, observed: np.ndarray) -> notable.Assessment:
    """An assessment of the series `rows` as one of all `n`: the others untested, without expected
    count, direction or level shift."""
    blank = {
        "direction": "",
        "kind": "geen",
        "tested": False,
        "shift_new": False,
        "shift_resumed": False,
        "shift": 0.0,
        "shift_ended": 0.0,
        "since": -1,
        "ended_since": -1,
    }
    out = {"observed": np.asarray(observed, dtype=float)}
    for name in notable.Assessment.__dataclass_fields__:
        if name == "observed":
            continue
        default = blank.get(name, np.nan)
        full = np.full(n, default, dtype=object if isinstance(default, str) else type(default))
        if part is not None:
            full[rows] = getattr(part, name)
        out[name] = full
    return notable.Assessment(**out)


def _boxes(shown: np.ndarray, status: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """What each shared figure of the month tells of its count (disclosure.rounding_box, coarser
    figures included); NaN where it is hidden or not offered. A tail at the box's end is the exact
    tail of the figure itself: a figure r of 10 or more is at least r when the count is at least
    r - 2. Testing the figure as if it were the count found a third more of the simulated threefold
    rises of 5-15 a month, on p-values too small for what the figure says."""
    seen = np.isfinite(shown) & disclosure.visible(status)
    low, high = disclosure.rounding_box(np.nan_to_num(shown), ~seen, threshold, status == disclosure.COARSE)
    return np.where(seen, low, np.nan), np.where(seen, high, np.nan)


def _with_last_year(
    index: np.ndarray,
    var: np.ndarray,
    dense: np.ndarray,
    offset: np.ndarray,
    profile: np.ndarray,
    inv: np.ndarray,
    level: np.ndarray,
    group: np.ndarray,
    index_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The concurrent index of buurten and wijken combined with what the gemeente's same month a
    year before predicts (notable.last_year_index), per category with a concurrent index and 24
    months of profile, its variance, and the baseline's name for the texts.

    The concurrent index is a ratio of one month's counts: in a category with a few hundred cases a
    month its error (sd 0.03-0.19 across the independent benchmark's categories) is as large as the
    12-month level's. The gemeente's season repeats from year to year as far as its history shows:
    how far, the prediction's variance says, and so how much it counts."""
    index, var = index.copy(), var.copy()
    h = dense.shape[1] - 1
    buurt = index_rows  # the series the concurrent index is over (`_index_rows`)
    local = np.isin(level, LOCAL_LEVELS)
    label = np.where(local, "recent_gemeente", "recent_seizoen").astype(object)
    if h < notable.LAST_YEAR_MONTHS:
        return index, var, label
    span = slice(h - notable.LAST_YEAR_MONTHS, h)
    for g in np.unique(group[buurt]):
        at = local & (group == g) & (var > 0)
        rows = np.flatnonzero(buurt & (group == g))
        if not at.any():
            continue
        p = profile[rows[0]]
        sampling = np.full(h, np.inf)
        sampling[span] = notable.profile_variance(dense[rows, span], offset[rows, span], p[span], inv[rows])
        prediction = notable.last_year_index(p, sampling)
        if prediction is None:
            continue
        index[at], var[at] = notable.with_last_year(index[at], var[at], *prediction)
        label[at] = "recent_gemeente_jaar"
    return index, var, label


def _status_matrix(cells: pd.DataFrame, totals: pd.DataFrame, months: list[str]) -> np.ndarray:
    all_cells = cells[cells["group_code"] == ALL]
    wide = all_cells.pivot_table(index=["area_level", "area_code"], columns="period", values="status", aggfunc="max")
    wide = wide.reindex(columns=months)
    merged = totals[["area_level", "area_code"]].merge(wide.reset_index(), on=["area_level", "area_code"], how="left")
    return merged[months].fillna(disclosure.SHOWN).to_numpy(dtype=int)


CHILD_LEVELS = {"stadsdeel": "Stadsdelen", "wijk": "Wijken", "buurt": "Buurten"}
# The levels a summary names the notable areas of: every level below it.
SUMMARIES = {"gemeente": ("stadsdeel", "wijk", "buurt"), "stadsdeel": ("wijk", "buurt"), "wijk": ("buurt",)}
BELOW_NAMES = narrative.BELOW_NAMES
AUDIENCES = (disclosure.GEDEELD, disclosure.INTERN)
INTERN_KEYS = ("headline", "paragraphs", "table", "charts", "notable_shown", "notable_hidden")


def _exact_trend(inputs: Inputs, areas: pd.DataFrame, months: list[str]) -> np.ndarray:
    """(areas, months) exact all-categories counts: the trend as the intern audience reads it."""
    cells = inputs.cells[inputs.cells["group_code"] == ALL]
    wide = cells.pivot_table(index=["area_level", "area_code"], columns="period", values="count", aggfunc="sum")
    wide = wide.reindex(columns=months)
    merged = areas[["area_level", "area_code"]].merge(wide.reset_index(), on=["area_level", "area_code"], how="left")
    return merged[months].fillna(0.0).to_numpy(dtype=float)


def _documents(
    inputs: Inputs,
    areas: pd.DataFrame,
    frame: pd.DataFrame,
    shared: pd.DataFrame,
    trend_months: list[str],
    trend_values: np.ndarray,
    trend_status: np.ndarray,
) -> list[dict[str, Any]]:
    """One document per area: the gedeeld text (made for distribution, from `shared`, the statistics
    as the gedeeld audience reads them) with, under content['intern'], the same text from the exact
    counts and their statistics (`frame`) for the intern audience's page."""
    t = inputs.threshold
    keys = areas[["area_level", "area_code"]].reset_index(drop=True)
    pop_now = _population(inputs, keys, [inputs.month])[:, 0]
    pop_rows = pop_now[frame["area_row"].to_numpy()]
    frame = frame.assign(rate_exact=frame["observed"].to_numpy(dtype=float) / disclosure.rate_base(pop_rows) * 1000.0)
    totals = frame[frame["group_code"] == ALL]
    by_area = {disclosure.GEDEELD: _by_area(shared), disclosure.INTERN: _by_area(frame)}
    rate_of = {
        disclosure.GEDEELD: {
            (r.area_level, r.area_code): disclosure.rate_label(r.rate, int(r.status), t) for r in totals.itertuples()
        },
        disclosure.INTERN: {
            (r.area_level, r.area_code): disclosure.rate_label(r.rate_exact, disclosure.SHOWN, t)
            for r in totals.itertuples()
        },
    }
    exact_trend = _exact_trend(inputs, areas, trend_months)
    gm_name = (
        areas.loc[areas["area_level"] == "gemeente", "name"].iloc[0]
        if (areas["area_level"] == "gemeente").any()
        else inputs.gemeente
    )
    context = _context(inputs, areas)
    docs: dict[str, list[dict[str, Any]]] = {audience: [] for audience in AUDIENCES}
    for i, area in enumerate(areas.itertuples(index=False)):
        for audience in AUDIENCES:
            rows = by_area[audience][i]
            rates = rate_of[audience]
            parents = []
            if area.area_level in ("buurt", "wijk") and isinstance(area.stadsdeel, str):
                parents.append((f"stadsdeel {area.stadsdeel}", rates.get(("stadsdeel", area.stadsdeel), "–")))
            if area.area_level != "gemeente":
                parents.append((f"gemeente {gm_name}", rates.get(("gemeente", inputs.gemeente), "–")))
            coarse: list[bool] = []
            if audience == disclosure.INTERN:
                values = [float(v) for v in exact_trend[i]]
            else:
                values = [
                    float(v) if disclosure.visible(s) else None
                    for v, s in zip(trend_values[i], trend_status[i], strict=True)
                ]
                coarse = [bool(s == disclosure.COARSE) for s in trend_status[i]]
            facts = narrative.AreaFacts(
                month=inputs.month,
                level=area.area_level,
                code=area.area_code,
                name=area.name,
                rows=narrative.intern_rows(rows) if audience == disclosure.INTERN else rows,
                threshold=t,
                parent_rates=parents,
                provisional=inputs.provisional,
                context=context.get(area.area_code, []) if area.area_level == "buurt" else [],
                trend={"months": trend_months, "values": values, "coarse": coarse},
                audience=audience,
            )
            docs[audience].append({"facts": facts, "area": area})
    for audience in AUDIENCES:
        _attach_children(docs[audience])
    out = []
    for shared, exact in zip(docs[disclosure.GEDEELD], docs[disclosure.INTERN], strict=True):
        content = narrative.describe(shared["facts"])
        intern = narrative.describe(exact["facts"])
        content["intern"] = {key: intern[key] for key in INTERN_KEYS}
        area = shared["area"]
        out.append(
            {
                "area_level": area.area_level,
                "area_code": area.area_code,
                "name": area.name,
                "stadsdeel": area.stadsdeel if isinstance(area.stadsdeel, str) else None,
                "headline": content["headline"],
                "content": content,
                "n_notable": content["notable_shown"],
            }
        )
    return out


def _by_area(frame: pd.DataFrame) -> dict[int, list[dict[str, Any]]]:
    """The rows of each area as plain dicts: every text reads them field by field, read once
    (pandas' string columns cost a lookup per value)."""
    plain = frame.rename(columns={"group_code": "group"})
    by_area: dict[int, list[dict[str, Any]]] = {}
    for record in plain.astype({c: object for c in plain.columns if plain[c].dtype.kind not in "biuf"}).to_dict(
        "records"
    ):
        by_area.setdefault(int(record["area_row"]), []).append(record)
    return by_area


def _attach_children(docs: list[dict[str, Any]]) -> None:
    """Gemeente, stadsdeel and wijk summaries name the areas below them with notable findings, from
    the same list the areas' own headlines read (narrative.notable_records), and count the hidden
    ones; their headlines say how many areas below are notable (facts.below)."""
    lines: dict[tuple[str, str], dict[str, list[str]]] = {}
    found_areas: dict[tuple[str, str], dict[str, int]] = {}
    hidden: dict[tuple[str, str], int] = {}
    shifts: dict[tuple[str, str], list[str]] = {}  # new levels below, said in the summaries too
    ended: dict[tuple[str, str], list[str]] = {}  # and those that did not last
    for d in docs:
        facts, area = d["facts"], d["area"]
        if area.area_level not in CHILD_LEVELS:
            continue
        rows = narrative.records(facts.rows)
        visible, n_hidden = narrative.notable_records(rows)
        news = narrative.level_shifts(rows, facts.audience) + narrative.level_returns(rows, facts.audience)
        gone = narrative.level_ends(rows, facts.audience)
        keys = [("gemeente", "")]
        if area.area_level in ("wijk", "buurt") and isinstance(area.stadsdeel, str):
            keys.append(("stadsdeel", area.stadsdeel))
        if area.area_level == "buurt" and isinstance(area.wijk, str):
            keys.append(("wijk", area.wijk))
        for key in keys:
            hidden[key] = hidden.get(key, 0) + n_hidden
            noun = narrative.LEVEL_NOUNS[area.area_level][0].capitalize()
            shifts.setdefault(key, []).extend(f"- {noun} {area.name}: {line[0].lower()}{line[1:]}" for line in news)
            ended.setdefault(key, []).extend(f"- {noun} {area.name}: {line[0].lower()}{line[1:]}" for line in gone)
            if not visible:
                continue
            per_level = found_areas.setdefault(key, {})
            per_level[area.area_level] = per_level.get(area.area_level, 0) + 1
            lines.setdefault(key, {}).setdefault(area.area_level, []).extend(
                f"- {area.name}: " + narrative.finding(r, facts.expected_floor, bool(facts.provisional))
                for r in visible
            )
    for d in docs:
        facts, area = d["facts"], d["area"]
        if area.area_level not in SUMMARIES:
            continue
        key = {"gemeente": ("gemeente", ""), "stadsdeel": ("stadsdeel", area.stadsdeel)}.get(
            area.area_level, ("wijk", area.area_code)
        )
        found = lines.get(key, {})
        children = [
            {"text": f"{CHILD_LEVELS[level]} met een opvallende uitkomst:\n" + "\n".join(found[level])}
            for level in SUMMARIES[area.area_level]
            if found.get(level)
        ]
        n = hidden.get(key, 0)
        if not children and area.area_level != "wijk":  # a wijk without notable buurten says nothing of them
            names = BELOW_NAMES[area.area_level].replace(" en ", " of ").replace("stadsdelen", "stadsdeel")
            names = names.replace("wijken", "wijk").replace("buurten", "buurt")
            children = [
                {
                    "text": f"Geen {names} heeft deze maand een opvallende uitkomst"
                    + (" die getoond kan worden." if n else ".")
                }
            ]
        if n:
            children.append(
                {
                    "text": f"Bij de {BELOW_NAMES[area.area_level]} "
                    + (
                        "is er één opvallende uitkomst die"
                        if n == 1
                        else f"zijn er {narrative.in_words(n)} opvallende uitkomsten die"
                    )
                    + " om privacyredenen niet "
                    + ("wordt" if n == 1 else "worden")
                    + " getoond."
                }
            )
        if shifts.get(key):
            children.append({"text": "Nieuw niveau daaronder:\n" + "\n".join(shifts[key])})
        if ended.get(key):
            children.append({"text": "Daaronder houdt een nieuw niveau geen stand:\n" + "\n".join(ended[key])})
        facts.children = children
        facts.below = found_areas.get(key, {})
        facts.below_hidden = n
        facts.below_shifts = len(shifts.get(key, []))


def _from_buurten(rows: pd.DataFrame, pop: pd.DataFrame) -> float:
    """One indicator of the gemeente from the buurten that have it and a population figure."""
    weights = rows["area_code"].map(pop.set_index("area_code")["value"])
    known = weights.notna().to_numpy()
    return combined(rows["value"].to_numpy()[known], weights.to_numpy()[known], str(rows["unit"].iloc[0]))


def _context(inputs: Inputs, areas: pd.DataFrame) -> dict[str, list[tuple[str, str, str]]]:
    """Per buurt: inhabitants and up to four indicators that are not counts of people (shares, means,
    densities: nothing to protect), with the gemeente's value: its own figure where one was delivered,
    else from its buurten as the Buurtprofiel computes it (buurtbeeld.indicator_totals; until December
    2026 the buurten's median, which the page called the gemeente's)."""
    ind = inputs.indicators
    if ind.empty:
        return {}
    t = inputs.threshold
    ind = ind.dropna(subset=["value"])
    buurt_codes = set(areas.loc[areas["area_level"] == "buurt", "area_code"])
    b = ind[ind["area_code"].isin(buurt_codes)]
    pop = b[b["indicator"] == "aantal_inwoners"]
    b = b[b["unit"] != "aantal"]
    chosen = b.groupby("indicator")["area_code"].nunique().sort_values(ascending=False).index[:CONTEXT_INDICATORS]
    gm = ind[ind["area_code"] == inputs.gemeente].set_index("indicator")["value"]
    ref = {c: gm[c] if c in gm.index else _from_buurten(b[b["indicator"] == c], pop) for c in chosen}
    out: dict[str, list[tuple[str, str, str]]] = {}
    total = disclosure.format_number(pop["value"].sum()) if not pop.empty else "–"
    for r in pop.itertuples():
        shown = disclosure.small_label(t) if 0 < r.value < t else disclosure.format_number(r.value)
        out.setdefault(r.area_code, []).append(("Inwoners", shown, total))
    for r in b[b["indicator"].isin(chosen)].itertuples():
        out.setdefault(r.area_code, []).append(
            (r.label, disclosure.format_amount(r.value, r.unit), disclosure.format_amount(ref[r.indicator], r.unit))
        )
    return out


# --- I/O ---------------------------------------------------------------------------------------------


def read_inputs(settings: Settings, gemeente: str, month: str, min_months: int = 0) -> Inputs:
    """What one month's analyses read. `min_months`: refuse a month with fewer published months before
    it (the command line asks it for a month the user names; the texts of such a month say that
    nothing could be tested)."""
    url = settings.warehouse_url
    engine = get_engine(url)
    with engine.connect() as conn:
        months = store.published_months(conn, gemeente)
        if not months:
            raise LoadError(
                f"Voor {gemeente} zijn geen maandcijfers geladen (onbekende gemeentecode of nog niets geladen)."
            )
        # The months a monthly analysis can be made of: those with `min_months` before them.
        analysable = f"; te analyseren zijn {months[min_months]} t/m {months[-1]}" if len(months) > min_months else ""
        if month not in months:
            raise LoadError(
                f"Maand {month} is voor {gemeente} niet (volledig) geladen; geladen zijn {months[0]} t/m "
                f"{months[-1]}{analysable}."
            )
        before = months.index(month)
        if before < min_months:
            # As generate_all and due choose their months: with less history there is no expected count.
            raise LoadError(
                f"Maand {month} heeft voor {gemeente} te weinig historie voor een maandanalyse ({before} "
                f"eerdere {'maand' if before == 1 else 'maanden'}, minstens {min_months} nodig){analysable}."
            )
        since = period_start("month", month_range(months[0], month)[-HISTORY_MONTHS:][0])
        cells = store.month_cells(conn, gemeente, since, period_start("month", month))
        areas = queries.areas(url, gemeente)
        population = store.population_by_year(conn, areas["area_code"].tolist())
        prov = store.provisional_weeks(conn, gemeente)
    in_month = set(weeks_of_month(month))
    return Inputs(
        gemeente=gemeente,
        month=month,
        cells=cells,
        areas=areas[["area_level", "area_code", "name", "wijk", "stadsdeel"]],
        groups=dict(queries.groups(url)),
        population=population,
        indicators=queries.indicators(url, gemeente),
        provisional=[week_label(y, w) for y, w in prov if (y, w) in in_month],
        threshold=settings.suppression_threshold,
    )


def _in_scope(docs: list[dict[str, Any]], scope: str) -> list[dict[str, Any]]:
    """'gemeente': everything; 'stadsdeel:<naam>': that stadsdeel and its wijken and buurten;
    'overzicht': the gemeente and the areas outside any stadsdeel (with all stadsdelen: everything)."""
    if scope == "gemeente":
        return docs
    if scope == "overzicht":
        return [d for d in docs if d["area_level"] == "gemeente" or not d["stadsdeel"]]
    name = scope.split(":", 1)[1]
    chosen = [d for d in docs if d["stadsdeel"] == name and d["area_level"] != "gemeente"]
    if not chosen:
        names = sorted({d["stadsdeel"] for d in docs if d["stadsdeel"]})
        raise LoadError(f"Stadsdeel '{name}' bestaat niet; kies uit: {', '.join(names) or '(geen stadsdelen)'}.")
    return chosen


def generate(
    settings: Settings,
    month: str,
    scope: str = "gemeente",
    gemeente: str | None = None,
    run_by: str = "cli",
    method: notable.Method = notable.DEFAULT,
    min_months: int = 0,
) -> list[Generated]:
    """Compute and store the analyses of `month` for one gemeente or all (`min_months`: see read_inputs)."""
    if scope not in ("gemeente", "overzicht") and not scope.startswith("stadsdeel:"):
        raise LoadError(f"Onbekende scope '{scope}': gebruik 'gemeente', 'overzicht' of 'stadsdeel:<naam>'.")
    engine = get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        codes = [gemeente] if gemeente else store.gemeenten_with_months(conn)
    if not codes:
        raise LoadError("Er zijn nog geen maandcijfers geladen; laad eerst BVH-exports.")
    lines = []
    for code in codes:
        inputs = read_inputs(settings, code, month, min_months)
        docs = _in_scope(analyse(inputs, method), scope)
        with engine.begin() as conn:
            batch = store.latest_batch(conn)
            store.store(conn, code, month, scope, batch, dataclasses.asdict(method), run_by, docs)
        flagged = sum(d["n_notable"] for d in docs)
        lines.append(Generated(code, month, scope, len(docs), flagged, inputs.provisional))
    return lines


def generate_all(
    settings: Settings, gemeente: str, run_by: str = "cli", progress: Progress = unchanged
) -> list[Generated]:
    """Every published month that has enough history for a baseline (the demo uses this)."""
    with get_engine(settings.warehouse_url).connect() as conn:
        months = store.published_months(conn, gemeente)
    usable = months[notable.DEFAULT.min_months :]
    months = progress(usable, len(usable), "Maandanalyses schrijven")
    return [line for m in months for line in generate(settings, m, gemeente=gemeente, run_by=run_by)]


def regenerate_revised(
    settings: Settings, gemeente: str, weeks: list[tuple[int, int]] | None, run_by: str
) -> list[Generated]:
    """After a load: regenerate the analysed months whose weeks that load touched (None: all weeks,
    as after a new buurt indeling or stadsdelen file)."""
    with get_engine(settings.warehouse_url).connect() as conn:
        analysed = set(store.current_months(conn, gemeente))
    touched = analysed if weeks is None else {month_of_week(y, w) for y, w in weeks}
    return [
        line for m in sorted(touched & analysed) for line in generate(settings, m, gemeente=gemeente, run_by=run_by)
    ]


def due(settings: Settings, month: str | None = None, until: str | None = None) -> list[dict[str, str]]:
    """(gemeente, month) pairs to analyse: the given month (with `until`: every month from `month` to
    `until`, a backfill) for every gemeente that has it with enough history, or else each gemeente's
    latest published month when it has no current analysis yet (the first load after a month's end
    completes that month)."""
    out = []
    with get_engine(settings.warehouse_url).connect() as conn:
        for gemeente in store.gemeenten_with_months(conn):
            months = store.published_months(conn, gemeente)
            if len(months) <= notable.DEFAULT.min_months:
                continue
            if month:
                analysable = months[notable.DEFAULT.min_months :]
                wanted = [m for m in analysable if month <= m <= (until or month)] if until else [month]
                out += [{"gemeente": gemeente, "month": m} for m in wanted if m in months]
            elif months[-1] not in store.current_months(conn, gemeente):
                out.append({"gemeente": gemeente, "month": months[-1]})
    return out


def waiting(settings: Settings) -> list[str]:
    """The months that wait for a missing weekly export (the delivery register), said per month."""
    out = []
    with get_engine(settings.warehouse_url).connect() as conn:
        for gemeente in store.gemeenten_with_months(conn):
            by_month: dict[str, list[tuple[int, int]]] = {}
            for year, week in sorted(deliveries.gap_weeks(conn, gemeente)):
                by_month.setdefault(month_of_week(year, week), []).append((year, week))
            out += [
                f"{gemeente} {month}: niet als volledig geanalyseerd, de levering van "
                + ", ".join(f"week {w} van {y}" for y, w in weeks)
                + " ontbreekt."
                for month, weeks in by_month.items()
            ]
    return out


def scopes(settings: Settings, gemeente: str) -> list[str]:
    """The scopes that together cover a gemeente: one per stadsdeel, and the overview."""
    areas = queries.areas(settings.warehouse_url, gemeente)
    names = sorted(set(areas[(areas["area_level"] == "stadsdeel") & (areas["area_code"] != published.UNKNOWN)]["name"]))
    return [f"stadsdeel:{n}" for n in names] + ["overzicht"]


def refresh_analyses(
    settings: Settings, targets: dict[str, list[tuple[int, int]] | None], run_by: str
) -> dict[str, Any]:
    """Regenerate the monthly analyses of months this load revised (the older version is kept, flagged
    superseded). After the commit: the load stands even if an analysis cannot be written now."""
    done: dict[str, list[str]] = {}
    for gemeente, weeks in targets.items():
        try:
            results = regenerate_revised(settings, gemeente, weeks, run_by)
        except Exception:
            log.exception("Maandanalyses van %s niet vernieuwd na de lading", gemeente)
            continue
        if results:
            done[gemeente] = [r.month for r in results]
    return {"analyses_vernieuwd": done} if done else {}
