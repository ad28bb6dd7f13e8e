"""The worker warm-up fills the caches the Weekoverzicht's first view reads, and follows new loads."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from buurtbeeld.settings import Settings
from warehouse import queries
from warehouse.db import get_engine


def test_first_view_reads_nothing_after_the_warm_up(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", demo_warehouse.warehouse_url)
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(demo_warehouse.data_dir))
    from buurtbeeld.settings import get_settings

    get_settings.cache_clear()
    from dashboard.app import create_app

    app = create_app()
    from dashboard import warmup
    from dashboard.pages import weekoverzicht

    url = demo_warehouse.warehouse_url
    for fn in vars(queries).values():
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()
    assert warmup.warm_once() == queries.state(url)

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.server.test_request_context("/"):
            weekoverzicht.layout()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Only the batch-id check may reach the database (at most once per STATE_TTL_S).
    assert all("load_batch" in s for s in statements), statements
