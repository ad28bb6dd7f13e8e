"""Reading the inputs of the published cube and replacing its cells (I/O only; the cube itself is
computed by etl.publish with buurtbeeld.disclosure)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, delete, func, select, tuple_

from buurtbeeld.disclosure import SHARED_LEVELS
from buurtbeeld.periods import parse_week
from warehouse.bulk import bulk_insert, read_frame
from warehouse.models import Buurt, BuurtCorrespondence, PublishedCount, Stadsdeel, StadsdeelArea, WeeklyCount

UNKNOWN = "onbekend"  # incidents without a usable location, and buurten outside the latest indeling
OTHER_STADSDEEL = "Overig"  # buurten that the stadsdelen file does not mention
PERIOD_TYPES = ("week", "month", "quarter", "year")
_ROWS_PER_INSERT = 100_000
_CELL_COLUMNS = [
    "period_type",
    "period",
    "area_level",
    "area_code",
    "group_code",
    "mk_code",
    "count",
    "shared_count",
    "status",
]
# The series index's columns after the gemeente (one gemeente is written at a time).
_SERIES = [c.name for c in PublishedCount.series_index().columns][1:]


def latest_year(conn: Connection, gemeente: str) -> int | None:
    return conn.execute(select(func.max(Buurt.indeling_year)).where(Buurt.gemeente_code == gemeente)).scalar()


def week_counts(conn: Connection, gemeente: str, weeks: Iterable[tuple[int, int]] | None = None) -> pd.DataFrame:
    """Weekly counts per group and MK code (every indeling year) of a gemeente, as weekly_count holds
    them: the cells the cube is built from (etl.publish.with_group_cells adds each group's own cell).
    The all-categories rows are left out: the cube sums its own."""
    wc = WeeklyCount.__table__
    columns = ["iso_year", "iso_week", "indeling_year", "buurt_code", "group_code", "mk_code", "count"]
    query = select(*[wc.c[c] for c in columns]).where(
        wc.c.gemeente_code == gemeente, wc.c.group_code != "*", wc.c.count > 0
    )
    if weeks is not None:
        wanted = sorted(set(weeks))
        if not wanted:
            return pd.DataFrame(columns=columns)
        query = query.where(tuple_(wc.c.iso_year, wc.c.iso_week).in_(wanted))
    return read_frame(conn, query, columns)


def all_weeks(conn: Connection, gemeente: str) -> list[tuple[int, int]]:
    wc = WeeklyCount.__table__
    rows = conn.execute(select(wc.c.iso_year, wc.c.iso_week).where(wc.c.gemeente_code == gemeente).distinct()).all()
    return [(int(y), int(w)) for y, w in rows]


def primary_successors(conn: Connection, to_year: int) -> pd.DataFrame:
    """from_year, from_code -> to_code: the buurt of `to_year` that took the largest share of each older buurt."""
    c = BuurtCorrespondence
    query = select(c.from_year, c.from_code, c.to_code).where(c.to_year == to_year, c.is_primary.is_(True))
    return read_frame(conn, query, ["from_year", "from_code", "to_code"])


def hierarchy(conn: Connection, gemeente: str, year: int) -> pd.DataFrame:
    """buurt_code, wijk_code, stadsdeel (name, or None) of the gemeente's buurten in one indeling year.

    A stadsdeel may be given by wijk or by buurt; a buurt-level entry wins."""
    buurten = pd.DataFrame(
        conn.execute(
            select(Buurt.code, Buurt.wijk_code).where(Buurt.gemeente_code == gemeente, Buurt.indeling_year == year)
        ).all(),
        columns=["buurt_code", "wijk_code"],
    )
    mapping = dict(
        conn.execute(
            select(StadsdeelArea.area_code, Stadsdeel.name)
            .join(Stadsdeel, Stadsdeel.id == StadsdeelArea.stadsdeel_id)
            .where(Stadsdeel.gemeente_code == gemeente)
        ).all()
    )
    by_buurt = buurten["buurt_code"].map(mapping)
    buurten["stadsdeel"] = by_buurt.where(by_buurt.notna(), buurten["wijk_code"].map(mapping))
    return buurten


def published_week_range(conn: Connection, gemeente: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The first and latest week of the published cube ((iso year, week) each), None when empty: the
    delivery bounds the cube was last computed with (a week is published as soon as it has data)."""
    pc = PublishedCount
    where = (pc.gemeente_code == gemeente, pc.period_type == "week", pc.area_level == "gemeente")
    # min and max in one statement scan every week cell; each alone is a walk down the unique key's index.
    first = conn.execute(select(func.min(pc.period)).where(*where)).scalar()
    last = conn.execute(select(func.max(pc.period)).where(*where)).scalar()
    if first is None:
        return None
    return parse_week(first), parse_week(last)


def replace_year(conn: Connection, gemeente: str, iso_year: int, cells: pd.DataFrame, batch_id: int | None) -> int:
    """Delete the gemeente's cells of every period of an ISO year (its weeks, months, quarters and the
    year: all labels start with the year) and insert `cells`."""
    pc = PublishedCount.__table__
    for kind in PERIOD_TYPES:  # one range of the unique key's index each
        conn.execute(
            delete(pc).where(
                pc.c.gemeente_code == gemeente,
                pc.c.period_type == kind,
                pc.c.period >= str(iso_year),
                pc.c.period < str(iso_year + 1),
            )
        )
    return _insert(conn, gemeente, cells, batch_id)


def _insert(conn: Connection, gemeente: str, cells: pd.DataFrame, batch_id: int | None) -> int:
    if cells.empty:
        return 0
    # In the order of the series index: its pages then fill one after another instead of at random,
    # which made the insert 30 % faster (a year of cells, SQLite), for a sort of half a second.
    cells = cells.sort_values(_SERIES)
    written = 0
    # A chunk at a time: as Python objects a year's cells would take some 500 MB at once.
    for start in range(0, len(cells), _ROWS_PER_INSERT):
        part = cells.iloc[start : start + _ROWS_PER_INSERT]
        columns = {
            "gemeente_code": [gemeente] * len(part),
            "indeling_year": part["indeling_year"].astype(int).tolist(),
            "period_type": part["period_type"].tolist(),
            "period": part["period"].tolist(),
            "period_start": [d.isoformat() for d in part["period_start"]],
            "area_level": part["area_level"].tolist(),
            "area_code": part["area_code"].tolist(),
            "group_code": part["group_code"].tolist(),
            "mk_code": part["mk_code"].tolist(),
            "count": part["count"].astype(int).tolist(),
            "shared_count": [None if pd.isna(v) else int(v) for v in part["shared_count"]],
            "status": part["status"].astype(int).tolist(),
            "batch_id": [batch_id] * len(part),
        }
        written += bulk_insert(conn, PublishedCount.__tablename__, columns)
    return written


def years(conn: Connection, gemeente: str) -> list[int]:
    """The ISO years of which the gemeente has published weeks."""
    pc = PublishedCount
    labels = conn.execute(
        select(func.substr(pc.period, 1, 4))
        .where(pc.gemeente_code == gemeente, pc.period_type == "week", pc.area_level == "gemeente")
        .distinct()
    ).scalars()
    return sorted(int(label) for label in labels)


def replace_periods(
    conn: Connection, gemeente: str, periods: dict[str, list[str]], cells: pd.DataFrame, batch_id: int | None
) -> int:
    """Delete the gemeente's cells of these periods (period type -> labels) and insert `cells`: the
    part of an ISO year that a load recomputed (etl.publish.stale_parts)."""
    pc = PublishedCount.__table__
    for kind, labels in periods.items():
        conn.execute(
            delete(pc).where(pc.c.gemeente_code == gemeente, pc.c.period_type == kind, pc.c.period.in_(labels))
        )
    return _insert(conn, gemeente, cells, batch_id)


def indeling_of_year(conn: Connection, gemeente: str, iso_year: int) -> int | None:
    """The buurt indeling an ISO year was last published in (None when it was not): every cell of a
    publication has the same one, so the gemeente's own weekly cells tell."""
    pc = PublishedCount
    return conn.execute(
        select(func.max(pc.indeling_year)).where(
            pc.gemeente_code == gemeente,
            pc.period_type == "week",
            pc.area_level == "gemeente",
            pc.period >= str(iso_year),
            pc.period < str(iso_year + 1),
        )
    ).scalar()


def shared_state(
    conn: Connection, gemeente: str, iso_year: int, periods: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """The cells of an ISO year (or only of `periods`: period type -> labels) that the shared design
    offers: period_type, period, area_level, area_code, group_code, mk_code, count, shared_count,
    status, indeling_year. What the gedeeld audience has seen of them until now, for the next
    publication to be audited beside."""
    pc = PublishedCount.__table__
    columns = [*_CELL_COLUMNS, "indeling_year"]
    if periods is None:
        year = (pc.c.period >= str(iso_year)) & (pc.c.period < str(iso_year + 1))
        wanted = [(kind, year) for kind in PERIOD_TYPES]
    else:
        wanted = [(kind, pc.c.period.in_(labels)) for kind, labels in periods.items() if labels]
    # One query per period type: with the type fixed, the unique key's index finds the periods (a
    # period filter alone scanned all the gemeente's cells: 0.3 s of a weekly publish in the city).
    frames = [
        read_frame(
            conn,
            select(*[pc.c[c] for c in columns]).where(
                pc.c.gemeente_code == gemeente,
                pc.c.period_type == kind,
                where,
                # buurtbeeld.disclosure.shared_cell, in SQL: only these rows are read
                (pc.c.area_level.in_(SHARED_LEVELS) & ((pc.c.mk_code == "*") | (pc.c.period_type != "week")))
                | (pc.c.period_type == "year")
                | (
                    pc.c.period_type.in_(["month", "quarter"])
                    & (pc.c.mk_code == "*")
                    & ((pc.c.area_level != "buurt") | (pc.c.group_code == "*"))
                ),
            ),
            columns,
        )
        for kind, where in wanted
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    filled = [f for f in frames if not f.empty]
    return pd.concat(filled, ignore_index=True) if filled else frames[0]


def delete_gemeente(conn: Connection, gemeente: str) -> None:
    conn.execute(delete(PublishedCount.__table__).where(PublishedCount.gemeente_code == gemeente))


def gemeenten_published(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(PublishedCount.gemeente_code).distinct()).scalars().all())


def cells(conn: Connection, gemeente: str) -> pd.DataFrame:
    """Every published cell of a gemeente: period_type, period, area_level, area_code, group_code,
    mk_code, count (exact), shared_count (the gedeeld audience's figure), status."""
    pc = PublishedCount
    columns = _CELL_COLUMNS
    return read_frame(conn, select(*[pc.__table__.c[c] for c in columns]).where(pc.gemeente_code == gemeente), columns)
