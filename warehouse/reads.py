"""Read-side helpers for operations (CLI, and later the Beheer page): batches and their rejects."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select

from warehouse.bulk import read_frame
from warehouse.db import get_engine
from warehouse.models import Buurt, Gemeente, LoadBatch, RejectedRow


def recent_batches(url: str, limit: int = 20) -> list[Any]:
    with get_engine(url).connect() as conn:
        return list(conn.execute(select(LoadBatch).order_by(LoadBatch.id.desc()).limit(limit)).all())


def batch_rejects(url: str, batch_id: int) -> tuple[Any | None, pd.DataFrame]:
    """The batch and its rejected rows with Dutch column names, ready to show or export."""
    with get_engine(url).connect() as conn:
        info = conn.execute(select(LoadBatch).where(LoadBatch.id == batch_id)).first()
        query = (
            select(RejectedRow.row_number, RejectedRow.column, RejectedRow.value, RejectedRow.reason)
            .where(RejectedRow.batch_id == batch_id)
            .order_by(RejectedRow.row_number, RejectedRow.id)
        )
        frame = read_frame(conn, query, ["regel", "kolom", "waarde", "reden"])
    return info, frame


def latest_indeling_year(url: str) -> int | None:
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.max(Buurt.indeling_year))).scalar()


def buurten_of_year(url: str, year: int) -> pd.DataFrame:
    """code, name, wijk_code, gemeente_code, geometry (GeoJSON, WGS84, simplified) and geometry_rd (WKB,
    RD New, as CBS drew it; None where a buurtkaart was loaded before it was kept) of one indeling year."""
    columns = ["code", "name", "wijk_code", "gemeente_code", "geometry", "geometry_rd"]
    query = select(*(getattr(Buurt, c) for c in columns)).where(Buurt.indeling_year == year).order_by(Buurt.code)
    with get_engine(url).connect() as conn:
        return read_frame(conn, query, columns)


def gemeente_names(url: str, year: int) -> dict[str, str]:
    with get_engine(url).connect() as conn:
        return dict(conn.execute(select(Gemeente.code, Gemeente.name).where(Gemeente.indeling_year == year)).all())


def analysis_runs(url: str, gemeente: str | None = None) -> pd.DataFrame:
    """Per gemeente and month: current analyses, notable findings, the load batch they rest on, when."""
    from warehouse.models import AnalysisRun, AreaAnalysis

    aa, run = AreaAnalysis, AnalysisRun
    query = (
        select(
            aa.gemeente_code,
            aa.month,
            func.count(aa.id),
            func.sum(aa.n_notable),
            func.max(run.based_on_batch_id),
            func.max(run.created_at),
        )
        .join(run, run.id == aa.run_id)
        .where(aa.superseded_at.is_(None))
        .group_by(aa.gemeente_code, aa.month)
        .order_by(aa.gemeente_code, aa.month)
    )
    if gemeente:
        query = query.where(aa.gemeente_code == gemeente)
    with get_engine(url).connect() as conn:
        return read_frame(conn, query, ["gemeente", "maand", "analyses", "opvallend", "uit lading", "gemaakt"])
