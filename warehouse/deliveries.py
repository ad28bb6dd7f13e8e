"""The delivery register (warehouse.models.Delivery): which weeks the loaded police files cover, which
expected weeks no file covers, and which of those ops have been alerted about.

Weeks are keys year * 100 + week (ISO). The police deliver every Monday the export of the week before;
a week counts as due once its Monday deadline has passed (DUE_DAY, DUE_HOUR, the hour at which
bvh_weekly stops waiting for the file)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from warehouse.models import Delivery, MissingDelivery
from warehouse.upsert import upsert

TZ = ZoneInfo("Europe/Amsterdam")
DUE_DAY, DUE_HOUR = 0, 18  # Monday 18:00: the export of the week before should be in


def week_key(day: date) -> int:
    year, week, _ = day.isocalendar()
    return year * 100 + week


def monday(key: int) -> date:
    return date.fromisocalendar(key // 100, key % 100, 1)


def weeks_from(first: int, last: int) -> list[int]:
    """Every week key from first to last, both included."""
    out, day, end = [], monday(first), monday(last)
    while day <= end:
        out.append(week_key(day))
        day += timedelta(days=7)
    return out


def uncovered(ranges: Iterable[tuple[int, int]], first: int, last: int) -> list[int]:
    """The weeks from first to last that none of the (first, last) ranges covers."""
    covered = {w for a, b in ranges for w in weeks_from(a, b)}
    return [w for w in weeks_from(first, last) if w not in covered]


def due_through(now: datetime) -> int:
    """The latest week whose delivery is due at `now` (an aware or a UTC-naive moment)."""
    local = (now if now.tzinfo else now.replace(tzinfo=ZoneInfo("UTC"))).astimezone(TZ)
    this_monday = local.date() - timedelta(days=local.weekday())
    deadline = datetime.combine(this_monday + timedelta(days=DUE_DAY), datetime.min.time(), TZ)
    deadline += timedelta(hours=DUE_HOUR)
    previous = this_monday - timedelta(days=7 if local >= deadline else 14)
    return week_key(previous)


@dataclass
class Register:
    """One gemeente's deliveries: the weeks covered from first to last, the weeks missing among them
    (gaps) and the due weeks after the last one (overdue)."""

    gemeente: str
    first: int
    last: int
    gaps: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)

    @property
    def missing(self) -> list[int]:
        return self.gaps + self.overdue


def record(conn: Connection, batch_id: int, periods: dict[str, tuple[int, int]]) -> None:
    """Register what a loaded file covers: per gemeente its first and last week."""
    rows = [
        {"batch_id": batch_id, "gemeente_code": g, "first_week": a, "last_week": b} for g, (a, b) in periods.items()
    ]
    upsert(conn, Delivery.__table__, rows, ["batch_id", "gemeente_code"], ["first_week", "last_week"])


def _ranges(conn: Connection, gemeente: str | None = None) -> dict[str, list[tuple[int, int]]]:
    # Rows are written in the load's own transaction, so they exist only for loads that committed
    # (and for the load in progress, whose publishing must see its own weeks).
    d = Delivery.__table__
    query = select(d.c.gemeente_code, d.c.first_week, d.c.last_week)
    if gemeente is not None:
        query = query.where(d.c.gemeente_code == gemeente)
    out: dict[str, list[tuple[int, int]]] = {}
    for g, a, b in conn.execute(query):
        out.setdefault(g, []).append((int(a), int(b)))
    return out


def registers(conn: Connection, now: datetime, gemeente: str | None = None) -> list[Register]:
    """Every gemeente's register (or the one gemeente's), with its missing weeks at `now`."""
    out = []
    for g, ranges in sorted(_ranges(conn, gemeente).items()):
        first, last = min(a for a, _ in ranges), max(b for _, b in ranges)
        due = due_through(now)
        overdue = weeks_from(last, due)[1:] if due > last else []
        out.append(Register(g, first, last, uncovered(ranges, first, last), overdue))
    return out


def gap_weeks(conn: Connection, gemeente: str) -> set[tuple[int, int]]:
    """The (iso year, week) between a gemeente's first and last delivered week that no file covers:
    the periods holding them are not complete."""
    ranges = _ranges(conn, gemeente).get(gemeente, [])
    if not ranges:
        return set()
    first, last = min(a for a, _ in ranges), max(b for _, b in ranges)
    return {(w // 100, w % 100) for w in uncovered(ranges, first, last)}


def batches_newer_than(gemeente: str, week: int) -> select:
    """The loads whose file reached beyond `week` for the gemeente (a select of their ids)."""
    d = Delivery.__table__
    return (
        select(d.c.batch_id)
        .where(d.c.gemeente_code == gemeente)
        .group_by(d.c.batch_id)
        .having(func.max(d.c.last_week) > week)
    )


def not_yet_alerted(conn: Connection, registers: list[Register]) -> dict[str, list[int]]:
    """Per gemeente the missing weeks ops have not been alerted about."""
    m = MissingDelivery.__table__
    done = {(g, int(w)) for g, w in conn.execute(select(m.c.gemeente_code, m.c.week))}
    out = {r.gemeente: [w for w in r.missing if (r.gemeente, w) not in done] for r in registers}
    return {g: weeks for g, weeks in out.items() if weeks}


def mark_alerted(conn: Connection, weeks: dict[str, list[int]], at: datetime) -> None:
    rows = [{"gemeente_code": g, "week": w, "alerted_at": at} for g, ws in weeks.items() for w in ws]
    upsert(conn, MissingDelivery.__table__, rows, ["gemeente_code", "week"], ["alerted_at"])
