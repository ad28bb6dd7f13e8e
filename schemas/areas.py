"""Schemas for CBS buurten (wijk- en buurtkaart) and the gemeente's stadsdeel mapping."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas import codes
from schemas.text import blank, matches


class RawBuurt(pa.DataFrameModel):
    """One feature of a CBS wijk- en buurtkaart, attributes as text, after header aliasing."""

    buurtcode: Series[str] = pa.Field(nullable=True)
    buurtnaam: Series[str] = pa.Field(nullable=True)
    wijkcode: Series[str] = pa.Field(nullable=True)
    wijknaam: Series[str] = pa.Field(nullable=True)
    gemeentecode: Series[str] = pa.Field(nullable=True)
    gemeentenaam: Series[str] = pa.Field(nullable=True)
    has_geometry: Series[bool]

    class Config:
        strict = "filter"

    @pa.check("buurtcode", name="buurtcode is geen CBS-buurtcode (BU + 8 tekens, bv. BU00140000)")
    def _buurtcode(cls, s: Series[str]) -> Series[bool]:
        return matches(s, codes.BUURT)

    @pa.check("buurtcode", name="buurtcode komt meer dan eens voor in het bestand")
    def _unique(cls, s: Series[str]) -> Series[bool]:
        return ~s.duplicated(keep=False)

    @pa.check("wijkcode", name="wijkcode is geen CBS-wijkcode (WK + 6 tekens, bv. WK001400)")
    def _wijkcode(cls, s: Series[str]) -> Series[bool]:
        return matches(s, codes.WIJK)

    @pa.check("gemeentecode", name="gemeentecode is geen CBS-gemeentecode (GM + 4 cijfers, bv. GM0014)")
    def _gemeentecode(cls, s: Series[str]) -> Series[bool]:
        return matches(s, codes.GEMEENTE)

    @pa.check("buurtnaam", name="buurtnaam ontbreekt")
    def _naam(cls, s: Series[str]) -> Series[bool]:
        return ~blank(s)

    @pa.dataframe_check(name="wijkcode: buurtcode hoort niet bij deze wijkcode (BU = WK-code + 2 tekens)")
    def _buurt_in_wijk(cls, df: pd.DataFrame) -> Series[bool]:
        return df["buurtcode"].fillna("").str[2:8] == df["wijkcode"].fillna("").str[2:8]

    @pa.dataframe_check(name="gemeentecode: wijkcode hoort niet bij deze gemeentecode")
    def _wijk_in_gemeente(cls, df: pd.DataFrame) -> Series[bool]:
        return df["wijkcode"].fillna("").str[2:6] == df["gemeentecode"].fillna("").str[2:6]

    @pa.check("has_geometry", name="geen (bruikbare) geometrie")
    def _geometry(cls, s: Series[bool]) -> Series[bool]:
        return s


class CleanBuurt(RawBuurt):
    """What enters the warehouse: RD-repaired area, simplified WGS84 GeoJSON, a label point."""

    indeling_year: Series[int] = pa.Field(ge=1990, le=2100)
    geometry_geojson: Series[str] = pa.Field(str_startswith="{")
    area_m2: Series[float] = pa.Field(gt=0)
    # Bounding box of the Netherlands incl. the Wadden and the North Sea coast, generously.
    label_lon: Series[float] = pa.Field(ge=3.0, le=7.5)
    label_lat: Series[float] = pa.Field(ge=50.5, le=54.0)

    class Config:
        strict = "filter"


class RawStadsdeelRow(pa.DataFrameModel):
    """One row of a gemeente's stadsdeel mapping: a wijk or buurt code and its stadsdeel."""

    stadsdeel: Series[str] = pa.Field(nullable=True)
    code: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"

    @pa.check("stadsdeel", name="naam van het stadsdeel ontbreekt")
    def _name(cls, s: Series[str]) -> Series[bool]:
        return ~blank(s)

    @pa.check("code", name="geen CBS-wijkcode (WK + 6) of buurtcode (BU + 8)")
    def _code(cls, s: Series[str]) -> Series[bool]:
        return matches(s, f"(?:{codes.WIJK}|{codes.BUURT})")

    @pa.check("code", name="code staat meer dan eens in het bestand")
    def _unique(cls, s: Series[str]) -> Series[bool]:
        return ~s.duplicated(keep=False)


class CleanStadsdeelRow(RawStadsdeelRow):
    gemeente_code: Series[str] = pa.Field(text_matches=codes.GEMEENTE)
