"""The knobs of the notable method (see the package docstring for what each does)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """The knobs of the method; defaults are those described in the package docstring (buurtbeeld.notable)."""

    min_count: int = 5
    fdr: float = 0.10
    years: int = 5
    window: int = 1
    full_years: int = 3
    short_months: int = 12
    min_months: int = 6
    trend_alpha: float = 0.05
    dispersion_alpha: float = 0.05
    seasonal_min_year_total: float = 100.0
    dispersion_prior: float = 100.0  # reference months (mu ≥ 1) for an own 1/k; a total's weight n / (n + this)
    outbreak_cap_z: float = 3.0  # earlier outbreak months capped at this many NB sd
    concurrent_min: float = 30.0  # expected cases in the gemeente's buurten for a concurrent index
    # 1e-4 said the benchmark's doubling more often but made five times as many false new levels
    # (docs/statistics.md, 'Considered and not adopted').
    shift_p: float = 1e-5
    shift_keep: int = 3  # months a shift found earlier holds without being found again
    shift_keep_p: float = 1e-3  # ... while the months since its start still have a tail this small
    shift_ratio: float = 1.5
    shift_after: int = 3  # months at a new level before it is one (2: the benchmark's repeated spikes)
    shift_before: int = 5  # months at the old level at least (8 months of history can show a shift)


DEFAULT = Method()
DEFAULT_CAP_Z = DEFAULT.outbreak_cap_z
