"""Fast bulk inserts and reads: row conversion, not the database, is the bottleneck for a million rows.

Columns arrive as lists/arrays of plain Python values (or None); rows are built with zip. SQLite takes
them through the DBAPI's executemany, PostgreSQL through COPY. Reads come back as a DataFrame built
from the driver's tuples when SQLAlchemy has nothing to convert: making a Row object per row costs
about as much as the query.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Constraint, Enum, Integer, String, Table, func, select
from sqlalchemy.schema import AddConstraint, DropConstraint


def bulk_insert(conn: Connection, table: str, columns: Mapping[str, Sequence[Any]]) -> int:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    cursor = conn.connection.driver_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
    finally:
        cursor.close()
    return len(next(iter(columns.values()), []))


def insert_frame(conn: Connection, table: str, frame: pd.DataFrame, rows: int = 100_000) -> int:
    """Insert a DataFrame's columns, a chunk of rows at a time (see insert_frames)."""
    return insert_frames(conn, table, (frame.iloc[start : start + rows] for start in range(0, len(frame), rows)))


def insert_frames(conn: Connection, table: str, frames: Iterable[pd.DataFrame]) -> int:
    """Insert frames with the same columns, made one after another by the caller.

    PostgreSQL: one COPY of CSV that Arrow writes in C, with no Python value per cell (a million
    incidents into a table without indexes: 3.0 s -> 2.1 s), sent by psycopg's queued writer thread:
    the server parses and inserts one frame while Python makes the next. Frames of about 100 000
    rows keep what waits in that queue to some 20 MB. SQLite: executemany of each frame's Python
    values (a million rows at once as Python objects would take hundreds of MB). Columns must reach
    the database as they are: texts, integers, booleans, naive timestamps."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return 0
    written = 0
    if conn.dialect.name != "postgresql":
        for part in chain([first], frames):
            written += bulk_insert(conn, table, {name: part[name].tolist() for name in part.columns})
        return written
    from psycopg.copy import QueuedLibpqWriter  # the PostgreSQL driver; not needed on SQLite

    cursor = conn.connection.driver_connection.cursor()
    statement = f"COPY {table} ({', '.join(first.columns)}) FROM STDIN (FORMAT csv)"
    try:
        with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
            for part in chain([first], frames):
                copy.write(_csv(part))
                written += len(part)
    finally:
        cursor.close()
    return written


def _csv(frame: pd.DataFrame) -> memoryview:
    """Arrow quotes every text, so an empty text stays one and only a missing value becomes NULL."""
    buffer = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getbuffer()


def read_frame(conn: Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    """The rows of `query` as a DataFrame with `columns`.

    When no selected column needs converting (texts and integers, as the weekly counts the cube is
    built from), the driver's own tuples are taken: a year of weekly counts then reads in 0.9 s
    instead of 1.75 s, half of it spent making Row objects."""
    result = conn.execute(query)
    try:
        rows = result.all() if _converted(query) else result.cursor.fetchall()
    finally:
        result.close()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame.from_records(rows, columns=columns)


def _converted(query: Any) -> bool:
    """Whether some selected column may come back converted by SQLAlchemy (dates on SQLite, booleans,
    numerics): only plain integers and texts are known to arrive from every driver as they are."""
    return not all(
        isinstance(column.type, Integer | String) and not isinstance(column.type, Enum)
        for column in query.selected_columns
    )


def analyze_temporary(conn: Connection, table: Table) -> None:
    """Temporary tables have no statistics on PostgreSQL until analysed; the planner needs them."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table.name}")


# Below this many new rows, maintaining the indexes row by row is cheaper than rebuilding them.
BULK_MIN_ROWS = 50_000


@contextmanager
def secondary_indexes_deferred(
    conn: Connection, table: Table, incoming: int, constraints: tuple[type[Constraint], ...] = ()
) -> Iterator[bool]:
    """Drop `table`'s secondary indexes for a large insert and build them again afterwards.

    The bulk-loading advice of the PostgreSQL manual ("Populating a Database"): an index built by one
    sort after the insert costs a fraction of updating it per row. It holds for SQLite too: a million
    incidents took 15.4 s with incident's two secondary indexes kept and 6.8 + 4.6 s (insert, then
    both builds) without. Only when the insert is large against the table (a first or historical
    load: at least BULK_MIN_ROWS and a quarter of the rows already there); a weekly delivery keeps
    the indexes. constraints: kinds of constraint to drop as well, PostgreSQL only (SQLite cannot
    drop a constraint): unique ones for an insert that does not look itself up in them, foreign keys,
    checked per row by a trigger otherwise. Re-adding one checks it over the whole table in one
    query, so a violation still fails the load. DDL is transactional on both, so a failed load gets
    its indexes back with its data. The dropped index locks the table until the commit; the
    dashboard reads `published_count`, which is never handled this way."""
    if incoming < BULK_MIN_ROWS or incoming * 4 < conn.execute(select(func.count()).select_from(table)).scalar_one():
        yield False
        return
    deferred = [c for c in table.constraints if isinstance(c, constraints)] if constraints else []
    if conn.dialect.name != "postgresql":
        deferred = []
    for constraint in deferred:
        conn.execute(DropConstraint(constraint))
    for index in table.indexes:
        index.drop(conn)
    yield True
    for constraint in deferred:
        conn.execute(AddConstraint(constraint))
    for index in table.indexes:
        index.create(conn)
