"""weekly_count: two indexes instead of three, each cheaper to build

A first or historical load drops weekly_count's secondary indexes and builds them again after its
insert (830 000 rows for the 1M benchmark file), so every index it carries is paid for in load time.

- The cell key puts the week first (gemeente, ISO year, ISO week, then indeling, buurt, group, MK).
  The same unique rule; and the index now also finds a gemeente's weeks, which ix_weekly_count_period
  was for: that index is dropped.
- The provisional index covers only provisional rows (the last two weeks of a delivery), which is
  what every query using it asks for (`is_provisional IS true`): a few hundred entries instead of
  one per row.

Revision ID: 7c1d2e9a4b60
Revises: 3b9e0f1d7c42
Create Date: 2026-11-23 16:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '7c1d2e9a4b60'
down_revision: str | None = '3b9e0f1d7c42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROVISIONAL = sa.column('is_provisional', sa.Boolean).is_(True)
_CELL = ['gemeente_code', 'indeling_year', 'buurt_code', 'group_code', 'mk_code', 'iso_year', 'iso_week']
_WEEK_FIRST_CELL = ['gemeente_code', 'iso_year', 'iso_week', 'indeling_year', 'buurt_code', 'group_code', 'mk_code']


def upgrade() -> None:
    with op.batch_alter_table('weekly_count', schema=None) as batch_op:
        batch_op.drop_index('ix_weekly_count_provisional')
        batch_op.drop_index('ix_weekly_count_period')
        batch_op.drop_index('uq_weekly_count_cell')
        batch_op.create_index('uq_weekly_count_cell', _WEEK_FIRST_CELL, unique=True)
        batch_op.create_index(
            'ix_weekly_count_provisional',
            ['gemeente_code', 'iso_year', 'iso_week'],
            unique=False,
            sqlite_where=_PROVISIONAL,
            postgresql_where=_PROVISIONAL,
        )


def downgrade() -> None:
    with op.batch_alter_table('weekly_count', schema=None) as batch_op:
        batch_op.drop_index('ix_weekly_count_provisional')
        batch_op.drop_index('uq_weekly_count_cell')
        batch_op.create_index('uq_weekly_count_cell', _CELL, unique=True)
        batch_op.create_index('ix_weekly_count_period', ['gemeente_code', 'iso_year', 'iso_week'], unique=False)
        batch_op.create_index('ix_weekly_count_provisional', ['gemeente_code', 'is_provisional'], unique=False)
