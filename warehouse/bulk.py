"""Fast bulk inserts and reads: row conversion, not the database, is the bottleneck for a million rows.

Columns arrive as lists/arrays of plain Python values (or None); rows are built with zip. SQLite takes
them through the DBAPI's executemany, PostgreSQL through COPY. Reads come back as a DataFrame built
from columns: pandas given SQLAlchemy Row objects probes each one for namedtuple fields, which costs
more than the query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection


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


def read_frame(conn: Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    """The rows of `query` as a DataFrame with `columns`, transposed to columns in one pass."""
    rows = conn.execute(query).all()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))
