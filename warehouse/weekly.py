"""The weekly aggregate: weekly_count refreshed for exactly the weeks a load touched, and the
provisional flag on each gemeente's last two delivered weeks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    and_,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    update,
)

from warehouse.bulk import analyze_temporary, insert_frame, read_frame, secondary_indexes_deferred
from warehouse.models import CELL, WEEK_FIRST_CELL, DeliveredCount, DeliveryHorizon, Incident, WeeklyCount
from warehouse.upsert import upsert

ALL = "*"
_FINE = [*CELL, "count"]

touched = Table(
    "touched_week",
    MetaData(),
    Column("gemeente_code", String(6)),
    Column("iso_year", Integer),
    Column("iso_week", Integer),
    Column("is_new", Boolean, nullable=False, server_default=false()),  # no counts before this load
    prefixes=["TEMPORARY"],
)


def touched_weeks(conn: Connection) -> list[tuple[str, int, int]]:
    """(gemeente, ISO year, ISO week) of this load; the caller republishes exactly these."""
    rows = conn.execute(select(touched.c.gemeente_code, touched.c.iso_year, touched.c.iso_week)).all()
    return [(g, int(y), int(w)) for g, y, w in rows]


def _same_week(table: Table) -> Any:
    """table's row lies in one of the touched (gemeente, ISO week)s."""
    return and_(
        table.c.gemeente_code == touched.c.gemeente_code,
        table.c.iso_year == touched.c.iso_year,
        table.c.iso_week == touched.c.iso_week,
    )


# --- the pure part ------------------------------------------------------------------------------------


def summed_levels(fine: pd.DataFrame) -> pd.DataFrame:
    """One row per buurt x group x MK x week (the fine cells summed) and one all-categories row per
    buurt x week (group and MK '*'): _FINE columns.

    A group's own total is the sum of its rows, summed where it is read (warehouse.published): stored,
    it was 40 % of the rows a load writes (550 000 of 1.38 million for the 1M benchmark file).

    The rows come out in the order of weekly_count's key (WEEK_FIRST_CELL): each buurt-week's
    total ('*' sorts before any group code) just before that buurt-week's cells. The key built
    after a bulk insert then sorts rows already in order: 830 000 cells built in 0.57-0.62 s on
    PostgreSQL instead of 0.85-0.90 s with the totals after all cells."""
    fine = fine.astype({"indeling_year": "int64", "iso_year": "int64", "iso_week": "int64", "count": "int64"})
    cells = fine.groupby(list(WEEK_FIRST_CELL), as_index=False)["count"].sum()
    total = cells.groupby(list(WEEK_FIRST_CELL[:5]), as_index=False).agg(count=("count", "sum"), rows=("count", "size"))
    # Both come out of groupby sorted on the buurt-week, so buurt-week k's first cell is at the sum
    # of the sizes of the buurt-weeks before it.
    sizes = total["rows"].to_numpy()
    starts = np.cumsum(sizes) - sizes
    order = np.insert(np.arange(len(cells)), starts, np.arange(len(cells), len(cells) + len(total)))
    total = total.drop(columns="rows").assign(group_code=ALL, mk_code=ALL)
    return pd.concat([cells, total[_FINE]], ignore_index=True).take(order).reset_index(drop=True)


def provisional_flags(cells: pd.DataFrame, first_provisional: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """`cells` with is_provisional: the row's week is at or after its gemeente's first provisional week."""
    week = cells["iso_year"].to_numpy() * 100 + cells["iso_week"].to_numpy()
    # Per distinct gemeente, not per row (Series.map of 830 000 rows took 0.7 s).
    positions, gemeenten = pd.factorize(cells["gemeente_code"])
    threshold = np.array([first_provisional[g][0] * 100 + first_provisional[g][1] for g in gemeenten], dtype=np.int64)
    return cells.assign(is_provisional=week >= threshold[positions])


# --- I/O ----------------------------------------------------------------------------------------------


def refresh_weekly_counts(conn: Connection, file_levels: pd.DataFrame | None = None) -> list[str]:
    """Recount the weeks in `touched_week` (summed_levels, provisional_flags), then move each
    gemeente's provisional flag.

    A week that had no counts before this load held no incidents (every incident's week has counts),
    so its incidents are exactly this file's: `file_levels` (summed_levels of the file's incidents
    per fine cell) counts them without reading them back, which is most of a first or historical
    load. Other weeks are counted by one GROUP BY; delivered counts of the touched weeks are added as
    they are. Everything is written in one bulk insert, not by GROUP BYs in SQL over a temporary
    table that the fine cells were first copied into."""
    inc, wc, dc = Incident.__table__, WeeklyCount.__table__, DeliveredCount.__table__
    analyze_temporary(conn, touched)
    gemeenten = conn.execute(select(touched.c.gemeente_code).distinct()).scalars().all()
    thresholds = {g: provisional_from(conn, g) for g in gemeenten}
    if file_levels is not None:
        conn.execute(update(touched).where(~exists().where(_same_week(wc))).values(is_new=True))
    conn.execute(delete(wc).where(exists().where(_same_week(wc))))

    keys = [inc.c[c] for c in CELL]
    recounted = select(*keys, func.count()).select_from(inc.join(touched, and_(_same_week(inc), ~touched.c.is_new)))
    fine = [
        read_frame(conn, recounted.group_by(*keys), _FINE),
        read_frame(conn, select(*[dc.c[c] for c in _FINE]).select_from(dc.join(touched, _same_week(dc))), _FINE),
    ]
    fine = [f for f in fine if len(f)]
    parts = [summed_levels(pd.concat(fine, ignore_index=True))] if fine else []
    if file_levels is not None and len(file_levels):
        parts.append(_in_new_weeks(conn, file_levels))
    parts = [p for p in parts if len(p)]
    if parts:
        # The weeks of the two parts differ (recounted weeks are not new), each part is in key order.
        cells = parts[0] if len(parts) == 1 else pd.concat(parts).sort_values(list(WEEK_FIRST_CELL), kind="stable")
        cells = provisional_flags(cells, {g: key for g, (key, _) in thresholds.items()})
        # The key too, on PostgreSQL: kept during a COPY of 830 000 cells it cost 1.2 s of 2.9 s.
        with secondary_indexes_deferred(conn, wc, len(cells), (PrimaryKeyConstraint,)):
            insert_frame(conn, wc.name, cells)
    marked: list[str] = []
    for gemeente, (key, labels) in thresholds.items():
        # Weeks outside this load that crossed the threshold since the previous delivery.
        conn.execute(
            update(wc)
            .where(
                wc.c.gemeente_code == gemeente,
                wc.c.is_provisional.is_(True),
                ~_week_at_or_after(wc.c.iso_year, wc.c.iso_week, key),
            )
            .values(is_provisional=False)
        )
        conn.execute(
            update(wc)
            .where(
                wc.c.gemeente_code == gemeente,
                ~wc.c.is_provisional,
                _week_at_or_after(wc.c.iso_year, wc.c.iso_week, key),
            )
            .values(is_provisional=True)
        )
        marked += labels
    return marked


def _in_new_weeks(conn: Connection, levels: pd.DataFrame) -> pd.DataFrame:
    """The rows of `levels` in touched weeks that had no counts before this load (all of them when
    every touched week is new, as in a first or historical load)."""
    if not conn.execute(select(func.count()).select_from(touched).where(~touched.c.is_new)).scalar_one():
        return levels
    week = ["gemeente_code", "iso_year", "iso_week"]
    new_weeks = read_frame(conn, select(*[touched.c[c] for c in week]).where(touched.c.is_new), week)
    typed = {"iso_year": "int64", "iso_week": "int64"}
    return levels.astype(typed).merge(new_weeks.astype(typed))  # an inner merge keeps the order of `levels`


def _week_at_or_after(year_col: Any, week_col: Any, key: tuple[int, int]) -> Any:
    year, week = key
    return or_(year_col > year, and_(year_col == year, week_col >= week))


def advance_horizon(conn: Connection, latest: pd.Series, batch_id: int) -> None:
    """Move each gemeente's delivery horizon (DeliveryHorizon) up to this file's latest kennisname,
    or its latest pleegmoment when the file has no kennisname at all; never back. latest: that
    moment per gemeente code."""
    horizon = DeliveryHorizon.__table__
    if latest.empty:
        return
    stored = dict(
        conn.execute(
            select(horizon.c.gemeente_code, horizon.c.latest_at).where(horizon.c.gemeente_code.in_(latest.index))
        ).all()
    )
    rows = [
        {"gemeente_code": g, "latest_at": at.to_pydatetime(), "batch_id": batch_id}
        for g, at in latest.items()
        if g not in stored or at.to_pydatetime() > stored[g]
    ]
    upsert(conn, horizon, rows, ["gemeente_code"], ["latest_at", "batch_id"])


def provisional_from(conn: Connection, gemeente: str) -> tuple[tuple[int, int], list[str]]:
    """The week of a gemeente's delivery horizon (its latest kennisname, see DeliveryHorizon) and the
    week before are provisional: late registrations still come in for them. Returns ((iso year, week)
    of the first provisional week, labels)."""
    horizon = DeliveryHorizon.__table__
    latest = conn.execute(select(horizon.c.latest_at).where(horizon.c.gemeente_code == gemeente)).scalar()
    if latest is None:  # only delivered counts: the last day of the latest delivered week
        dc = DeliveredCount.__table__
        key = conn.execute(
            select(func.max(dc.c.iso_year * 100 + dc.c.iso_week)).where(dc.c.gemeente_code == gemeente)
        ).scalar_one()
        latest = date.fromisocalendar(key // 100, key % 100, 7)
    day = latest.date() if isinstance(latest, datetime) else latest
    previous = day - timedelta(days=7)
    weeks = [d.isocalendar()[:2] for d in (previous, day)]
    return (weeks[0][0], weeks[0][1]), [f"{gemeente} {y}-W{w:02d}" for y, w in weeks]
