"""Writing incidents: a set-based upsert by voorval hash with revision history, then the weekly
aggregates refreshed (warehouse.weekly) for exactly the weeks the load touched: new weeks and the old
weeks of revised incidents."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)

from buurtbeeld.memory import release_memory
from warehouse.bulk import analyze_temporary, bulk_insert, insert_frame, insert_frames, secondary_indexes_deferred
from warehouse.models import DeliveredCount, Incident, IncidentRevision
from warehouse.weekly import refresh_weekly_counts, touched, touched_weeks

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
# Rows per frame of the COPY on PostgreSQL (an Arrow table and its CSV at a time).
_ARROW_ROWS = 100_000
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
    is_known = np.zeros(len(clean), dtype=bool)
    # Into an empty warehouse (a first load) nothing is known: staging a million hashes to learn that
    # took 2.4 s.
    if conn.execute(select(inc.c.id).limit(1)).first() is not None:
        insert_frame(conn, stage_hash.name, hashes.to_frame().assign(pos=np.arange(len(hashes))))
        analyze_temporary(conn, stage_hash)
        found = conn.execute(select(stage_hash.c.pos).join(inc, inc.c.voorval_hash == stage_hash.c.voorval_hash))
        is_known[np.fromiter(found.scalars(), dtype=np.int64)] = True
    _insert_rows(conn, stage.name, clean, np.flatnonzero(is_known))
    analyze_temporary(conn, stage)
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
    weeks = touched_weeks(conn)
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
        chunks = (
            frame.iloc[positions[start : start + _ARROW_ROWS]][list(STAGE_COLUMNS)].assign(**(constants or {}))
            for start in range(0, len(positions), _ARROW_ROWS)
        )
        insert_frames(conn, table, chunks)
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
                out[name] = sqlite_timestamps(series.to_numpy(dtype="datetime64[us]"))
            elif name == "is_attempt":
                out[name] = [None if v is pd.NA else bool(v) for v in series.tolist()]
            else:
                out[name] = series.tolist()
        yield out


COUNT_COLUMNS = tuple(c.name for c in DeliveredCount.__table__.columns if c.name not in {"id", "batch_id"})
stage_counts = Table(
    "stage_count",
    _temp,
    *[Column(c.name, c.type) for c in DeliveredCount.__table__.columns if c.name in COUNT_COLUMNS],
    prefixes=["TEMPORARY"],
)


def sqlite_timestamps(values: np.ndarray) -> list[str | None]:
    """datetime64[us] values as the text SQLAlchemy's SQLite DateTime stores ('2017-09-20 17:30:00.000000')
    and compares: NumPy writes them in C, and the 'T' becomes a space in place in the fixed-width
    text array (a million in 0.9 s; a Python f-string per value took 1.4 s)."""
    if not len(values):
        return []
    text = np.datetime_as_string(values, unit="us")
    text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    out: list[str | None] = text.tolist()
    for i in np.flatnonzero(np.isnat(values)):
        out[i] = None
    return out


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
    weeks = touched_weeks(conn)
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
