"""Schemas for the weekly BVH export, incident-level form.

RawIncident checks what the police delivered (as text, with the parsed dates next to it); every
failed check becomes a rejected row with a reason the police contact understands. CleanIncident is
what may enter the warehouse: no address, no free text, the voorval id only as a hash.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from buurtbeeld.periods import DAGDELEN
from schemas import codes
from schemas.text import blank as _blank
from schemas.text import matches

MK_CODE = r"[A-Z]\d{2,4}[A-Z]?"
# RD New coordinates of the Netherlands (with a margin): anything else is not a location here.
RD_X = (0.0, 300_000.0)
RD_Y = (289_000.0, 630_000.0)
_FUTURE = pd.Timedelta(days=1)
# Before this no BVH registration exists (and a year such as 1900 is a placeholder or a typing
# error): counted, it would publish a year '1900'. A load sets its own bound (the setting
# bvh_earliest_date) in the frame's attrs, as pandera checks take no arguments.
PLAUSIBLE_FROM = pd.Timestamp("2000-01-01")


def _earliest(df: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(df.attrs.get("earliest", PLAUSIBLE_FROM))


# A deed cannot begin after it was reported; the real Groningen export has begin dates up to some
# hours after the registration (a rounded or re-entered time), none more than a day.
_BEGIN_AFTER_REPORT = pd.Timedelta(days=1)


class RawIncident(pa.DataFrameModel):
    voorval_id: Series[str] = pa.Field(nullable=True)
    id_dubbel: Series[bool]  # the id occurs more than once in the file (computed over the whole file)
    mk_code: Series[str] = pa.Field(nullable=True)
    begin_text: Series[str] = pa.Field(nullable=True)
    begin_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    eind_text: Series[str] = pa.Field(nullable=True)
    eind_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    kennisname_text: Series[str] = pa.Field(nullable=True)
    kennisname_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    x: Series[str] = pa.Field(nullable=True)
    y: Series[str] = pa.Field(nullable=True)
    x_rd: Series[float] = pa.Field(nullable=True)  # x and y as numbers; NaN when blank or unreadable
    y_rd: Series[float] = pa.Field(nullable=True)
    buurtcode: Series[str] = pa.Field(nullable=True)
    excel_date: Series[str] = pa.Field(nullable=True)  # name of a code column holding an Excel date

    class Config:
        strict = "filter"

    @pa.check("voorval_id", name="incident-id ontbreekt", ignore_na=False)
    def _id_present(cls, s: Series[str]) -> Series[bool]:
        return ~_blank(s)

    @pa.dataframe_check(name="voorval_id: incident-id komt meer dan eens voor in dit bestand")
    def _id_unique(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["id_dubbel"]

    @pa.check("mk_code", name="MK-code ontbreekt of heeft niet de vorm letter + 2-4 cijfers (bv. B70)", ignore_na=False)
    def _mk(cls, s: Series[str]) -> Series[bool]:
        return matches(s, MK_CODE)

    @pa.check("excel_date", name="code is door Excel omgezet in een datum; lever deze kolom als tekst aan")
    def _excel(cls, s: Series[str]) -> Series[bool]:
        return _blank(s)

    @pa.dataframe_check(name="begin_text: pleegdatum niet herkend (verwacht bv. 20-09-2017 17:30)")
    def _begin_parsed(cls, df: pd.DataFrame) -> Series[bool]:
        return _blank(df["begin_text"]) | df["begin_at"].notna()

    @pa.dataframe_check(name="eind_text: einddatum niet herkend (verwacht bv. 20-09-2017 17:30)")
    def _eind_parsed(cls, df: pd.DataFrame) -> Series[bool]:
        return _blank(df["eind_text"]) | df["eind_at"].notna()

    @pa.dataframe_check(name="kennisname_text: kennisnamedatum niet herkend (verwacht bv. 20-09-2017 17:30)")
    def _kennisname_parsed(cls, df: pd.DataFrame) -> Series[bool]:
        return _blank(df["kennisname_text"]) | df["kennisname_at"].notna()

    @pa.dataframe_check(name="begin_text: geen pleegdatum en geen kennisnamedatum")
    def _some_date(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(_blank(df["begin_text"]) & _blank(df["kennisname_text"]))

    @pa.dataframe_check(name="begin_text: pleegdatum ligt in de toekomst")
    def _begin_not_future(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["begin_at"] > pd.Timestamp.now() + _FUTURE)

    @pa.dataframe_check(name="kennisname_text: kennisnamedatum ligt in de toekomst")
    def _kennisname_not_future(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["kennisname_at"] > pd.Timestamp.now() + _FUTURE)

    @pa.dataframe_check(
        name="begin_text: pleegdatum ligt voor de vroegste toegestane datum (BUURTBEELD_BVH_EARLIEST_DATE, "
        "standaard 2000-01-01; tikfout?)"
    )
    def _begin_plausible(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["begin_at"] < _earliest(df))

    @pa.dataframe_check(
        name="kennisname_text: kennisnamedatum ligt voor de vroegste toegestane datum "
        "(BUURTBEELD_BVH_EARLIEST_DATE, standaard 2000-01-01; tikfout?)"
    )
    def _kennisname_plausible(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["kennisname_at"] < _earliest(df))

    @pa.dataframe_check(name="begin_text: pleegdatum ligt meer dan een dag na de kennisnamedatum")
    def _begin_before_report(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["begin_at"] > df["kennisname_at"] + _BEGIN_AFTER_REPORT)

    @pa.dataframe_check(name="x: X/Y is geen Rijksdriehoek-coördinaat in Nederland")
    def _xy(cls, df: pd.DataFrame) -> Series[bool]:
        both_blank = _blank(df["x"]) & _blank(df["y"])
        inside = df["x_rd"].between(*RD_X) & df["y_rd"].between(*RD_Y)
        return both_blank | inside

    @pa.check("buurtcode", name="buurtcode is geen CBS-buurtcode (BU + 8 tekens)")
    def _buurtcode(cls, s: Series[str]) -> Series[bool]:
        return _blank(s) | matches(s.fillna("").str.strip().str.upper(), codes.BUURT)


class CleanIncident(pa.DataFrameModel):
    voorval_hash: Series[str] = pa.Field(text_matches=r"[0-9a-f]{32}", unique=True)
    gemeente_code: Series[str] = pa.Field(text_matches=codes.GEMEENTE)
    indeling_year: Series[int] = pa.Field(ge=1990, le=2100)
    buurt_code: Series[str] = pa.Field(text_matches=f"{codes.BUURT}|onbekend")
    assign_route: Series[str] = pa.Field(isin=["buurtcode", "xy", "postcode", "naam", "onbekend"])
    mk_code: Series[str] = pa.Field(text_matches=MK_CODE)
    group_code: Series[str]
    pleeg_at: Series[pd.Timestamp]
    kennisname_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    iso_year: Series[int]
    iso_week: Series[int] = pa.Field(ge=1, le=53)
    month: Series[str] = pa.Field(text_matches=r"\d{4}-\d{2}")
    weekday: Series[int] = pa.Field(ge=1, le=7)
    dagdeel: Series[str] = pa.Field(isin=list(DAGDELEN))
    is_attempt: Series[pd.BooleanDtype] = pa.Field(nullable=True)

    class Config:
        strict = True


class RawCountRow(pa.DataFrameModel):
    """One row of a buurt-level delivery: buurtcode, a week, an MK code or category, a count."""

    buurtcode: Series[str] = pa.Field(nullable=True)
    periode: Series[str] = pa.Field(nullable=True)
    iso_year: Series[float] = pa.Field(nullable=True)  # parsed from periode; NaN when unreadable
    iso_week: Series[float] = pa.Field(nullable=True)
    categorie: Series[str] = pa.Field(nullable=True)
    aantal: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"

    @pa.check("buurtcode", name="buurtcode is geen CBS-buurtcode (BU + 8 tekens)", ignore_na=False)
    def _buurtcode(cls, s: Series[str]) -> Series[bool]:
        return matches(s, codes.BUURT)

    @pa.dataframe_check(name="periode: geen ISO-week herkend (bv. 2026-W45, of van/tot binnen één week)")
    def _week(cls, df: pd.DataFrame) -> Series[bool]:
        return df["iso_year"].notna() & df["iso_week"].between(1, 53)

    @pa.check("categorie", name="MK-code of categorie ontbreekt", ignore_na=False)
    def _category(cls, s: Series[str]) -> Series[bool]:
        return ~_blank(s)

    @pa.check("aantal", name="aantal is geen geheel getal van 0 of meer", ignore_na=False)
    def _count(cls, s: Series[str]) -> Series[bool]:
        return matches(s, r"\d+")

    @pa.dataframe_check(name="categorie: dezelfde buurt, week en categorie staan meer dan eens in het bestand")
    def _unique(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["buurtcode", "iso_year", "iso_week", "categorie"], keep=False)
