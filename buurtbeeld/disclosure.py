"""Disclosure control: the one module every number passes through before a user sees or downloads it.

The rule set (DESIGN.md section 4), in the order it is applied:

1. **Primary suppression.** A count 1 .. threshold-1 is hidden and shown as "<5" (threshold from
   settings; 5 is the StraatKubus rule the Dutch DPA accepted). Zero is shown as 0.
2. **Complementary (secondary) suppression.** A hidden cell must not be recoverable from a shown parent
   total and its shown siblings. The published cube holds exact additive relations: buurt -> wijk ->
   gemeente, buurt -> stadsdeel -> gemeente, and category group -> all categories within each area.
   For every shown parent we look at its hidden children. They are *derivable* when there is one of
   them, or when all are primary and their sum pins each one down (sum == k, or sum == k·(t-1): every
   cell is then 1, or every cell is t-1). A derivable set gets one more hidden child: the smallest
   shown non-zero sibling (the cheapest loss of information, as in CBS/Argus "minimum value"
   heuristics); without such a sibling the parent itself is hidden. This repeats until nothing is
   derivable. Secondary cells are shown as "x" (the CBS sign for "geheim"), never as "<5" — they are
   not small, and saying so would be false.
3. **Periods.** A month is published as the union of its ISO weeks (a week belongs to the month of its
   Thursday, as ISO does for years), so months nest weeks exactly; a month whose hidden weeks are
   derivable from it is hidden before rule 2 runs on the month cube. Sliding aggregates (4-week
   average, moving averages, "last 12 months") are shown only when every component is shown, because
   two overlapping windows differ by their edge periods and any partial rule leaks through that
   difference.
4. **Rates** (per 1 000 inwoners, shares) of a hidden count are hidden as well.

**Audiences.** The rules above protect the *gedeeld* audience: everything that leaves the gemeente's
analysts (stadsdeel managers, documents for distribution, an open dashboard). The *intern* audience (the
analysts and functioneel beheer, entitled to the police's buurt-level figures) reads the same cells with
their exact counts, every screen and export marked "vertrouwelijk — niet delen". Settings map roles to
audiences; `for_audience` is the one switch every read of counts passes.

Everything here is a pure function on numpy/pandas values, so the load step that publishes the cube,
the dashboard, the exports and the monthly analyses all use the same code.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

SHOWN, PRIMARY, SECONDARY = 0, 1, 2
STATUS_NAMES = {SHOWN: "shown", PRIMARY: "primary", SECONDARY: "secondary"}
STATUS_CODES = {name: code for code, name in STATUS_NAMES.items()}
SECONDARY_SIGN = "x"
INTERN, GEDEELD = "intern", "gedeeld"
CONFIDENTIAL = "Vertrouwelijk — niet delen"


def small_label(threshold: int) -> str:
    return f"<{threshold}"


def legend(threshold: int, audience: str = GEDEELD) -> str:
    """The Dutch sentence that every table, chart and export carries."""
    if audience == INTERN:
        return f"{CONFIDENTIAL}: exacte aantallen voor de analisten van de gemeente, niet voor verspreiding."
    return (
        f"Aantallen 1 t/m {threshold - 1} worden getoond als '{small_label(threshold)}'; "
        f"'{SECONDARY_SIGN}' is afgeschermd zodat een klein aantal niet uit totalen is terug te rekenen."
    )


def for_audience(frame: pd.DataFrame, audience: str) -> pd.DataFrame:
    """Cells (count, status) as `audience` may read them: exact and all shown for intern; for gedeeld
    (and anything not known to be intern) hidden counts become NaN, their status kept beside them."""
    if audience == INTERN:
        frame["status"] = np.zeros(len(frame), dtype=np.int8)
        return frame
    frame["count"] = masked(frame["count"], frame["status"])
    return frame


def audience_line(audience: str, threshold: int) -> str:
    """The one short line every page and export carries: whom these figures are for."""
    if audience == INTERN:
        return f"Weergave intern: exacte aantallen. {CONFIDENTIAL}."
    return f"Weergave gedeeld: aantallen 1 t/m {threshold - 1} zijn afgeschermd."


def primary_status(counts: np.ndarray | pd.Series, threshold: int) -> np.ndarray:
    c = np.asarray(counts)
    return np.where((c > 0) & (c < threshold), PRIMARY, SHOWN).astype(np.int8)


def derivable_relations(
    counts: np.ndarray, status: np.ndarray, parent: np.ndarray, child: np.ndarray, relation: np.ndarray, threshold: int
) -> np.ndarray:
    """Boolean per relation id: its parent is shown and its hidden children can be recovered from it."""
    n = int(relation.max()) + 1 if len(relation) else 0
    hidden = status[child] != SHOWN
    k = np.bincount(relation, weights=hidden, minlength=n)
    total = np.bincount(relation, weights=np.where(hidden, counts[child], 0), minlength=n)
    not_primary = np.bincount(relation, weights=hidden & (status[child] != PRIMARY), minlength=n)
    exact = (not_primary == 0) & ((total == k) | (total == k * (threshold - 1)))
    parent_of = np.zeros(n, dtype=np.int64)
    parent_of[relation] = parent
    present = np.bincount(relation, minlength=n) > 0
    return present & (status[parent_of] == SHOWN) & (k > 0) & ((k == 1) | exact)


def protect(
    counts: np.ndarray,
    parent: np.ndarray,
    child: np.ndarray,
    threshold: int,
    forced: np.ndarray | None = None,
    relation: np.ndarray | None = None,
) -> np.ndarray:
    """Status per cell after primary and complementary suppression.

    counts: one count per cell; link i says child[i] is part of parent[i]; relation[i] names the
    additive relation the link belongs to (a parent may be the sum of several different sets of
    children: its wijken, and also its category groups — each set is checked on its own). Default:
    one relation per parent. forced: cells that must be hidden (SECONDARY unless primary)."""
    counts = np.asarray(counts, dtype=np.int64)
    status = primary_status(counts, threshold)
    if forced is not None:
        status[(np.asarray(forced, dtype=bool)) & (status == SHOWN)] = SECONDARY
    parent = np.asarray(parent, dtype=np.int64)
    child = np.asarray(child, dtype=np.int64)
    relation = parent if relation is None else np.asarray(relation, dtype=np.int64)
    for _ in range(100):
        bad = derivable_relations(counts, status, parent, child, relation, threshold)
        if not bad.any():
            return status
        links = bad[relation]
        r, p, c = relation[links], parent[links], child[links]
        candidate = (status[c] == SHOWN) & (counts[c] > 0)
        # Smallest shown non-zero sibling per derivable relation; ties broken by cell index (deterministic).
        r_c, c_c = r[candidate], c[candidate]
        order = np.lexsort((c_c, counts[c_c], r_c))
        r_sorted, c_sorted = r_c[order], c_c[order]
        first = np.ones(len(r_sorted), dtype=bool)
        first[1:] = r_sorted[1:] != r_sorted[:-1]
        status[c_sorted[first]] = SECONDARY
        without = np.setdiff1d(np.unique(r), r_sorted[first])
        parent_of = dict(zip(r.tolist(), p.tolist(), strict=False))
        status[[parent_of[x] for x in without]] = SECONDARY
    raise RuntimeError("complementary suppression did not converge")  # pragma: no cover - bounded by n


def derivable_from_components(keys: pd.DataFrame, counts: pd.Series, status: pd.Series, threshold: int) -> pd.Series:
    """Per aggregate (rows of `keys` grouped): can a hidden component be recovered from its total?

    Used for a month against its weeks and for a year against its months (fixed, nested periods)."""
    frame = keys.copy()
    frame["_hidden"] = status.to_numpy() != SHOWN
    frame["_hsum"] = np.where(frame["_hidden"], counts.to_numpy(), 0)
    frame["_nonprim"] = frame["_hidden"] & (status.to_numpy() != PRIMARY)
    g = frame.groupby(list(keys.columns), sort=False)
    k, s, np_ = g["_hidden"].sum(), g["_hsum"].sum(), g["_nonprim"].sum()
    return (k > 0) & ((k == 1) | ((np_ == 0) & ((s == k) | (s == k * (threshold - 1)))))


def window_shown(status_components: Iterable[int]) -> bool:
    """A sliding aggregate is shown only when all its components are (see rule 3)."""
    return all(s == SHOWN for s in status_components)


def window_sum(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum of `count` over periods per `by` group, shown only when every period is shown (rule 3).

    frame holds one row per period and group with `count` and `status`; missing periods count as zero
    (zero cells are not stored), so a group needs no row per period to be complete."""
    g = frame.groupby(by, dropna=False)
    out = pd.DataFrame(
        {"count": g["count"].sum(min_count=0), "_hidden": g["status"].apply(lambda s: (s != SHOWN).any())}
    )
    out["status"] = np.where(out["_hidden"], SECONDARY, SHOWN).astype(np.int8)
    out["count"] = out["count"].where(out["status"] == SHOWN)
    return out.drop(columns="_hidden").reset_index()


def rolling_shown_mean(values: pd.Series, status: pd.Series, window: int) -> pd.Series:
    """Moving average of a series, NaN wherever any period in the window is hidden (rule 3)."""
    hidden = pd.Series(np.asarray(status) != SHOWN, index=values.index).astype(float)
    mean = values.where(~hidden.astype(bool), 0.0).rolling(window).mean()
    return mean.where(hidden.rolling(window).sum() == 0)


def masked(counts: pd.Series, status: pd.Series) -> pd.Series:
    """Counts as floats with NaN where hidden: what charts may plot."""
    return counts.astype("float64").where(status.to_numpy() == SHOWN)


def masked_rate(counts: pd.Series, status: pd.Series, base: pd.Series, per: float = 1000.0) -> pd.Series:
    """count / base × per, hidden where the count is hidden or the base is unknown or zero."""
    b = base.astype("float64")
    rate = counts.astype("float64") / b.where(b > 0) * per
    return rate.where(status.to_numpy() == SHOWN)


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """Dutch number formatting: 1.234,5."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def label(count: float | int | None, status: int, threshold: int) -> str:
    """What a user reads for one count cell."""
    if status == PRIMARY:
        return small_label(threshold)
    if status == SECONDARY:
        return SECONDARY_SIGN
    return format_number(count)


def rate_label(rate: float | None, status: int, threshold: int, decimals: int = 1) -> str:
    if status == PRIMARY:
        return small_label(threshold)
    if status == SECONDARY:
        return SECONDARY_SIGN
    return format_number(rate, decimals)


def labels(counts: pd.Series, status: pd.Series, threshold: int) -> pd.Series:
    return pd.Series(
        [label(c, int(s), threshold) for c, s in zip(counts, status, strict=True)], index=counts.index, dtype=object
    )


def expected_shown(value: float | None, threshold: int) -> float | None:
    """A model's expected count as it may be shown: rounded to whole cases, hidden below the threshold.

    An expected count pools at least six earlier months (buurtbeeld.notable). Rounded to whole cases
    it pins their sum down only to a range of six or more values, wider than the 1..threshold-1 a
    hidden month could hold, so it cannot reveal one; below the threshold it is not shown at all."""
    if value is None or not np.isfinite(value) or value < threshold - 0.5:
        return None
    return float(round(value))


def expected_label(value: float | None, threshold: int) -> str:
    shown = expected_shown(value, threshold)
    return small_label(threshold) if shown is None else format_number(shown)
