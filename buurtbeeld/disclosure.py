"""Disclosure control: the one module every count passes through before a user sees or downloads it.

**Audiences.** The *intern* audience (the gemeente's analysts and functioneel beheer, entitled to the
police's buurt-level figures) reads exact counts, every screen and export marked "Vertrouwelijk — niet
delen". The *gedeeld* audience (stadsdeel managers, documents for distribution, an open dashboard)
reads *shared figures* only. Settings map roles to audiences; `for_audience` is the one switch every
read of counts passes.

**Shared figures, and why this method.** The published relations are dense: buurt -> wijk ->
stadsdeel -> gemeente, MK code -> group -> all categories, week -> month -> quarter -> year, and most
buurt cells are 1 to 4. Cell suppression ("<5" plus complementary "x", as tau-ARGUS does it) was
measured to fail both ways here: the previous suppression let interval arithmetic pin 108 372 of the
demo's 108 421 hidden small counts, and suppression that an LP audit accepts (every hidden 1-4 at
least 4 wide) hid 99 % of the wijk months. So the gedeeld audience gets, as statistics offices publish
small areas:

1. a fixed design of tables (`shared_cell`): no weekly wijk or buurt figures, no category groups of
   a buurt per month or quarter, no MK codes of a wijk or buurt below the year; those are nearly all
   1-4 and would mostly add relations to attack;
2. every figure rounded to a multiple of the threshold (`round_shared`; 5, the StraatKubus rule the
   Dutch DPA accepted): 1-4 to 0 or 5 with probability count/5, so unbiased (random rounding as
   Statistics Canada and ONS publish small areas), larger counts to the nearest multiple, at most 2
   off. The direction is decided by a keyed cell key, the sum of the keys of the weekly counts the
   cell is made of (`record_keys`, as the ABS cell key method sums record keys): a cell with an
   unchanged count never changes figure, cells made of the same counts get the same figure, and
   nobody without the deployment's secret can tell how it was rounded;
3. an attacker in the publish step (buurtbeeld.audit, driven by etl.publish.share): over every
   relation at once, with what each figure allows (`rounding_box`; an 'x' is at least 1, since only
   counted cells are stored), no true 1-4 may be narrowed below
   MIN_WIDTH (three candidate values); narrowed cells are rounded the other way or, failing that,
   hidden ("x", like every cell outside the design);
4. a total the targets keep (the gemeente's, a stadsdeel's, a buurt's own month, quarter or year of at
   least the threshold) that hiding would take is shown coarser instead, and marked, where the
   attacker then finds nothing more: "≈10", the nearest multiple of twice the threshold
   (`coarse_figure`; the attacker then knows 5..14, not 8..12). A marked figure is honest to the
   reader and to the auditor, who reads it with exactly that box; an unmarked figure that means
   something else than the legend says would be neither. Rates, sums and averages with one in them
   are marked too. The monthly analyses' gedeeld statistics are computed from the shared figures
   (etl.analyses.shared_statistics; notable.assess with a box), so no word in them says more than a
   figure.

Rates, averages, differences and rankings for the gedeeld audience are computed from the shared
figures. Months are unions of ISO weeks (a week belongs to the month of its Thursday), so periods nest.

Everything here is a pure function on numpy/pandas values, so the publish step, the dashboard, the
exports and the monthly analyses all use the same code.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

# Status 1 (a primary-suppressed '<5') belonged to the first design, which the rounding replaced:
# every hidden cell now looks the same, so the code is not used and not reused. COARSE: shown as a
# marked coarser figure (`coarse_figure`), read as shown by everything that computes with figures.
SHOWN, SECONDARY, COARSE = 0, 2, 3
ArrayLike = np.ndarray | pd.Series
SECONDARY_SIGN = "x"
COARSE_SIGN = "≈"
INTERN, GEDEELD = "intern", "gedeeld"
CONFIDENTIAL = "Vertrouwelijk — niet delen"


def small_label(threshold: int) -> str:
    return f"<{threshold}"


def legend(threshold: int, audience: str = GEDEELD) -> str:
    """The Dutch sentence that every table, chart and export carries."""
    if audience == INTERN:
        return f"{CONFIDENTIAL}: exacte aantallen voor de analisten van de gemeente, niet voor verspreiding."
    return (
        f"Gedeelde cijfers zijn afgerond op {threshold}-tallen; een klein aantal (1 t/m {threshold - 1}) wordt "
        f"willekeurig 0 of {threshold}. Zo betekent 0: 0 t/m {threshold - 1}, {threshold}: 1 t/m "
        f"{threshold + (threshold - 1) // 2}, en wijken grotere aantallen hooguit {(threshold - 1) // 2} af. "
        f"'{SECONDARY_SIGN}': niet beschikbaar in de gedeelde weergave "
        "(wekelijkse cijfers van wijken en buurten; per maand en kwartaal: categorieën van een buurt, MK-codes "
        "van een buurt of wijk) of afgeschermd. "
        f"'{COARSE_SIGN}': grover afgerond op {2 * threshold}-tallen om kleine aantallen ernaast te beschermen "
        f"({COARSE_SIGN}{2 * threshold} betekent {threshold} t/m {3 * threshold - 1})."
    )


MIN_WIDTH = 2  # a true 1..threshold-1 keeps at least three candidate values for any attacker


def cell_keys(identities: Iterable[str], secret: bytes) -> np.ndarray:
    """A number in [0, 1) per cell, from a keyed hash of what identifies the cell and its count: the
    same cell with the same count always gets the same key (so a figure does not change between two
    publications unless its count did, and cannot be averaged away), and without the deployment's
    secret nobody can compute it (so nobody can tell how a cell was rounded)."""
    digests = b"".join(
        hashlib.blake2b(i.encode(), key=secret[:64], digest_size=8, person=b"celsleutel").digest() for i in identities
    )
    return np.frombuffer(digests, dtype=">u8").astype(np.float64) / 2.0**64


KEY_BITS = 40  # a sum of a million record keys stays exact in int64


def record_keys(identities: Iterable[str], secret: bytes) -> np.ndarray:
    """Integer record keys in [0, 2**KEY_BITS) of the finest counts (a buurt, week and MK code), keyed
    like `cell_keys`. A cell's key is the sum of its records' keys (`content_keys`), as the ABS cell
    key method sums record keys: two cells made of the same records (a month with one week that has
    incidents, a group with one MK code, a wijk with one buurt that has any) get the same key, so the
    same figure. Rounded apart, the two figures of one count would tell more than either."""
    return (cell_keys(identities, secret) * 2.0**KEY_BITS).astype(np.int64)


def content_keys(summed: np.ndarray) -> np.ndarray:
    """Cell keys in [0, 1) from summed record keys (uniform again, modulo 1)."""
    return (np.asarray(summed, dtype=np.int64) % (1 << KEY_BITS)).astype(np.float64) / 2.0**KEY_BITS


def round_shared(counts: np.ndarray, keys: np.ndarray, base: int) -> np.ndarray:
    """Shared figures, multiples of `base` (the threshold, 5): 0 stays 0; 1..base-1 becomes 0 or base,
    base with probability count/base (unbiased, decided by the cell key); larger counts go to the
    nearest multiple (for base 5 changed by at most 2)."""
    c = np.asarray(counts, dtype=np.int64)
    down = (c // base) * base
    nearest = np.where(c - down <= (base - 1) // 2, down, down + base)
    return np.where((c > 0) & (c < base), np.where(keys < c / base, base, 0), nearest).astype(np.int64)


def busy_level(threshold: int) -> int:
    """The monthly level (on average over two years) a series' shared figures need before a level
    shift is looked for on them: below it most months are 1 to threshold-1, which read 0 or the
    threshold by chance."""
    return 2 * threshold


def rounding_variance(level: np.ndarray, base: int) -> np.ndarray:
    """The variance `round_shared` adds to a count with Poisson mean `level`: a count c of 1..base-1
    becomes 0 or base with probability c/base (variance c(base - c)), a larger one the nearest
    multiple (within ±(base-1)/2, about uniform: (base² - 1)/12). A model of shared figures needs it:
    at a level of 2 a month it is twice the count's own variance."""
    c = np.arange(base)
    m = np.maximum(np.asarray(level, dtype=float), 0.0)[..., None]
    # The Poisson probabilities of 0..base-1 by hand: scipy.stats took 0.9 ms a call, and the gedeeld
    # 1/k's shrinkage calls this per level and category (about 10 % of a national month's run).
    pmf = np.exp(-m) * m**c / np.array([math.factorial(int(i)) for i in c], dtype=float)
    small = (pmf * c * (base - c)).sum(axis=-1)
    return small + (1.0 - pmf.sum(axis=-1)) * (base**2 - 1) / 12.0


def coarse_figure(counts: np.ndarray, base: int) -> np.ndarray:
    """The marked coarser figure of a count of at least `base`: the nearest multiple of 2 * base, half
    up (base 5: 5..14 reads ≈10, 15..24 ≈20)."""
    c = np.asarray(counts, dtype=np.int64)
    return ((c + base) // (2 * base) * (2 * base)).astype(np.int64)


def rounding_box(
    shared: np.ndarray, hidden: np.ndarray, base: int, coarse: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """What a shared figure tells about its true count under `round_shared` (base 5: 0 is 0..4, 5 is
    1..7, a larger r is r-2..r+2), or under `coarse_figure` where `coarse` (≈r is r-5..r+4). A hidden
    cell can be any count but 0: only cells with a count are stored, and an offered cell without one
    reads 0, so an 'x' is never a zero."""
    r = np.asarray(shared, dtype=np.float64)
    half = (base - 1) // 2
    low = np.where(r == 0, 0.0, np.where(r == base, 1.0, r - (base - 1 - half)))
    high = np.where(r == 0, base - 1.0, r + half)
    if coarse is not None:
        low, high = np.where(coarse, r - base, low), np.where(coarse, r + base - 1, high)
    return np.where(hidden, 1.0, low), np.where(hidden, np.inf, high)


def visible(status: ArrayLike | int) -> np.ndarray | bool:
    """Whether a figure is shown (exactly as rounded, or coarser and marked), not hidden. A single
    status is answered without numpy: the monthly texts ask it of every figure they write (185 640
    times for 20 gemeenten of the national benchmark, two thirds of the texts' time as np.isin)."""
    if isinstance(status, (int, np.integer)):
        return int(status) in (SHOWN, COARSE)
    return np.isin(status, (SHOWN, COARSE))


SHARED_LEVELS = ("gemeente", "stadsdeel")


def shared_cell(period_type: ArrayLike, area_level: ArrayLike, group_code: ArrayLike, mk_code: ArrayLike) -> np.ndarray:
    """Whether the gedeeld audience is offered a cell at all (the shared design). Years: every cell.
    The gemeente and its stadsdelen: weeks (all categories and groups), months and quarters (MK codes
    too). A wijk: months and quarters, all categories and groups. A buurt: months and quarters, all
    categories together. So no weekly wijk or buurt figures, no groups of a buurt per month or quarter
    and no MK codes of a wijk or buurt below the year: nearly all 1 to 4, offered they mostly add
    relations to attack (demo, 2024 as one publication: offering them hid 49 % of the cells of 20 or
    more, this design 2 %). Cells outside the design read 'x' whatever their count, zeros included.
    The intern audience reads every cell."""
    kind, level = np.asarray(period_type), np.asarray(area_level)
    wide = np.isin(level, SHARED_LEVELS)
    whole_group = np.asarray(mk_code) == "*"
    below = whole_group & ((level != "buurt") | (np.asarray(group_code) == "*"))
    return np.where(kind == "week", wide & whole_group, (kind == "year") | wide | below)


def for_audience(frame: pd.DataFrame, audience: str, offered: np.ndarray | bool = True) -> pd.DataFrame:
    """Cells (count, shared_count, status) as `audience` may read them (count, status): exact and all
    shown for intern; for gedeeld (and anything not known to be intern) the shared figure where the
    cell is `offered` (shared_cell) and shown, NaN with a hidden status elsewhere. A row without a
    stored cell (count 0) reads 0 where offered."""
    if audience == INTERN:
        frame["status"] = np.zeros(len(frame), dtype=np.int8)
        return frame.drop(columns="shared_count")
    status = frame["status"].to_numpy()
    shown = np.asarray(offered) & visible(status)
    shared = frame["shared_count"].astype("float64")
    shared = shared.where(shared.notna(), np.where(frame["count"].to_numpy() == 0, 0.0, np.nan))
    frame["count"] = shared.where(shown)
    frame["status"] = np.where(shown, np.where(status == COARSE, COARSE, SHOWN), SECONDARY).astype(np.int8)
    return frame.drop(columns="shared_count")


def audience_line(audience: str, threshold: int) -> str:
    """The one short line every page and export carries: whom these figures are for."""
    if audience == INTERN:
        return f"Weergave intern: exacte aantallen. {CONFIDENTIAL}."
    return f"Weergave gedeeld: beschermde cijfers, afgerond op {threshold}-tallen."


def combined_status(status: ArrayLike) -> int:
    """The status of a figure computed from several: hidden when any is, marked coarse when any is."""
    s = np.asarray(status)
    return SECONDARY if not visible(s).all() else COARSE if (s == COARSE).any() else SHOWN


def window_sum(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum of `count` over periods per `by` group, shown only when every period is shown (rule 3).

    frame holds one row per period and group with `count` and `status`; missing periods count as zero
    (zero cells are not stored), so a group needs no row per period to be complete."""
    g = frame.groupby(by, dropna=False)
    out = pd.DataFrame({"count": g["count"].sum(min_count=0), "status": g["status"].apply(combined_status)})
    out["status"] = out["status"].astype(np.int8)
    out["count"] = out["count"].where(visible(out["status"]))
    return out.reset_index()


def rolling_shown_mean(values: pd.Series, status: pd.Series, window: int) -> pd.Series:
    """Moving average of a series, NaN wherever any period in the window is hidden (rule 3)."""
    hidden = pd.Series(~visible(status), index=values.index).astype(float)
    mean = values.where(~hidden.astype(bool), 0.0).rolling(window).mean()
    return mean.where(hidden.rolling(window).sum() == 0)


def window_status(status: pd.Series, window: int) -> pd.Series:
    """The status of a moving window's figure per period (`rolling_shown_mean`): hidden where any period
    in it is hidden, marked coarse where one is coarse, else shown. A window that is not yet full has
    no figure ("–"), which is not a hidden one ('x' there read as afgeschermd to an analyst)."""
    s = pd.Series(np.asarray(status), index=status.index)
    hidden = pd.Series(~visible(s), index=s.index).astype(float).rolling(window).sum()
    coarse = (s == COARSE).astype(float).rolling(window).sum()
    out = np.where(hidden > 0, SECONDARY, np.where(coarse > 0, COARSE, SHOWN))
    return pd.Series(out, index=s.index).astype(int)


def masked(counts: pd.Series, status: pd.Series) -> pd.Series:
    """Counts as floats with NaN where hidden: what charts may plot."""
    return counts.astype("float64").where(visible(status.to_numpy()))


# Below this many inwoners a rate per 1.000 is not given, as CBS gives no figures per inwoner for
# buurten of fewer than 50: a business park of 5 inwoners read "1.000,0 per 1.000" for one incident.
MIN_RATE_POPULATION = 50


def rate_base(base: pd.Series | np.ndarray) -> np.ndarray:
    """The population a rate may rest on: NaN where it is unknown or below MIN_RATE_POPULATION."""
    b = np.asarray(base, dtype="float64")
    return np.where(b >= MIN_RATE_POPULATION, b, np.nan)


def masked_rate(counts: pd.Series, status: pd.Series, base: pd.Series, per: float = 1000.0) -> pd.Series:
    """count / base × per, hidden where the count is hidden or the base is unknown or too small."""
    rate = counts.astype("float64") / pd.Series(rate_base(base), index=base.index) * per
    return rate.where(visible(status.to_numpy()))


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """Dutch number formatting: 1.234,5; rounded half up (4,5 -> 5, 2,25 -> 2,3) as a reader rounds,
    not to even or by the binary fraction as Python's format does (4 and 2,2)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    text = f"{_half_up(value, decimals):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def round_half_up(value: float | int, decimals: int = 0) -> float:
    """The number `format_number` shows, as a number (Excel cells): the page's 19,3 is 19.3 in the
    download, not Python's 19.2 for 19.25 (found by an outside review)."""
    return float(_half_up(value, decimals))


def _half_up(value: float | int, decimals: int) -> Decimal:
    # repr is the shortest text that reads back as the float: the number as the reader would write it.
    exact = Decimal(int(value)) if isinstance(value, int | np.integer) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_amount(value: float | int | None, unit: str | None) -> str:
    """A value with its unit as a Dutch reader writes it: '€ 371.000' for CBS's 'x 1 000 euro',
    '12,5%' and '4.210 inwoners per km²'; one decimal below 100, none above."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    unit = (unit or "").strip()
    # A density is whole inwoners per km², as CBS publishes it (a buurt's "10,0" beside "2.033").
    decimals = 0 if abs(value) >= 100 or unit.endswith("per km²") else 1
    if unit in {"x 1 000 euro", "x 1.000 euro"}:
        # At the precision of the unit's figures: a gemeente's mean of buurten's WOZ values is
        # "€ 332.000" beside a buurt's "€ 391.000", not "€ 332.458".
        return f"€ {format_number(round_half_up(value, decimals) * 1000)}"
    if unit == "euro":
        return f"€ {format_number(value, decimals)}"
    if unit == "%":
        return f"{format_number(value, decimals)}%"
    return format_number(value, decimals) + (f" {unit}" if unit and unit not in {"eenheid", "klasse"} else "")


def label(count: float | int | None, status: int, threshold: int) -> str:
    """What a user reads for one count cell."""
    if status == SECONDARY:
        return SECONDARY_SIGN
    return (COARSE_SIGN if status == COARSE else "") + format_number(count)


def rate_label(rate: float | None, status: int, threshold: int, decimals: int = 1) -> str:
    if status == SECONDARY:
        return SECONDARY_SIGN
    return (COARSE_SIGN if status == COARSE else "") + format_number(rate, decimals)


def labels(counts: pd.Series, status: pd.Series, threshold: int) -> pd.Series:
    return pd.Series(
        [label(c, int(s), threshold) for c, s in zip(counts, status, strict=True)], index=counts.index, dtype=object
    )


def expected_shown(value: float | None, threshold: int) -> float | None:
    """A model's expected count as it may be shown: rounded to whole cases, hidden below the threshold.

    An expected count pools at least six earlier months (buurtbeeld.notable). Rounded to whole cases
    it pins their sum down only to a range of six or more values, wider than the 1..threshold-1 a
    hidden month could hold, so it cannot reveal one; below the threshold it is not shown at all.
    After a level shift it rests on three or more months since the shift: the texts then show it only
    beside a count that is itself shown (buurtbeeld.narrative._expected_said)."""
    if value is None or not np.isfinite(value) or value < threshold - 0.5:
        return None
    # Half up, as a reader rounds: Python's round() gives 4 for 4.5 (to even), below the threshold.
    return float(np.floor(value + 0.5))


def expected_label(value: float | None, threshold: int) -> str:
    shown = expected_shown(value, threshold)
    return small_label(threshold) if shown is None else format_number(shown)
