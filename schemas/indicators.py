"""Schemas for indicator values in long form (wide files are melted to this shape first)."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas import codes
from schemas.text import blank, matches


class RawIndicatorValue(pa.DataFrameModel):
    """One cell of an indicator file: area code, indicator, period and the value as delivered."""

    area_code: Series[str] = pa.Field(nullable=True)
    indicator: Series[str] = pa.Field(nullable=True)
    period: Series[str] = pa.Field(nullable=True)
    value_text: Series[str] = pa.Field(nullable=True)
    # Parsed by etl.indicators.parse_value: NaN with status 'geheim' for CBS sentinels and blanks.
    value: Series[float] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"

    @pa.check("area_code", name="geen CBS-gebiedscode (GM + 4, WK + 6 of BU + 8 tekens)")
    def _area(cls, s: Series[str]) -> Series[bool]:
        return matches(s, codes.ANY_AREA)

    @pa.check("indicator", name="naam van de indicator ontbreekt")
    def _indicator(cls, s: Series[str]) -> Series[bool]:
        return ~blank(s)

    @pa.check("period", name="periode ontbreekt (geef --periode op of een kolom periode)")
    def _period(cls, s: Series[str]) -> Series[bool]:
        return matches(s, r"\d{4}(?:-\d{2}(?:-\d{2})?)?|\d{4}-?[QK]\d|\d{4}-?H\d")

    @pa.check("status", name="value_text: geen getal (en ook geen CBS-code voor geheim/onbekend)", ignore_na=False)
    def _parsed(cls, s: Series[str]) -> Series[bool]:
        return s.isin(["ok", "geheim"])


class CleanIndicatorValue(RawIndicatorValue):
    unit: Series[str]
    source: Series[str] = pa.Field(str_length={"min_value": 1, "max_value": 120})
    is_population: Series[bool]

    class Config:
        strict = "filter"
