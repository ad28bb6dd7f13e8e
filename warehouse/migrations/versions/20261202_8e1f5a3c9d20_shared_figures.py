"""published_count.shared_count: the gedeeld audience's figure beside the exact count

The intern audience reads `count`; the gedeeld audience reads `shared_count` (a multiple of the
threshold, etl.publish.share) where `status` is 0. Cells published before this revision carry no
shared figure, so they are all marked not shown until `buurtbeeld publiceer` recomputes them: an
upgraded warehouse shows the gedeeld audience nothing rather than the old, breakable suppression.

Revision ID: 8e1f5a3c9d20
Revises: 6a3f9c0e2b71
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '8e1f5a3c9d20'
down_revision: str | None = '6a3f9c0e2b71'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('published_count', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared_count', sa.Integer(), nullable=True))
    op.execute("UPDATE published_count SET status = 2")


def downgrade() -> None:
    # The old cube's statuses cannot be recovered here: `buurtbeeld publiceer` of the older version
    # recomputes them. Until then nothing is shown to the gedeeld audience.
    with op.batch_alter_table('published_count', schema=None) as batch_op:
        batch_op.drop_column('shared_count')
