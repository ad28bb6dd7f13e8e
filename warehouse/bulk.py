"""Fast bulk inserts and reads: row conversion, not the database, is the bottleneck for a million rows.

Columns arrive as lists/arrays of plain Python values (or None) or as DataFrames. SQLite takes them
through the DBAPI, PostgreSQL through COPY. Reads come back as a DataFrame built
from the driver's tuples when SQLAlchemy has nothing to convert: making a Row object per row costs
about as much as the query.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Constraint, Enum, Integer, PrimaryKeyConstraint, String, Table, func, select
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

    PostgreSQL: one COPY (see _postgres_copy), sent by psycopg's queued writer thread: the server
    parses and inserts one frame while Python makes the next. Frames of about 100 000 rows keep
    what waits in that queue to some 20 MB. SQLite: see _sqlite_insert. Columns must reach the
    database as they are (texts, integers, booleans, naive timestamps); SQLite gets timestamps as
    the text SQLAlchemy stores."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return 0
    cursor = conn.connection.driver_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            return _postgres_copy(cursor, table, chain([first], frames))
        return sum(_sqlite_insert(cursor, table, part) for part in chain([first], frames))
    finally:
        cursor.close()


# The Arrow type of each PostgreSQL column type, for COPY's binary format: it takes every value in
# exactly its column's wire type (4 bytes for an integer column, not 8).
_WIRE_TYPES = {
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "text": pa.string(),
    "character varying": pa.string(),
    "timestamp without time zone": pa.timestamp("us"),
    "date": pa.date32(),
}


def _postgres_copy(cursor: Any, table: str, frames: Iterator[pd.DataFrame]) -> int:
    """COPY in PostgreSQL's binary format, encoded from Arrow by pgpq in compiled code: the server
    then parses no text (a million incidents, 17 columns, no indexes: 3.6 s instead of 7.4 s by CSV;
    timestamps as text were 2.7 s of that). Without pgpq (it has wheels for x86-64 and macOS only)
    or for a column type outside _WIRE_TYPES, the frames go as CSV that Arrow writes, equally
    without a Python value per cell."""
    from psycopg.copy import QueuedLibpqWriter  # the PostgreSQL driver; not needed on SQLite

    first = next(frames)
    names = list(first.columns)
    cursor.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    column_types = dict(cursor.fetchall())
    wire = [_WIRE_TYPES.get(column_types.get(name, "")) for name in names]
    encoder = _binary_encoder()
    binary = encoder is not None and all(t is not None for t in wire)
    schema = pa.schema([pa.field(n, t) for n, t in zip(names, wire, strict=True)]) if binary else None
    written = 0
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT {'binary' if binary else 'csv'})"
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        if schema is None:
            for part in chain([first], frames):
                copy.write(_csv(part))
                written += len(part)
            return written
        encoding = encoder(schema)
        copy.write(encoding.write_header())
        for part in chain([first], frames):
            arrow = pa.Table.from_pandas(part, preserve_index=False).cast(schema)
            for batch in arrow.to_batches():
                copy.write(encoding.write_batch(batch))
            written += len(part)
        copy.write(encoding.finish())
    return written


def _binary_encoder() -> Any:
    """pgpq's encoder class, or None where pgpq is not installed."""
    try:
        from pgpq import ArrowToPostgresBinaryEncoder
    except ImportError:
        return None
    return ArrowToPostgresBinaryEncoder


def _csv(frame: pd.DataFrame) -> memoryview:
    """Arrow quotes every text, so an empty text stays one and only a missing value becomes NULL."""
    buffer = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getbuffer()


# Rows per INSERT statement on SQLite, within its portable limit of 32 766 parameters.
_SQLITE_ROWS = 500
_SQLITE_PARAMETERS = 32_766


def _sqlite_insert(cursor: Any, table: str, frame: pd.DataFrame) -> int:
    """Insert a frame by INSERT .. VALUES (..), (..) of _SQLITE_ROWS rows at a time.

    Python's sqlite3 binds every value separately; that binding, not SQLite's own work, is most of
    the cost (a million incidents: 2.7 s by INSERT .. SELECT inside SQLite, 7.6 s by executemany
    of Python rows). Two things bind less: a column with one value in the whole frame (the batch,
    the gemeente, the indeling year) is bound once per statement as ?1, ?2, .. instead of once per
    row, and many rows per statement save a step and reset per row. The values come out of NumPy
    in one row-major list, not a tuple per row."""
    rows = len(frame)
    if not rows:
        return 0
    fixed = {name: _one_value(frame[name]) for name in frame.columns} if rows > 1 else {}
    constant = {name: value[0] for name, value in fixed.items() if value}
    varying = [name for name in frame.columns if name not in constant]
    width = len(varying)
    values = np.empty((rows, width), dtype=object)
    for j, name in enumerate(varying):
        values[:, j] = sqlite_values(frame[name])
    flat = values.ravel().tolist()
    del values
    head = list(constant.values())
    per_statement = max(1, min(_SQLITE_ROWS, (_SQLITE_PARAMETERS - len(head)) // max(width, 1)))
    # ?N for the constants first, so that each plain ? after them is numbered after the last one.
    row = "(" + ", ".join([*(f"?{i}" for i in range(1, len(head) + 1)), *["?"] * width]) + ")"
    into = f"INSERT INTO {table} ({', '.join([*constant, *varying])}) VALUES "
    full = into + ", ".join([row] * per_statement)
    for start in range(0, rows, per_statement):
        count = min(per_statement, rows - start)
        sql = full if count == per_statement else into + ", ".join([row] * count)
        cursor.execute(sql, head + flat[start * width : (start + count) * width])
    return rows


def _one_value(series: pd.Series) -> list[Any]:
    """[value] when every row holds the same, non-missing value; [] otherwise."""
    first = series.iloc[0]
    if pd.isna(first) or series.isna().any() or not bool((series == first).all()):
        return []
    return sqlite_values(series.iloc[:1]).tolist()


def sqlite_values(series: pd.Series) -> np.ndarray:
    """A column as the Python values Python's sqlite3 binds without an adapter: int, str, float or
    None; booleans as 0/1 (a bool is adapted per value, which costs); timestamps as text."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return sqlite_timestamps(series.to_numpy(dtype="datetime64[us]"))
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Int8").to_numpy(dtype=object, na_value=None)
    return series.to_numpy(dtype=object, na_value=None)


def sqlite_timestamps(values: np.ndarray) -> np.ndarray:
    """datetime64[us] values as the text SQLAlchemy's SQLite DateTime stores ('2017-09-20 17:30:00.000000')
    and compares, written by Arrow's cast in C (a million in 0.1 s; NumPy's datetime_as_string took
    0.3 s, a Python f-string per value 1.4 s)."""
    text = pa.array(values.astype("datetime64[us]", copy=False), type=pa.timestamp("us")).cast(pa.string())
    return text.to_numpy(zero_copy_only=False)


def read_frame(conn: Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    """The rows of `query` as a DataFrame with `columns`.

    When no selected column needs converting (texts and integers, as the weekly counts the cube is
    built from), the driver's own tuples are taken: a year of weekly counts then reads in 0.9 s
    instead of 1.75 s, half of it spent making Row objects. Rows that SQLAlchemy converted are
    handed to pandas as plain tuples: pandas probes every Row for named-tuple fields, which a Row
    answers by raising inside (a gemeente's monthly cells: 160 ms against 16 ms as tuples)."""
    result = conn.execute(query)
    try:
        rows = [tuple(row) for row in result.all()] if _converted(query) else result.cursor.fetchall()
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
) -> Iterator[list[Constraint]]:
    """Drop `table`'s secondary indexes for a large insert and build them again afterwards.

    The bulk-loading advice of the PostgreSQL manual ("Populating a Database"): an index built by one
    sort after the insert costs a fraction of updating it per row. It holds for SQLite too: a million
    incidents took 15.4 s with incident's two secondary indexes kept and 6.8 + 4.6 s (insert, then
    both builds) without. Only when the insert is large against the table (a first or historical
    load: at least BULK_MIN_ROWS and a quarter of the rows already there); a weekly delivery keeps
    the indexes. constraints: kinds of constraint to drop as well, PostgreSQL only (SQLite cannot
    drop a constraint): unique ones and the primary key, for an insert that does not look itself up
    in them, and foreign keys, checked per row by a trigger otherwise. A primary key goes with the
    foreign keys of other tables that point at it (incident_revision's at incident), which come
    back after it. Re-adding one checks it over the whole table in one query, so a violation still
    fails the load.
    DDL is transactional on both, so a failed load gets its indexes back with its data. The dropped
    index locks the table until the commit; the dashboard reads `published_count`, which is never
    handled this way. Yields the constraints it dropped (none when the insert keeps the indexes)."""
    if incoming < BULK_MIN_ROWS or incoming * 4 < conn.execute(select(func.count()).select_from(table)).scalar_one():
        yield []
        return
    deferred = [c for c in table.constraints if isinstance(c, constraints)] if constraints else []
    if conn.dialect.name != "postgresql":
        deferred = []
    # The key first, so that the foreign keys pointing at it can be checked against it again.
    deferred.sort(key=lambda c: not isinstance(c, PrimaryKeyConstraint))
    pointing = [
        fk
        for other in table.metadata.tables.values()
        for fk in other.foreign_key_constraints
        if fk.referred_table is table and any(isinstance(c, PrimaryKeyConstraint) for c in deferred)
    ]
    for constraint in [*pointing, *deferred]:
        conn.execute(DropConstraint(constraint))
    for index in table.indexes:
        index.drop(conn)
    yield deferred
    for constraint in [*deferred, *pointing]:
        conn.execute(AddConstraint(constraint))
    for index in table.indexes:
        index.create(conn)


def reserved_ids(conn: Connection, table: Table, count: int) -> np.ndarray | None:
    """`count` values of `table`'s id sequence taken in one call, for rows sent with their id: a
    sequence value fetched per row by the column default cost PostgreSQL 0.3-0.8 s of a COPY of a
    million incidents. Loads are serialised (warehouse.db.load_transaction) and nothing else inserts
    incidents, so no other nextval comes between taking the first value and moving past the last.
    None on SQLite (its integer primary key is the rowid: no sequence) or without a sequence."""
    if conn.dialect.name != "postgresql" or not count:
        return None
    sequence = conn.execute(select(func.pg_get_serial_sequence(table.name, "id"))).scalar_one()
    if sequence is None:
        return None
    last = conn.execute(select(func.setval(sequence, func.nextval(sequence) + count - 1))).scalar_one()
    return np.arange(last - count + 1, last + 1, dtype=np.int64)
