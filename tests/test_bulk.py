"""Bulk writes and reads (warehouse.bulk) on real SQLite and PostgreSQL."""

from __future__ import annotations

import platform
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, insert, select

from buurtbeeld.settings import Settings
from warehouse import bulk as bulk_module
from warehouse.bulk import bulk_insert, insert_frames, read_frame
from warehouse.db import get_engine
from warehouse.models import PublishedCount

CELLS = {
    "gemeente_code": ["GM9999", "GM9999"],
    "indeling_year": [2024, 2024],
    "period_type": ["week", "month"],
    "period": ["2026-W05", "2026-02"],
    "period_start": ["2026-01-26", "2026-02-01"],
    "area_level": ["buurt", "wijk"],
    "area_code": ["BU99990101", "WK999901"],
    "group_code": ["woninginbraak", "*"],
    "mk_code": ["*", "*"],
    "count": [7, 12],
    "status": [0, 1],
    "batch_id": [None, None],
}


def test_read_frame_gives_the_values_sqlalchemy_would(settings: Settings) -> None:
    """Integers and texts come from the driver's own tuples, other types through SQLAlchemy (SQLite
    stores dates as text): either way the frame holds what the Row objects hold."""
    pc = PublishedCount
    with get_engine(settings.warehouse_url).begin() as conn:
        bulk_insert(conn, pc.__tablename__, CELLS)
        plain = select(pc.area_code, pc.count, pc.indeling_year).order_by(pc.period)
        dated = select(pc.area_code, pc.period_start).order_by(pc.period)
        for query, columns in ((plain, ["area_code", "count", "indeling_year"]), (dated, ["area_code", "start"])):
            expected = pd.DataFrame([tuple(r) for r in conn.execute(query).all()], columns=columns)
            pd.testing.assert_frame_equal(read_frame(conn, query, columns), expected)
        got = read_frame(conn, dated, ["area_code", "start"])
        nothing = read_frame(conn, plain.where(pc.count > 99), ["area_code", "count", "indeling_year"])
    assert got["start"].tolist() == [date(2026, 2, 1), date(2026, 1, 26)]
    assert nothing.empty and list(nothing.columns) == ["area_code", "count", "indeling_year"]


@pytest.mark.parametrize("copy_format", ["binary", "csv"])
@pytest.mark.parametrize("rows", [1, 2, 1234])
def test_insert_frames_stores_what_a_plain_insert_stores(
    settings: Settings, rows: int, copy_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk writer (many rows per statement and a column with one value bound once per
    statement on SQLite; COPY on PostgreSQL, binary through pgpq or CSV where pgpq is missing)
    stores the same rows as SQLAlchemy's own INSERT: constant and varying columns, missing values,
    booleans, numbers, timestamps, and a last statement shorter than the others (1234 rows)."""
    if copy_format == "csv":
        monkeypatch.setattr(bulk_module, "_binary_encoder", lambda: None)
    elif platform.machine() in {"x86_64", "AMD64"}:
        assert bulk_module._binary_encoder() is not None, "pgpq is a dependency here: binary COPY must be tested"
    rng = np.random.default_rng(rows)
    frame = pd.DataFrame(
        {
            "code": pd.Series(rng.choice(["BU01", "BU02", "BU03"], rows), dtype="str"),
            "batch": np.full(rows, 7, dtype=np.int64),
            "gemeente": pd.Series(["GM0014"] * rows, dtype="str"),
            "week": rng.integers(1, 53, rows),
            "share": [np.nan if i % 4 == 1 else i / 3 for i in range(rows)],
            "big": pd.array([None if i % 6 == 2 else 2**40 + i for i in range(rows)], dtype="Int64"),
            "note": pd.Series([None if i % 3 == 0 else f"n{i}" for i in range(rows)], dtype="str"),
            "flag": pd.Series([None if i % 5 == 0 else i % 2 == 0 for i in range(rows)], dtype="boolean"),
            "same_flag": np.ones(rows, dtype=bool),
            "at": pd.Series(
                [pd.NaT if i % 7 == 3 else datetime(2026, 1, 1, i % 24, i % 60, i % 60) for i in range(rows)],
                dtype="datetime64[us]",
            ),
        }
    )

    def columns() -> list[Column]:
        return [
            Column("id", Integer, primary_key=True),
            Column("code", String(10)),
            Column("batch", Integer),
            Column("gemeente", String(6)),
            Column("week", Integer),
            Column("share", Float),
            Column("big", BigInteger),
            Column("note", String(10)),
            Column("flag", Boolean),
            Column("same_flag", Boolean),
            Column("at", DateTime),
        ]

    metadata = MetaData()
    bulk, plain = (Table(name, metadata, *columns()) for name in ("t_bulk", "t_plain"))
    records = [
        {k: (None if pd.isna(v) else v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in r.items()}
        for r in frame.astype(object).to_dict("records")
    ]
    with get_engine(settings.warehouse_url).begin() as conn:
        metadata.create_all(conn)
        halves = [frame.iloc[: rows // 2 + 1], frame.iloc[rows // 2 + 1 :]]
        assert insert_frames(conn, bulk.name, halves) == rows
        conn.execute(insert(plain), records)
        got, expected = ([tuple(r) for r in conn.execute(select(t).order_by(t.c.id)).all()] for t in (bulk, plain))
    assert got == expected
    assert len(got) == rows and got[0][2] == 7 and got[0][9] is True


def test_reserved_ids_are_taken_once_and_the_sequence_goes_on_after_them(settings: Settings) -> None:
    """PostgreSQL: a block of the id sequence for rows sent with their id; a row inserted the usual
    way afterwards gets the next id, never one of the block. SQLite: no sequence, so no block."""
    from warehouse.bulk import reserved_ids
    from warehouse.models import LoadBatch

    table = LoadBatch.__table__
    row = {
        "kind": "bvh",
        "file_name": "x",
        "sha256": "0" * 64,
        "status": "failed",
        "run_by": "test",
        "started_at": datetime(2026, 12, 1, 12, 0),
    }
    with get_engine(settings.warehouse_url).begin() as conn:
        before = conn.execute(insert(table).values(**row).returning(table.c.id)).scalar_one()
        block = reserved_ids(conn, table, 5)
        again = reserved_ids(conn, table, 3)
        after = conn.execute(insert(table).values(**row).returning(table.c.id)).scalar_one()
        conn.rollback()
    if conn.dialect.name != "postgresql":
        assert block is None and after == before + 1
        return
    assert block.tolist() == list(range(before + 1, before + 6))
    assert again.tolist() == list(range(before + 6, before + 9))
    assert after == before + 9
    assert reserved_ids(conn, table, 0) is None
