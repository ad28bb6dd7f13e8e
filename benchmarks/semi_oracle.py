"""How much of the monthly analyses' recall gap to the oracle is information: a semi-oracle.

benchmarks/analyses_quality.py scores the product against an oracle that knows each buurt ×
category's true expected count. No method can know that: it has to estimate the level from the
history. The semi-oracle knows the true seasonal shape and dispersion but takes the level from
`--maanden` months of counts drawn at the truth (negative binomial, the month-level 1/k), and tests
like the product (the level-mixed tail, Benjamini-Hochberg at 10 % per gemeente-month, the same
min_count rule). Where it falls short of 0.9 × the oracle, a level from that many months does not
hold what the target asks, even with the season and 1/k known; where the product falls short of
it, the gap is what the semi-oracle knows and the product does not (the buurt's own season and
trend, the seasonal index's error, the 1/k).

Reads the cells `analyses_quality.py --cellen --workdir DIR` wrote (no warehouse is built):

    .venv/bin/python benchmarks/semi_oracle.py --workdir DIR [--historie 48] [--maanden 12] [--trekkingen 10]

**Swaps (`--ruil`).** Where the gap lies between the expected count and the spread the test allows
around it: the same Benjamini-Hochberg flags (per gemeente-month over the tested cells) from the
negative-binomial tail with (a) the TRUE expected count and the product's spread (its 1/k plus the
level's and the index's variance, `inv_size`), and (b) the product's expected count and the TRUE
1/k. Recall per stratum and FDP, next to the product's and the oracle's. If (a) finds what the
product finds and (b) what the oracle finds, but with many false flags, the recall the product
lacks is the price of its expected count being an estimate: a test that allowed only the oracle's
spread around it would buy the oracle's recall with false discoveries.

    .venv/bin/python benchmarks/semi_oracle.py --workdir DIR --ruil [--historie 26]

**The target's judged strata (`--oordeel`).** The issue's recall target, ≥ 0.9 × the oracle in
every stratum where the oracle finds ≥ 0.3 (bands pooled as analyses_quality.py pools them), asked
of the semi-oracle too, at every history: where the semi-oracle falls short of it, a level from
`--maanden` months (fewer where the history has fewer), even with the true season and 1/k, does
not meet the target. With `--groeiend` (cells of `analyses_quality.py --groeiend`) the history of
the i-th analysed month is h + i months, as the product has it; otherwise h.

    .venv/bin/python benchmarks/semi_oracle.py --workdir DIR --oordeel [--groeiend]

**A trend to estimate too (`--trend`, with `--oordeel`).** The semi-oracle knows each series' trend:
its level from 12 months drawn at the truth is the level of the tested month. A method has to
estimate the trend as well, and a longer history only helps it as far as it can. `--trend` makes
the semi-oracle Bayesian about the trend: each cell's history of `--maanden` months (at most the
history it has) is drawn with a trend from the generator's own distribution of trends
(independent_city: the city's trend per category, a normal deviation per series, a share of fast
growers), and the level of the tested month is the posterior over level and trend given those
months and that distribution (the season and the month effects' 1/k still known). No method that
does not know the trends can do better on average; it is an upper bound on what a longer history
holds, as far as the trends go (it treats the fast growers as independent series, where the
generator makes a buurt grow in all its categories, and it knows every buurt's seasonal amplitude).

    .venv/bin/python benchmarks/semi_oracle.py --workdir DIR --oordeel --groeiend --trend --maanden 48

**The level-shift message (`--verschuiving`).** analyses_quality.py judges the doubling's message
against the shift oracle, which knows the old level. The semi-oracle here runs the same test
(`analyses_quality.shift_oracle_at`) with the old level from min(`--maanden`, h) months drawn at the
truth (with the month effects' 1/k; its estimation variance added as the product adds it): per
setting and history, of the gemeenten where the shift oracle says the doubling within the analysed
months, how many got exactly one message from the product, and in how many the semi-oracle says it.

    .venv/bin/python benchmarks/semi_oracle.py --workdir DIR --verschuiving
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRATA = ("3-5", "5-10", "10-30", "30-100")
SEED = 20261204


def semi_oracle_flags(cells: pd.DataFrame, months: float | np.ndarray, rng: np.random.Generator) -> pd.Series:
    """'hoog' / 'laag' / '' per tested cell (observed, mu_true, inv_true; gemeente, month), from a
    level estimated on `months` months (one number, or one per cell) drawn at the truth, flagged as
    the oracle's are (per gemeente-month)."""
    from buurtbeeld import notable

    mu, inv, y = (cells[c].to_numpy(dtype=float) for c in ("mu_true", "inv_true", "observed"))
    k_sum = months / np.maximum(inv, 1e-9)  # the 1/k of a sum of `months` independent month effects
    cases = rng.poisson(months * mu * rng.gamma(k_sum, 1.0 / k_sum)) + 0.5
    up, down = notable.level_mixed_tails(y, cases / months, inv, cases, np.minimum(k_sum, 1e9))
    return pd.Series(bh_per_month(cells, up, down, y, mu), index=cells.index, dtype=object)


def bh_per_month(
    cells: pd.DataFrame,
    up: np.ndarray,
    down: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    tested: np.ndarray | None = None,
) -> np.ndarray:
    """'hoog' / 'laag' / '' per cell from its upper and lower tails: the two-sided p-value,
    Benjamini-Hochberg per gemeente-month over the `tested` cells (default all), the direction and
    min_count rule against `mu`, as the oracle is flagged (analyses_quality.bh_flags)."""
    from benchmarks.analyses_quality import bh_flags
    from buurtbeeld import notable

    p = np.minimum(1.0, 2.0 * np.minimum(up, down))
    tested = np.ones(len(cells), dtype=bool) if tested is None else tested
    flags = np.full(len(cells), "", dtype=object)
    for _, rows in cells.groupby(["gemeente", "month"]).indices.items():
        flags[rows] = bh_flags(p[rows], y[rows], mu[rows], tested[rows], notable.DEFAULT)
    return flags


TREND_GRID = np.linspace(-0.35, 0.55, 37)  # trends per year around the city's, for the posterior


def trend_level(
    history: np.ndarray, months: np.ndarray, inv: np.ndarray, city_trend: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The tested month's level from each series' `history` (column j: j + 1 months before it; the
    first `months` columns used) when its trend per year is unknown but drawn from the generator's
    distribution around `city_trend`: the posterior over the trend on a grid (that prior times the
    Poisson likelihood with the level integrated out, tempered by the month effects' variance
    inflation), and per trend a log-normal level whose variance has the month effects' share. The
    mixture over the trends is matched to one level of the same log mean and log variance: its mean
    and its shape (1 / that variance), for `notable.level_mixed_tails`."""
    from scipy import stats

    from benchmarks import independent_city as city

    m = np.asarray(months, dtype=int)
    before = np.arange(1, history.shape[1] + 1)
    history = np.where(before[None, :] <= m[:, None], history, 0)
    total = history.sum(axis=1) + 0.5
    weighted = -(history * before[None, :]).sum(axis=1) / 12.0  # Σ y_j t_j, t_j in years (negative)
    beta = city_trend[:, None] + TREND_GRID[None, :]
    sd, share = city.SERIES_TREND_SD, city.GROWING_SHARE
    prior = (1 - share) * stats.norm.pdf(TREND_GRID, 0.0, sd)
    prior += share * stats.norm.pdf(TREND_GRID, city.GROWING_SLOPE, sd)

    def exposure(b: np.ndarray) -> np.ndarray:
        """Σ_j exp(b t_j) over each series' months: the level's exposure under trend b."""
        r = np.exp(-b / 12.0)
        flat = np.abs(1 - r) < 1e-12
        return np.where(flat, m[:, None], r * (1 - r ** m[:, None]) / np.where(flat, 1.0, 1 - r))

    s1, s2 = exposure(beta), exposure(2 * beta)
    inflation = 1.0 + inv * total / np.maximum(m, 1)
    log_post = np.log(prior)[None, :] + (beta * weighted[:, None] - total[:, None] * np.log(s1)) / inflation[:, None]
    w = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    var_b = 1.0 / total[:, None] + inv[:, None] * s2 / s1**2
    log_level = np.log(total[:, None] / s1) - var_b / 2
    centre = (w * log_level).sum(axis=1)
    spread = (w * (var_b + log_level**2)).sum(axis=1) - centre**2
    return np.exp(centre + spread / 2), 1.0 / spread


def trend_oracle_flags(cells: pd.DataFrame, months: float | np.ndarray, rng: np.random.Generator) -> pd.Series:
    """As `semi_oracle_flags`, but each cell's history of `months` months is drawn with a trend from
    the generator's distribution (independent_city), and the level of the tested month is estimated
    through it (`trend_level`) instead of being the level of the history."""
    from benchmarks import independent_city as city
    from buurtbeeld import notable

    mu, inv, y = (cells[c].to_numpy(dtype=float) for c in ("mu_true", "inv_true", "observed"))
    n = len(mu)
    m = np.broadcast_to(np.asarray(months, dtype=float), (n,)).astype(int)
    before = np.arange(1, int(m.max()) + 1)
    city_trend = cells["group"].map(city.CITY_TREND).fillna(0.0).to_numpy(dtype=float)
    grower = rng.random(n) < city.GROWING_SHARE
    slope = city_trend + rng.normal(0.0, city.SERIES_TREND_SD, n) + city.GROWING_SLOPE * grower
    mean = mu[:, None] * np.exp(-slope[:, None] * before[None, :] / 12.0)
    shape = 1.0 / np.maximum(inv, 1e-9)
    history = rng.poisson(mean * rng.gamma(shape[:, None], 1.0 / shape[:, None], mean.shape))
    level, level_shape = trend_level(history, m, inv, city_trend)
    up, down = notable.level_mixed_tails(y, level, inv, level_shape, np.full(n, 1e9))
    return pd.Series(bh_per_month(cells, up, down, y, mu), index=cells.index, dtype=object)


def semi_shift_at(y: np.ndarray, mu: np.ndarray, inv: np.ndarray, months: int, rng: np.random.Generator) -> int | None:
    """`analyses_quality.shift_oracle_at` with the old level estimated from `months` months drawn at
    the truth (their mean true level `mu`, month effects of 1/k `inv`), its relative variance
    (1 / cases, widened by the month effects, as `shifts.evidence` has it) added to the test's."""
    from benchmarks.analyses_quality import shift_oracle_at
    from buurtbeeld import notable

    level, inv_mean = float(np.mean(mu)), float(np.mean(inv))
    k = months / max(inv_mean, 1e-9)
    total = float(rng.poisson(months * level * rng.gamma(k, 1.0 / k)))
    level_var = (1.0 + inv_mean * total / months) / (total + 0.5)
    return shift_oracle_at(y, mu * max(total, 0.5) / (months * level), inv, notable.DEFAULT, level_var)


def shift_counts(cells: pd.DataFrame, months: int, rng: np.random.Generator, draws: int) -> dict[str, float]:
    """Over the planted gemeenten' doubled series (12 analysed months each): where the shift oracle
    says it, how many gemeenten; of those, how many got exactly one message from the product, and in
    how many (mean over `draws`) the semi-oracle says it; where the shift oracle does not, how many
    and in how many the semi-oracle does."""
    doubled = cells[cells["anomaly"] == "verdubbeling"].sort_values("month")
    out = dict(visible=0, product_one=0.0, semi=0.0, invisible=0, semi_invisible=0.0)
    for _, series in doubled.groupby("gemeente"):
        y, mu, inv = (series[c].to_numpy(dtype=float) for c in ("generated", "mu_true", "inv_true"))
        said = np.mean([semi_shift_at(y, mu, inv, months, rng) is not None for _ in range(draws)])
        if series["oracle_shift"].astype(bool).any():
            out["visible"] += 1
            out["product_one"] += float(series["shift_new"].astype(bool).sum() == 1)
            out["semi"] += said
        else:
            out["invisible"] += 1
            out["semi_invisible"] += said
    return out


def shifts_main(args: argparse.Namespace) -> None:
    """Per setting and history (growing: min(`--maanden`, h) months before the doubling), the
    level-shift message of the product, the semi-oracle and the shift oracle."""
    print("Verdubbeling: gemeenten waar het verschuivingsorakel haar ziet; daarvan precies één melding")
    print("(product), gezien door het semi-orakel; waar het orakel haar niet ziet: gezien door het semi-orakel")
    print("| bestand | historie | orakel ziet | product precies één | semi-orakel ziet | orakel niet: semi ziet |")
    print("|---|---|---|---|---|---|")
    totals: dict[int, dict[str, float]] = {}
    for history in (8, 14, 26, 48):
        total = totals[history] = dict(visible=0, product_one=0.0, semi=0.0, invisible=0, semi_invisible=0.0)
        for name, cells in settings(args.workdir, history):
            rng = np.random.default_rng([SEED, zlib.crc32(name.encode()), history, 1])
            c = shift_counts(cells[cells["planted"]], min(args.maanden, history), rng, args.trekkingen)
            for key, value in c.items():
                total[key] += value
            print(
                f"| {name} | {history} | {c['visible']} | {c['product_one']:.0f} | {c['semi']:.1f} | "
                f"{c['semi_invisible']:.1f} of {c['invisible']} |",
                flush=True,
            )
    print()
    for history, t in totals.items():
        print(
            f"Historie {history}: orakel ziet de verdubbeling in {t['visible']} gemeenten; product precies één "
            f"melding in {t['product_one']:.0f}, semi-orakel ziet haar in {t['semi']:.1f}; waar het orakel haar "
            f"niet ziet ({t['invisible']}) ziet het semi-orakel haar in {t['semi_invisible']:.1f}."
        )


def recall_table(
    cells: pd.DataFrame, months: int, rng: np.random.Generator, draws: int
) -> dict[str, tuple[float, ...]]:
    """Per stratum: recall of planted rises by the product, the semi-oracle (mean over `draws`
    histories drawn anew) and the oracle."""
    tested = cells[cells["tested"] & cells["planted"]]
    semi = [semi_oracle_flags(tested, months, rng) == "hoog" for _ in range(draws)]
    rise = (tested["anomaly"] == "stijging").to_numpy()
    out = {}
    for stratum in STRATA:
        at = rise & (tested["stratum"] == stratum).to_numpy()
        if not at.any():
            out[stratum] = (np.nan, np.nan, np.nan)
            continue
        out[stratum] = (
            float((tested["direction"].to_numpy()[at] == "hoog").mean()),
            float(np.mean([s.to_numpy()[at].mean() for s in semi])),
            float((tested["oracle"].to_numpy()[at] == "hoog").mean()),
        )
    return out


def months_at(cells: pd.DataFrame, months: int, growing: bool = False, history: int = 0) -> np.ndarray:
    """Per cell the months the semi-oracle's level rests on: `months`, or with `growing` at most the
    history of its analysed month (h + its place among the analysed months)."""
    if not growing:
        return np.full(len(cells), float(months))
    place = cells["month"].map({m: i for i, m in enumerate(sorted(cells["month"].unique()))})
    return np.minimum(months, history + place.to_numpy(dtype=float))


def judged_table(
    cells: pd.DataFrame,
    months: float | np.ndarray,
    rng: np.random.Generator,
    draws: int,
    flags_of: Callable[[pd.DataFrame, float | np.ndarray, np.random.Generator], pd.Series] = semi_oracle_flags,
) -> dict[str, tuple[int, float, float, float]]:
    """Per stratum, over the rises the issue's target judges (the bands in which the oracle finds at
    least 0.3, pooled as analyses_quality.score_setting pools them, over the same planted rises):
    their number and the recall of the product, the semi-oracle (mean over `draws`; `months` one
    number or one per tested planted cell) and the oracle."""
    planted = cells[cells["planted"]]
    tested = planted[planted["tested"]]
    rises = planted[planted["anomaly"] == "stijging"]
    visible = rises.groupby(["stratum", "band"])["oracle"].transform(lambda o: (o == "hoog").mean() >= 0.3)
    judged = rises[visible.astype(bool)]
    semi = [flags_of(tested, months, rng).reindex(judged.index, fill_value="") == "hoog" for _ in range(draws)]
    out = {}
    for stratum in STRATA:
        at = (judged["stratum"] == stratum).to_numpy()
        if not at.any():
            continue
        out[stratum] = (
            int(at.sum()),
            float((judged["direction"].to_numpy()[at] == "hoog").mean()),
            float(np.mean([f.to_numpy()[at].mean() for f in semi])),
            float((judged["oracle"].to_numpy()[at] == "hoog").mean()),
        )
    return out


def judged_main(args: argparse.Namespace) -> None:
    """The recall target (≥ 0.9 × the oracle in every judged stratum) against what a level from the
    history holds: per setting and history the judged strata, and counted over them (per history:
    with 26 and 48 months the buurten's analyses read the same 25 months, so those two rows are
    nearly the same) where the semi-oracle itself falls short of the target and where the product
    falls short of the semi-oracle. Each setting × history draws from its own seed."""
    semi = "semi-orakel (trend geschat)" if args.trend else "semi-orakel"
    print(f"Beoordeelde strata (orakel >= 0,3): recall product / {semi} / orakel")
    print("| bestand | historie | " + " | ".join(STRATA) + " |")
    print("|---|---|" + "---|" * len(STRATA))
    counts = {}
    for history in (8, 14, 26, 48):
        count = counts[history] = dict(judged=0, semi_short=0, product_short=0, product_below_semi=0)
        for name, cells in settings(args.workdir, history):
            rng = np.random.default_rng([SEED, zlib.crc32(name.encode()), history])
            months = months_at(cells[cells["planted"] & cells["tested"]], args.maanden, args.groeiend, history)
            flags_of = trend_oracle_flags if args.trend else semi_oracle_flags
            table = judged_table(cells, months, rng, args.trekkingen, flags_of)
            row = []
            for stratum in STRATA:
                if stratum not in table:
                    row.append("–")
                    continue
                n, product, semi, oracle = table[stratum]
                row.append(f"{product:.2f} / {semi:.2f} / {oracle:.2f} ({n})")
                count["judged"] += 1
                count["semi_short"] += semi < 0.9 * oracle
                count["product_short"] += product < 0.9 * oracle
                count["product_below_semi"] += product < 0.9 * semi
            print(f"| {name} | {history} | " + " | ".join(row) + " |", flush=True)
    print()
    for history, count in counts.items():
        print(
            f"Historie {history}: van {count['judged']} beoordeelde strata product < 0,9 × orakel in "
            f"{count['product_short']}, {semi} < 0,9 × orakel in {count['semi_short']}, "
            f"product < 0,9 × {semi} in {count['product_below_semi']}."
        )


def swapped_flags(cells: pd.DataFrame, mu_column: str, inv_column: str) -> np.ndarray:
    """'hoog' / 'laag' / '' per cell from NB(`mu_column`, `inv_column`) tails, Benjamini-Hochberg per
    gemeente-month over the tested cells, the direction and min_count rule against that expected."""
    from buurtbeeld import notable

    y, mu, inv = (cells[c].to_numpy(dtype=float) for c in ("generated", mu_column, inv_column))
    up, down = notable.upper_tail(y, mu, inv), notable.lower_tail(y, mu, inv)
    return bh_per_month(cells, up, down, y, mu, cells["tested"].to_numpy(dtype=bool))


WAYS = ("product", "orakel", "waar verwacht, spreiding product", "verwacht product, waar 1/k")


def swap_table(cells: pd.DataFrame) -> dict[str, tuple[list[float], float]]:
    """Per way of testing (product, oracle, the two swaps): recall per stratum and the FDP, over the
    planted gemeenten's cells (the doubling's series left out of the FDP, as analyses_quality)."""
    planted = cells[cells["planted"]].reset_index(drop=True)
    ways = dict(
        zip(
            WAYS,
            (
                planted["direction"].to_numpy(),
                planted["oracle"].to_numpy(),
                swapped_flags(planted, "mu_true", "inv_product"),
                swapped_flags(planted, "expected", "inv_true"),
            ),
            strict=True,
        )
    )
    rise = (planted["anomaly"] == "stijging").to_numpy()
    drop = (planted["anomaly"] == "daling").to_numpy()
    scored = (planted["anomaly"] != "verdubbeling").to_numpy()
    out = {}
    for name, flags in ways.items():
        at = [rise & (planted["stratum"] == s).to_numpy() for s in STRATA]
        recall = [float((flags[a] == "hoog").mean()) if a.any() else np.nan for a in at]
        flagged = scored & (flags != "")
        right = flagged & ((rise & (flags == "hoog")) | (drop & (flags == "laag")))
        out[name] = (recall, float((flagged & ~right).sum() / max(flagged.sum(), 1)))
    return out


def settings(workdir: str, history: int) -> Iterator[tuple[str, pd.DataFrame]]:
    """Per dispersion setting of an analyses_quality.py --cellen workdir: its name (kw.._km..) and
    its cells with `history` months."""
    for path in sorted(Path(workdir).glob("cellen_*.csv.gz")):
        cells = pd.read_csv(path, low_memory=False)
        for column in ("direction", "oracle", "anomaly", "stratum"):
            cells[column] = cells[column].fillna("")
        yield path.name[7:-7], cells[cells["history"] == history]


def swaps_main(args: argparse.Namespace) -> None:
    print(f"Ruil, historie {args.historie} maanden: recall {' / '.join(STRATA)}; FDP")
    print("| bestand | " + " | ".join(WAYS) + " |")
    print("|---|" + "---|" * len(WAYS))
    for name, cells in settings(args.workdir, args.historie):
        table = swap_table(cells)
        row = " | ".join(" / ".join(f"{r:.2f}" for r in recall) + f"; {fdp:.2f}" for recall, fdp in table.values())
        print(f"| {name} | {row} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True, help="the workdir of analyses_quality.py --cellen")
    parser.add_argument("--historie", type=int, default=48, help="the history length to score (8, 14, 26, 48)")
    parser.add_argument("--maanden", type=int, default=12, help="months the semi-oracle's level rests on")
    parser.add_argument("--trekkingen", type=int, default=10, help="histories drawn per cell (averaged)")
    parser.add_argument("--ruil", action="store_true", help="the swaps of expected count and spread instead")
    parser.add_argument("--oordeel", action="store_true", help="the judged strata of the recall target, every history")
    parser.add_argument("--groeiend", action="store_true", help="cells of a growing run (--oordeel)")
    parser.add_argument("--trend", action="store_true", help="the trend estimated too, from its prior (--oordeel)")
    parser.add_argument("--verschuiving", action="store_true", help="the doubling's level-shift message instead")
    args = parser.parse_args()
    if args.ruil:
        swaps_main(args)
        return
    if args.oordeel:
        judged_main(args)
        return
    if args.verschuiving:
        shifts_main(args)
        return
    rng = np.random.default_rng(SEED)
    print(f"Recall van geplante stijgingen, historie {args.historie} maanden: product / semi-orakel / orakel")
    print("| bestand | " + " | ".join(STRATA) + " |")
    print("|---|" + "---|" * len(STRATA))
    for name, cells in settings(args.workdir, args.historie):
        table = recall_table(cells, args.maanden, rng, args.trekkingen)
        row = " | ".join(" / ".join(f"{v:.2f}" for v in table[s]) for s in STRATA)
        print(f"| {name} | {row} |", flush=True)


if __name__ == "__main__":
    main()
