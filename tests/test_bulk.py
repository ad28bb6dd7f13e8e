"""Bulk writes and reads (warehouse.bulk) on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select

from buurtbeeld.settings import Settings
from warehouse.bulk import bulk_insert, read_frame
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
