"""Reads the monthly analyses are computed from, and storing their results (I/O only; the statistics
are buurtbeeld.notable, the text buurtbeeld.narrative, the orchestration etl.analyses)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, select, update

from warehouse.bulk import read_frame
from warehouse.models import (
    AnalysisRun,
    AreaAnalysis,
    Indicator,
    IndicatorValue,
    LoadBatch,
    PublishedCount,
    WeeklyCount,
)


def month_cells(conn: Connection, gemeente: str, since: date, until: date) -> pd.DataFrame:
    """True counts, shared figures and their status of the published monthly cube (period, area_level,
    area_code, group_code, count, shared_count, status): the analyses test true counts and write the
    shared figures (the documents are made for distribution: the gedeeld audience)."""
    pc = PublishedCount
    query = select(pc.period, pc.area_level, pc.area_code, pc.group_code, pc.count, pc.shared_count, pc.status).where(
        pc.gemeente_code == gemeente,
        pc.period_type == "month",
        pc.mk_code == "*",  # the analyses work per category group
        pc.period_start >= since,
        pc.period_start <= until,
    )
    columns = ["period", "area_level", "area_code", "group_code", "count", "shared_count", "status"]
    return read_frame(conn, query, columns)


def published_months(conn: Connection, gemeente: str) -> list[str]:
    rows = conn.execute(
        select(PublishedCount.period)
        .where(PublishedCount.gemeente_code == gemeente, PublishedCount.period_type == "month")
        .distinct()
    ).all()
    return sorted(r[0] for r in rows)


def gemeenten_with_months(conn: Connection) -> list[str]:
    rows = conn.execute(select(PublishedCount.gemeente_code).where(PublishedCount.period_type == "month").distinct())
    return sorted(r[0] for r in rows)


def provisional_weeks(conn: Connection, gemeente: str) -> list[tuple[int, int]]:
    rows = conn.execute(
        select(WeeklyCount.iso_year, WeeklyCount.iso_week)
        .where(WeeklyCount.gemeente_code == gemeente, WeeklyCount.is_provisional.is_(True))
        .distinct()
    ).all()
    return sorted((int(y), int(w)) for y, w in rows)


def population_by_year(conn: Connection, codes: list[str]) -> pd.DataFrame:
    """area_code, year, inwoners from every population indicator (the period's first four digits)."""
    query = (
        select(IndicatorValue.area_code, IndicatorValue.period, IndicatorValue.value)
        .join(Indicator, Indicator.code == IndicatorValue.indicator_code)
        .where(Indicator.is_population.is_(True), IndicatorValue.area_code.in_(codes))
    )
    frame = read_frame(conn, query, ["area_code", "period", "inwoners"])
    frame["year"] = pd.to_numeric(frame["period"].astype(str).str[:4], errors="coerce")
    frame["inwoners"] = pd.to_numeric(frame["inwoners"], errors="coerce")
    frame = frame.dropna(subset=["year", "inwoners"])
    return frame.groupby(["area_code", "year"], as_index=False)["inwoners"].max()


def latest_batch(conn: Connection) -> int | None:
    return conn.execute(select(func.max(LoadBatch.id)).where(LoadBatch.status == "loaded")).scalar()


def store(
    conn: Connection,
    gemeente: str,
    month: str,
    scope: str,
    batch_id: int | None,
    method: dict[str, Any],
    run_by: str,
    documents: list[dict[str, Any]],
) -> int:
    """Store one generation; earlier current analyses of the same areas and month are deleted when
    they came from the same warehouse state (a plain re-run) and flagged superseded otherwise."""
    now = datetime.now(UTC)
    run_id = conn.execute(
        AnalysisRun.__table__.insert().values(
            gemeente_code=gemeente,
            month=month,
            scope=scope,
            based_on_batch_id=batch_id,
            method=method,
            run_by=run_by,
            created_at=now,
        )
    ).inserted_primary_key[0]
    aa, run = AreaAnalysis.__table__, AnalysisRun.__table__
    keys = {(d["area_level"], d["area_code"]) for d in documents}
    current = conn.execute(
        select(aa.c.id, aa.c.area_level, aa.c.area_code, run.c.based_on_batch_id)
        .join(run, run.c.id == aa.c.run_id)
        .where(aa.c.gemeente_code == gemeente, aa.c.month == month, aa.c.superseded_at.is_(None), aa.c.run_id != run_id)
    ).all()
    same = [r.id for r in current if (r.area_level, r.area_code) in keys and r.based_on_batch_id == batch_id]
    older = [r.id for r in current if (r.area_level, r.area_code) in keys and r.based_on_batch_id != batch_id]
    for chunk in _chunks(same):
        conn.execute(delete(aa).where(aa.c.id.in_(chunk)))
    for chunk in _chunks(older):
        conn.execute(update(aa).where(aa.c.id.in_(chunk)).values(superseded_at=now))
    if documents:
        conn.execute(
            aa.insert(),
            [{**d, "run_id": run_id, "gemeente_code": gemeente, "month": month} for d in documents],
        )
    # A run none of whose analyses is left (all replaced by this one) is noise in the archive.
    conn.execute(
        delete(run).where(
            run.c.gemeente_code == gemeente,
            run.c.month == month,
            run.c.id != run_id,
            ~select(aa.c.id).where(aa.c.run_id == run.c.id).exists(),
        )
    )
    return int(run_id)


def current_months(conn: Connection, gemeente: str) -> list[str]:
    rows = conn.execute(
        select(AreaAnalysis.month)
        .where(AreaAnalysis.gemeente_code == gemeente, AreaAnalysis.superseded_at.is_(None))
        .distinct()
    ).all()
    return sorted(r[0] for r in rows)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
