"""Alembic migrations are the only way the schema changes: up, down, and in agreement with the models."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from warehouse.db import alembic_config, downgrade, get_engine, is_current, table_names, upgrade
from warehouse.models import Base


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(db_url: str) -> None:
    upgrade(db_url)
    assert set(Base.metadata.tables) <= set(table_names(db_url))
    assert is_current(db_url)
    downgrade(db_url, "base")
    assert set(table_names(db_url)) <= {"alembic_version"}
    upgrade(db_url)
    assert is_current(db_url)


def test_models_and_migrations_agree(db_url: str) -> None:
    """The programmatic form of `alembic check`: no pending autogenerate operations."""
    upgrade(db_url)
    command.check(alembic_config(db_url))


def test_constraints_follow_the_naming_convention(db_url: str) -> None:
    upgrade(db_url)
    insp = inspect(get_engine(db_url))
    for table in Base.metadata.tables:
        for uq in insp.get_unique_constraints(table):
            assert uq["name"].startswith("uq_"), (table, uq)
        for fk in insp.get_foreign_keys(table):
            assert fk["name"].startswith("fk_"), (table, fk)


def test_weekly_group_rows_are_folded_into_their_mk_rows_and_back(db_url: str) -> None:
    """3b9e0f1d7c42: a group row (MK '*') keeps only what its MK rows do not account for (a count
    delivered for the whole category); going down restores the group totals."""
    from sqlalchemy import text

    upgrade(db_url, "5214a63c5174")
    week = {"g": "GM0001", "y": 2024, "b": "BU00010001", "iy": 2025, "w": 3}
    # (group, MK, count): inbraak fully by MK code, fiets with 2 delivered per category, overlast only per category.
    rows = [
        ("*", "*", 19),
        ("inbraak", "*", 5),
        ("inbraak", "B10", 3),
        ("inbraak", "B11", 2),
        ("fiets", "*", 6),
        ("fiets", "A72", 4),
        ("overlast", "*", 8),
    ]
    insert = text(
        "INSERT INTO weekly_count (gemeente_code, indeling_year, buurt_code, group_code, mk_code, iso_year, "
        "iso_week, count, is_provisional) VALUES (:g, :y, :b, :group, :mk, :iy, :w, :n, false)"
    )
    select_rows = text("SELECT group_code, mk_code, count FROM weekly_count ORDER BY group_code, mk_code")
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM weekly_count"))
        conn.execute(insert, [{**week, "group": g, "mk": m, "n": n} for g, m, n in rows])
    upgrade(db_url)
    with engine.connect() as conn:
        after = sorted(map(tuple, conn.execute(select_rows).all()))
    assert after == sorted(
        [
            ("*", "*", 19),
            ("inbraak", "B10", 3),
            ("inbraak", "B11", 2),
            ("fiets", "*", 2),
            ("fiets", "A72", 4),
            ("overlast", "*", 8),
        ]
    )
    downgrade(db_url, "5214a63c5174")
    with engine.connect() as conn:
        assert sorted(map(tuple, conn.execute(select_rows).all())) == sorted(rows)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM weekly_count"))
    upgrade(db_url)


def test_delivery_horizon_is_filled_from_the_incidents_loaded(db_url: str) -> None:
    """2ccd998372b2: each gemeente's horizon is its latest kennisname, or its latest pleegmoment when
    no incident has one; going down brings back the kennisname index."""
    from sqlalchemy import text

    upgrade(db_url, "7c1d2e9a4b60")
    engine = get_engine(db_url)
    incident = text(
        "INSERT INTO incident (voorval_hash, gemeente_code, indeling_year, buurt_code, assign_route, mk_code, "
        "group_code, pleeg_at, kennisname_at, iso_year, iso_week, month, weekday, dagdeel, is_attempt, "
        "first_batch_id, batch_id) VALUES (:h, :g, 2024, 'BU00010001', 'xy', 'B10', 'inbraak', :p, :k, 2025, 3, "
        "'2025-01', 1, 'avond', false, 1, 1)"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO load_batch (id, kind, file_name, sha256, parameters, status, rows_in, rows_loaded, "
                "rows_rejected, summary, run_by, started_at) VALUES (1, 'bvh', 'f.csv', 'x', '{}', 'loaded', "
                "3, 3, 0, '{}', 'test', '2025-01-20 10:00:00')"
            )
        )
        conn.execute(
            incident,
            [
                {"h": "a", "g": "GM0001", "p": "2025-01-13 20:00:00", "k": "2025-01-14 09:00:00"},
                {"h": "b", "g": "GM0001", "p": "2025-01-15 20:00:00", "k": None},
                {"h": "c", "g": "GM0002", "p": "2025-01-16 20:00:00", "k": None},
            ],
        )
    upgrade(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT gemeente_code, latest_at FROM delivery_horizon ORDER BY 1")).all()
    expected = [("GM0001", "2025-01-14 09:00:00"), ("GM0002", "2025-01-16 20:00:00")]
    assert [(g, str(at)[:19]) for g, at in rows] == expected
    assert "ix_incident_kennisname" not in {i["name"] for i in inspect(engine).get_indexes("incident")}
    downgrade(db_url, "7c1d2e9a4b60")
    get_engine.cache_clear()
    engine = get_engine(db_url)
    assert "ix_incident_kennisname" in {i["name"] for i in inspect(engine).get_indexes("incident")}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM incident"))
        conn.execute(text("DELETE FROM load_batch"))
    upgrade(db_url)


@pytest.mark.postgres
def test_voorval_hash_is_compared_as_bytes_on_postgresql(pg_url: str) -> None:
    """4d8b2c61e0f3 gives the hash column collation "C" on PostgreSQL and its downgrade takes it away.
    `alembic check` does not compare collations, so this test holds the model and the migration to it."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    from warehouse.models import Incident

    def collation() -> str | None:
        with get_engine(pg_url).connect() as conn:
            return conn.execute(
                text(
                    "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = 'incident' AND column_name = 'voorval_hash'"
                )
            ).scalar_one()

    assert 'voorval_hash VARCHAR(32) COLLATE "C"' in str(
        CreateTable(Incident.__table__).compile(dialect=postgresql.dialect())
    )
    upgrade(pg_url)
    assert collation() == "C"
    downgrade(pg_url, "9e4f1a7c2d85")
    assert collation() is None
    upgrade(pg_url)
    assert collation() == "C"


def test_weekly_counts_keep_their_cells_when_the_cell_becomes_the_key(db_url: str) -> None:
    """6a3f9c0e2b71 drops weekly_count's surrogate id for a key on the cell; going down numbers the
    rows again. The counts survive both ways and the key still refuses a second row for a cell."""
    from sqlalchemy import exc, text

    upgrade(db_url, "4d8b2c61e0f3")
    insert = text(
        "INSERT INTO weekly_count (gemeente_code, indeling_year, buurt_code, group_code, mk_code, iso_year, "
        "iso_week, count, is_provisional) VALUES ('GM0001', 2024, :b, '*', '*', 2025, :w, :n, false)"
    )
    rows = [("BU00010001", 3, 7), ("BU00010001", 4, 2), ("BU00010002", 3, 5)]
    select_rows = text("SELECT buurt_code, iso_week, count FROM weekly_count")
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM weekly_count"))
        conn.execute(insert, [{"b": b, "w": w, "n": n} for b, w, n in rows])
    upgrade(db_url)
    assert "id" not in {c["name"] for c in inspect(engine).get_columns("weekly_count")}
    assert inspect(engine).get_pk_constraint("weekly_count")["constrained_columns"][:3] == [
        "gemeente_code",
        "iso_year",
        "iso_week",
    ]
    with engine.connect() as conn:
        assert sorted(map(tuple, conn.execute(select_rows).all())) == sorted(rows)
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"b": "BU00010001", "w": 3, "n": 1})
    downgrade(db_url, "4d8b2c61e0f3")
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM weekly_count ORDER BY id")).scalars().all()
        assert sorted(map(tuple, conn.execute(select_rows).all())) == sorted(rows)
    assert len(set(ids)) == 3 and None not in ids
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM weekly_count"))
    upgrade(db_url)


def test_published_cells_may_be_shown_coarser_and_going_down_hides_them(db_url: str) -> None:
    """e7b2c4d91f36: status 3 (a kept total shown coarser, buurtbeeld.disclosure) is allowed after it and
    refused before it; going down turns such cells into hidden ones, which the older version reads."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    insert = text(
        "INSERT INTO published_count (gemeente_code, indeling_year, period_type, period, period_start, "
        "area_level, area_code, group_code, mk_code, count, shared_count, status) VALUES ('GM0001', 2025, "
        "'month', :p, '2025-01-01', 'buurt', 'BU00010001', '*', '*', 7, :shared, :status)"
    )
    upgrade(db_url, "9c4a1f7e2d58")
    engine = get_engine(db_url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"p": "2025-01", "shared": 10, "status": 3})
    with engine.begin() as conn:
        conn.execute(insert, {"p": "2025-01", "shared": 5, "status": 0})
    upgrade(db_url)
    with engine.begin() as conn:
        conn.execute(insert, {"p": "2025-02", "shared": 10, "status": 3})
    downgrade(db_url, "9c4a1f7e2d58")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT period, shared_count, status FROM published_count ORDER BY period")).all()
    assert [tuple(r) for r in rows] == [("2025-01", 5, 0), ("2025-02", None, 2)]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"p": "2025-03", "shared": 10, "status": 3})
