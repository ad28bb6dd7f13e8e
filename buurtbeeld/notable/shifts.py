"""Level shifts: a changepoint test for a lasting change of a series' level."""

from __future__ import annotations

import numpy as np

from buurtbeeld.notable.method import DEFAULT, Method
from buurtbeeld.notable.tails import lower_tail, upper_tail


def level_shift(
    y: np.ndarray, e: np.ndarray, p: np.ndarray, inv: np.ndarray, method: Method = DEFAULT
) -> tuple[np.ndarray, ...]:
    """A lasting change of level in the last months of each series (a changepoint test, as in
    public-health surveillance: CUSUM's question asked once per candidate start).

    For every candidate first month of a new level (the last `shift_after` .. 12 months), the cases
    since are compared with the level of up to 12 months before (on the seasonal profile `p` and the
    exposure `e`) by the exact negative-binomial tail, with the series' 1/k and the estimation
    variance of the old level. A shift needs a tail below `shift_p` (about a dozen candidates per
    series and every series of the month: a Bonferroni-sized level; the normal approximation gave a
    false shift per 250 quiet series), a ratio of at least `shift_ratio` either way, a level of at
    least `min_count` a month before or after, and the first and last two months on the new side. Returns per
    series the direction (+1, −1 or 0), the months at the new level, its rate and the cases since."""
    n, h = y.shape
    best = np.ones(n)
    sign, length = np.zeros(n), np.zeros(n, dtype=int)
    rate_after, o_after = np.full(n, np.nan), np.full(n, np.nan)
    ep = e * p
    for after in range(method.shift_after, min(12, h - method.shift_before) + 1):
        start = h - after
        before = slice(max(0, start - 12), start)
        ob, eb = y[:, before].sum(axis=1), ep[:, before].sum(axis=1)
        rate_b = ob / eb
        mu_a = rate_b[:, None] * ep[:, start:]
        e_a, o_a = mu_a.sum(axis=1), y[:, start:].sum(axis=1)
        n_b = before.stop - before.start
        safe = np.where(e_a > 0, e_a, np.nan)
        extra = inv * (mu_a**2).sum(axis=1) / safe**2 + (1.0 / (ob + 0.5)) * (1.0 + inv * ob / n_b)
        mu = np.maximum(np.nan_to_num(e_a), 0.5 / 12)
        extra = np.nan_to_num(extra)
        side = np.where(o_a > e_a, 1.0, -1.0)
        ratio = (o_a + 0.5) / (e_a + 0.5)
        # The first month of the new level and the last two on its side: a window that starts a
        # month early, or ends in a return, is not the shift.
        first_month = np.sign(y[:, start] - mu_a[:, 0]) == side
        last_two = (np.sign(y[:, h - 2 :] - mu_a[:, -2:]) == side[:, None]).all(axis=1) & first_month
        big = (ratio >= method.shift_ratio) | (ratio <= 1.0 / method.shift_ratio)
        busy = np.maximum(o_a, e_a) / after >= method.min_count
        # The exact tails only where the cheap conditions hold (a few per cent of the series).
        rough = np.abs(o_a - e_a) / np.sqrt(mu * (1.0 + mu * extra)) > 2.5
        check = np.flatnonzero(big & busy & last_two & rough)
        tail = np.ones(n)
        if len(check):
            up, down = upper_tail(o_a[check], mu[check], extra[check]), lower_tail(o_a[check], mu[check], extra[check])
            tail[check] = np.where(side[check] > 0, up, down)
        ok = (tail <= method.shift_p) & big & busy & last_two & (tail < best)
        best = np.where(ok, tail, best)
        sign = np.where(ok, side, sign)
        length = np.where(ok, after, length)
        rate_after = np.where(ok, o_a / ep[:, start:].sum(axis=1), rate_after)
        o_after = np.where(ok, o_a, o_after)
    return sign, length, rate_after, o_after
