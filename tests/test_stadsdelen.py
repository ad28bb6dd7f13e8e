"""Loading the gemeente's stadsdelen mapping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from buurtbeeld.settings import Settings
from etl.load_buurten import load_buurten
from etl.load_stadsdelen import load_stadsdelen
from tests.helpers import snapshot
from warehouse.db import get_engine
from warehouse.models import Stadsdeel, StadsdeelArea

BAARN = "geometry/cbs_buurten_2024_baarn_wgs84.geojson"


def _mapping(url: str) -> dict[str, str]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(StadsdeelArea.area_code, Stadsdeel.name).join(Stadsdeel)).all()
    return dict(rows)


def test_wijken_and_buurten_map_to_stadsdelen_and_reload_replaces(
    settings: Settings, real_data: Path, tmp_path: Path
) -> None:
    assert load_buurten(real_data / BAARN, 2024, settings).ok
    first = tmp_path / "stadsdelen.xlsx"
    pd.DataFrame({"Stadsdeel": ["Noord", "Noord", "Zuid"], "Wijkcode": ["WK030800", "WK030801", "WK030802"]}).to_excel(
        first, index=False
    )
    out = load_stadsdelen(first, settings)
    assert out.status == "loaded", out.message
    assert _mapping(settings.warehouse_url) == {"WK030800": "Noord", "WK030801": "Noord", "WK030802": "Zuid"}
    second = tmp_path / "stadsdelen_2025.csv"
    second.write_text("gebied;code\nBaarn-Centrum;WK030800\nBaarn-Zuid;BU03080200\n")
    assert load_stadsdelen(second, settings).ok
    assert _mapping(settings.warehouse_url) == {"WK030800": "Baarn-Centrum", "BU03080200": "Baarn-Zuid"}


def test_unknown_duplicate_and_conflicting_codes_are_rejected(
    settings: Settings, real_data: Path, tmp_path: Path
) -> None:
    assert load_buurten(real_data / BAARN, 2024, settings).ok
    before = snapshot(settings.warehouse_url)
    path = tmp_path / "bad.csv"
    path.write_text(
        "stadsdeel,code\nNoord,WK030800\nZuid,WK039999\nZuid,BU03080000\nOost,WK030801\nOost,WK030801\n,WK030802\n"
    )
    out = load_stadsdelen(path, settings)
    assert out.status == "refused"
    assert snapshot(settings.warehouse_url) == before
    from warehouse.reads import batch_rejects

    _, rejects = batch_rejects(settings.warehouse_url, out.batch_id)
    by_row = {r.regel: r.reden for r in rejects.itertuples()}
    assert "onbekende wijk- of buurtcode" in by_row[3]
    assert "ander stadsdeel dan haar wijk" in by_row[4]
    assert "meer dan eens" in by_row[5] and "meer dan eens" in by_row[6]
    assert "naam van het stadsdeel ontbreekt" in by_row[7]
