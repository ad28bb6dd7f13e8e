"""The attacker of the published figures: what can be derived about a hidden cell from everything shown.

An attacker of the *gedeeld* audience sees every shared figure and knows every additive relation
between cells (buurt -> wijk -> stadsdeel -> gemeente, MK -> group -> all categories, week -> month ->
quarter -> year) and the rounding rule. For every cell that is a linear program: the smallest and
largest value its true count can take while every relation holds and every cell stays within what its
figure allows (buurtbeeld.disclosure.rounding_box; a hidden cell: any count from 1). The auditor answers it
two ways:

- `propagate`: interval arithmetic to a fixed point over all relations at once (vectorised, a year's
  cube in well under a second). Every interval it gives contains the LP's, so a cell it pins is pinned;
- `lp_bounds` and `lp_narrowed`: the exact LP (HiGHS via scipy), per cell or cleared in bulk by
  certificates, for checking that propagation did not miss what a linear program finds.

A true count 1 .. threshold-1 is *pinned* when its interval is a single value and *narrow* when it is
less than `min_width` wide. The relations come from etl.publish; this module is pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

INF = np.inf
CAP = 1e7  # a count no cell reaches


@dataclass(frozen=True)
class Relations:
    """Additive relations over cells 0..n-1: link i says child[i] is part of parent[i] in relation[i].
    A relation id in `partial` holds as parent >= sum of children (a category group of which part was
    delivered without an MK code has more than its MK cells); every other one as an equality."""

    parent: np.ndarray
    child: np.ndarray
    relation: np.ndarray
    partial: frozenset[int] = frozenset()

    def compact(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(relation index per link 0..R-1, parent cell per relation, R)."""
        return self._compact

    @cached_property
    def _compact(self) -> tuple[np.ndarray, np.ndarray, int]:
        ids, index = np.unique(self.relation, return_inverse=True)
        heads = np.zeros(len(ids), dtype=np.int64)
        heads[index] = self.parent
        return index, heads, len(ids)

    @cached_property
    def partial_mask(self) -> np.ndarray:
        """Per relation 0..R-1: whether it holds only as parent >= parts."""
        ids = np.unique(self.relation)
        return np.isin(ids, list(self.partial)) if self.partial else np.zeros(len(ids), dtype=bool)


def propagate(low: np.ndarray, high: np.ndarray, rel: Relations, rounds: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Tightest bounds interval arithmetic reaches: parent = sum of children, applied both ways until
    nothing changes. Infinite upper bounds are allowed."""
    low, high = low.astype(float).copy(), high.astype(float).copy()
    index, heads, r = rel.compact()
    partial = rel.partial_mask
    # Unbounded highs make inf - inf in terms that the np.where calls then discard; the result is checked.
    with np.errstate(invalid="ignore", over="ignore"):
        low, high = _propagate(low, high, index, heads, r, rel.child, partial, rounds)
    if np.isnan(low).any() or np.isnan(high).any():  # pragma: no cover - a bug, not an input
        raise ArithmeticError("interval propagation produced NaN")
    return low, high


def _propagate(
    low: np.ndarray,
    high: np.ndarray,
    index: np.ndarray,
    heads: np.ndarray,
    r: int,
    child: np.ndarray,
    partial: np.ndarray,
    rounds: int,
) -> tuple[np.ndarray, np.ndarray]:
    for _ in range(rounds):
        unbounded = np.isinf(high[child])
        finite_high = np.where(unbounded, 0.0, high[child])
        sum_low = np.bincount(index, weights=low[child], minlength=r)
        sum_finite_high = np.bincount(index, weights=finite_high, minlength=r)
        n_unbounded = np.bincount(index, weights=unbounded, minlength=r)
        new_low, new_high = low.copy(), high.copy()
        np.maximum.at(new_low, heads, sum_low)
        np.minimum.at(new_high, heads, np.where((n_unbounded > 0) | partial, INF, sum_finite_high))
        # A child is at most its parent's high minus its siblings' lows, and at least its parent's low
        # minus its siblings' highs (infinite when one of the siblings is unbounded).
        siblings_low = sum_low[index] - low[child]
        siblings_high = np.where(
            (n_unbounded[index] - unbounded > 0) | partial[index], INF, sum_finite_high[index] - finite_high
        )
        np.minimum.at(new_high, child, high[heads][index] - siblings_low)
        np.maximum.at(new_low, child, low[heads][index] - siblings_high)
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            break
        low, high = new_low, new_high
    return low, high


class LimitReached(ArithmeticError):
    """The solver stopped at its iteration limit: the bound is unknown, so nothing may rest on it."""


class _Program:
    """The attacker's linear program over cells 0..n-1: the relations (equalities, or parent >= parts
    for a partial one) and the box [low, high]; solved by HiGHS through scipy."""

    def __init__(self, low: np.ndarray, high: np.ndarray, rel: Relations, max_iterations: int | None = None) -> None:
        self.max_iterations = max_iterations
        index, heads, r = rel.compact()
        self.n = len(low)
        rows = np.concatenate([np.arange(r), index])
        cols = np.concatenate([heads, rel.child])
        values = np.concatenate([np.ones(r), -np.ones(len(rel.child))])
        a = sp.csr_matrix((values, (rows, cols)), shape=(r, self.n))
        partial = np.isin(np.unique(rel.relation), list(rel.partial))
        self.equal, self.at_least = a[~partial], -a[partial]  # -(parent - parts) <= 0
        self.bounds = np.column_stack([low, np.where(np.isinf(high), np.nan, high)])

    def optimum(self, objective: np.ndarray) -> np.ndarray:
        """A vertex minimising `objective`."""
        from scipy.optimize import linprog

        some = self.at_least.shape[0] > 0
        res = linprog(
            objective,
            A_ub=self.at_least if some else None,
            b_ub=np.zeros(self.at_least.shape[0]) if some else None,
            A_eq=self.equal,
            b_eq=np.zeros(self.equal.shape[0]),
            bounds=[(lo, None if np.isnan(hi) else hi) for lo, hi in self.bounds],
            method="highs",
            options={} if self.max_iterations is None else {"maxiter": self.max_iterations},
        )
        if res.status == 1:
            raise LimitReached(res.message)
        if res.status == 3:  # unbounded: the direction has no optimum; one coordinate runs off
            return np.full(self.n, np.nan)
        if res.status != 0:  # pragma: no cover - the truth is feasible, so the program is
            raise ArithmeticError(f"the attacker's linear program failed: {res.message}")
        return res.x


def lp_bounds(
    low: np.ndarray, high: np.ndarray, rel: Relations, cells: np.ndarray, max_iterations: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The exact LP bounds of `cells` (indices) under the relations and the box [low, high]; with
    `max_iterations`, LimitReached when one program needs more simplex iterations (deterministic,
    unlike a time limit, so a rebuild decides as the incremental publication did)."""
    program = _Program(low, high, rel, max_iterations)
    lows, highs = np.empty(len(cells)), np.empty(len(cells))
    for k, i in enumerate(cells):
        for sign, out in ((1.0, lows), (-1.0, highs)):
            objective = np.zeros(program.n)
            objective[i] = sign
            x = program.optimum(objective)
            out[k] = np.inf if np.isnan(x[i]) else x[i]
    return lows, highs


def lp_narrowed(
    low: np.ndarray,
    high: np.ndarray,
    rel: Relations,
    cells: np.ndarray,
    truth: np.ndarray,
    min_width: float,
    rounds: int = 24,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells among `cells` whose exact LP interval is narrower than `min_width`, with their bounds.

    A per-cell LP for thousands of cells is slow, so most are cleared by certificates first: any point
    that satisfies every relation and box is one the attacker cannot rule out, so a cell whose values
    over such points span `min_width` is safe. The points are the truth and the optima of pushing the
    uncleared cells together: all up, all down, then each the way it has not been seen far yet (ties
    and every other round by a fixed pseudo-random sign), until three rounds clear nothing more. What
    is left (a handful) gets its exact LP."""
    # Certificates come from a program with every unbounded cell capped: its points satisfy the real
    # one too, and it always has an optimum.
    program = _Program(low, np.where(np.isinf(high), CAP, high), rel)
    seen_low, seen_high = truth[cells].astype(float), truth[cells].astype(float)
    todo = np.ones(len(cells), dtype=bool)
    rng = np.random.default_rng(0)  # fixed: an audit gives the same answer every run
    idle = 0
    for attempt in range(rounds):
        if not todo.any() or idle >= 3:
            break
        if attempt < 2:
            signs = np.full(todo.sum(), 1.0 if attempt else -1.0)
        else:
            up, down = seen_high[todo] - truth[cells[todo]], truth[cells[todo]] - seen_low[todo]
            signs = rng.choice([-1.0, 1.0], todo.sum())
            if attempt % 2:
                signs = np.where(up < down, 1.0, np.where(down < up, -1.0, signs))
        objective = np.zeros(program.n)
        objective[cells[todo]] = -signs  # linprog minimises
        x = program.optimum(objective)[cells]
        seen_low, seen_high = np.minimum(seen_low, x), np.maximum(seen_high, x)
        before = todo.sum()
        todo = (seen_high - seen_low) < min_width
        idle = idle + 1 if todo.sum() == before else 0
    rest = cells[todo]
    lows, highs = lp_bounds(low, high, rel, rest)
    narrow = (highs - lows) < min_width
    return rest[narrow], lows[narrow], highs[narrow]


@dataclass(frozen=True)
class Finding:
    """A hidden true small count and the interval the attacker derives for it."""

    cell: int
    count: int
    low: float
    high: float

    @property
    def pinned(self) -> bool:
        return self.high - self.low < 1


def findings(
    counts: np.ndarray, hidden: np.ndarray, low: np.ndarray, high: np.ndarray, threshold: int, min_width: float
) -> list[Finding]:
    """Hidden cells whose true count is 1 .. threshold-1 and whose interval is under `min_width` wide."""
    counts = np.asarray(counts)
    small = hidden & (counts > 0) & (counts < threshold) & ((high - low) < min_width)
    return [Finding(int(i), int(counts[i]), float(low[i]), float(high[i])) for i in np.flatnonzero(small)]
