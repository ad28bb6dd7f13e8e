"""delivery_horizon: how far each gemeente's deliveries reach, instead of an index on kennisname

The provisional weeks are the week of a gemeente's latest kennisname and the week before. That was
found by MAX(kennisname_at) over incident, through ix_incident_kennisname, an index that a first
load of a million incidents rebuilt in 2.7 s (SQLite) to 3.4 s (PostgreSQL). Each load now keeps
the horizon up itself; the index is dropped. Filled here from the incidents already loaded: their
latest kennisname, or their latest pleegmoment where none has one (the rule until now).

Revision ID: 2ccd998372b2
Revises: 7c1d2e9a4b60
Create Date: 2026-11-23 16:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '2ccd998372b2'
down_revision: str | None = '7c1d2e9a4b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'delivery_horizon',
        sa.Column('gemeente_code', sa.String(length=6), nullable=False),
        sa.Column('latest_at', sa.DateTime(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['load_batch.id'], name=op.f('fk_delivery_horizon_batch_id_load_batch')),
        sa.PrimaryKeyConstraint('gemeente_code', name=op.f('pk_delivery_horizon')),
    )
    op.execute(
        """INSERT INTO delivery_horizon (gemeente_code, latest_at, batch_id)
        SELECT gemeente_code, COALESCE(MAX(kennisname_at), MAX(pleeg_at)), MAX(batch_id)
        FROM incident GROUP BY gemeente_code"""
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_kennisname'))


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_kennisname'), ['gemeente_code', 'kennisname_at'], unique=False)
    op.drop_table('delivery_horizon')
