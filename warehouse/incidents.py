"""Writing incidents: a set-based upsert by voorval hash with revision history, then the weekly
aggregates refreshed for exactly the weeks the load touched (new weeks and the old weeks of revised
incidents), and the provisional flag on each gemeente's last two delivered weeks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union,
    union_all,
    update,
)

from buurtbeeld.memory import release_memory
from warehouse.bulk import bulk_insert, insert_frame, read_frame, secondary_indexes_deferred
from warehouse.models import CELL, DeliveredCount, Incident, IncidentRevision, WeeklyCount

STAGE_COLUMNS = (
    "voorval_hash",
    "gemeente_code",
    "indeling_year",
    "buurt_code",
    "assign_route",
    "mk_code",
    "group_code",
    "pleeg_at",
    "kennisname_at",
    "iso_year",
    "iso_week",
    "month",
    "weekday",
    "dagdeel",
    "is_attempt",
)
# Rows per COPY on PostgreSQL (an Arrow table and its CSV at a time).
_ARROW_ROWS = 200_000
# Calendar columns follow from pleeg_at, so comparing pleeg_at covers them.
_COMPARED = tuple(
    c for c in STAGE_COLUMNS if c not in {"voorval_hash", "iso_year", "iso_week", "month", "weekday", "dagdeel"}
)

_temp = MetaData()
stage = Table(
    "stage_incident",
    _temp,
    *[Column(c.name, c.type) for c in Incident.__table__.columns if c.name in STAGE_COLUMNS],
    prefixes=["TEMPORARY"],
)
# pos: the row's position in the file's frame, so the known rows come back as numbers, not a set of
# a million hash strings.
stage_hash = Table(
    "stage_hash", _temp, Column("voorval_hash", String(32)), Column("pos", Integer), prefixes=["TEMPORARY"]
)
agg = Table(
    "weekly_agg",
    _temp,
    *[Column(c.name, c.type) for c in WeeklyCount.__table__.columns if c.name not in {"id", "is_provisional"}],
    prefixes=["TEMPORARY"],
)
touched = Table(
    "touched_week",
    _temp,
    Column("gemeente_code", String(6)),
    Column("iso_year", Integer),
    Column("iso_week", Integer),
    Column("is_new", Boolean, nullable=False, server_default=false()),  # no counts before this load
    prefixes=["TEMPORARY"],
)


def upsert_incidents(
    conn: Connection,
    clean: pd.DataFrame,
    batch_id: int,
    file_cells: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Insert new incidents, update revised ones (keeping their old state), leave the rest alone.

    clean: STAGE_COLUMNS per incident (CleanIncident). Only the hashes are staged first; incidents the
    warehouse already holds are then staged whole and compared in SQL, while new ones (all of a first
    load, most of a weekly one) go straight into `incident` in hash order. file_cells: the file's own
    incidents counted per fine cell (CELL columns and `count`); see refresh_weekly_counts."""
    inc = Incident.__table__
    for table in (stage_hash, stage, touched):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    hashes = clean["voorval_hash"]
    insert_frame(conn, stage_hash.name, hashes.to_frame().assign(pos=np.arange(len(hashes))))
    _analyze(conn, stage_hash)
    found = conn.execute(select(stage_hash.c.pos).join(inc, inc.c.voorval_hash == stage_hash.c.voorval_hash))
    is_known = np.zeros(len(clean), dtype=bool)
    is_known[np.fromiter(found.scalars(), dtype=np.int64)] = True
    _insert_rows(conn, stage.name, clean, np.flatnonzero(is_known))
    _analyze(conn, stage)
    # In hash order the unique index grows at its end instead of at random pages.
    new_rows = np.flatnonzero(~is_known)
    new_rows = new_rows[hashes.iloc[new_rows].argsort(kind="stable").to_numpy()]  # Arrow sorts; no Python strings

    match = inc.c.voorval_hash == stage.c.voorval_hash
    differs = or_(*[inc.c[c].is_distinct_from(stage.c[c]) for c in _COMPARED])
    changed = select(inc.c.id).select_from(inc.join(stage, match)).where(differs)

    week_columns = ["gemeente_code", "iso_year", "iso_week"]
    new_weeks = clean.iloc[new_rows][week_columns].drop_duplicates()
    bulk_insert(conn, touched.name, {c: new_weeks[c].tolist() for c in week_columns})
    known_weeks = union(  # distinct: the weeks of known incidents in the file and the old weeks of revised ones
        select(stage.c.gemeente_code, stage.c.iso_year, stage.c.iso_week),
        select(inc.c.gemeente_code, inc.c.iso_year, inc.c.iso_week).where(inc.c.id.in_(changed)),
    ).subquery()
    already = touched.alias("already")
    conn.execute(
        insert(touched).from_select(
            week_columns,
            select(*[known_weeks.c[c] for c in week_columns]).where(
                ~exists().where(*[already.c[c] == known_weeks.c[c] for c in week_columns])
            ),
        )
    )
    # Counted by SELECT: INSERT .. SELECT rowcount is not reported by every driver (psycopg gives -1).
    revised = conn.execute(select(func.count()).select_from(inc.join(stage, match)).where(differs)).scalar_one()
    conn.execute(
        insert(IncidentRevision.__table__).from_select(
            [
                "incident_id",
                "batch_id",
                "old_mk_code",
                "old_buurt_code",
                "old_pleeg_at",
                "old_iso_year",
                "old_iso_week",
            ],
            select(
                inc.c.id,
                literal(batch_id),
                inc.c.mk_code,
                inc.c.buurt_code,
                inc.c.pleeg_at,
                inc.c.iso_year,
                inc.c.iso_week,
            )
            .select_from(inc.join(stage, match))
            .where(differs),
        )
    )
    conn.execute(
        update(inc)
        .where(match, differs)
        .values({**{c: stage.c[c] for c in STAGE_COLUMNS if c != "voorval_hash"}, "batch_id": batch_id})
    )
    with secondary_indexes_deferred(conn, inc, len(new_rows), (ForeignKeyConstraint,)):
        _insert_rows(conn, inc.name, clean, new_rows, {"first_batch_id": batch_id, "batch_id": batch_id})
    new, total = len(new_rows), len(clean)
    # The frame is the caller's to give up (it passes it without keeping it): freed here, before
    # the database sorts a million rows for the weekly counts.
    del clean, hashes, is_known, new_rows, new_weeks
    release_memory()
    weeks = _touched_weeks(conn)
    provisional = refresh_weekly_counts(conn, file_cells)
    for table in (stage_hash, stage, touched):
        table.drop(conn)
    return {
        "touched": weeks,
        "nieuw": new,
        "gewijzigd": revised,
        "ongewijzigd": total - new - revised,
        "weken_bijgewerkt": len(weeks),
        "voorlopig": provisional,
    }


def _insert_rows(
    conn: Connection, table: str, frame: pd.DataFrame, positions: np.ndarray, constants: Mapping[str, Any] | None = None
) -> None:
    """Insert the rows of `frame` at `positions`, plus `constants` in every row. A function of its
    own so that the last chunk's Python values die with it, not with the upsert. PostgreSQL takes the
    frame's own columns (insert_frame); SQLite gets timestamps as text (frame_columns)."""
    if conn.dialect.name == "postgresql":
        for start in range(0, len(positions), _ARROW_ROWS):
            chunk = frame.iloc[positions[start : start + _ARROW_ROWS]][list(STAGE_COLUMNS)]
            insert_frame(conn, table, chunk.assign(**(constants or {})), _ARROW_ROWS)
        return
    for columns in frame_columns(frame, positions):
        size = len(columns["voorval_hash"])
        bulk_insert(conn, table, {**columns, **{name: [value] * size for name, value in (constants or {}).items()}})


def frame_columns(frame: pd.DataFrame, positions: np.ndarray, rows: int = 50_000) -> Iterator[dict[str, list[Any]]]:
    """STAGE_COLUMNS of the rows at `positions` as plain Python values for the bulk writer, a chunk
    of rows at a time (a million rows as Python objects at once would cost about 1 GB); timestamps as
    SQL text."""
    for start in range(0, len(positions), rows):
        chunk = frame.iloc[positions[start : start + rows]]
        out: dict[str, list[Any]] = {}
        for name in STAGE_COLUMNS:
            series = chunk[name]
            if name in {"pleeg_at", "kennisname_at"}:
                values = series.to_numpy(dtype="datetime64[s]")
                text = np.char.replace(np.datetime_as_string(values, unit="s"), "T", " ")
                out[name] = [None if t == "NaT" else f"{t}.000000" for t in text.tolist()]
            elif name == "is_attempt":
                out[name] = [None if v is pd.NA else bool(v) for v in series.tolist()]
            else:
                out[name] = series.tolist()
        yield out


def _touched_weeks(conn: Connection) -> list[tuple[str, int, int]]:
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


def refresh_weekly_counts(conn: Connection, file_cells: pd.DataFrame | None = None) -> list[str]:
    """Recount the weeks in `touched_week`: per MK, per group ('*' MK) and for all categories ('*').

    The finest level goes into a temporary table; the coarser levels are summed from it. A week that
    had no counts before this load held no incidents (every incident's week has counts), so its
    incidents are exactly this file's: `file_cells` counts them without reading them back (a first
    or historical load is mostly such weeks). Other weeks are counted by one GROUP BY.
    """
    inc, wc = Incident.__table__, WeeklyCount.__table__
    _analyze(conn, touched)
    gemeenten = conn.execute(select(touched.c.gemeente_code).distinct()).scalars().all()
    thresholds = {g: provisional_from(conn, g) for g in gemeenten}
    if file_cells is not None:
        conn.execute(update(touched).where(~exists().where(_same_week(wc))).values(is_new=True))
    conn.execute(delete(wc).where(exists().where(_same_week(wc))))

    agg.drop(conn, checkfirst=True)
    agg.create(conn)
    joined = inc.join(touched, and_(_same_week(inc), ~touched.c.is_new))
    keys = [inc.c[c] for c in CELL]
    conn.execute(
        insert(agg).from_select([*CELL, "count"], select(*keys, func.count()).select_from(joined).group_by(*keys))
    )
    if file_cells is not None:
        week = ["gemeente_code", "iso_year", "iso_week"]
        new_weeks = read_frame(conn, select(*[touched.c[c] for c in week]).where(touched.c.is_new), week)
        if len(new_weeks):
            new_weeks = new_weeks.astype({"iso_year": "int64", "iso_week": "int64"})
            insert_frame(conn, agg.name, file_cells.astype({"iso_year": "int64", "iso_week": "int64"}).merge(new_weeks))
    dc = DeliveredCount.__table__
    delivered = dc.join(touched, _same_week(dc))
    conn.execute(
        insert(agg).from_select([*CELL, "count"], select(*[dc.c[c] for c in CELL], dc.c.count).select_from(delivered))
    )
    star = literal("*")
    base = (agg.c.gemeente_code, agg.c.indeling_year, agg.c.buurt_code)
    period = (agg.c.iso_year, agg.c.iso_week)
    # (group column, MK column, extra group-by columns) per aggregation level.
    levels = [
        (agg.c.group_code, agg.c.mk_code, [agg.c.group_code, agg.c.mk_code]),
        (agg.c.group_code, star, [agg.c.group_code]),
        (star, star, []),
    ]
    provisional = or_(
        false(),
        *[
            and_(agg.c.gemeente_code == g, _week_at_or_after(agg.c.iso_year, agg.c.iso_week, key))
            for g, (key, _) in thresholds.items()
        ],
    )
    # A count delivered for a whole category (MK '*') has no MK-level row of its own.
    only_mk = [agg.c.mk_code != "*", true(), true()]
    selects = [
        select(*base, group, mk, *period, func.sum(agg.c.count), provisional).where(keep).group_by(*base, *by, *period)
        for (group, mk, by), keep in zip(levels, only_mk, strict=True)
    ]
    finest = conn.execute(select(func.count()).select_from(agg)).scalar_one()
    # Every fine cell also feeds a group and an all-categories cell: about twice as many rows written.
    with secondary_indexes_deferred(conn, wc, 2 * finest, (UniqueConstraint,)):
        conn.execute(insert(wc).from_select([*CELL, "count", "is_provisional"], union_all(*selects)))
    agg.drop(conn)
    marked: list[str] = []
    for gemeente, (key, labels) in thresholds.items():
        # Weeks outside this load that crossed the threshold since the previous delivery.
        conn.execute(
            update(wc)
            .where(
                wc.c.gemeente_code == gemeente,
                wc.c.is_provisional,
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


def _week_at_or_after(year_col: Any, week_col: Any, key: tuple[int, int]) -> Any:
    year, week = key
    return or_(year_col > year, and_(year_col == year, week_col >= week))


def _analyze(conn: Connection, table: Table) -> None:
    """Temporary tables have no statistics on PostgreSQL until analysed; the planner needs them."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def provisional_from(conn: Connection, gemeente: str) -> tuple[tuple[int, int], list[str]]:
    """The week of a gemeente's latest kennisname and the week before are provisional: late
    registrations still come in for them. Returns ((iso year, week) of the first provisional week, labels)."""
    inc = Incident.__table__
    latest = conn.execute(select(func.max(inc.c.kennisname_at)).where(inc.c.gemeente_code == gemeente)).scalar()
    if latest is None:
        latest = conn.execute(select(func.max(inc.c.pleeg_at)).where(inc.c.gemeente_code == gemeente)).scalar()
    if latest is None:  # only delivered counts: the last day of the latest delivered week
        dc = DeliveredCount.__table__
        key = conn.execute(
            select(func.max(dc.c.iso_year * 100 + dc.c.iso_week)).where(dc.c.gemeente_code == gemeente)
        ).scalar_one()
        latest = date.fromisocalendar(key // 100, key % 100, 7)
    if isinstance(latest, str):  # SQLite returns the stored text for an aggregate
        latest = date.fromisoformat(latest[:10])
    day = latest if isinstance(latest, date) and not isinstance(latest, datetime) else latest.date()
    previous = day - timedelta(days=7)
    weeks = [d.isocalendar()[:2] for d in (previous, day)]
    return (weeks[0][0], weeks[0][1]), [f"{gemeente} {y}-W{w:02d}" for y, w in weeks]


COUNT_COLUMNS = tuple(c.name for c in DeliveredCount.__table__.columns if c.name not in {"id", "batch_id"})
stage_counts = Table(
    "stage_count",
    _temp,
    *[Column(c.name, c.type) for c in DeliveredCount.__table__.columns if c.name in COUNT_COLUMNS],
    prefixes=["TEMPORARY"],
)


def upsert_delivered_counts(conn: Connection, columns: Mapping[str, Sequence[Any]], batch_id: int) -> dict[str, Any]:
    """Store buurt-level counts (a re-delivered cell replaces the old one) and refresh their weeks."""
    dc = DeliveredCount.__table__
    for table in (stage_counts, touched):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    bulk_insert(conn, stage_counts.name, columns)
    key = [c for c in COUNT_COLUMNS if c != "count"]
    match = and_(*[dc.c[c] == stage_counts.c[c] for c in key])
    replaced = conn.execute(select(func.count()).select_from(dc.join(stage_counts, match))).scalar_one()
    conn.execute(delete(dc).where(exists().where(match)))
    conn.execute(
        insert(dc).from_select(
            [*COUNT_COLUMNS, "batch_id"], select(*[stage_counts.c[c] for c in COUNT_COLUMNS], literal(batch_id))
        )
    )
    conn.execute(
        insert(touched).from_select(
            ["gemeente_code", "iso_year", "iso_week"],
            select(stage_counts.c.gemeente_code, stage_counts.c.iso_year, stage_counts.c.iso_week).distinct(),
        )
    )
    weeks = _touched_weeks(conn)
    provisional = refresh_weekly_counts(conn)
    stage_counts.drop(conn)
    touched.drop(conn)
    total = len(columns["count"])
    return {
        "touched": weeks,
        "cellen_nieuw": total - replaced,
        "cellen_vervangen": replaced,
        "weken_bijgewerkt": len(weeks),
        "voorlopig": provisional,
    }
