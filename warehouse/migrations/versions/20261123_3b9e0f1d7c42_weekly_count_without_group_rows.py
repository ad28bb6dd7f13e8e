"""weekly_count without the group rows; its cell key a unique index

weekly_count keeps buurt x group x MK x week and the all-categories total per buurt and week, as the
BVH issue asks; a group's own total (MK '*') is summed where it is read. Stored, it was 40 % of the
rows a first load writes. Under a group, MK '*' now holds only what was delivered for the whole
category without an MK code: the group row minus its MK rows, kept where that is not zero.
Published cells do not change (the cube sums the same totals).

The cell key becomes a unique index instead of a constraint (same name, same rule): SQLite can drop
and rebuild an index around a first load's insert, not a constraint.

Revision ID: 3b9e0f1d7c42
Revises: 5214a63c5174
Create Date: 2026-11-23 13:40:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '3b9e0f1d7c42'
down_revision: str | None = '5214a63c5174'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The group row's MK rows: the same cell but for the MK code.
_MK_ROWS = """(SELECT SUM(m.count) FROM weekly_count AS m
    WHERE m.gemeente_code = weekly_count.gemeente_code AND m.indeling_year = weekly_count.indeling_year
      AND m.buurt_code = weekly_count.buurt_code AND m.group_code = weekly_count.group_code
      AND m.iso_year = weekly_count.iso_year AND m.iso_week = weekly_count.iso_week AND m.mk_code <> '*')"""
_GROUP_ROWS = "group_code <> '*' AND mk_code = '*'"


_CELL = ['gemeente_code', 'indeling_year', 'buurt_code', 'group_code', 'mk_code', 'iso_year', 'iso_week']


def upgrade() -> None:
    op.execute(f"UPDATE weekly_count SET count = count - COALESCE({_MK_ROWS}, 0) WHERE {_GROUP_ROWS}")
    op.execute(f"DELETE FROM weekly_count WHERE {_GROUP_ROWS} AND count <= 0")
    with op.batch_alter_table('weekly_count', schema=None) as batch_op:
        batch_op.drop_constraint('uq_weekly_count_cell', type_='unique')
    with op.batch_alter_table('weekly_count', schema=None) as batch_op:
        batch_op.create_index('uq_weekly_count_cell', _CELL, unique=True)


def downgrade() -> None:
    with op.batch_alter_table('weekly_count', schema=None) as batch_op:
        batch_op.drop_index('uq_weekly_count_cell')
    with op.batch_alter_table('weekly_count', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_weekly_count_cell', _CELL)
    op.execute(f"UPDATE weekly_count SET count = count + COALESCE({_MK_ROWS}, 0) WHERE {_GROUP_ROWS}")
    op.execute(
        """INSERT INTO weekly_count (gemeente_code, indeling_year, buurt_code, group_code, mk_code,
                                     iso_year, iso_week, count, is_provisional)
        SELECT gemeente_code, indeling_year, buurt_code, group_code, '*', iso_year, iso_week, SUM(count),
               is_provisional
        FROM weekly_count AS m
        WHERE group_code <> '*' AND mk_code <> '*' AND NOT EXISTS (
            SELECT 1 FROM weekly_count AS g
            WHERE g.gemeente_code = m.gemeente_code AND g.indeling_year = m.indeling_year
              AND g.buurt_code = m.buurt_code AND g.group_code = m.group_code
              AND g.iso_year = m.iso_year AND g.iso_week = m.iso_week AND g.mk_code = '*')
        GROUP BY gemeente_code, indeling_year, buurt_code, group_code, iso_year, iso_week, is_provisional"""
    )
