"""incident times stored no finer than the outputs need: pleeg_at to the hour, kennisname_at to the day

To the second, kennisname_at was unique for 98.5 % of the incidents of a real export: a key back to
the police's own records without any secret. The weekday x dagdeel view needs the hour of the
pleegmoment; the delivery horizon and the provisional weeks need the day of the kennisname. New loads
store them so (etl.load_bvh.clean_incidents); this revision coarsens what is stored already, the
revision log included. Weeks, months, weekdays and dagdelen do not change, so no figure does.

Revision ID: c3d9e2f41a07
Revises: 8e1f5a3c9d20
Create Date: 2026-12-03 08:40:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'c3d9e2f41a07'
down_revision: str | None = '8e1f5a3c9d20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        hour, day = "date_trunc('hour', {})", "date_trunc('day', {})"
    else:  # SQLite keeps DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text
        hour, day = "strftime('%Y-%m-%d %H:00:00.000000', {})", "strftime('%Y-%m-%d 00:00:00.000000', {})"
    op.execute(
        f"UPDATE incident SET pleeg_at = {hour.format('pleeg_at')}, "
        f"kennisname_at = {day.format('kennisname_at')}"
    )
    op.execute(f"UPDATE incident_revision SET old_pleeg_at = {hour.format('old_pleeg_at')}")


def downgrade() -> None:
    # The finer times are gone; the older version reads the coarse ones as they are.
    pass
