"""An indicator for several buurten together (a stadsdeel, the gemeente) from the buurten's values,
where no figure of the area itself was delivered: one rule for the Buurtprofiel and the monthly
analyses, which had shown a gemeente density of 4.331,9 and 2.033 inwoners per km² side by side
(a population-weighted mean and a median of buurt densities; found by an outside review)."""

from __future__ import annotations

import numpy as np

COUNT_UNIT = "aantal"


def combined(values: np.ndarray, inwoners: np.ndarray, unit: str) -> float:
    """Counts add up. A density (unit "… per km²") is people over area: Σ inwoners over Σ inwoners /
    density, as CBS computes it for a wijk. Shares and means are weighted by inwoners, the one base
    every buurt has (CBS weighs household figures by households, which a gemeente's own files seldom
    carry), over the buurten that have both (CBS leaves the figures of small buurten out). A count is
    NaN when any buurt lacks it: a sum without some buurten would read as the whole."""
    v, w = np.asarray(values, dtype=float), np.asarray(inwoners, dtype=float)
    if unit == COUNT_UNIT:
        return float(v.sum()) if len(v) and not np.isnan(v).any() else float("nan")
    known = ~np.isnan(v) & ~np.isnan(w) & (w > 0)
    v, w = v[known], w[known]
    if not len(v):
        return float("nan")
    if unit.endswith("per km²"):
        area = np.where(v > 0, w / np.where(v > 0, v, 1.0), 0.0)
        return float(w.sum() / area.sum()) if area.sum() > 0 else float("nan")
    return float(np.average(v, weights=w))
