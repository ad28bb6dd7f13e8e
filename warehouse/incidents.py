"""Writing incidents: a set-based upsert by voorval hash with revision history, then the weekly
aggregates refreshed (warehouse.weekly) for exactly the weeks the load touched: new weeks and the old
weeks of revised incidents."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
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

from buurtbeeld.arrow_text import text_buffers
from buurtbeeld.memory import release_memory
from warehouse import deliveries
from warehouse.bulk import (
    analyze_temporary,
    bulk_insert,
    insert_frame,
    insert_frames,
    reserved_ids,
    secondary_indexes_deferred,
)
from warehouse.models import CELL, HASH, DeliveredCount, Delivery, Incident, IncidentRevision, LoadBatch
from warehouse.weekly import advance_horizon, refresh_weekly_counts, summed_levels, touched, touched_weeks

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
# Rows per frame handed to the bulk writer.
_FRAME_ROWS = 50_000
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
stage_hash = Table("stage_hash", _temp, Column("voorval_hash", HASH), Column("pos", Integer), prefixes=["TEMPORARY"])


WEEK = ("gemeente_code", "iso_year", "iso_week")


@dataclass
class PendingIncidents:
    """A file's incidents, made ready to store (CleanIncident, STAGE_COLUMNS) a part at a time while
    the parts before them are being written: on PostgreSQL the server inserts one part while Python
    cleans the next, so the two cores work at once (the steps of a first 1M load: 23.9 and 24.9 s
    before, 21.6 and 22.7 s after, runs alternating).

    rows: how many. hashes(): every row's voorval hash, in row order; asked for only when some must
    be compared with the warehouse's or put in order. clean(positions): the rows at those positions."""

    rows: int
    hashes: Callable[[], pd.Series]
    clean: Callable[[np.ndarray], pd.DataFrame]


class _Tally:
    """What the weekly refresh and the delivery horizon need of the file, gathered from each cleaned
    part as it goes by: its fine cells, the weeks of its new incidents, its latest moments."""

    def __init__(self) -> None:
        self._cells: list[pd.DataFrame] = []
        self._weeks: list[pd.DataFrame] = []
        self._latest: list[pd.DataFrame] = []

    def add(self, part: pd.DataFrame, new: bool) -> None:
        # Counted once at the end: a million rows hold some 800 000 distinct cells, so counting
        # each part first and summing the counts after cost twice as much.
        self._cells.append(part[list(CELL)])
        if new:
            self._weeks.append(part[list(WEEK)].drop_duplicates())
        self._latest.append(part.groupby("gemeente_code", observed=True)[["kennisname_at", "pleeg_at"]].max())

    def file_cells(self) -> pd.DataFrame:
        """The file's incidents per fine cell (CELL columns and `count`)."""
        if not self._cells:
            return pd.DataFrame(columns=[*CELL, "count"])
        return pd.concat(self._cells).groupby(list(CELL), observed=True).size().reset_index(name="count")

    def file_levels(self) -> pd.DataFrame:
        """summed_levels of the file's cells: its weekly_count rows, but for the provisional flag."""
        return summed_levels(self.file_cells())

    def new_weeks(self) -> pd.DataFrame:
        return pd.concat(self._weeks).drop_duplicates() if self._weeks else pd.DataFrame(columns=list(WEEK))

    def latest(self) -> pd.Series:
        """Per gemeente: its latest kennisname, else (none at all) its latest pleegmoment."""
        if not self._latest:
            return pd.Series(dtype="datetime64[us]")
        by = pd.concat(self._latest).groupby(level=0).max()
        return by["kennisname_at"].fillna(by["pleeg_at"]).dropna()


# Rows cleaned at a time: small enough that the server is soon busy with the first, large enough
# that the checks' own overhead per part stays small.
_CLEAN_ROWS = 100_000


def upsert_incidents(
    conn: Connection, pending: PendingIncidents, batch_id: int, periods: dict[str, tuple[int, int]] | None = None
) -> dict[str, Any]:
    """Insert new incidents, update revised ones (keeping their old state), leave the rest alone.

    periods: the weeks the file covers per gemeente (the delivery register). Revised incidents whose
    current state came from a file that reached further are counted under `teruggedraaid` (with the
    newest such file): an older export loaded late would undo later corrections, and the caller
    refuses it.

    Only the hashes are staged first, and only when the warehouse holds incidents at all; incidents
    it already holds are then staged whole and compared in SQL, while new ones (all of a first load,
    most of a weekly one) go straight into `incident`, cleaned as they go (PendingIncidents)."""
    inc = Incident.__table__
    for table in (stage_hash, stage, touched):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    is_known = np.zeros(pending.rows, dtype=bool)
    # Into an empty warehouse (a first load) nothing is known: staging a million hashes to learn that
    # took 2.4 s.
    if conn.execute(select(inc.c.id).limit(1)).first() is not None:
        hashes = pending.hashes()
        insert_frame(conn, stage_hash.name, hashes.to_frame("voorval_hash").assign(pos=np.arange(len(hashes))))
        analyze_temporary(conn, stage_hash)
        found = conn.execute(select(stage_hash.c.pos).join(inc, inc.c.voorval_hash == stage_hash.c.voorval_hash))
        is_known[np.fromiter(found.scalars(), dtype=np.int64)] = True
    tally = _Tally()
    _insert_rows(conn, stage.name, pending, np.flatnonzero(is_known), tally, new=False)
    analyze_temporary(conn, stage)
    new_rows = np.flatnonzero(~is_known)

    match = inc.c.voorval_hash == stage.c.voorval_hash
    differs = or_(*[inc.c[c].is_distinct_from(stage.c[c]) for c in _COMPARED])
    changed = select(inc.c.id).select_from(inc.join(stage, match)).where(differs)
    conn.execute(  # the weeks of known incidents in the file and the old weeks of revised ones
        insert(touched).from_select(
            list(WEEK),
            union(
                select(stage.c.gemeente_code, stage.c.iso_year, stage.c.iso_week),
                select(inc.c.gemeente_code, inc.c.iso_year, inc.c.iso_week).where(inc.c.id.in_(changed)),
            ),
        )
    )
    # Counted by SELECT: INSERT .. SELECT rowcount is not reported by every driver (psycopg gives -1).
    revised = conn.execute(select(func.count()).select_from(inc.join(stage, match)).where(differs)).scalar_one()
    reverted = _newer_corrections(conn, match, differs, periods or {}) if revised else {}
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
    # The new rows are not looked up in the unique hash index while they go in (their hashes were
    # checked above): rebuilt after a million, it cost 1.3 s instead of 2.6 s on PostgreSQL. The
    # primary key likewise: kept, the server spent 0.75 s more on a COPY of a million incidents
    # (rebuilt: 0.35 s), which is then the load's slowest side.
    keys = (ForeignKeyConstraint, UniqueConstraint, PrimaryKeyConstraint)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with secondary_indexes_deferred(conn, inc, len(new_rows), keys) as dropped:
            if not any(isinstance(c, UniqueConstraint) for c in dropped):
                # In hash order the unique index grows at its end instead of at random pages (SQLite:
                # 7.6 s instead of 12.3 s for a million). Rebuilt after the insert, it needs no order.
                new_rows = new_rows[hash_order(pending.hashes().iloc[new_rows])]
            constants = {"first_batch_id": batch_id, "batch_id": batch_id}
            ids = reserved_ids(conn, inc, len(new_rows))
            _insert_rows(conn, inc.name, pending, new_rows, tally, True, constants, ids)
            new, total = len(new_rows), pending.rows
            # The file's rows are the caller's to give up (it passes them without keeping them):
            # freed before the cells are summed, the load's last large frames.
            del pending, is_known
            release_memory(total)
            # On PostgreSQL, summed while the server rebuilds incident's keys and index as this block
            # ends: the driver waits for it without holding the GIL, and Python has nothing else to
            # do then. SQLite builds them in this process, and its sorter's memory on top of the
            # sum's raised a 1M load's peak from 870 to 959 MB: there the two follow each other.
            summing = pool.submit(tally.file_levels) if conn.dialect.name == "postgresql" else None
        file_levels = summing.result() if summing is not None else tally.file_levels()
    already = set(touched_weeks(conn))
    weeks_of_new = ((str(g), int(y), int(w)) for g, y, w in tally.new_weeks().itertuples(index=False, name=None))
    new_weeks = [week for week in weeks_of_new if week not in already]
    if new_weeks:
        bulk_insert(conn, touched.name, dict(zip(WEEK, map(list, zip(*new_weeks, strict=True)), strict=True)))
    advance_horizon(conn, tally.latest(), batch_id)
    del new_rows, new_weeks
    weeks = touched_weeks(conn)
    provisional = refresh_weekly_counts(conn, file_levels)
    for table in (stage_hash, stage, touched):
        table.drop(conn)
    return {
        "touched": weeks,
        "nieuw": new,
        "gewijzigd": revised,
        "ongewijzigd": total - new - revised,
        "weken_bijgewerkt": len(weeks),
        "voorlopig": provisional,
        "teruggedraaid": reverted,
    }


def _newer_corrections(conn: Connection, match: Any, differs: Any, periods: dict[str, tuple[int, int]]) -> dict:
    """How many staged incidents would overwrite a state that a file reaching further set, and the
    newest such file (name, last week); empty when none."""
    inc, batch = Incident.__table__, LoadBatch.__table__
    total, newest = 0, None
    for gemeente, (_, last) in periods.items():
        newer = deliveries.batches_newer_than(gemeente, last)
        hit = inc.c.batch_id.in_(newer) & (inc.c.gemeente_code == gemeente)
        n = conn.execute(select(func.count()).select_from(inc.join(stage, match)).where(differs, hit)).scalar_one()
        if n:
            total += n
            d = Delivery.__table__
            newest = conn.execute(
                select(batch.c.file_name, d.c.last_week)
                .join(d, d.c.batch_id == batch.c.id)
                .where(d.c.gemeente_code == gemeente, batch.c.id.in_(newer))
                .order_by(d.c.last_week.desc(), batch.c.id.desc())
                .limit(1)
            ).first()
    if not total or newest is None:
        return {}
    return {"aantal": total, "bestand": newest[0], "week": int(newest[1])}


_NIBBLE = np.zeros(256, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


def hash_order(hashes: pd.Series) -> np.ndarray:
    """Positions that put voorval hashes (32 lowercase hex digits) in order.

    Sorted by their first 16 digits as one unsigned 64-bit number, read straight from Arrow's text
    buffer: a million in 0.3 s, against 1.7 s for Arrow sorting the texts. Hashes that share those
    16 digits keep their file order, which is all the index needs. Anything else (a missing value,
    another length) is sorted as text."""
    offsets, data = text_buffers(hashes)
    if hashes.isna().any() or not (np.diff(offsets) == 32).all():
        return hashes.argsort(kind="stable").to_numpy()
    digits = _NIBBLE[data[offsets[0] : offsets[-1]].reshape(len(hashes), 32)[:, :16]]
    key = np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2]).view(">u8").ravel()
    return np.argsort(key, kind="stable")


def _insert_rows(
    conn: Connection,
    table: str,
    pending: PendingIncidents,
    positions: np.ndarray,
    tally: _Tally,
    new: bool,
    constants: Mapping[str, Any] | None = None,
    ids: np.ndarray | None = None,
) -> None:
    """Insert the rows of `pending` at `positions`, plus `constants` in every row: cleaned _CLEAN_ROWS
    at a time (and tallied), sent a frame of _FRAME_ROWS at a time: a million rows' values at once
    would cost about 1 GB as Python objects (SQLite) or as text waiting in the COPY queue. ids: the
    rows' ids, in the order of `positions` (reserved_ids), else the table's default gives them."""

    def frames() -> Iterator[pd.DataFrame]:
        for start in range(0, len(positions), _CLEAN_ROWS):
            part = pending.clean(positions[start : start + _CLEAN_ROWS])
            tally.add(part, new)
            for first in range(0, len(part), _FRAME_ROWS):
                frame = part.iloc[first : first + _FRAME_ROWS].assign(**(constants or {}))
                if ids is not None:
                    frame.insert(0, "id", ids[start + first : start + first + len(frame)])
                yield frame

    insert_frames(conn, table, frames())


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
