"""published_count.status 3: a kept total shown coarser and marked ("≈10") instead of hidden

The publish step hid a kept total (the gemeente's, a stadsdeel's, a buurt's own month, quarter or
year of 5 or more) when showing it would let an attacker pin a small count beside it (0-3 of the
demo's 3 000). It now shows those as the nearest multiple of twice the threshold, marked
(buurtbeeld.disclosure, point 4). Existing figures stay valid; the next `buurtbeeld publiceer`
shows the hidden totals it can coarser.

Revision ID: e7b2c4d91f36
Revises: 9c4a1f7e2d58
Create Date: 2026-12-05 06:30:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'e7b2c4d91f36'
down_revision: str | None = '9c4a1f7e2d58'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('published_count', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_published_count_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_published_count_status'), 'status IN (0, 1, 2, 3)')


def downgrade() -> None:
    # A coarse figure is not a rounding the older version can read: it sees those cells as hidden
    # until its own `buurtbeeld publiceer`, and its pair attack then knows less of them than a reader
    # who saw '≈10' (5..14). Roll back before such figures are shared, or accept that.
    op.execute("UPDATE published_count SET status = 2, shared_count = NULL WHERE status = 3")
    with op.batch_alter_table('published_count', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_published_count_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_published_count_status'), 'status IN (0, 1, 2)')
