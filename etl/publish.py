"""Publishing the disclosure-controlled cube after every load.

The dashboard and the monthly analyses never read incidents or raw weekly counts: they read
`published_count`, in which every cell already carries its suppression status. Computing that status
once per load (for the weeks the load touched, and the months those weeks belong to) keeps every view
consistent — the same cell is hidden in the map, the table, the chart and the export — which
complementary suppression needs: a cell hidden in one view but shown in another would undo it.

Pure transforms first (DataFrame -> DataFrame), then `publish`, the one function that does I/O.
"""

from __future__ import annotations

import getpass
import math
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, insert, select, update

from buurtbeeld import disclosure
from buurtbeeld.audit import Finding, Relations, findings, lp_bounds, lp_narrowed, propagate
from buurtbeeld.memory import release_memory
from buurtbeeld.periods import (
    containing,
    kind_of,
    months_of,
    months_of_year,
    period_start,
    quarters_of_year,
    week_label,
    weeks_of_month,
)
from buurtbeeld.settings import Settings
from etl.errors import LoadError
from warehouse import deliveries, published

UNKNOWN, OTHER_STADSDEEL = published.UNKNOWN, published.OTHER_STADSDEEL
ALL = "*"
KEY = ["period", "area_level", "area_code", "group_code", "mk_code"]
CATEGORY = ["group_code", "mk_code"]
CONTENT_KEY = "content_key"
VALUES = ["count", CONTENT_KEY]


def weeks_by_gemeente(touched: Iterable[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for gemeente, year, week in touched:
        out.setdefault(gemeente, []).append((year, week))
    return out


# --- transforms --------------------------------------------------------------------------------------


def to_indeling(counts: pd.DataFrame, successors: pd.DataFrame, hierarchy: pd.DataFrame, year: int) -> pd.DataFrame:
    """Weekly buurt x group counts recoded to the buurten of `year`.

    Counts of an older indeling go to the buurt that took the largest part of their old buurt (whole
    counts, no fractions: a count is a number of incidents); anything that does not land on a buurt of
    `year` is counted as 'onbekend', so totals still reconcile."""
    frame = counts.copy()
    older = frame["indeling_year"] != year
    if older.any():
        moved = frame.loc[older, ["indeling_year", "buurt_code"]].merge(
            successors.rename(columns={"from_year": "indeling_year", "from_code": "buurt_code"}),
            on=["indeling_year", "buurt_code"],
            how="left",
        )
        frame.loc[older, "buurt_code"] = moved["to_code"].to_numpy()
    known = frame["buurt_code"].isin(set(hierarchy["buurt_code"]))
    frame["buurt_code"] = frame["buurt_code"].where(known, UNKNOWN)
    return frame.groupby(["iso_year", "iso_week", "buurt_code", *CATEGORY], as_index=False)["count"].sum()


def with_record_keys(counts: pd.DataFrame, gemeente: str, secret: bytes) -> pd.DataFrame:
    """Weekly buurt x category counts with the keyed record key of each (buurtbeeld.disclosure.
    record_keys): every cell of the cube then sums the keys of the weekly counts it is made of."""
    identity = f"{gemeente}|" + counts["iso_year"].astype(str) + "|" + counts["iso_week"].astype(str)
    for column in ("buurt_code", *CATEGORY, "count"):
        identity = identity + "|" + counts[column].astype(str)
    return counts.assign(**{CONTENT_KEY: disclosure.record_keys(identity, secret)})


def with_group_cells(counts: pd.DataFrame) -> pd.DataFrame:
    """Weekly counts per MK code plus each group's own cell (MK '*'), the sum of the group's rows.

    counts: iso_year, iso_week, buurt_code, group_code, mk_code, count as weekly_count holds them, in
    which MK '*' is what was delivered for a whole category without an MK code: it counts towards its
    group's cell, and is no MK cell of its own."""
    keys = ["iso_year", "iso_week", "buurt_code", "group_code"]
    groups = counts.groupby(keys, as_index=False, observed=True)[_values(counts)].sum().assign(mk_code=ALL)
    return pd.concat([counts[counts["mk_code"] != ALL], groups[counts.columns]], ignore_index=True)


def full_hierarchy(hierarchy: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The hierarchy plus the 'onbekend' buurt (its own wijk and stadsdeel); whether stadsdelen exist."""
    has_stadsdelen = hierarchy["stadsdeel"].notna().any()
    frame = hierarchy.copy()
    frame["stadsdeel"] = frame["stadsdeel"].fillna(OTHER_STADSDEEL) if has_stadsdelen else None
    unknown = pd.DataFrame(
        {"buurt_code": [UNKNOWN], "wijk_code": [UNKNOWN], "stadsdeel": [UNKNOWN if has_stadsdelen else None]}
    )
    return pd.concat([frame, unknown], ignore_index=True), bool(has_stadsdelen)


def expand(buurt_cells: pd.DataFrame, hierarchy: pd.DataFrame, gemeente: str, has_stadsdelen: bool) -> pd.DataFrame:
    """Buurt x category cells per period -> cells at every area level, each with an all-categories row.

    buurt_cells: period, buurt_code, group_code, mk_code ('*' for the group's own cell), count. Buurt
    rows keep their wijk and stadsdeel."""
    b = buurt_cells.merge(hierarchy, on="buurt_code", how="left")
    b = b.rename(columns={"buurt_code": "area_code", "wijk_code": "wijk"}).assign(area_level="buurt")
    frames = [b]
    frames.append(
        _sum(b, ["period", "wijk", *CATEGORY]).rename(columns={"wijk": "area_code"}).assign(area_level="wijk")
    )
    if has_stadsdelen:
        frames.append(
            _sum(b, ["period", "stadsdeel", *CATEGORY])
            .rename(columns={"stadsdeel": "area_code"})
            .assign(area_level="stadsdeel")
        )
    top = _sum(b, ["period", *CATEGORY])
    frames.append(top.assign(area_level="gemeente", area_code=_like(b["area_code"], gemeente, len(top))))
    cells = pd.concat(frames, ignore_index=True)
    extra = ["wijk", "stadsdeel"]
    groups = cells[cells["mk_code"] == ALL]
    totals = groups.groupby(["period", "area_level", "area_code"], as_index=False, dropna=False).agg(
        **_sums(groups), wijk=("wijk", "first"), stadsdeel=("stadsdeel", "first")
    )
    totals["group_code"] = _like(cells["group_code"], ALL, len(totals))
    totals["mk_code"] = _like(cells["mk_code"], ALL, len(totals))
    cells = pd.concat([cells, totals], ignore_index=True)
    return cells[[*KEY, *extra, *_values(cells)]]


def _like(column: pd.Series, value: str, rows: int) -> pd.Series | str:
    """`value` in every row, typed like `column` (a categorical keeps its categories in a concat)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical([value] * rows, dtype=column.dtype)
    return value


def _sum(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.groupby(by, as_index=False)[_values(frame)].sum()


def _values(frame: pd.DataFrame) -> list[str]:
    """The additive columns a frame carries: the count and, in a cube being built, its content key."""
    return [v for v in VALUES if v in frame]


def _sums(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    return {v: (v, "sum") for v in _values(frame)}


def _per_period(periods: pd.Series, f: Callable[[str], Any]) -> pd.Series:
    """f of each period label, computed once per distinct label (a cube has millions of cells but a
    few hundred periods)."""
    return periods.map({p: f(p) for p in periods.unique()})


def _labels(years: pd.Series, weeks: pd.Series) -> pd.Series:
    """ISO week labels ('2026-W05'), once per distinct week."""
    key = years.astype("int64") * 100 + weeks.astype("int64")
    return key.map({k: week_label(k // 100, k % 100) for k in key.unique()})


def links(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(parent, child, relation) row positions of every additive relation in the cube. A parent can
    head several relations (a wijk total is the sum of its buurten and also of its category groups);
    `relation` tells them apart so each is protected on its own."""
    keys = _KeyCodes.of(cells)
    n = len(cells)
    pairs: list[tuple[np.ndarray, np.ndarray, int]] = []

    def join(children: np.ndarray, parents: np.ndarray, left: list[str], right: list[str], kind: int = -1) -> None:
        """Each child row to the parent row with the same key (a parent's key plus its level is its
        whole cell key, so a lookup finds at most one). `kind`: the relation family (default: a new one)."""
        at = pd.Index(keys.combined(right, parents)).get_indexer(keys.combined(left, children))
        found = at >= 0
        kind = kind if kind >= 0 else 1 + max((k for *_, k in pairs), default=-1)
        pairs.append((parents[at[found]], children[found], kind))

    group, mk = keys.codes["group_code"], keys.codes["mk_code"]
    group_cells = np.flatnonzero((group != keys.all_group) & (mk == keys.all_mk))
    area = ["period", "area_level", "area_code"]
    join(group_cells, np.flatnonzero(group == keys.all_group), area, area)
    join(np.flatnonzero(mk != keys.all_mk), group_cells, [*area, "group_code"], [*area, "group_code"])
    at = {name: np.flatnonzero(keys.codes["area_level"] == code) for name, code in keys.levels.items()}
    same = ["period", *CATEGORY]
    join(at["buurt"], at["wijk"], [*same, "wijk"], [*same, "area_code"])
    join(at["wijk"], at["gemeente"], same, same)
    if len(at["stadsdeel"]):
        # A stadsdeel is the sum of its wijken, and of the buurten of a wijk split over two stadsdelen.
        # As the sum of its buurten only, the relation was missing wherever buurten are not offered
        # (category groups per month and quarter): two wijken of 4 each shown as 0 beside their
        # stadsdeel's 8 shown as 10 are both 4, which the exact LP found in a demo build. Through the
        # wijken, interval arithmetic also derives at least what it did through the buurten. Where a
        # split wijk's buurten are not offered, the relation lacks its part: cube_relations then finds
        # the sums unequal and keeps it as 'at least'.
        whole = keys.whole_wijken(at["buurt"], at["wijk"])
        kind = 1 + max(k for *_, k in pairs)
        join(at["wijk"][whole], at["stadsdeel"], [*same, "wijk_stadsdeel"], [*same, "area_code"], kind)
        split = ~np.isin(keys.codes["wijk"][at["buurt"]], keys.codes["area_code"][at["wijk"][whole]])
        join(at["buurt"][split], at["stadsdeel"], [*same, "stadsdeel"], [*same, "area_code"], kind)
        join(at["stadsdeel"], at["gemeente"], same, same)
    parent = np.concatenate([p for p, _, _ in pairs]).astype(np.int64)
    child = np.concatenate([c for _, c, _ in pairs]).astype(np.int64)
    relation = np.concatenate([p + n * kind for p, _, kind in pairs]).astype(np.int64)
    return parent, child, relation


_AREA_COLUMNS = ("area_code", "wijk", "stadsdeel")


@dataclass(frozen=True)
class _KeyCodes:
    """Integer codes of a cube's key columns, with the number of distinct values of each."""

    codes: dict[str, np.ndarray]
    sizes: dict[str, int]
    levels: dict[str, int]
    all_group: int
    all_mk: int

    @classmethod
    def of(cls, cells: pd.DataFrame) -> _KeyCodes:
        """A buurt row's wijk and stadsdeel are compared with the area_code of wijk and stadsdeel rows,
        so the three area columns share one code space; a missing value is a value of its own (as in
        a merge, where missing keys match each other)."""
        codes: dict[str, np.ndarray] = {}
        sizes: dict[str, int] = {}
        uniques: dict[str, list[Any]] = {}
        for column in ("period", "area_level", "group_code", "mk_code"):
            codes[column], values = pd.factorize(cells[column], use_na_sentinel=False)
            sizes[column], uniques[column] = len(values), list(values)
        areas, values = pd.factorize(
            pd.concat([cells[c] for c in _AREA_COLUMNS], ignore_index=True), use_na_sentinel=False
        )
        for i, column in enumerate(_AREA_COLUMNS):
            codes[column], sizes[column] = areas[i * len(cells) : (i + 1) * len(cells)], len(values)

        def code_of(column: str, value: str) -> int:
            return uniques[column].index(value) if value in uniques[column] else -1

        levels = {name: code_of("area_level", name) for name in ("buurt", "wijk", "stadsdeel", "gemeente")}
        return cls(codes, sizes, levels, code_of("group_code", ALL), code_of("mk_code", ALL))

    def whole_wijken(self, buurten: np.ndarray, wijken: np.ndarray) -> np.ndarray:
        """Which of the wijk rows `wijken` lie in one stadsdeel: every buurt row of the wijk has the
        same one (a buurt without incidents adds 0 wherever it lies, so within this cube the wijk is
        part of that stadsdeel). Sets the column 'wijk_stadsdeel' (an area code) on those rows, to
        join them on; other rows get code 0 and are not joined."""
        size = self.sizes["area_code"]
        frame = pd.DataFrame({"wijk": self.codes["wijk"][buurten], "stadsdeel": self.codes["stadsdeel"][buurten]})
        per_wijk = frame.groupby("wijk")["stadsdeel"].agg(["nunique", "first"])
        one = per_wijk[per_wijk["nunique"] == 1]
        of_wijk = np.full(size, -1, dtype=np.int64)
        of_wijk[one.index.to_numpy()] = one["first"].to_numpy()
        column = np.zeros(len(self.codes["area_code"]), dtype=np.int64)
        column[wijken] = of_wijk[self.codes["area_code"][wijken]]
        whole = column[wijken] >= 0
        column[column < 0] = 0
        self.codes["wijk_stadsdeel"], self.sizes["wijk_stadsdeel"] = column, size
        return whole

    def combined(self, columns: list[str], rows: np.ndarray) -> np.ndarray:
        """One int64 per row: the columns' codes in mixed radix, distinct for distinct keys."""
        if math.prod(self.sizes[c] for c in columns) >= 2**63:  # pragma: no cover - a year's cube is far smaller
            raise ValueError(f"cube key {columns} too large for one integer")
        key = np.zeros(len(rows), dtype=np.int64)
        for column in columns:
            key = key * self.sizes[column] + self.codes[column][rows]
        return key


def week_cells(counts: pd.DataFrame, hierarchy: pd.DataFrame, gemeente: str) -> pd.DataFrame:
    """Exact weekly cells at every area and category level. counts: iso_year, iso_week, buurt_code,
    group_code, mk_code, count (buurten of one indeling)."""
    hier, has_sd = full_hierarchy(hierarchy)
    cells = counts.assign(period=_labels(counts["iso_year"], counts["iso_week"]))[
        ["period", "buurt_code", *CATEGORY, *_values(counts)]
    ]
    # Keys as categories shared by every frame of the cube: the joins and groupings of a year's
    # million cells then compare integer codes, not strings.
    areas = _categories(hier["buurt_code"], hier["wijk_code"], hier["stadsdeel"], pd.Series([gemeente]))
    hier = hier.astype({"buurt_code": areas, "wijk_code": areas, "stadsdeel": areas})
    cells = cells.astype(
        {
            "period": _categories(cells["period"]),
            "buurt_code": areas,
            "group_code": _categories(cells["group_code"], pd.Series([ALL])),
            "mk_code": _categories(cells["mk_code"], pd.Series([ALL])),
        }
    )
    return expand(cells, hier, gemeente, has_sd)


def _categories(*values: pd.Series) -> pd.CategoricalDtype:
    """One categorical type over the distinct values (sorted, so that sorting by it sorts by text)."""
    return pd.CategoricalDtype(sorted(set().union(*[v.dropna().unique() for v in values])))


def year_cube(
    counts: pd.DataFrame,
    hierarchy: pd.DataFrame,
    gemeente: str,
    threshold: int,
    periods: dict[str, list[str]],
    secret: bytes,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The non-zero cells of the weeks in `counts` and of the months, quarters and year in `periods`
    (sums of their weeks), each with its exact count, its shared figure and status for the gedeeld
    audience (`share`, beside the year's `previous` published cells), period type and start."""
    frames = [week_cells(counts, hierarchy, gemeente).assign(period_type="week")]
    for kind in ("month", "quarter", "year"):
        frames.append(period_sums(frames[-1], kind, periods[kind]).assign(period_type=kind))
    cells = pd.concat(frames, ignore_index=True)
    cells = cells[cells["count"] > 0].reset_index(drop=True)
    before = None
    if previous is not None and len(previous):
        before = located(previous, hierarchy)
    cells = share(cells, gemeente, threshold, secret, before).drop(columns=CONTENT_KEY, errors="ignore")
    return cells.assign(period_start=_per_period(cells["period"], lambda p: period_start(kind_of(p), p)))


def period_sums(parts: pd.DataFrame, kind: str, wanted: Iterable[str]) -> pd.DataFrame:
    """Cells of a coarser period (month, quarter, year) as sums of their parts, for the wanted periods."""
    keys = ["target", "area_level", "area_code", *CATEGORY]
    frame = parts.assign(target=_per_period(parts["period"], lambda p: containing(p, kind)))
    frame = frame[frame["target"].isin(set(wanted))]
    sums = frame.groupby(keys, as_index=False, dropna=False, observed=True).agg(
        **_sums(frame), wijk=("wijk", "first"), stadsdeel=("stadsdeel", "first")
    )
    return sums.rename(columns={"target": "period"})[[*KEY, "wijk", "stadsdeel", *_values(frame)]]


def shared_design(cells: pd.DataFrame) -> np.ndarray:
    """The cells offered to the gedeeld audience (buurtbeeld.disclosure.shared_cell)."""
    return disclosure.shared_cell(cells["period_type"], cells["area_level"], cells["group_code"], cells["mk_code"])


FLIP_ROUNDS, MAX_ROUNDS = 12, 60
GUARD_MARGIN = 1


def kept_totals(cells: pd.DataFrame, threshold: int) -> np.ndarray:
    """Totals the shared figures should never hide: the gemeente's and every stadsdeel's, and a buurt's
    own all-categories month, quarter and year of at least the threshold."""
    total = ((cells["group_code"] == ALL) & (cells["mk_code"] == ALL)).to_numpy()
    wide = cells["area_level"].isin(disclosure.SHARED_LEVELS).to_numpy()
    buurt = ((cells["area_level"] == "buurt") & (cells["period_type"] != "week")).to_numpy()
    return total & (wide | (buurt & (cells["count"] >= threshold).to_numpy()))


def share(
    cells: pd.DataFrame, gemeente: str, threshold: int, secret: bytes, previous: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Shared figure and status of every cell (buurtbeeld.disclosure, 'Audiences').

    Cells of the shared design are rounded to multiples of the threshold by their cell keys. The
    auditor (interval propagation over every relation among them, `audit_year` without the I/O) then
    looks for a true 1..threshold-1 it narrows below disclosure.MIN_WIDTH. Half of those, chosen by
    their keys, are rounded the other way (0 <-> threshold: both are roundings of a small count), until
    the auditor finds none; flipping all at once can swing back and forth. What FLIP_ROUNDS of that
    leaves is hidden; while a hidden cell is still narrowed, the smallest shown cell of each relation
    around the hidden cells the relations hold tight is hidden too (a kept total last). Nothing is
    returned while the auditor finds anything.

    `previous`: the year's shared design as it was published until now (`Pair`). An attacker keeps
    both publications, so the auditor attacks the two together, and a cell whose count did not change
    keeps its figure or its hiding, and so do its `Twins` (two roundings of one count tell more than
    either); only new and changed figures are flipped or hidden. So a figure changes only with its
    count, unless that fails and the year protected on its own passes the pair attack. Last,
    `_reveal` shows again what the hiding took without need, and `_coarsen` shows a kept total that
    is still hidden as its marked coarser figure (disclosure, point 4)."""
    design = shared_design(cells)
    shared = pd.Series(np.nan, index=cells.index)
    status = np.full(len(cells), disclosure.SECONDARY, dtype=np.int8)
    d = cells[design].reset_index(drop=True)
    if not len(d):
        return cells.assign(shared_count=shared, status=status)
    rel = cube_relations(d)
    counts = d["count"].to_numpy().astype(np.int64)
    if CONTENT_KEY in d:
        keys = disclosure.content_keys(d[CONTENT_KEY].to_numpy())
    else:
        identity = f"{gemeente}|" + d["period"].astype(str)
        for column in ("area_level", "area_code", "group_code", "mk_code", "count"):
            identity = identity + "|" + d[column].astype(str)
        keys = disclosure.cell_keys(identity, secret)
    rounded = disclosure.round_shared(counts, keys, threshold)
    kept = kept_totals(d, threshold)
    pair = Pair.of(d, rel, previous, threshold) if previous is not None and len(previous) else None
    twins = Twins.of(keys, counts)
    result = _protect_keeping(rounded, counts, keys, threshold, kept, rel, pair)
    if result is None and pair is not None:
        # Beside its previous publication the year could not be protected by flipping and hiding new
        # figures (a record moved from one MK code to another of its group: both now exist, and two
        # 'x's say the unchanged group holds at least 2). The first of these that the pair attack
        # finds nothing in is published: the year protected on its own (its carried figures may then
        # differ: the pair attack has checked that); every changed or new cell hidden except those
        # whose figure is 0 (0 says less than 'x' about a new cell: it may be absent); every changed or
        # new cell hidden; that last state mended by `_search`. Carried cells keep their figure or hiding.
        # When none withstands, the one the pair attack narrows least (docs/privacy.md). Ranking by the
        # guard margin alone was tried and broke the year on its own (CI's secret: 41 small counts of
        # 2024): the count below MIN_WIDTH comes first, with no floor excusing a carried count.
        alone = _protect_keeping(rounded, counts, keys, threshold, kept, rel, None)
        options = [] if alone is None else [alone]
        options += [pair.carried(rounded, twins, hide_new=rounded != 0), pair.carried(rounded, twins, hide_new=True)]
        result = next((o for o in options if not pair.narrowed(*o, counts, threshold)), None)
        if result is None:
            # Of these and the last one mended, the one the pair attack narrows least below MIN_WIDTH
            # itself, then within the guard margin: the margin covers what propagation may miss of the
            # exact LP, a narrowing below MIN_WIDTH is one. (Preferring the year alone whenever the
            # mended state was within the margin anywhere published 81 such narrowings in a sparse test
            # city where the mended state had none.) The pair attack includes the year's own relations.
            mended = _search(*options[-1], counts, threshold, twins, pair)
            result = min([*options, mended], key=lambda o: pair.narrowed_counts(*o, counts, threshold))
    if result is not None:
        # Also after a fallback: what it hid without need (every new cell, totals too) is shown again
        # where the pair attack narrows no more, below MIN_WIDTH or within the margin (`_reveal`). A
        # fresh demo build hid 39 totals of 2024, the gemeente's September among them, without it.
        result = _reveal(*result, rounded, counts, threshold, kept, twins, rel, pair)
    if result is None:
        raise RuntimeError(f"{gemeente}: the shared figures could not be protected; nothing is published")
    rounded, hidden, coarse = _coarsen(*result, counts, threshold, kept, twins, rel, pair)
    shared.iloc[np.flatnonzero(design)] = np.where(hidden, np.nan, rounded)
    status[np.flatnonzero(design)[~hidden]] = disclosure.SHOWN
    status[np.flatnonzero(design)[coarse]] = disclosure.COARSE
    return cells.assign(shared_count=shared, status=status)


def _protect_keeping(
    fresh: np.ndarray,
    counts: np.ndarray,
    keys: np.ndarray,
    threshold: int,
    kept: np.ndarray,
    rel: Relations,
    pair: Pair | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_protect` never hiding a kept total, and only when that fails, hiding one when nothing else is left."""
    strict = _protect(fresh, counts, keys, threshold, kept, rel, pair, keep_totals=True)
    return strict if strict is not None else _protect(fresh, counts, keys, threshold, kept, rel, pair)


def _protect(
    fresh: np.ndarray,
    counts: np.ndarray,
    keys: np.ndarray,
    threshold: int,
    kept: np.ndarray,
    rel: Relations,
    pair: Pair | None,
    keep_totals: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The flip-and-hide loop of `share`: (shared figures, hidden) of the design's cells, None when
    MAX_ROUNDS did not protect them. fresh: the figures by cell key; with a `pair`, carried-over
    figures replace them and the auditor attacks both publications together."""
    n = len(counts)
    twins = Twins.of(keys, counts)
    rounded = fresh.copy()
    hidden = np.zeros(n, dtype=bool)
    frozen = np.zeros(n, dtype=bool)
    if pair is not None:
        rounded, hidden = pair.carried(rounded, twins, hide_new=False)
        frozen = pair.anchored(twins) & ~hidden
        rel = pair.relations
    extra = np.zeros(0, dtype=np.int64) if pair is None else pair.counts[pair.before_only]
    counts_all = np.concatenate([counts, extra]).astype(np.int64)
    small = (counts_all > 0) & (counts_all < threshold)
    mutable = np.arange(len(counts_all)) < n
    index, heads, _ = rel.compact()
    kept = np.concatenate([kept, np.zeros(len(counts_all) - n, dtype=bool)])

    def boxes() -> tuple[np.ndarray, np.ndarray]:
        low, high = disclosure.rounding_box(rounded, hidden, threshold)
        return (low, high) if pair is None else pair.boxes(low, high)

    need = disclosure.MIN_WIDTH + GUARD_MARGIN if pair is None else pair.floor
    narrowed_before = len(counts_all) + 1
    for attempt in range(MAX_ROUNDS):
        low, high = propagate(*boxes(), rel)
        narrow = small & (high - low < need)
        if not narrow.any():
            return rounded, hidden
        # A carried-over figure is never changed: the attacker keeps its old box, and a second figure
        # or an 'x' can only narrow it (0 and 5 for one count say 1..4).
        flippable = narrow[:n] & ~hidden & ~frozen
        if attempt < FLIP_ROUNDS and flippable.any():
            # A different half each round, the same in every run (the figures must not depend on chance).
            flip = flippable & ((keys * (attempt + 2) * 7919.0) % 1.0 < 0.5)
            flip = twins.spread(flip)
            rounded[flip] = np.where(rounded[flip] == 0, threshold, 0)
            continue
        fixed = np.concatenate([hidden | frozen, ~mutable[n:]])
        stuck = (narrow & fixed).any()
        hidden |= twins.spread(narrow[:n] & ~frozen)
        fixed[:n] |= hidden
        if stuck:
            # Narrowed cells that hiding cannot free (hidden already, carried over, or the previous
            # publication's): in each relation around them, hide the smallest cell still shown, a total
            # the targets keep only when nothing else is left. Once that stops freeing any, around every
            # such cell held below 2 * MIN_WIDTH. Widening from the start hid more (demo, three secrets:
            # 7.5-10.4 % of cells >= 20 instead of 3.5-6.6 %): most cells held that tight were not at risk.
            now = int(narrow.sum())
            widen, narrowed_before = now >= narrowed_before, now
            tight = np.flatnonzero(fixed & ((high - low < 2 * disclosure.MIN_WIDTH) if widen else narrow))
            around = np.isin(index, index[np.isin(rel.child, tight) | np.isin(heads[index], tight)])
            members = np.concatenate([rel.child[around], heads[index[around]]])
            groups = np.concatenate([index[around], index[around]])
            last_resort = not keep_totals and attempt > FLIP_ROUNDS + 8
            allowed = mutable[members] & (counts_all[members] > 0) & (~kept[members] | last_resort)
            allowed[allowed] = ~hidden[members[allowed]] & ~frozen[members[allowed]]
            members, groups = members[allowed], groups[allowed]
            order = np.lexsort((counts_all[members], groups))
            members, groups = members[order], groups[order]
            first = np.ones(len(groups), dtype=bool)
            first[1:] = groups[1:] != groups[:-1]
            hidden[members[first]] = True
            hidden = twins.spread(hidden)
    return None


SEARCH_CHECKS = 400


def _search(
    figures: np.ndarray, hidden: np.ndarray, counts: np.ndarray, threshold: int, twins: Twins, pair: Pair
) -> tuple[np.ndarray, np.ndarray]:
    """A state beside `pair` that the pair attack narrows less, by changing only cells whose count is new
    (carried ones keep what the attacker already holds). Around the cells still narrowed: a hidden
    small cell shown as 0 (an 'x' says at least 1: a record that moved to another MK code makes two
    'x's of one carried total of 2), a shown cell hidden, a small 0 shown as the threshold and back
    (both are roundings of 1..4). Each move in halving batches, kept when fewer are narrowed;
    SEARCH_CHECKS attacks at most. Needed in sparse cubes, where one delivery changes much of a year
    (test city, one cut after 29 weeks: 4 of 5 such states passed after it, none before)."""
    n = len(counts)
    carried = np.zeros(n, dtype=bool)
    carried[pair.same] = True
    small = (counts > 0) & (counts < threshold)
    index, heads, _ = pair.relations.compact()
    moves: list[tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], Callable[..., tuple[np.ndarray, np.ndarray]]]] = [
        (lambda f, h: small & h, lambda m, f, h: (np.where(m, 0, f), h & ~m)),
        (lambda f, h: ~h, lambda m, f, h: (f, h | m)),
        (lambda f, h: small & ~h & (f == 0), lambda m, f, h: (np.where(m, threshold, f), h)),
        (lambda f, h: small & ~h & (f == threshold), lambda m, f, h: (np.where(m, 0, f), h)),
    ]
    narrowed, checks = pair.narrowed(figures, hidden, counts, threshold), 0
    improved = True
    while narrowed and improved and checks < SEARCH_CHECKS:
        improved = False
        for eligible, move in moves:
            tight = np.flatnonzero(pair.narrowed_cells(figures, hidden, counts, threshold))
            around = np.isin(index, index[np.isin(pair.relations.child, tight) | np.isin(heads[index], tight)])
            near = np.zeros(n, dtype=bool)
            members = np.concatenate([pair.relations.child[around], heads[index[around]]])
            near[members[members < n]] = True
            pending = [np.flatnonzero(near & ~carried & eligible(figures, hidden))]
            while pending and narrowed and checks < SEARCH_CHECKS:
                batch = pending.pop(0)
                if not len(batch):
                    continue
                mask = np.zeros(n, dtype=bool)
                mask[batch] = True
                f, h = move(twins.spread(mask) & ~carried, figures, hidden)
                checks += 1
                now = pair.narrowed(f, h, counts, threshold)
                if now < narrowed:
                    figures, hidden, narrowed, improved = f, h, now, True
                elif len(batch) > 1:
                    pending += [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
    return figures, hidden


REVEAL_CHECKS = 160
LP_CELLS = 4  # exact LPs (about 0.1 s each on a year of the demo) per kept total at most
# The LP's cost grows faster than its size: a year of the demo is about 2 000 cells and 2 500 simplex
# iterations (0.1 s); a city of 600 buurten 70 000 cells, where one LP ran minutes. Beyond these the
# total stays hidden (as the guard margin decided), which is safe. Cells: the program's, so a year with
# the previous publication's cells beside it. Iterations, not seconds: the same HiGHS build decides the
# same on a rebuild (scipy differs between Python 3.11 and 3.12 in uv.lock; one deployment has one).
LP_MAX_CELLS = 10_000
LP_MAX_ITERATIONS = 25_000


def _reveal(
    figures: np.ndarray,
    hidden: np.ndarray,
    fresh: np.ndarray,
    counts: np.ndarray,
    threshold: int,
    kept: np.ndarray,
    twins: Twins,
    rel: Relations,
    pair: Pair | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Show again, with their fresh figures, hidden cells of at least the threshold that the auditor
    lets go: kept totals first, then the largest; new or changed cells only (beside `pair`). Hiding is
    decided cell by cell while the attack narrows anything, so it hides more than it must. Cells are
    tried in halving batches, a batch kept when the attack (beside `pair` when given) narrows no more
    than before; REVEAL_CHECKS attacks at most (about 30 ms each for a year of the demo; two when all
    can be shown)."""

    small = (counts > 0) & (counts < threshold)
    anchored = np.zeros(len(counts), dtype=bool) if pair is None else pair.anchored(twins)
    changeable = small & ~anchored

    def attack(f: np.ndarray, h: np.ndarray) -> np.ndarray:
        if pair is not None:
            return pair.narrowed_cells(f, h, counts, threshold)[: len(counts)]
        low, high = propagate(*disclosure.rounding_box(f, h, threshold), rel)
        return small & (high - low < disclosure.MIN_WIDTH + GUARD_MARGIN)

    def count(f: np.ndarray, h: np.ndarray) -> int:
        if pair is None:
            return int(attack(f, h).sum())
        strict, guarded = pair.narrowed_counts(f, h, counts, threshold)
        return guarded if strict <= allowed_strict else len(hidden) + len(pair.counts) + 1

    def settled(f: np.ndarray, h: np.ndarray) -> bool:
        # GUARD_MARGIN covers what propagation may miss of the LP (its intervals contain the LP's), so
        # where it alone would hide a kept total, the exact LP of the few cells it holds decides.
        box = disclosure.rounding_box(f, h, threshold)
        low, high = box if pair is None else pair.boxes(*box)
        relations = rel if pair is None else pair.relations
        tight = np.flatnonzero(attack(f, h) if pair is None else pair.narrowed_cells(f, h, counts, threshold))
        if not 0 < len(tight) <= LP_CELLS or len(low) > LP_MAX_CELLS:
            return False
        if pair is not None and pair.narrowed(f, h, counts, threshold, 0):
            return False
        try:
            lp_low, lp_high = lp_bounds(low, high, relations, tight, LP_MAX_ITERATIONS)
        except ArithmeticError:  # LimitReached, or a program HiGHS could not solve: no bound to rest on
            return False
        return bool((lp_high - lp_low >= disclosure.MIN_WIDTH).all())

    # A carried 'x' stays: republishing an unchanged year must change nothing (incremental = rebuild).
    candidates = np.flatnonzero(hidden & (counts >= threshold) & ~anchored)
    if not len(candidates):
        return figures, hidden
    _, first = np.unique(twins.of_cell[candidates], return_index=True)
    candidates = candidates[first]
    candidates = candidates[np.argsort(-counts[candidates], kind="stable")]
    allowed_strict = 0 if pair is None else pair.narrowed_counts(figures, hidden, counts, threshold)[0]
    allowed = count(figures, hidden)
    # Kept totals (or a twin of one) first, then the rest, each in halving batches.
    kept = twins.spread(kept)
    pending, checks = [candidates[kept[candidates]], candidates[~kept[candidates]]], 0
    while pending and checks < REVEAL_CHECKS:
        batch = pending.pop(0)
        if not len(batch):
            continue
        mask = np.zeros(len(hidden), dtype=bool)
        mask[batch] = True
        mask = twins.spread(mask)
        h, f = hidden & ~mask, np.where(mask, fresh, figures)
        checks += 1
        if count(f, h) <= allowed:
            figures, hidden = f, h
            continue
        if len(batch) == 1 and kept[batch[0]]:
            # A kept total that frees a small count beside it (13 + 2 + 1 = 16 with the 2 shown as 5 and
            # the 1 hidden: both are at least 1, so each is 1..3) may stand when those small ones read 0
            # (a rounding of 1..4 that says nothing about being there).
            # Failing that, it stands when the exact LP leaves those small ones MIN_WIDTH (`settled`).
            shown, freed = (f, h), False
            for _ in range(2):
                zero = twins.spread(attack(f, h) & changeable)
                if not zero.any():
                    break
                f, h = np.where(zero, 0, f), h & ~zero
                checks += 1
                if count(f, h) <= allowed:
                    figures, hidden, freed = f, h, True
                    break
            if not freed and not allowed and settled(*shown):
                figures, hidden = shown
        elif len(batch) > 1:
            pending += [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
    return figures, hidden


def _coarsen(
    figures: np.ndarray,
    hidden: np.ndarray,
    counts: np.ndarray,
    threshold: int,
    kept: np.ndarray,
    twins: Twins,
    rel: Relations,
    pair: Pair | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(figures, hidden, coarse): kept totals that the protection still hides, shown instead as their
    marked coarser figure (disclosure.coarse_figure) where the attack (beside `pair`) then narrows no
    more than with them hidden; all at once, else in halving batches. A carried coarse figure stays:
    `Pair.carried` hides it (its box, the previous publication's, is all the attacker has of it), here
    it is shown again as it was."""
    coarse = np.zeros(len(counts), dtype=bool)
    if pair is not None:
        # With its coarse figure, not the fresh rounding a fallback of `share` may have left there:
        # '≈15' is no coarse figure, so it would read 13..17 beside the old '≈10'.
        coarse = hidden & pair.carried_coarse(twins)
        figures = np.where(coarse, disclosure.coarse_figure(counts, threshold), figures)
        hidden = hidden & ~coarse
    small = (counts > 0) & (counts < threshold)

    def narrowed(f: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[int, int]:
        if pair is not None:
            return pair.narrowed_counts(f, h, counts, threshold, c)
        low, high = propagate(*disclosure.rounding_box(f, h, threshold, c), rel)
        width = high - low
        return int((small & (width < disclosure.MIN_WIDTH)).sum()), int(
            (small & (width < disclosure.MIN_WIDTH + GUARD_MARGIN)).sum()
        )

    # Carried 'x's too: the pair attack holds what the old 'x' said (at least 1) beside the new box, and
    # a warehouse published before coarse figures existed gets its hidden totals shown this way by
    # one `buurtbeeld publiceer`, as a rebuild would show them.
    candidates = np.flatnonzero(twins.spread(hidden & kept & (counts >= threshold)) & hidden)
    if not len(candidates):
        return figures, hidden, coarse
    strict, guarded = narrowed(figures, hidden, coarse)
    pending, checks = [candidates], 0
    while pending and checks < REVEAL_CHECKS:
        batch = pending.pop(0)
        mask = np.zeros(len(counts), dtype=bool)
        mask[batch] = True
        mask = twins.spread(mask) & hidden
        f = np.where(mask, disclosure.coarse_figure(counts, threshold), figures)
        h, c = hidden & ~mask, coarse | mask
        checks += 1
        now = narrowed(f, h, c)
        if now[0] <= strict and now[1] <= guarded:
            figures, hidden, coarse = f, h, c
        elif len(batch) > 1:
            pending += [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
    return figures, hidden, coarse


@dataclass(frozen=True)
class Twins:
    """Cells made of the same weekly records (equal content keys: a quarter with incidents in one month
    only, a wijk with one buurt that has any): one unknown to an attacker who sees that the other parts
    are 0. Two different figures for it tell more than either, and an 'x' beside a shown 0 of it says
    'at least 1', so twins are always shown, flipped and hidden together."""

    of_cell: np.ndarray  # twin class of each cell

    @classmethod
    def of(cls, keys: np.ndarray, counts: np.ndarray) -> Twins:
        # With the count: two unrelated cells whose 40-bit key sums collide (about N^2 / 2^41 per cube)
        # must not share a figure.
        pairs = np.stack([np.asarray(keys, dtype=np.float64), np.asarray(counts, dtype=np.float64)], axis=1)
        return cls(np.unique(pairs, axis=0, return_inverse=True)[1].ravel())

    def spread(self, mask: np.ndarray) -> np.ndarray:
        """mask, set for every twin of a cell set in it."""
        return np.bincount(self.of_cell[mask], minlength=int(self.of_cell.max()) + 1)[self.of_cell] > 0


@dataclass(frozen=True)
class Pair:
    """A year's previous publication (shared design only) beside the new one, as one attacker who keeps
    both sees them. The strongest such attacker also knows which cells kept their count: those are one
    unknown with both figures' boxes; a changed or vanished cell's old count is an unknown of its own,
    bound by the previous relations. Unknowns 0..n-1 are the new cube's, n.. the old counts'."""

    same: np.ndarray  # positions in the new cube of cells with an unchanged count
    same_before: np.ndarray  # their positions in the previous cube
    before_only: np.ndarray  # positions in the previous cube of changed or vanished cells
    counts: np.ndarray  # previous counts (by previous position)
    figure: np.ndarray  # previous shared figures
    hidden: np.ndarray  # previous hidden cells, and coarse ones (`carried`)
    coarse: np.ndarray  # previous cells shown coarser (disclosure.COARSE)
    low: np.ndarray  # previous boxes
    high: np.ndarray
    relations: Relations  # the new cube's relations and the previous cube's, over all unknowns
    floor: np.ndarray  # per unknown: the width the attack must leave a true small count (`narrowed_cells`)

    @classmethod
    def of(cls, after: pd.DataFrame, rel_after: Relations, before: pd.DataFrame, threshold: int) -> Pair:
        """after, before: located design cubes (`located`), before with shared_count and status."""
        keys = ["period", *KEY[1:]]
        # In key order: where carried twins disagree (states published before `Twins`), which one a new
        # twin follows must not depend on the order the database returns rows in.
        before = before.sort_values(keys, kind="stable").reset_index(drop=True)
        at = pd.MultiIndex.from_frame(after[keys].astype(str)).get_indexer(
            pd.MultiIndex.from_frame(before[keys].astype(str))
        )
        old = before["count"].to_numpy().astype(np.int64)
        new = after["count"].to_numpy().astype(np.int64)
        unchanged = (at >= 0) & (new[np.maximum(at, 0)] == old)
        same_before, before_only = np.flatnonzero(unchanged), np.flatnonzero(~unchanged)
        same = at[unchanged]
        unknown = np.empty(len(before), dtype=np.int64)
        unknown[same_before] = same
        unknown[before_only] = len(after) + np.arange(len(before_only))
        rel_before = cube_relations(before)
        offset = int(rel_after.relation.max()) + 1 if len(rel_after.relation) else 0
        relations = Relations(
            np.concatenate([rel_after.parent, unknown[rel_before.parent]]),
            np.concatenate([rel_after.child, unknown[rel_before.child]]),
            np.concatenate([rel_after.relation, rel_before.relation + offset]),
            rel_after.partial | frozenset(p + offset for p in rel_before.partial),
        )
        hidden, coarse = _hidden_coarse(before)
        figure = before["shared_count"].fillna(0).to_numpy().astype(np.int64)
        low, high = disclosure.rounding_box(figure, hidden, threshold, coarse)
        # An unchanged count that the previous publication already left narrower than the guard (the
        # exact LP allowed it: `_reveal`) only has to stay as wide as it was: the attacker learns nothing
        # new of it, and without this every later state would be refused for what it cannot change.
        was_low, was_high = propagate(low, high, rel_before)
        floor = np.full(len(after) + len(before_only), float(disclosure.MIN_WIDTH + GUARD_MARGIN))
        floor[same] = np.clip(was_high[same_before] - was_low[same_before], disclosure.MIN_WIDTH, floor[same])
        return cls(same, same_before, before_only, old, figure, hidden | coarse, coarse, low, high, relations, floor)

    def carried(self, fresh: np.ndarray, twins: Twins, hide_new: bool | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(figures, hidden) carried over: a cell whose count did not change keeps its previous figure
        or hiding, and so does each of its twins (a new quarter made of one carried month). Every other
        cell has its `fresh` figure, hidden where `hide_new`. Hiding them all adds nothing to the
        previous publication but what an 'x' says (at least 1), and a changed total has a hidden
        changed part to take up the slack unless that part fell to 0 and left the cube. So the state
        is still checked (`narrowed`)."""
        figures, hidden = fresh.copy(), np.broadcast_to(np.asarray(hide_new, dtype=bool), fresh.shape).copy()
        anchor = np.full(int(twins.of_cell.max()) + 1, -1)
        anchor[twins.of_cell[self.same]] = np.arange(len(self.same))
        inherit = anchor[twins.of_cell] >= 0
        before = self.same_before[anchor[twins.of_cell[inherit]]]
        figures[inherit] = self.figure[before]
        hidden[inherit] = self.hidden[before]
        figures[self.same], hidden[self.same] = self.figure[self.same_before], self.hidden[self.same_before]
        return figures, hidden

    def carried_coarse(self, twins: Twins) -> np.ndarray:
        """Cells whose unchanged count, or a twin's, the previous publication showed coarser."""
        mask = np.zeros(len(twins.of_cell), dtype=bool)
        mask[self.same[self.coarse[self.same_before]]] = True
        return twins.spread(mask)

    def anchored(self, twins: Twins) -> np.ndarray:
        """Cells whose count, or a twin's, the previous publication already showed or hid."""
        mask = np.zeros(len(twins.of_cell), dtype=bool)
        mask[self.same] = True
        return twins.spread(mask)

    def narrowed(
        self, figures: np.ndarray, hidden: np.ndarray, counts: np.ndarray, threshold: int, margin: int = GUARD_MARGIN
    ) -> int:
        """How many true small counts the pair attack narrows below disclosure.MIN_WIDTH + margin (or below
        what the previous publication already left of an unchanged one, `floor`)."""
        return int(self.narrowed_cells(figures, hidden, counts, threshold, margin).sum())

    def narrowed_counts(
        self,
        figures: np.ndarray,
        hidden: np.ndarray,
        counts: np.ndarray,
        threshold: int,
        coarse: np.ndarray | None = None,
    ) -> tuple[int, int]:
        """(below MIN_WIDTH, below MIN_WIDTH + GUARD_MARGIN) of `narrowed`, from one attack."""
        small, width = self._widths(figures, hidden, counts, threshold, coarse)
        strict = small & (width < np.minimum(self.floor, disclosure.MIN_WIDTH))
        guarded = small & (width < np.minimum(self.floor, disclosure.MIN_WIDTH + GUARD_MARGIN))
        return int(strict.sum()), int(guarded.sum())

    def narrowed_cells(
        self,
        figures: np.ndarray,
        hidden: np.ndarray,
        counts: np.ndarray,
        threshold: int,
        margin: int = GUARD_MARGIN,
        coarse: np.ndarray | None = None,
    ) -> np.ndarray:
        """The unknowns (new cells, then old counts) whose true small count the pair attack narrows."""
        small, width = self._widths(figures, hidden, counts, threshold, coarse)
        return small & (width < np.minimum(self.floor, disclosure.MIN_WIDTH + margin))

    def _widths(
        self,
        figures: np.ndarray,
        hidden: np.ndarray,
        counts: np.ndarray,
        threshold: int,
        coarse: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per unknown: whether its true count is small, and the width of the pair attack's interval."""
        box = disclosure.rounding_box(figures, hidden, threshold, coarse)
        low, high = propagate(*self.boxes(*box), self.relations)
        every = np.concatenate([counts, self.counts[self.before_only]])
        return (every > 0) & (every < threshold), high - low

    def boxes(self, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The new cube's boxes, narrowed where a count is unchanged, followed by the old counts'."""
        low, high = low.copy(), high.copy()
        low[self.same] = np.maximum(low[self.same], self.low[self.same_before])
        high[self.same] = np.minimum(high[self.same], self.high[self.same_before])
        return np.concatenate([low, self.low[self.before_only]]), np.concatenate([high, self.high[self.before_only]])


def located(cells: pd.DataFrame, hierarchy: pd.DataFrame) -> pd.DataFrame:
    """The shared design of published cells, each buurt row with its wijk and stadsdeel (what
    `cube_relations` joins on)."""
    hier = full_hierarchy(hierarchy)[0].set_index("buurt_code")
    cube = cells[shared_design(cells)].reset_index(drop=True).copy()
    buurt = cube["area_level"] == "buurt"
    cube["wijk"] = np.where(buurt, cube["area_code"].map(hier["wijk_code"]), None)
    cube["stadsdeel"] = np.where(buurt, cube["area_code"].map(hier["stadsdeel"]), None)
    return cube


def carried_over(previous: pd.DataFrame, year: int, threshold: int) -> bool:
    """Whether a year's previous publication can stand beside the new one: the same buurt indeling
    (codes compare) and the same threshold (its figures are multiples of it; otherwise the boxes
    would be read with the wrong base). Otherwise the new publication starts afresh."""
    shown = previous["shared_count"].dropna()
    return bool((previous["indeling_year"] == year).all() and (shown % threshold == 0).all())


# --- I/O ---------------------------------------------------------------------------------------------


def publish(
    conn: Connection,
    gemeente: str,
    threshold: int,
    batch_id: int | None,
    weeks: Iterable[tuple[int, int]] | None = None,
    *,
    secret: bytes,
) -> dict[str, Any]:
    """Recompute the published cells of every ISO year that `weeks` (all weeks when None) lie in.

    A month, quarter or year is published once all its weeks lie within the deliveries; until then
    only its weeks are. Periods nest within an ISO year (a week lies in the month of its Thursday, as in
    its ISO year): a month, quarter or year cell is always the sum of all its weeks, never of the part
    a load touched, and a period that stops being complete loses its cells. Years whose completeness a
    load changed (the first or latest delivered week moved across them) are recomputed too, so loading
    in pieces gives the cube of loading at once. Of a year, a load recomputes only the parts that its
    weeks and the periods it completed are tied to (`stale_parts`); without `weeks`, whole years."""
    year = published.latest_year(conn, gemeente)
    delivered = published.all_weeks(conn, gemeente)
    before = published.published_week_range(conn, gemeente)
    if year is None or not delivered:
        if before is not None:
            published.delete_gemeente(conn, gemeente)
        return {}
    first, latest = min(delivered), max(delivered)
    gaps = deliveries.gap_weeks(conn, gemeente)
    if weeks is None:
        years = {y for y, _ in delivered}
        for gone in set(published.years(conn, gemeente)) - years:
            published.replace_year(conn, gemeente, gone, pd.DataFrame(), batch_id)
    else:
        years = {y for y, _ in weeks} | _years_whose_completeness_moved(before, (first, latest))

    hierarchy = published.hierarchy(conn, gemeente, year)
    successors = published.primary_successors(conn, year)
    written = hidden = 0
    months_done: list[str] = []
    # Each ISO year's cube is computed and written on its own: memory stays that of one year.
    for iso_year in sorted(years):
        label = str(iso_year)
        in_year = sorted(w for w in delivered if w[0] == iso_year)
        # A month, quarter or year is published once all its weeks lie within the deliveries.
        done = _complete_periods(iso_year, (first, latest), gaps)
        months = [m for m in months_of_year(label) if m in done]
        periods = {
            "week": [week_label(y, w) for y, w in in_year],
            "month": months,
            "quarter": [q for q in quarters_of_year(label) if q in done],
            "year": [label] if label in done else [],
        }
        parts = None
        if weeks is not None and before is not None and published.indeling_of_year(conn, gemeente, iso_year) == year:
            touched = {w for w in weeks if w[0] == iso_year}
            # `before` without the gaps: a month a gap made incomplete must lose its cells (whole year).
            parts = stale_parts(iso_year, touched, _complete_periods(iso_year, before), done)
        if parts == []:
            continue
        if parts is not None:
            periods = {kind: [p for p in labels if _part_of(p, parts)] for kind, labels in periods.items()}
            in_year = [w for w in in_year if week_label(*w) in periods["week"]]
        counts = to_indeling(published.week_counts(conn, gemeente, in_year), successors, hierarchy, year)
        counts = with_group_cells(with_record_keys(counts, gemeente, secret))
        previous = published.shared_state(conn, gemeente, iso_year, None if parts is None else _periods_in(parts))
        if not carried_over(previous, year, threshold):
            previous = None
        cells = year_cube(counts, hierarchy, gemeente, threshold, periods, secret, previous)
        cells = cells.assign(indeling_year=year)
        if parts is None:
            written += published.replace_year(conn, gemeente, iso_year, cells, batch_id)
        else:
            written += published.replace_periods(conn, gemeente, _periods_in(parts), cells, batch_id)
        hidden += int((cells["status"] == disclosure.SECONDARY).sum())
        months_done += [m for m in months if parts is None or m in periods["month"]]
        del counts, cells
        release_memory()  # this year's frames, before the next year's
    return {"cellen": written, "afgeschermd": hidden, "maanden": months_done}


def _complete_periods(
    iso_year: int, bounds: tuple[tuple[int, int], tuple[int, int]], gaps: set[tuple[int, int]] = frozenset()
) -> set[str]:
    """The months, quarters and year of an ISO year whose weeks all lie within `bounds` (first and
    latest delivered week) and none of which is a missing delivery (`gaps`, the delivery register):
    the periods a cube with those bounds publishes."""
    first, latest = bounds
    label = str(iso_year)
    out = set()
    for period in [*months_of_year(label), *quarters_of_year(label), label]:
        months = months_of(period)
        within = min(weeks_of_month(months[0])) >= first and max(weeks_of_month(months[-1])) <= latest
        if within and not any(w in gaps for m in months for w in weeks_of_month(m)):
            out.add(period)
    return out


def stale_parts(iso_year: int, touched: set[tuple[int, int]], was: set[str], now: set[str]) -> list[str] | None:
    """The parts of an ISO year's cube that a load must recompute; None for the whole year.

    The relations the auditor follows tie a week to its month only when the month is published
    (complete), a month to its quarter and a quarter to the year likewise: a year's cube falls apart
    into independent parts, each the largest complete period around a week (or the week alone when
    its month is not complete). Protecting a part with everything it is tied to is protecting the
    year, so a weekly delivery recomputes and rewrites the parts of the weeks it touched and of the
    periods it completed, not the year. A period that stopped being complete, or a complete year,
    makes the whole year the part."""
    label = str(iso_year)
    if was - now or label in now:
        return None
    weeks = set(touched) | {w for p in now - was for m in months_of(p) for w in weeks_of_month(m)}
    parts = set()
    for week in weeks:
        if week[0] != iso_year:
            continue
        text = week_label(*week)
        quarter, month = containing(text, "quarter"), containing(text, "month")
        parts.add(quarter if quarter in now else month if month in now else text)
    return sorted(parts)


def _part_of(period: str, parts: list[str]) -> bool:
    """Whether a period lies in one of the parts (a week, a month or a quarter of one ISO year)."""
    if period in parts:
        return True
    kind = kind_of(period)
    if kind == "week":
        return containing(period, "month") in parts or containing(period, "quarter") in parts
    return kind == "month" and containing(period, "quarter") in parts


def _periods_in(parts: list[str]) -> dict[str, list[str]]:
    """Every period label within the parts, by period type, published or not (a week whose counts a
    revision removed still has old cells to delete)."""
    out: dict[str, set[str]] = {"week": set(), "month": set(), "quarter": set()}
    for part in parts:
        kind = kind_of(part)
        out[kind].add(part)
        if kind != "week":
            out["month"] |= set(months_of(part))
            out["week"] |= {week_label(*w) for m in months_of(part) for w in weeks_of_month(m)}
    return {kind: sorted(labels) for kind, labels in out.items() if labels}


def _years_whose_completeness_moved(
    before: tuple[tuple[int, int], tuple[int, int]] | None, now: tuple[tuple[int, int], tuple[int, int]]
) -> set[int]:
    """ISO years between the old and the new first delivered week, and between the old and new latest:
    their months may have become complete (or stopped being so) without a week of theirs being touched."""
    if before is None:
        return set()
    years: set[int] = set()
    for old, new in zip(before, now, strict=True):
        if old != new:
            low, high = sorted((old[0], new[0]))
            years |= set(range(low, high + 1))
    return years


def republish(settings: Settings, gemeenten: Iterable[str] | None = None, run_by: str = "cli") -> dict[str, Any]:
    """Recompute every published cell of the gemeenten (default: all with weekly counts).

    Needed after a schema upgrade that adds cells (MK level) or a new suppression threshold. It is
    recorded as a batch of its own, under the load lock: dashboards key their caches by the latest
    batch, so they drop what they cached from the old cube. Stored monthly analyses are regenerated."""
    from warehouse.db import load_transaction
    from warehouse.models import LoadBatch, WeeklyCount

    with load_transaction(settings.warehouse_url) as conn:
        known = set(conn.execute(select(WeeklyCount.gemeente_code).distinct()).scalars().all())
        wanted = sorted(set(gemeenten) if gemeenten else known)
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise LoadError(f"Geen weektellingen voor {', '.join(unknown)}: er is niets opnieuw gepubliceerd.")
        now = datetime.now(UTC)
        batch_id = conn.execute(
            insert(LoadBatch)
            .values(
                kind="publicatie",
                file_name="herpublicatie",
                sha256="0" * 64,
                parameters={"gemeenten": wanted, "drempel": settings.suppression_threshold},
                status="loaded",
                run_by=f"{run_by} ({getpass.getuser()}@{socket.gethostname()})",
                started_at=now,
            )
            .returning(LoadBatch.id)
        ).scalar_one()
        done = {
            g: publish(conn, g, settings.suppression_threshold, batch_id, secret=settings.cell_key()) for g in wanted
        }
        summary = {g: {k: v for k, v in r.items() if k != "maanden"} for g, r in done.items()}
        conn.execute(
            update(LoadBatch)
            .where(LoadBatch.id == batch_id)
            .values(summary=summary, finished_at=datetime.now(UTC), message=f"{len(wanted)} gemeente(n) herpubliceerd")
        )
    # Stored analyses were written under the old cube (and perhaps an old threshold): regenerate them
    # the way a load does, after the commit (the older versions stay, flagged superseded).
    from etl.analyses import refresh_analyses

    refreshed = refresh_analyses(settings, dict.fromkeys(wanted), run_by).get("analyses_vernieuwd", {})
    return {"batch_id": batch_id, "gemeenten": summary, "analyses": refreshed}


# --- audit -------------------------------------------------------------------------------------------


def cube_relations(cells: pd.DataFrame) -> Relations:
    """Every additive relation among the cells of one ISO year's cube (all period types): area and
    category within each period (`links`) and time (week -> month -> quarter -> year) within each area
    and category. cells: period_type, period, area_level, area_code, group_code, mk_code, wijk,
    stadsdeel (the last two for buurt rows), count (which tells the relations that hold only as
    'at least': a group of which part came without MK codes)."""
    cells = cells.reset_index(drop=True)
    parent, child, relation = links(cells)
    parents, children, relations = [parent], [child], [relation]
    next_id = int(relation.max()) + 1 if len(relation) else 0
    position = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells[["period", *KEY[1:]]]))
    for finer, coarser in (("week", "month"), ("month", "quarter"), ("quarter", "year")):
        parts = cells[cells["period_type"] == finer]
        if parts.empty:
            continue
        target = _per_period(parts["period"], lambda p, kind=coarser: containing(p, kind))
        keys = pd.MultiIndex.from_arrays([target, *[parts[c] for c in KEY[1:]]])
        at = position.reindex(keys).to_numpy()
        found = ~np.isnan(at)
        heads = at[found].astype(np.int64)
        parents.append(heads)
        children.append(parts.index.to_numpy()[found])
        relations.append(heads + next_id)
        next_id += len(cells)
    parent, child, relation = np.concatenate(parents), np.concatenate(children), np.concatenate(relations)
    # A group delivered partly without MK codes (counts per category) is more than its MK cells.
    counts = cells["count"].to_numpy()
    ids, index = np.unique(relation, return_inverse=True)
    sums = np.bincount(index, weights=counts[child], minlength=len(ids))
    heads = np.zeros(len(ids), dtype=np.int64)
    heads[index] = parent
    partial = frozenset(ids[sums != counts[heads]].tolist())
    return Relations(parent, child, relation, partial)


@dataclass(frozen=True)
class YearAudit:
    """One ISO year's published cube under attack: its cells (with the interval found for each) and
    the true small counts the attacker pins or narrows."""

    cells: pd.DataFrame  # the design's cells: ..., count, shared_count, status, low, high
    findings: list[Finding]


def _hidden_coarse(cube: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per published cell: hidden ('x'), and shown coarser (disclosure.COARSE)."""
    status = cube["status"].to_numpy()
    return status == disclosure.SECONDARY, status == disclosure.COARSE


def _published_box(cube: pd.DataFrame, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """What each published figure of `cube` tells an attacker (disclosure.rounding_box)."""
    hidden, coarse = _hidden_coarse(cube)
    return disclosure.rounding_box(cube["shared_count"].fillna(0).to_numpy(), hidden, threshold, coarse)


def audit_year(cells: pd.DataFrame, hierarchy: pd.DataFrame, threshold: int, exact: bool = False) -> YearAudit:
    """Attack what the gedeeld audience sees of one ISO year of a published cube: the cells of the
    shared design with their shared figures (a hidden one: any count), every relation among them.
    Interval propagation gives each cell's interval; `exact` also solves the attacker's linear program
    for every true small count (buurtbeeld.audit.lp_narrowed), and the findings are then the LP's.
    Cells outside the design are offered to nobody outside the analysts."""
    cube = located(cells, hierarchy)
    box = _published_box(cube, threshold)
    rel = cube_relations(cube)
    low, high = propagate(*box, rel)
    counts = cube["count"].to_numpy()
    if exact:
        small = np.flatnonzero((counts > 0) & (counts < threshold))
        narrow, lp_low, lp_high = lp_narrowed(*box, rel, small, counts, disclosure.MIN_WIDTH)
        low[narrow], high[narrow] = lp_low, lp_high
        found = [Finding(int(i), int(counts[i]), float(low[i]), float(high[i])) for i in narrow]
    else:
        everyone = np.ones(len(cube), dtype=bool)
        found = findings(counts, everyone, low, high, threshold, disclosure.MIN_WIDTH)
    return YearAudit(cube.drop(columns=["wijk", "stadsdeel"]).assign(low=low, high=high), found)


def audit_pair(before: pd.DataFrame, after: pd.DataFrame, hierarchy: pd.DataFrame, threshold: int) -> list[Finding]:
    """Attack two consecutive publications of one ISO year together (`Pair`: the attacker keeps both and
    knows which counts did not change). A finding's cell is a position among the new publication's
    design cells (`located`) or, from there on, among the old counts of cells that changed."""
    new, old = located(after, hierarchy), located(before, hierarchy)
    pair = Pair.of(new, cube_relations(new), old, threshold)
    box = _published_box(new, threshold)
    low, high = propagate(*pair.boxes(*box), pair.relations)
    counts = np.concatenate([new["count"].to_numpy(), pair.counts[pair.before_only]])
    return findings(counts, np.ones(len(counts), dtype=bool), low, high, threshold, disclosure.MIN_WIDTH)


def information_loss(cells: pd.DataFrame) -> pd.DataFrame:
    """Per area level and period type (and 'alle' over everything), what the gedeeld audience loses.
    Of the design's cells with a true count of at least 5: the share not shown or shown more than 2
    off; of its cells of at least 20: the share not shown; and of all cells of at least 20, those
    outside the design (weekly buurt and wijk figures, MK codes of buurten and wijken) included. A
    figure shown coarser (≈10) counts as lost among the cells of 5 or more, not as hidden."""
    design = shared_design(cells)
    hidden = (cells["status"] == disclosure.SECONDARY).to_numpy()
    # A coarser figure is not one within 2, however close it came: its reader knows only 5..14.
    changed = ((cells["shared_count"] - cells["count"]).abs() > 2).to_numpy() | (
        cells["status"] == disclosure.COARSE
    ).to_numpy()
    frame = cells[["area_level", "period_type", "count"]].assign(design=design, hidden=hidden, lost=hidden | changed)

    def row(level: str, kind: str, g: pd.DataFrame) -> dict[str, Any]:
        five, twenty = g[g["design"] & (g["count"] >= 5)], g[g["design"] & (g["count"] >= 20)]
        everything = g[g["count"] >= 20]
        return {
            "area_level": level,
            "period_type": kind,
            "cells_ge5": len(five),
            "lost_ge5": float(five["lost"].mean()) if len(five) else 0.0,
            "cells_ge20": len(twenty),
            "hidden_ge20": float(twenty["hidden"].mean()) if len(twenty) else 0.0,
            "all_ge20": len(everything),
            "hidden_all_ge20": float(everything["hidden"].mean()) if len(everything) else 0.0,
        }

    rows = [row(level, kind, g) for (level, kind), g in frame.groupby(["area_level", "period_type"], sort=True)]
    return pd.DataFrame([*rows, row("alle", "alle", frame)])


def audit_published(
    settings: Settings, gemeenten: Iterable[str] | None = None, exact: bool = False
) -> dict[str, dict[str, Any]]:
    """Attack what the gedeeld audience sees of each gemeente's published cube (default: all), year by
    year; changes nothing. Per gemeente: the hidden true small counts, those the attacker pins to one
    value, those narrowed below 4 wide, per year, and the information-loss table."""
    from warehouse.db import get_engine

    out: dict[str, dict[str, Any]] = {}
    with get_engine(settings.warehouse_url).connect() as conn:
        wanted = sorted(gemeenten) if gemeenten else published.gemeenten_published(conn)
        for gemeente in wanted:
            year = published.latest_year(conn, gemeente)
            cells = published.cells(conn, gemeente)
            if year is None or cells.empty:
                raise LoadError(f"Niets gepubliceerd voor {gemeente}: er valt niets te controleren.")
            hierarchy = published.hierarchy(conn, gemeente, year)
            t = settings.suppression_threshold
            years = {}
            for iso_year, part in cells.groupby(cells["period"].str[:4]):
                result = audit_year(part, hierarchy, t, exact)
                design = result.cells
                years[iso_year] = {
                    "klein": int(design["count"].between(1, t - 1).sum()),
                    "exact": sum(f.pinned for f in result.findings),
                    "nauw": len(result.findings),
                }
            kept = kept_totals(cells, t) & shared_design(cells)
            out[gemeente] = {
                "jaren": years,
                "verlies": information_loss(cells),
                "totalen_verborgen": int((kept & (cells["status"] == disclosure.SECONDARY).to_numpy()).sum()),
                "totalen_grover": int((kept & (cells["status"] == disclosure.COARSE).to_numpy()).sum()),
                "totalen": int(kept.sum()),
            }
    return out
