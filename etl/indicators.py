"""Pure transforms for indicator files: recognise the layout, melt wide to long, parse values.

Missing values are never zero: CBS marks secret or unreliable values with negative sentinels
(-99999999, -99997, -99995, ...) or '.', and a blank cell is unknown too. They become NaN with
status 'geheim'.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from etl.header import normalise_header

CATALOGUE = Path(__file__).parent / "data" / "indicatoren.csv"
# CBS StatLine keys end in a column number: AantalInwoners_5.
_CBS_SUFFIX = re.compile(r"_\d+$")
_SENTINEL_MAX = -99990.0
_MISSING_TEXT = {"", ".", "-", "x", "?", "nan", "null", "geheim", "onbekend"}

CODE_ALIASES = (
    "WijkenEnBuurten",
    "Codering",
    "buurtcode",
    "gebiedcode",
    "gebied code",
    "regiocode",
    "code",
    "nhood_id",
    "BU_CODE",
    "buurt code",
    "wijkcode",
    "statcode",
)
LONG_ALIASES = {
    "indicator": ("indicator", "kenmerk", "onderwerp", "variabele"),
    "waarde": ("waarde", "value", "aantal"),
    "periode": ("periode", "jaar", "peildatum", "period"),
    "eenheid": ("eenheid", "unit"),
    "bron": ("bron", "source"),
}
# Descriptive columns of CBS and gemeente files: text, not indicators.
_DESCRIPTIVE = {
    "id",
    "naam",
    "buurtnaam",
    "buurt naam",
    "wijknaam",
    "gemeentenaam",
    "soortregio",
    "codering",
    "indelingswijzigingwijkenenbuurten",
    "gemeentecode",
    "wijk",
    "buurt",
    "gemeente",
    "stadsdeel",
    "soort regio",
    "omschrijving",
}


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    label: str
    unit: str
    is_population: bool


@lru_cache(maxsize=1)
def catalogue() -> dict[str, IndicatorDef]:
    """Known indicators by every normalised alias."""
    by_alias: dict[str, IndicatorDef] = {}
    with CATALOGUE.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            item = IndicatorDef(row["code"], row["label"], row["eenheid"], row["bevolking"] == "1")
            for alias in [row["code"], *row["aliassen"].split("|")]:
                by_alias[_key(alias)] = item
    return by_alias


def _key(name: str) -> str:
    return normalise_header(_CBS_SUFFIX.sub("", name.strip())).replace(" ", "")


def define(name: str) -> IndicatorDef:
    """The catalogue entry, or a new indicator named after the column (unit unknown until given)."""
    known = catalogue().get(_key(name))
    if known:
        return known
    code = _CBS_SUFFIX.sub("", name.strip())
    return IndicatorDef(code, code, "onbekend", False)


def parse_value(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text (1234, 12.5, 12,5, 1.234,5); NaN+'geheim' for sentinels and blanks; NaN+None bad."""
    raw = text.fillna("").astype("str").str.strip()
    cleaned = raw.str.replace(r"\s", "", regex=True)
    both = cleaned.str.contains(",") & cleaned.str.contains(r"\.")
    cleaned = cleaned.where(~both, cleaned.str.replace(".", "", regex=False))
    cleaned = cleaned.str.replace(",", ".", regex=False)
    number = pd.to_numeric(cleaned, errors="coerce")
    missing = raw.str.lower().isin(_MISSING_TEXT) | (number <= _SENTINEL_MAX)
    value = number.where(~missing)
    status = pd.Series(
        np.where(missing, "geheim", np.where(number.notna(), "ok", None)), index=text.index, dtype="object"
    )
    return value.astype("float64"), status


def find_code_column(columns: list[str]) -> str | None:
    by_norm = {_key(c): c for c in columns}
    for alias in CODE_ALIASES:
        found = by_norm.get(_key(alias))
        if found:
            return found
    return None


def is_long(columns: list[str]) -> bool:
    norms = {normalise_header(c) for c in columns}
    has = {k: any(normalise_header(a) in norms for a in v) for k, v in LONG_ALIASES.items()}
    return has["indicator"] and has["waarde"]


def indicator_columns(df: pd.DataFrame, code_column: str) -> tuple[list[str], list[str]]:
    """(indicator columns, skipped descriptive columns) of a wide file."""
    indicators, skipped = [], []
    for column in df.columns:
        if column == code_column:
            continue
        if _key(column) in {k.replace(" ", "") for k in _DESCRIPTIVE} or find_code_column([column]):
            skipped.append(column)
            continue
        _, status = parse_value(df[column])
        numeric_share = status.notna().mean()
        (indicators if numeric_share >= 0.5 else skipped).append(column)
    return indicators, skipped


def melt_wide(df: pd.DataFrame, code_column: str, columns: list[str], period: str | None) -> pd.DataFrame:
    """One row per (area, indicator column), keeping the source row number and column name."""
    long = (
        df[[code_column, *columns]]
        .rename_axis("row_number")
        .reset_index()
        .melt(id_vars=["row_number", code_column], var_name="source_column", value_name="value_text")
        .rename(columns={code_column: "area_code"})
    )
    long["indicator"] = long["source_column"]
    long["period"] = period
    return long
