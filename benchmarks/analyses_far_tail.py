"""The far upper tail of the monthly buurt tests on null gemeenten of the independent generator.

`analyses_quality.py` scores whole analyses in a warehouse; this asks one narrow question fast: on
gemeenten with nothing planted (benchmarks/independent_city.py, 108 buurten × 9 categories), how
often does a buurt's upper tail P(Y ≥ y) fall below 10⁻³, 5 · 10⁻⁴ and 10⁻⁴, against those rates?
Each gemeente's last six months are analysed with `month_statistics` on a window of `--historie`
months (no warehouse), and every tested series with at least one true expected case counts.

    .venv/bin/python benchmarks/analyses_far_tail.py K_WEEK K_MONTH [--historie 26] [--gemeenten 100]

K_WEEK / K_MONTH: the generator's gamma shapes ('inf' for none). About 2 s per gemeente.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEVELS = (1e-3, 5e-4, 1e-4)


def far_tail(k_week: float, k_month: float, history: int, gemeenten: int) -> dict[str, object]:
    from benchmarks import independent_city as city
    from buurtbeeld import notable
    from etl import analyses

    template = city.groningen()
    _, _, month_of = city.month_weeks("2021-01", "2025-12")
    weeks = np.bincount(month_of)
    hits, n = dict.fromkeys(LEVELS, 0), 0
    for i in range(gemeenten):
        shapes = [int(k) if np.isfinite(k) else 0 for k in (k_month, k_week)]
        rng = np.random.default_rng([7, i, *shapes])
        gm = city.make_gemeente("GM8001", template, "2021-01", "2025-12", 12, k_week, k_month, rng, plant=False)
        nb, ng, nm = gm.mu.shape
        monthly = np.stack([gm.counts[:, :, month_of == t].sum(axis=2) for t in range(nm)], axis=2).astype(float)
        pop = np.maximum(template.population, 1.0)
        group = np.repeat(np.array(gm.groups)[None, :], nb, 0).ravel()
        keys = pd.DataFrame({"area_level": "buurt", "area_code": np.repeat(gm.buurten, ng), "group_code": group})
        for t in range(nm - 6, nm):
            window = slice(t - history, t + 1)
            dense = monthly[:, :, window].reshape(nb * ng, history + 1)
            offset = (pop[:, None, None] * np.ones((1, ng, 1)) * weeks[None, None, window]).reshape(nb * ng, -1)
            a = analyses.month_statistics(dense, offset, keys, list(gm.groups), notable.DEFAULT)
            counted = a.tested & (gm.mu[:, :, t].ravel() >= 1)
            n += int(counted.sum())
            for level in LEVELS:
                hits[level] += int((counted & (a.p_up < level)).sum())
    return {"tests": n, **{f"{level:g}": hits[level] / (n * level) for level in LEVELS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("k_week", type=float)
    parser.add_argument("k_month", type=float)
    parser.add_argument("--historie", type=int, default=26)
    parser.add_argument("--gemeenten", type=int, default=100)
    args = parser.parse_args()
    result = far_tail(args.k_week, args.k_month, args.historie, args.gemeenten)
    rates = ", ".join(f"P < {level:g}: {result[f'{level:g}']:.2f}×" for level in LEVELS)
    print(f"k week {args.k_week:g}, k month {args.k_month:g}, {args.historie} months: {result['tests']} tests; {rates}")


if __name__ == "__main__":
    main()
