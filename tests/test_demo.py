"""`buurtbeeld demo`: a deterministic fictitious gemeente, loaded through the real loaders."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from sqlalchemy import func, select

from buurtbeeld.settings import Settings
from etl.demo import run_demo, write_files
from warehouse.db import get_engine
from warehouse.models import Buurt, IndicatorValue, Stadsdeel, StadsdeelArea, Wijk


def test_demo_loads_voorbeeldstad(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", warehouse_url=db_url)
    lines = list(run_demo(settings))
    assert any("60 buurten" in line for line in lines), lines
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Buurt)).scalar() == 60
        assert conn.execute(select(func.count()).select_from(Wijk)).scalar() == 12
        assert conn.execute(select(func.count()).select_from(Stadsdeel)).scalar() == 4
        assert conn.execute(select(func.count()).select_from(StadsdeelArea)).scalar() == 12
        per_buurt = conn.execute(
            select(func.count(func.distinct(IndicatorValue.indicator_code))).where(
                IndicatorValue.area_code == "BU99990000"
            )
        ).scalar()
        inwoners = conn.execute(
            select(func.sum(IndicatorValue.value)).where(
                IndicatorValue.indicator_code == "aantal_inwoners", IndicatorValue.area_code.like("BU%")
            )
        ).scalar()
    assert per_buurt >= 12
    assert 60_000 < inwoners < 250_000
    # Running it again keeps one copy of everything.
    list(run_demo(settings))
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Buurt)).scalar() == 60


def test_demo_files_are_deterministic_and_tile_the_city(tmp_path: Path) -> None:
    a = gpd.read_file(write_files(tmp_path / "a").buurten)
    b = gpd.read_file(write_files(tmp_path / "b").buurten)
    assert a["buurtcode"].tolist() == b["buurtcode"].tolist()
    assert a.geometry.area.round(3).tolist() == b.geometry.area.round(3).tolist()
    assert a.crs.to_epsg() == 28992
    assert a.geometry.is_valid.all()
    # Buurten do not overlap: their areas add up to the area of their union.
    assert abs(a.geometry.area.sum() - a.union_all().area) < 1.0
