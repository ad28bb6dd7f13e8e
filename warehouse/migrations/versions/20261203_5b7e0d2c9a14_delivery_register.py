"""delivery register: the weeks each loaded police file covers, and missing weeks alerted

New loads record per gemeente the first and last week (of kennisname) their file covers. Filled here
from what is loaded already: per load, the weeks of the kennisname (else the pleegmoment) of the
incidents it brought in first, and the weeks of the counts it delivered. Missing weeks found now are
marked as alerted, so an upgrade does not alert about the past at once (Beheer still shows them).

Revision ID: 5b7e0d2c9a14
Revises: c3d9e2f41a07
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '5b7e0d2c9a14'
down_revision: str | None = 'c3d9e2f41a07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(value: object) -> int:
    day = value if isinstance(value, date) else datetime.fromisoformat(str(value)).date()
    year, week, _ = day.isocalendar()
    return year * 100 + week


def upgrade() -> None:
    delivery = op.create_table(
        'delivery',
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('gemeente_code', sa.String(length=6), nullable=False),
        sa.Column('first_week', sa.Integer(), nullable=False),
        sa.Column('last_week', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['batch_id'], ['load_batch.id'], name=op.f('fk_delivery_batch_id_load_batch'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('batch_id', 'gemeente_code', name=op.f('pk_delivery')),
    )
    op.create_table(
        'missing_delivery',
        sa.Column('gemeente_code', sa.String(length=6), nullable=False),
        sa.Column('week', sa.Integer(), nullable=False),
        sa.Column('alerted_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('gemeente_code', 'week', name=op.f('pk_missing_delivery')),
    )
    conn = op.get_bind()
    moment = sa.func.coalesce(sa.column('kennisname_at'), sa.column('pleeg_at'))
    incidents = conn.execute(
        sa.select(sa.column('first_batch_id'), sa.column('gemeente_code'), sa.func.min(moment), sa.func.max(moment))
        .select_from(sa.table('incident'))
        .group_by(sa.column('first_batch_id'), sa.column('gemeente_code'))
    ).all()
    week = sa.column('iso_year') * 100 + sa.column('iso_week')
    counts = conn.execute(
        sa.select(sa.column('batch_id'), sa.column('gemeente_code'), sa.func.min(week), sa.func.max(week))
        .select_from(sa.table('delivered_count'))
        .group_by(sa.column('batch_id'), sa.column('gemeente_code'))
    ).all()
    rows = {}
    for batch, gemeente, low, high in incidents:
        rows[(batch, gemeente)] = (_key(low), _key(high))
    for batch, gemeente, low, high in counts:
        a, b = rows.get((batch, gemeente), (int(low), int(high)))
        rows[(batch, gemeente)] = (min(a, int(low)), max(b, int(high)))
    if rows:
        op.bulk_insert(
            delivery,
            [{'batch_id': b, 'gemeente_code': g, 'first_week': lo, 'last_week': hi} for (b, g), (lo, hi) in rows.items()],
        )
    from warehouse import deliveries  # the same rule as the running code, at the moment of the upgrade

    now = datetime.utcnow()
    found = deliveries.registers(conn, now)
    deliveries.mark_alerted(conn, {r.gemeente: r.missing for r in found if r.missing}, now)


def downgrade() -> None:
    op.drop_table('missing_delivery')
    op.drop_table('delivery')
