"""Load indicators per area: CBS Kerncijfers tables (wide) and the gemeente's own files (wide or long)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from buurtbeeld.settings import Settings
from etl import indicators as ind
from etl.batch import LoadOutcome, Prepared, run_load
from etl.columns import hints, map_columns
from etl.errors import LoadError
from etl.extract import read_table
from schemas.indicators import CleanIndicatorValue, RawIndicatorValue
from schemas.validation import REJECT_COLUMNS, rejects_for, validate
from warehouse.db import get_engine
from warehouse.models import Buurt, Indicator, IndicatorValue
from warehouse.upsert import upsert


def load_indicators(
    path: Path,
    settings: Settings,
    period: str | None = None,
    source: str | None = None,
    gemeenten: Sequence[str] = (),
    run_by: str = "cli",
) -> LoadOutcome:
    wanted = sorted({g.strip().upper() for g in gemeenten if g.strip()})
    params = {"periode": period, "bron": source, "gemeenten": wanted}
    with get_engine(settings.warehouse_url).connect() as conn:
        known = known_buurten(conn)
    return run_load(
        "indicatoren", path, params, lambda p: prepare_indicators(p, period, source, wanted, known), settings, run_by
    )


def known_buurten(conn: Connection) -> dict[str, set[str]]:
    """Buurtcodes of every loaded indeling year, per gemeente number."""
    known: dict[str, set[str]] = {}
    for code in conn.execute(select(Buurt.code).distinct()).scalars():
        known.setdefault(code[2:6], set()).add(code)
    return known


def default_source(path: Path, columns: list[str]) -> str:
    """CBS table number from the file name, else CBS for StatLine-style keys, else the gemeente.

    Not the file name: a revised delivery under a new name must update the same values. Two different
    sources for the same indicator and period are told apart with --bron.
    """
    table = re.search(r"\d{5}NED", path.name, flags=re.IGNORECASE)
    if table:
        return f"CBS {table.group(0).upper()}"
    if any(re.search(r"_\d+$", c) for c in columns) or "WijkenEnBuurten" in columns:
        return "CBS Kerncijfers wijken en buurten"
    return "Gemeente (eigen registratie)"


def to_long(df: pd.DataFrame, file_name: str, period: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Long frame with row_number, source_column, area_code, indicator, period, value_text (+unit, source)."""
    columns = list(df.columns)
    code_column = ind.find_code_column(columns)
    if code_column is None:
        raise LoadError(
            f"{file_name}: geen kolom met gebiedscodes gevonden (verwacht bv. WijkenEnBuurten, buurtcode of "
            f"code). Gevonden kolommen: {', '.join(columns)}."
        )
    if ind.is_long(columns):
        aliases = {"area_code": (code_column,), **ind.LONG_ALIASES}
        mapped = map_columns(df, aliases, ["area_code", "indicator", "waarde"], file_name)
        value_column = columns[list(mapped.columns).index("waarde")]
        long = (
            mapped.rename(columns={"waarde": "value_text", "periode": "period", "eenheid": "unit", "bron": "source"})
            .rename_axis("row_number")
            .reset_index()
        )
        long["source_column"] = value_column
        if "period" not in long:
            long["period"] = period
        elif period is not None:
            long["period"] = long["period"].mask(long["period"].fillna("").str.strip() == "", period)
        return long, {"vorm": "lang"}
    wanted, skipped = ind.indicator_columns(df, code_column)
    if not wanted:
        raise LoadError(f"{file_name}: geen kolommen met getallen gevonden naast '{code_column}'.")
    if period is None:
        raise LoadError(
            f"{file_name}: dit is een brede tabel zonder periodekolom; geef de periode op (--periode 2024)."
        )
    return ind.melt_wide(df, code_column, wanted, period), {"vorm": "breed", "kolommen_overgeslagen": skipped}


def prepare_indicators(
    path: Path, period: str | None, source: str | None, gemeenten: Sequence[str], known: dict[str, set[str]]
) -> Prepared:
    aliases = {"code": ind.CODE_ALIASES, **ind.LONG_ALIASES}
    df = read_table(path, hints(aliases))
    rows_in = len(df)
    long, summary = to_long(df, path.name, period)
    long["area_code"] = long["area_code"].fillna("").str.strip().str.upper()
    if gemeenten:
        numbers = {g[2:] for g in gemeenten}
        long = long[long["area_code"].str[2:6].isin(numbers) & ~long["area_code"].str.startswith("NL")]
        if long.empty:
            raise LoadError(f"{path.name}: geen gebieden van gemeente {', '.join(gemeenten)} in dit bestand.")
    long["period"] = long["period"].astype("str")
    long["value"], long["status"] = ind.parse_value(long["value_text"])
    long = long.reset_index(drop=True)

    valid, rejects = validate(RawIndicatorValue, long)
    rejects = _to_file_positions(rejects, long)
    valid, unknown = _reject_unknown_buurten(valid, long, known)
    valid, doubles = _reject_duplicates(valid, long)
    rejects = pd.concat([r for r in (rejects, unknown, doubles) if len(r)] or [rejects], ignore_index=True)

    defs = {name: ind.define(name) for name in valid["indicator"].unique()}
    fallback = source or default_source(path, list(df.columns))
    clean = valid.assign(
        indicator=valid["indicator"].map(lambda n: defs[n].code),
        unit=[
            _unit(defs[n], u) for n, u in zip(valid["indicator"], valid.get("unit", [None] * len(valid)), strict=True)
        ],
        source=valid["source"].fillna(fallback) if "source" in valid else fallback,
        is_population=valid["indicator"].map(lambda n: defs[n].is_population).astype(bool),
    )
    clean = CleanIndicatorValue.validate(clean, lazy=True)
    loaded_rows = long.loc[clean.index, "row_number"].nunique()
    outside = sorted(
        {
            c[:6].replace("BU", "GM").replace("WK", "GM")
            for c in clean["area_code"]
            if c[:2] in {"BU", "WK"} and c[2:6] not in known
        }
    )
    summary = {
        **summary,
        "waarden": len(clean),
        "waarden_geheim": int((clean["status"] == "geheim").sum()),
        "indicatoren": sorted(clean["indicator"].unique().tolist()),
        "gemeenten_zonder_buurtindeling": len(outside),
    }
    labels = {d.code: d for d in defs.values()}

    def write(conn: Connection, batch_id: int) -> dict[str, Any]:
        _write(conn, batch_id, clean, labels)
        return {}

    return Prepared(rows_in, loaded_rows, rejects, write, summary)


def _unit(definition: ind.IndicatorDef, given: object) -> str:
    if given is not None and not pd.isna(given) and str(given).strip():
        return str(given).strip()
    return definition.unit


def _to_file_positions(rejects: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """validate() reports positions in the long frame; turn them into file row and file column."""
    if rejects.empty:
        return rejects
    at = rejects["row_number"].astype(int)
    out = rejects.copy()
    out["row_number"] = long.loc[at, "row_number"].to_numpy()
    value_cell = out["column"].isin(["value_text", "status", "value"])
    out.loc[value_cell, "column"] = long.loc[at[value_cell], "source_column"].to_numpy()
    out.loc[out["column"] == "area_code", "column"] = "gebiedscode"
    out.loc[out["column"] == "period", "column"] = "periode"
    return out[REJECT_COLUMNS]


def _reject_unknown_buurten(
    valid: pd.DataFrame, long: pd.DataFrame, known: dict[str, set[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A buurtcode of a gemeente whose indeling is loaded must exist in one of its loaded years."""
    codes = valid["area_code"]
    bu = codes.str.startswith("BU")
    unknown = bu & codes.str[2:6].isin(known.keys()) & ~codes.map(lambda c: c in known.get(c[2:6], ()))
    bad = valid[unknown]
    rejects = rejects_for(
        long.loc[bad.index, "row_number"].to_numpy(),
        "gebiedscode",
        bad["area_code"].to_numpy(),
        "onbekende buurtcode: staat in geen enkele geladen buurtindeling van deze gemeente",
    ).drop_duplicates(["row_number", "column"])
    return valid[~unknown], rejects


def _reject_duplicates(valid: pd.DataFrame, long: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    key = ["area_code", "indicator", "period"]
    dup = valid.duplicated(key, keep=False)
    bad = valid[dup]
    rejects = rejects_for(
        long.loc[bad.index, "row_number"].to_numpy(),
        long.loc[bad.index, "source_column"].to_numpy(),
        bad["value_text"].to_numpy(),
        "dezelfde indicator staat meer dan eens voor dit gebied en deze periode",
    )
    return valid[~dup], rejects


def _write(conn: Connection, batch_id: int, clean: pd.DataFrame, defs: dict[str, ind.IndicatorDef]) -> None:
    units = clean.groupby("indicator")["unit"].first()
    upsert(
        conn,
        Indicator.__table__,
        [
            {"code": code, "label": d.label, "unit": units.get(code, d.unit), "is_population": d.is_population}
            for code, d in defs.items()
        ],
        keys=["code"],
        update=[],
    )
    values = [
        {
            "area_code": a,
            "indicator_code": i,
            "period": p,
            "value": None if pd.isna(v) else float(v),
            "status": s,
            "source": src,
            "batch_id": batch_id,
        }
        for a, i, p, v, s, src in zip(
            clean["area_code"],
            clean["indicator"],
            clean["period"],
            clean["value"],
            clean["status"],
            clean["source"],
            strict=True,
        )
    ]
    upsert(
        conn,
        IndicatorValue.__table__,
        values,
        keys=["area_code", "indicator_code", "period", "source"],
        update=["value", "status", "batch_id"],
    )
