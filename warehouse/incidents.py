"""Writing incidents: a set-based upsert by voorval hash with revision history, then the weekly
aggregates refreshed for exactly the weeks the load touched (new weeks and the old weeks of revised
incidents), and the provisional flag on each gemeente's last two delivered weeks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)

from warehouse.bulk import bulk_insert
from warehouse.models import Incident, IncidentRevision, WeeklyCount

STAGE_COLUMNS = (
    "voorval_hash",
    "gemeente_code",
    "indeling_year",
    "buurt_code",
    "assign_route",
    "mk_code",
    "group_code",
    "pleeg_at",
    "kennisname_at",
    "iso_year",
    "iso_week",
    "month",
    "weekday",
    "dagdeel",
    "is_attempt",
)
_COMPARED = (
    "gemeente_code",
    "indeling_year",
    "buurt_code",
    "assign_route",
    "mk_code",
    "group_code",
    "pleeg_at",
    "kennisname_at",
    "is_attempt",
)

_temp = MetaData()
stage = Table(
    "stage_incident",
    _temp,
    *[Column(c.name, c.type) for c in Incident.__table__.columns if c.name in STAGE_COLUMNS],
    prefixes=["TEMPORARY"],
)
touched = Table(
    "touched_week",
    _temp,
    Column("gemeente_code", String(6)),
    Column("iso_year", Integer),
    Column("iso_week", Integer),
    prefixes=["TEMPORARY"],
)


def upsert_incidents(conn: Connection, columns: Mapping[str, Sequence[Any]], batch_id: int) -> dict[str, int]:
    """Insert new incidents, update revised ones (keeping their old state), leave the rest alone."""
    inc = Incident.__table__
    for table in (stage, touched):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    bulk_insert(conn, stage.name, columns)

    match = inc.c.voorval_hash == stage.c.voorval_hash
    differs = or_(*[inc.c[c].is_distinct_from(stage.c[c]) for c in _COMPARED])
    changed = select(inc.c.id).select_from(inc.join(stage, match)).where(differs)

    conn.execute(
        insert(touched).from_select(
            ["gemeente_code", "iso_year", "iso_week"],
            union_all(
                select(stage.c.gemeente_code, stage.c.iso_year, stage.c.iso_week),
                select(inc.c.gemeente_code, inc.c.iso_year, inc.c.iso_week).where(inc.c.id.in_(changed)),
            ),
        )
    )
    # Counted by SELECT: INSERT .. SELECT rowcount is not reported by every driver (psycopg gives -1).
    revised = conn.execute(select(func.count()).select_from(inc.join(stage, match)).where(differs)).scalar_one()
    new = conn.execute(
        select(func.count()).select_from(stage).where(~exists().where(inc.c.voorval_hash == stage.c.voorval_hash))
    ).scalar_one()
    conn.execute(
        insert(IncidentRevision.__table__).from_select(
            [
                "incident_id",
                "batch_id",
                "old_mk_code",
                "old_buurt_code",
                "old_pleeg_at",
                "old_iso_year",
                "old_iso_week",
            ],
            select(
                inc.c.id,
                literal(batch_id),
                inc.c.mk_code,
                inc.c.buurt_code,
                inc.c.pleeg_at,
                inc.c.iso_year,
                inc.c.iso_week,
            )
            .select_from(inc.join(stage, match))
            .where(differs),
        )
    )
    conn.execute(
        update(inc)
        .where(match, differs)
        .values({**{c: stage.c[c] for c in STAGE_COLUMNS if c != "voorval_hash"}, "batch_id": batch_id})
    )
    conn.execute(
        insert(inc).from_select(
            [*STAGE_COLUMNS, "first_batch_id", "batch_id"],
            select(*[stage.c[c] for c in STAGE_COLUMNS], literal(batch_id), literal(batch_id)).where(
                ~exists().where(inc.c.voorval_hash == stage.c.voorval_hash)
            ),
        )
    )
    total = len(columns["voorval_hash"])
    weeks = conn.execute(
        select(func.count()).select_from(
            select(touched.c.gemeente_code, touched.c.iso_year, touched.c.iso_week).distinct().subquery()
        )
    ).scalar_one()
    provisional = refresh_weekly_counts(conn)
    stage.drop(conn)
    touched.drop(conn)
    return {
        "nieuw": new,
        "gewijzigd": revised,
        "ongewijzigd": total - new - revised,
        "weken_bijgewerkt": weeks,
        "voorlopig": provisional,
    }


def refresh_weekly_counts(conn: Connection) -> list[str]:
    """Recount the weeks in `touched_week`: per MK, per group ('*' MK) and for all categories ('*')."""
    inc, wc = Incident.__table__, WeeklyCount.__table__
    in_touched = exists().where(
        touched.c.gemeente_code == wc.c.gemeente_code,
        touched.c.iso_year == wc.c.iso_year,
        touched.c.iso_week == wc.c.iso_week,
    )
    conn.execute(delete(wc).where(in_touched))
    weeks = select(touched.c.gemeente_code, touched.c.iso_year, touched.c.iso_week).distinct().subquery()
    joined = inc.join(
        weeks,
        and_(
            inc.c.gemeente_code == weeks.c.gemeente_code,
            inc.c.iso_year == weeks.c.iso_year,
            inc.c.iso_week == weeks.c.iso_week,
        ),
    )
    base = (inc.c.gemeente_code, inc.c.indeling_year, inc.c.buurt_code)
    period = (inc.c.iso_year, inc.c.iso_week)
    star = literal("*")
    # (group column, MK column, extra group-by columns) per aggregation level.
    levels = [
        (inc.c.group_code, inc.c.mk_code, [inc.c.group_code, inc.c.mk_code]),
        (inc.c.group_code, star, [inc.c.group_code]),
        (star, star, []),
    ]
    selects = [
        select(*base, group, mk, *period, func.count(), literal(False))
        .select_from(joined)
        .group_by(*base, *by, *period)
        for group, mk, by in levels
    ]
    conn.execute(
        insert(wc).from_select(
            [
                "gemeente_code",
                "indeling_year",
                "buurt_code",
                "group_code",
                "mk_code",
                "iso_year",
                "iso_week",
                "count",
                "is_provisional",
            ],
            union_all(*selects),
        )
    )
    gemeenten = conn.execute(select(touched.c.gemeente_code).distinct()).scalars().all()
    return mark_provisional(conn, gemeenten)


def _week_key(day: date) -> int:
    year, week, _ = day.isocalendar()
    return year * 100 + week


def mark_provisional(conn: Connection, gemeenten: Sequence[str]) -> list[str]:
    """The week of a gemeente's latest kennisname and the week before are provisional: late
    registrations still come in for them."""
    inc, wc = Incident.__table__, WeeklyCount.__table__
    marked = []
    for gemeente in gemeenten:
        latest = conn.execute(
            select(func.max(func.coalesce(inc.c.kennisname_at, inc.c.pleeg_at))).where(inc.c.gemeente_code == gemeente)
        ).scalar()
        if latest is None:
            continue
        if isinstance(latest, str):  # SQLite returns the stored text for an aggregate
            latest = date.fromisoformat(latest[:10])
        day = latest if isinstance(latest, date) else latest.date()
        previous = day - timedelta(days=7)
        threshold = _week_key(previous)
        marked += [f"{gemeente} {d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in (previous, day)]
        conn.execute(
            update(wc)
            .where(wc.c.gemeente_code == gemeente)
            .values(is_provisional=case((wc.c.iso_year * 100 + wc.c.iso_week >= threshold, True), else_=False))
        )
    return marked
