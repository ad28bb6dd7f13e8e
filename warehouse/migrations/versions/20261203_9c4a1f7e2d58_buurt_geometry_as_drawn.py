"""buurt.geometry_rd: the buurt as CBS drew it (WKB, RD New), for assigning incidents

The stored GeoJSON is simplified by 2 m for the map; assigned on it, an incident 0.3 m inside a
border went to the neighbour. New buurtkaart loads keep the unsimplified geometry here. Buurten
loaded before stay NULL (the loader then falls back to the map geometry) until the buurtkaart is
loaded again: the original geometry cannot be recovered from the simplified one.

Revision ID: 9c4a1f7e2d58
Revises: 5b7e0d2c9a14
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '9c4a1f7e2d58'
down_revision: str | None = '5b7e0d2c9a14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, also on SQLite: no batch copy of buurt (tables pointing at it keep their rows).
    op.add_column('buurt', sa.Column('geometry_rd', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('buurt', schema=None) as batch_op:
        batch_op.drop_column('geometry_rd')
