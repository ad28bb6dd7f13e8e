"""`buurtbeeld demo`: a deterministic fictitious gemeente, loaded through the real loaders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import func, select

from buurtbeeld.settings import Settings
from etl.demo import N_ANOMALIES, write_files
from warehouse.db import get_engine
from warehouse.models import (
    Buurt,
    Incident,
    IncidentRevision,
    IndicatorValue,
    LoadBatch,
    Stadsdeel,
    StadsdeelArea,
    WeeklyCount,
    Wijk,
)


def test_demo_loads_voorbeeldstad(demo_warehouse: Settings) -> None:
    """The whole demo on the embedded default (SQLite); every loader also has its own PostgreSQL tests."""
    url = demo_warehouse.warehouse_url
    lines = (demo_warehouse.data_dir.parent / "lines.txt").read_text(encoding="utf-8").splitlines()
    assert any("60 buurten" in line for line in lines), lines
    with get_engine(url).connect() as conn:

        def scalar(stmt):
            return conn.execute(stmt).scalar()

        assert scalar(select(func.count()).select_from(Buurt)) == 60
        assert scalar(select(func.count()).select_from(Wijk)) == 12
        assert scalar(select(func.count()).select_from(Stadsdeel)) == 4
        assert scalar(select(func.count()).select_from(StadsdeelArea)) == 12
        per_buurt = scalar(
            select(func.count(func.distinct(IndicatorValue.indicator_code))).where(
                IndicatorValue.area_code == "BU99990000"
            )
        )
        inwoners = scalar(
            select(func.sum(IndicatorValue.value)).where(
                IndicatorValue.indicator_code == "aantal_inwoners", IndicatorValue.area_code.like("BU%")
            )
        )
        bvh = conn.execute(
            select(LoadBatch.status, func.count(), func.sum(LoadBatch.rows_rejected), func.sum(LoadBatch.rows_in))
            .where(LoadBatch.kind == "bvh")
            .group_by(LoadBatch.status)
        ).all()
        incidents = scalar(select(func.count()).select_from(Incident))
        revisions = scalar(select(func.count()).select_from(IncidentRevision))
        provisional = conn.execute(
            select(WeeklyCount.iso_year, WeeklyCount.iso_week).where(WeeklyCount.is_provisional).distinct()
        ).all()
    assert per_buurt >= 12
    assert 60_000 < inwoners < 250_000
    ((status, files, rejected, rows_in),) = bvh
    assert status == "loaded" and files == 156
    assert 0 < rejected < 0.01 * rows_in  # a handful of bad rows, each file still loads
    assert incidents > 10_000 and revisions > 0
    assert len(provisional) == 2


@pytest.mark.slow
def test_demo_files_are_deterministic_and_tile_the_city(tmp_path: Path) -> None:
    day = date(2026, 11, 23)
    files_a, files_b = write_files(tmp_path / "a", day), write_files(tmp_path / "b", day)
    a, b = gpd.read_file(files_a.buurten), gpd.read_file(files_b.buurten)
    assert [p.name for p in files_a.bvh] == [p.name for p in files_b.bvh]
    assert len(files_a.bvh) == 156 and files_a.bvh[-1].name == "bvh_export_voorbeeldstad_2026-W47.csv"
    export_a = pd.read_csv(files_a.bvh[-1], sep=";", encoding="cp1252", dtype=str)
    export_b = pd.read_csv(files_b.bvh[-1], sep=";", encoding="cp1252", dtype=str)
    assert export_a.equals(export_b) and len(export_a.columns) == 33
    truth = pd.read_csv(files_a.anomalies)
    assert len(truth) == N_ANOMALIES and (truth["factor"] >= 3).all() and (truth["baseline"] > 0).all()
    assert a["buurtcode"].tolist() == b["buurtcode"].tolist()
    assert a.geometry.area.round(3).tolist() == b.geometry.area.round(3).tolist()
    assert a.crs.to_epsg() == 28992
    assert a.geometry.is_valid.all()
    # Buurten do not overlap: their areas add up to the area of their union.
    assert abs(a.geometry.area.sum() - a.union_all().area) < 1.0


def test_opening_the_demo_again_reuses_a_complete_warehouse(demo_warehouse: Settings) -> None:
    """A second `buurtbeeld demo` on a warehouse that holds the demo up to the last complete week, with
    its analyses, loads nothing; a week later it would bring the demo up to date."""
    from datetime import timedelta

    from etl.demo import _complete, run_demo
    from tests.helpers import batches

    before = len(batches(demo_warehouse.warehouse_url))
    lines = list(run_demo(demo_warehouse))
    assert "staat al in het warehouse" in lines[0], lines
    assert len(batches(demo_warehouse.warehouse_url)) == before
    assert not _complete(demo_warehouse, date.today() + timedelta(days=7))
