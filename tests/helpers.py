"""Assertions shared by the load tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from warehouse.db import get_engine
from warehouse.models import Base

BOOKKEEPING = {"load_batch", "rejected_row"}


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table (bookkeeping excluded), to prove a failed load changed nothing."""
    out = {}
    with get_engine(url).connect() as conn:
        for name, table in Base.metadata.tables.items():
            if name in BOOKKEEPING:
                continue
            cols = [c for c in table.columns if c.name not in {"id", "batch_id"}]
            out[name] = sorted(tuple(r) for r in conn.execute(select(*cols)).all())
    return out


def count(url: str, table: str, **where: Any) -> int:
    tbl = Base.metadata.tables[table]
    stmt = select(tbl)
    for column, value in where.items():
        stmt = stmt.where(tbl.c[column] == value)
    with get_engine(url).connect() as conn:
        return len(conn.execute(stmt).all())


def batches(url: str) -> list[Any]:
    tbl = Base.metadata.tables["load_batch"]
    with get_engine(url).connect() as conn:
        return conn.execute(select(tbl).order_by(tbl.c.id)).all()


def dashboard_app(settings: Any, monkeypatch: Any, accounts: dict[str, Any]) -> Any:
    """A dashboard app on `settings`' warehouse with these accounts (settings cache cleared: the app
    reads the environment set here)."""
    import json

    from buurtbeeld.settings import get_settings

    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", settings.warehouse_url)
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BUURTBEELD_USERS", json.dumps(accounts))
    get_settings.cache_clear()
    from dashboard.app import create_app

    return create_app()
