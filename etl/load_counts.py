"""The buurt-level form of a BVH delivery: counts per CBS buurt, week and MK code or category.

Rows are validated like incidents (bad rows rejected with reasons); categories are mapped with the
same versioned MK catalogue (an MK code, a soort-misdrijf code such as 1.1.1, or a dashboard group);
an unknown category is kept in group 'onbekend' and reported, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from etl import bvh, deliveries
from etl.batch import Prepared
from etl.categories import sync_categories
from etl.columns import map_columns, resolve
from etl.publish import weeks_by_gemeente
from schemas.bvh import MK_CODE, RawCountRow
from schemas.validation import rejects_for, validate
from warehouse.incidents import upsert_delivered_counts

ALIASES: dict[str, tuple[str, ...]] = {
    "buurtcode": ("CBS buurtcode", "CBS-buurtcode", "Buurtcode", "BU_CODE", "WijkenEnBuurten", "Buurt code"),
    "aantal": (
        "Aantal",
        "Aantal incidenten",
        "Aantal misdrijven",
        "Aantal registraties",
        "Geregistreerde misdrijven",
        "count",
    ),
    "week": ("Week", "Jaarweek", "ISO-week", "ISO week", "Weeknummer", "Periode"),
    "jaar": ("Jaar",),
    "van": ("Van", "Begindatum", "Periode van", "Datum van", "Startdatum"),
    "tot": ("Tot", "Tot en met", "T/m", "Einddatum", "Periode tot", "Datum tot"),
    "categorie": (
        "MK",
        "MK code",
        "MK-code",
        "Incidentsoort code",
        "Maatschappelijke klasse",
        "Soort misdrijf",
        "SoortMisdrijf",
        "Categorie",
        "Delict",
        "Groep",
    ),
}
_WEEK = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*(?:W|WK|WEEK)?\s*(\d{1,2})\s*$", re.IGNORECASE)


def is_counts_form(columns: list[str]) -> bool:
    found = resolve(columns, {**bvh.ALIASES, "aantal": ALIASES["aantal"]})
    return "aantal" in found and "voorval_id" not in found


def parse_weeks(df: pd.DataFrame) -> pd.DataFrame:
    """(periode text, iso_year, iso_week) from a week column, jaar + week, or a van/tot date range."""
    n = pd.Series(float("nan"), index=df.index)
    year, week = n.copy(), n.copy()
    if "week" in df:
        text = df["week"].fillna("").astype("str")
        if "jaar" in df:
            text = df["jaar"].fillna("").astype("str") + "-" + text.str.replace(r"^\d{4}\D*", "", regex=True)
        parts = text.str.upper().str.extract(_WEEK)
        year, week = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[1], errors="coerce")
        return _weeks(text, year, week)
    if "van" in df and "tot" in df:
        start, end = bvh.parse_datetime(df["van"]), bvh.parse_datetime(df["tot"])
        iso_start, iso_end = start.dt.isocalendar(), end.dt.isocalendar()
        same = (iso_start["year"] == iso_end["year"]) & (iso_start["week"] == iso_end["week"]) & (end >= start)
        year = iso_start["year"].astype("float").where(same.fillna(False))
        week = iso_start["week"].astype("float").where(same.fillna(False))
        text = df["van"].astype("str") + " t/m " + df["tot"].astype("str")
        return _weeks(text, year, week)
    return _weeks(pd.Series("", index=df.index), year, week)


def _weeks(text: pd.Series, year: pd.Series, week: pd.Series) -> pd.DataFrame:
    as_float = {"iso_year": year, "iso_week": week}
    return pd.DataFrame({"periode": text.astype("str"), **{k: v.astype("float64") for k, v in as_float.items()}})


def categorise(values: pd.Series) -> pd.DataFrame:
    """group_code and mk_code ('*' for a whole soort or group) per delivered category."""
    _, items = bvh.catalogue()
    by_soort: dict[str, str] = {}
    by_group: dict[str, str] = {}
    for c in items.values():
        by_soort.setdefault(c.soort_code, c.group_code)
        by_group[bvh.normalise_name(pd.Series([c.group_code])).iloc[0]] = c.group_code
        by_group[bvh.normalise_name(pd.Series([c.group_label])).iloc[0]] = c.group_code
    text = values.fillna("").astype("str").str.strip()
    upper = text.str.upper()
    is_mk = upper.str.fullmatch(MK_CODE)
    soort = text.str.extract(r"^(\d+\.\d+\.\d+)", expand=False)
    group = pd.Series(bvh.ONBEKEND, index=values.index, dtype="object")
    group[is_mk] = bvh.categorise(upper[is_mk])
    group[~is_mk] = soort[~is_mk].map(by_soort)
    missing = group.isna()
    group[missing] = bvh.normalise_name(text[missing]).map(by_group)
    group = group.fillna(bvh.ONBEKEND)
    mk = upper.where(is_mk, "*")
    return pd.DataFrame({"group_code": group.astype("str"), "mk_code": mk.astype("str")})


def prepare_counts(raw: pd.DataFrame, file_name: str, areas: Any, hic: frozenset[str] = frozenset()) -> Prepared:
    df = map_columns(raw, ALIASES, ["buurtcode", "aantal", "categorie"], file_name)
    names = resolve(raw.columns, ALIASES)
    parsed = pd.DataFrame(
        {
            "buurtcode": df["buurtcode"].str.strip().str.upper(),
            **parse_weeks(df),
            "categorie": df["categorie"].str.strip(),
            "aantal": df["aantal"].str.strip().str.replace(r"\.0$", "", regex=True),
        },
        index=df.index,
    )
    valid, rejects = validate(RawCountRow, parsed)
    unknown = ~valid["buurtcode"].isin(areas.gemeente_of.keys())
    extra = rejects_for(
        valid.index[unknown],
        "buurtcode",
        valid.loc[unknown, "buurtcode"].to_numpy(),
        f"buurtcode staat niet in de CBS-buurtindeling {areas.year}",
    )
    valid = valid[~unknown]
    rejects = pd.concat([r for r in (rejects, extra) if len(r)] or [rejects], ignore_index=True)
    period_name = names.get("week") or (f"{names.get('van')}/{names.get('tot')}" if "van" in names else "periode")
    rejects["column"] = rejects["column"].map(lambda c: period_name if c == "periode" else names.get(c, c))

    cats = categorise(valid["categorie"])
    clean = pd.DataFrame(
        {
            "gemeente_code": valid["buurtcode"].map(areas.gemeente_of),
            "indeling_year": areas.year,
            "buurt_code": valid["buurtcode"],
            **cats,
            "iso_year": valid["iso_year"].astype("int64"),
            "iso_week": valid["iso_week"].astype("int64"),
            "count": valid["aantal"].astype("int64"),
        },
        index=valid.index,
    )
    unknown_cats = valid.loc[cats["group_code"] == bvh.ONBEKEND, "categorie"].value_counts()
    summary = {
        "vorm": "aantallen per buurt",
        "regels_gelezen": len(raw),
        "aantal_totaal": int(clean["count"].sum()),
        "onbekende_categorieen": {str(k): int(v) for k, v in unknown_cats.items()},
        "indeling": areas.year,
    }

    def write(conn: Connection, batch_id: int) -> dict[str, Any]:
        sync_categories(conn, hic)
        columns = {c: clean[c].tolist() for c in clean.columns}
        result = upsert_delivered_counts(conn, columns, batch_id)
        return {"aantallen": result, "_publish": weeks_by_gemeente(result.pop("touched"))}

    periods = deliveries.week_periods(clean)
    return Prepared(len(raw), len(clean), rejects, write, summary, periods=periods)
