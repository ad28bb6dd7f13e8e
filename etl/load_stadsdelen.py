"""Load a gemeente's stadsdeel mapping: a small CSV/XLSX of wijk or buurt codes per stadsdeel.

The file is the complete mapping for the gemeenten it names: loading it replaces their stadsdelen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, union

from buurtbeeld.settings import Settings
from etl.batch import LoadOutcome, Prepared, run_load
from etl.columns import hints, map_columns
from etl.extract import read_table
from schemas.areas import CleanStadsdeelRow, RawStadsdeelRow
from schemas.validation import rejects_for, validate
from warehouse.db import get_engine
from warehouse.models import Buurt, Stadsdeel, StadsdeelArea, Wijk

ALIASES: dict[str, tuple[str, ...]] = {
    "stadsdeel": ("stadsdeel", "stadsdeelnaam", "stadsdeel naam", "gebied", "gebiedsnaam", "gebiedsteam"),
    "code": ("code", "gebiedscode", "wijkcode", "buurtcode", "WK_CODE", "BU_CODE", "wijk", "buurt"),
}


def load_stadsdelen(path: Path, settings: Settings, run_by: str = "cli") -> LoadOutcome:
    with get_engine(settings.warehouse_url).connect() as conn:
        known = known_area_codes(conn)
    return run_load("stadsdelen", path, {}, lambda p: prepare_stadsdelen(p, known), settings, run_by)


def known_area_codes(conn: Connection) -> dict[str, str]:
    """Every wijk and buurt code of any loaded indeling year, with its wijk code."""
    rows = conn.execute(union(select(Wijk.code, Wijk.code), select(Buurt.code, Buurt.wijk_code))).all()
    return {code: wijk for code, wijk in rows}


def prepare_stadsdelen(path: Path, known: dict[str, str]) -> Prepared:
    df = map_columns(read_table(path, hints(ALIASES)), ALIASES, ["stadsdeel", "code"], path.name)
    df = df[["stadsdeel", "code"]].copy()
    df["stadsdeel"] = df["stadsdeel"].str.strip()
    df["code"] = df["code"].str.strip().str.upper()
    valid, rejects = validate(RawStadsdeelRow, df)
    unknown = ~valid["code"].isin(known.keys())
    extra = [
        rejects_for(
            valid.index[unknown],
            "code",
            valid.loc[unknown, "code"].to_numpy(),
            "onbekende wijk- of buurtcode: laad eerst de CBS-buurtindeling (buurtbeeld load buurten)",
        )
    ]
    valid = valid[~unknown]
    # A buurt listed under one stadsdeel while its wijk is listed under another is a contradiction.
    wijk_of = valid["code"].map(known)
    wijk_stadsdeel = dict(zip(valid["code"], valid["stadsdeel"], strict=True))
    conflict = (
        valid["code"].str.startswith("BU")
        & wijk_of.map(lambda w: w in wijk_stadsdeel)
        & (wijk_of.map(wijk_stadsdeel.get) != valid["stadsdeel"])
    )
    extra.append(
        rejects_for(
            valid.index[conflict],
            "code",
            valid.loc[conflict, "code"].to_numpy(),
            "deze buurt staat bij een ander stadsdeel dan haar wijk",
        )
    )
    valid = valid[~conflict]
    rejects = pd.concat([rejects, *[e for e in extra if len(e)]], ignore_index=True)
    clean = CleanStadsdeelRow.validate(valid.assign(gemeente_code="GM" + valid["code"].str[2:6]), lazy=True)
    summary = {"stadsdelen": sorted(clean["stadsdeel"].unique().tolist())}

    def write(conn: Connection, batch_id: int) -> dict[str, Any]:
        gemeenten = sorted(clean["gemeente_code"].unique())
        conn.execute(delete(Stadsdeel).where(Stadsdeel.gemeente_code.in_(gemeenten)))
        ids: dict[tuple[str, str], int] = {}
        for (gm, name), _ in clean.groupby(["gemeente_code", "stadsdeel"]):
            ids[(gm, name)] = conn.execute(
                insert(Stadsdeel).values(gemeente_code=gm, name=name, batch_id=batch_id).returning(Stadsdeel.id)
            ).scalar_one()
        conn.execute(delete(StadsdeelArea).where(StadsdeelArea.area_code.in_(clean["code"].tolist())))
        conn.execute(
            insert(StadsdeelArea),
            [
                {"stadsdeel_id": ids[(gm, name)], "area_code": code}
                for gm, name, code in zip(clean["gemeente_code"], clean["stadsdeel"], clean["code"], strict=True)
            ],
        )
        return {"gemeenten": gemeenten, "_publish": dict.fromkeys(gemeenten)}

    return Prepared(len(df), len(clean), rejects, write, summary)
