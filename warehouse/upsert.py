"""Insert-or-update that works the same on SQLite and PostgreSQL (both speak ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

_CHUNK = 5000


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), _CHUNK):
        stmt = dialect.insert(table)
        stmt = (
            stmt.on_conflict_do_update(index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in update})
            if update
            else stmt.on_conflict_do_nothing(index_elements=list(keys))
        )
        conn.execute(stmt, list(rows[start : start + _CHUNK]))
