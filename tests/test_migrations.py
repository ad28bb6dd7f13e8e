"""Alembic migrations are the only way the schema changes: up, down, and in agreement with the models."""

from __future__ import annotations

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
