"""Warehouse schema: a star schema of facts and dimensions, plus batches, rejects and analyses.

Areas are keyed by (indeling_year, code): the CBS indeling changes every year, and every fact knows
which year's buurt it belongs to. Facts reference areas by that natural key so that re-loading an
indeling year replaces its areas without touching facts.

Changing anything here requires an Alembic migration (`alembic revision --autogenerate`); CI runs
`alembic check` to prove models and migrations agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# CBS code lengths: GM + 4 digits, WK + 6, BU + 8 (letters allowed after the gemeente number).
GM = String(6)
WK = String(8)
BU = String(10)
AREA_CODE = String(10)  # any of the above (and NL01)
# The keyed voorval hash in hex: an identifier, compared byte by byte. PostgreSQL's "C" collation
# does that with memcmp; the cluster's own (C.UTF-8 here, nl_NL at a gemeente) goes through strcoll,
# which made building the unique key over a million hashes take 1.1 s instead of 0.43 s. SQLite's
# default (BINARY) already compares bytes.
HASH = String(32).with_variant(String(32, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- bookkeeping ---------------------------------------------------------------------------------


class LoadBatch(Base):
    """One attempt to load one file: what, by whom, with what outcome. Kept for failed loads too."""

    __tablename__ = "load_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # buurten, stadsdelen, indicatoren, bvh
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20))
    rows_in: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    archive_path: Mapped[str | None] = mapped_column(String(500))
    run_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("status IN ('loaded', 'refused', 'failed')", name="status"),)


class RejectedRow(Base):
    """A row (or cell) that failed validation, with where it was and why, for the supplier."""

    __tablename__ = "rejected_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(120))
    value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


# --- areas ---------------------------------------------------------------------------------------


class Gemeente(Base):
    __tablename__ = "gemeente"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indeling_year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(GM)
    name: Mapped[str] = mapped_column(String(120))
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry, WGS84, simplified
    area_m2: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("load_batch.id"))

    __table_args__ = (UniqueConstraint("indeling_year", "code"),)


class Wijk(Base):
    __tablename__ = "wijk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indeling_year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(WK)
    name: Mapped[str] = mapped_column(String(120))
    gemeente_code: Mapped[str] = mapped_column(GM)
    geometry: Mapped[str | None] = mapped_column(Text)
    area_m2: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("load_batch.id"))

    __table_args__ = (
        UniqueConstraint("indeling_year", "code"),
        ForeignKeyConstraint(
            ["indeling_year", "gemeente_code"],
            ["gemeente.indeling_year", "gemeente.code"],
            name="fk_wijk_gemeente",
        ),
    )


class Buurt(Base):
    __tablename__ = "buurt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indeling_year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(BU)
    name: Mapped[str] = mapped_column(String(120))
    wijk_code: Mapped[str] = mapped_column(WK)
    gemeente_code: Mapped[str] = mapped_column(GM, index=True)
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON, WGS84, simplified by 2 m: the map
    # The buurt as CBS drew it (WKB, RD New, not simplified): incidents are assigned on this, so a
    # point 0.3 m inside a border is not given to the neighbour as the map's geometry would.
    geometry_rd: Mapped[bytes | None] = mapped_column(LargeBinary)
    area_m2: Mapped[float | None] = mapped_column(Float)
    # A point inside the buurt (not the centroid, which can fall outside a concave buurt): map labels
    # and cheap bounding-box look-ups without parsing geometry.
    label_lon: Mapped[float | None] = mapped_column(Float)
    label_lat: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("load_batch.id"))

    __table_args__ = (
        UniqueConstraint("indeling_year", "code"),
        ForeignKeyConstraint(["indeling_year", "wijk_code"], ["wijk.indeling_year", "wijk.code"], name="fk_buurt_wijk"),
    )


class BuurtCorrespondence(Base):
    """How a buurt of one indeling year maps onto the buurten of another, by area overlap.

    share_of_from: the part of the from-buurt's area lying in the to-buurt, renormalised over the kept
    pairs so that counts re-allocated with it are conserved. is_primary marks the successor with the
    largest share (the one a trend line follows).
    """

    __tablename__ = "buurt_correspondence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_year: Mapped[int] = mapped_column(Integer)
    from_code: Mapped[str] = mapped_column(BU)
    to_year: Mapped[int] = mapped_column(Integer)
    to_code: Mapped[str] = mapped_column(BU)
    share_of_from: Mapped[float] = mapped_column(Float)
    share_of_to: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(20))  # same_code | overlap
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("from_year", "from_code", "to_year", "to_code", name="uq_buurt_correspondence_pair"),
        Index("ix_buurt_correspondence_to", "to_year", "to_code"),
    )


class Stadsdeel(Base):
    """The gemeente's own grouping above wijken (stadsdelen, gebieden)."""

    __tablename__ = "stadsdeel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gemeente_code: Mapped[str] = mapped_column(GM)
    name: Mapped[str] = mapped_column(String(120))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("load_batch.id"))

    __table_args__ = (UniqueConstraint("gemeente_code", "name"),)


class StadsdeelArea(Base):
    """A wijk or buurt code belonging to a stadsdeel; a buurt inherits its wijk's stadsdeel."""

    __tablename__ = "stadsdeel_area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stadsdeel_id: Mapped[int] = mapped_column(ForeignKey("stadsdeel.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(AREA_CODE, unique=True)


# --- categories and facts ------------------------------------------------------------------------


class CrimeCategory(Base):
    """MK code -> soort misdrijf -> dashboard group, from a versioned data file."""

    __tablename__ = "crime_category"

    mk_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    mk_description: Mapped[str] = mapped_column(String(200))
    soort_code: Mapped[str | None] = mapped_column(String(10))
    soort_description: Mapped[str | None] = mapped_column(String(200))
    group_code: Mapped[str] = mapped_column(String(40))
    group_label: Mapped[str] = mapped_column(String(120))
    is_hic: Mapped[bool] = mapped_column(Boolean, default=False)
    mapping_version: Mapped[str] = mapped_column(String(40))


class Incident(Base):
    """One police registration, without personal data: the voorval id only as a keyed hash.

    Timestamps are wall-clock time in Europe/Amsterdam (what the police export holds and what an
    analyst reads); ISO week, month, weekday and dagdeel are derived from the pleegmoment in that
    zone, so the warehouse never needs time-zone arithmetic.
    """

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    voorval_hash: Mapped[str] = mapped_column(HASH, unique=True)
    gemeente_code: Mapped[str] = mapped_column(GM)
    indeling_year: Mapped[int] = mapped_column(Integer)
    buurt_code: Mapped[str] = mapped_column(BU)  # 'onbekend': no usable location (totals reconcile)
    assign_route: Mapped[str] = mapped_column(String(20))  # buurtcode | xy | postcode | naam | onbekend
    mk_code: Mapped[str] = mapped_column(String(8))
    group_code: Mapped[str] = mapped_column(String(40))  # 'onbekend' for an MK code not in the catalogue
    pleeg_at: Mapped[datetime] = mapped_column(DateTime)
    kennisname_at: Mapped[datetime | None] = mapped_column(DateTime)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))
    weekday: Mapped[int] = mapped_column(Integer)  # 1 = maandag
    dagdeel: Mapped[str] = mapped_column(String(10))
    is_attempt: Mapped[bool | None] = mapped_column(Boolean)
    first_batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id"))

    # Read only by the load's recount of touched weeks (equality on all three): integers first, as
    # they are cheaper to sort when a bulk load rebuilds the index.
    __table_args__ = (Index("ix_incident_period", "iso_year", "iso_week", "gemeente_code"),)


class DeliveryHorizon(Base):
    """How far a gemeente's incident deliveries reach: the latest kennisname in any file loaded (its
    latest pleegmoment for a file without kennisname). That week and the week before are provisional
    (warehouse.weekly.provisional_from).

    Kept up by each load rather than found by MAX(kennisname_at) over incident, whose index a first
    load of a million incidents rebuilt in 2.7 s (SQLite) to 3.4 s (PostgreSQL). A later file that
    revises the latest incident to an earlier kennisname does not move the horizon back: the
    deliveries did reach that far."""

    __tablename__ = "delivery_horizon"

    gemeente_code: Mapped[str] = mapped_column(GM, primary_key=True)
    latest_at: Mapped[datetime] = mapped_column(DateTime)
    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id"))  # the load that set it


class Delivery(Base):
    """The delivery register: which ISO weeks of kennisname a loaded police file covers, per gemeente
    (first and last week as year * 100 + week). A weekly export covers its week; a history export
    all of its weeks. Expected is one week after another from a gemeente's first delivered week:
    a week that no file covers is a missing delivery (warehouse.deliveries), and its month is
    neither published nor analysed as complete."""

    __tablename__ = "delivery"

    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id", ondelete="CASCADE"), primary_key=True)
    gemeente_code: Mapped[str] = mapped_column(GM, primary_key=True)
    first_week: Mapped[int] = mapped_column(Integer)
    last_week: Mapped[int] = mapped_column(Integer)


class MissingDelivery(Base):
    """A week found missing and alerted once (ops get one alert per missing week, not one per run)."""

    __tablename__ = "missing_delivery"

    gemeente_code: Mapped[str] = mapped_column(GM, primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)  # year * 100 + week
    alerted_at: Mapped[datetime] = mapped_column(DateTime)


class IncidentRevision(Base):
    """The previous state of an incident that a later delivery changed (late MK or date revisions)."""

    __tablename__ = "incident_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id"))  # the batch that revised it
    old_mk_code: Mapped[str] = mapped_column(String(8))
    old_buurt_code: Mapped[str] = mapped_column(BU)
    old_pleeg_at: Mapped[datetime] = mapped_column(DateTime)
    old_iso_year: Mapped[int] = mapped_column(Integer)
    old_iso_week: Mapped[int] = mapped_column(Integer)


class _WeekCell:
    """The cell key shared by delivered and aggregated weekly counts."""

    gemeente_code: Mapped[str] = mapped_column(GM)
    indeling_year: Mapped[int] = mapped_column(Integer)
    buurt_code: Mapped[str] = mapped_column(BU)  # 'onbekend' for incidents without a usable location
    group_code: Mapped[str] = mapped_column(String(40))  # '*' for all categories
    mk_code: Mapped[str] = mapped_column(String(8))  # '*' for all codes of the group
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


CELL = ("gemeente_code", "indeling_year", "buurt_code", "group_code", "mk_code", "iso_year", "iso_week")
WEEK_FIRST_CELL = ("gemeente_code", "iso_year", "iso_week", "indeling_year", "buurt_code", "group_code", "mk_code")
# How every query asks for provisional weeks, so that it is the partial index's own condition.
PROVISIONAL = column("is_provisional", Boolean).is_(True)


class DeliveredCount(_WeekCell, Base):
    """Counts delivered already aggregated (buurt x week x MK or category), as some eenheden send them.

    A later delivery of the same cell replaces it. mk_code '*' when only a category was delivered.
    """

    __tablename__ = "delivered_count"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id"))

    __table_args__ = (
        UniqueConstraint(*CELL, name="uq_delivered_count_cell"),
        Index("ix_delivered_count_period", "gemeente_code", "iso_year", "iso_week"),
        CheckConstraint("count >= 0", name="count_not_negative"),
    )


class WeeklyCount(_WeekCell, Base):
    """The weekly aggregate the cube is published from: buurt x category group x MK x ISO week, plus an
    all-categories total per buurt and week (group and MK '*').

    MK '*' under a group holds what was delivered for the whole category without an MK code (buurt-level
    counts); a group's total is the sum of its rows, not stored (see warehouse.weekly.summed_levels)."""

    __tablename__ = "weekly_count"

    is_provisional: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # The cell is the key, week first, so that the key also finds a gemeente's weeks (a refresh,
        # the cube's reads). No surrogate id: nothing refers to a weekly count, and a sequence value
        # per row plus its own index cost 0.45 s of a first 1M load on PostgreSQL (migration
        # 6a3f9c0e2b71). A bulk load drops and re-adds the key there; SQLite keeps it, and the rows
        # reach it in key order (warehouse.weekly.summed_levels).
        PrimaryKeyConstraint(*WEEK_FIRST_CELL),
        # Partial: only the last two weeks of a delivery are provisional, so this index stays a few
        # hundred rows instead of one per row (a first 1M load built it over 830 000).
        Index(
            "ix_weekly_count_provisional",
            "gemeente_code",
            "iso_year",
            "iso_week",
            sqlite_where=PROVISIONAL,
            postgresql_where=PROVISIONAL,
        ),
    )


class PublishedCount(Base):
    """The disclosure-controlled cube the dashboard and the analyses read.

    Per gemeente, period (ISO week; month, quarter and year as unions of weeks, see buurtbeeld.periods),
    area level, area, category group ('*' = all) and MK code ('*' = the whole group): the exact count
    (what the intern audience reads), the shared figure and its status for the gedeeld audience (0
    shown, 2 not shown, 3 shown coarser and marked; see buurtbeeld.disclosure). MK cells are
    children of their group's cell in complementary suppression, like groups of the all-categories
    cell. Areas are those of the gemeente's latest indeling year; older years' counts follow the
    primary correspondence. Zero cells are not stored."""

    __tablename__ = "published_count"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gemeente_code: Mapped[str] = mapped_column(GM)
    indeling_year: Mapped[int] = mapped_column(Integer)
    period_type: Mapped[str] = mapped_column(String(8))  # week | month | quarter | year
    period: Mapped[str] = mapped_column(String(8))  # 2026-W45 | 2026-10 | 2026-Q3 | 2026
    period_start: Mapped[date] = mapped_column(Date)
    area_level: Mapped[str] = mapped_column(String(10))  # gemeente | stadsdeel | wijk | buurt
    area_code: Mapped[str] = mapped_column(String(120))
    group_code: Mapped[str] = mapped_column(String(40))
    mk_code: Mapped[str] = mapped_column(String(10), server_default="*")
    count: Mapped[int] = mapped_column(Integer)
    # The figure the gedeeld audience reads (a multiple of the threshold, etl.publish.share); NULL
    # where that audience sees nothing: outside the shared design, or hidden by the auditor.
    shared_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(SmallInteger)
    # The batch that published the cell: provenance, written in that batch's own transaction, and
    # batches are never deleted. Deliberately no foreign key: on PostgreSQL its per-row check cost
    # 5.6 us a cell, 17 s of a first 1M-incident load's 2.9 M cells (measured), for a value nothing reads.
    batch_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint(
            "gemeente_code",
            "period_type",
            "period",
            "area_level",
            "area_code",
            "group_code",
            "mk_code",
            name="uq_published_cell",
        ),
        # A series: one area and category over all periods (Trends); a map reads one period (the unique key).
        Index(
            "ix_published_count_series",
            "gemeente_code",
            "period_type",
            "area_level",
            "area_code",
            "group_code",
            "mk_code",
            "period_start",
        ),
        CheckConstraint("status IN (0, 1, 2, 3)", name="status"),
    )

    @classmethod
    def series_index(cls) -> Index:
        return next(i for i in cls.__table__.indexes if i.name == "ix_published_count_series")


class SavedView(Base):
    """A named dashboard view ("bewaarde weergave"): the page path and its URL query string."""

    __tablename__ = "saved_view"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    path: Mapped[str] = mapped_column(String(120))
    query: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_view_owner_name"),)


# --- monthly analyses ------------------------------------------------------------------------------


class AnalysisRun(Base):
    """One generation of monthly analyses: which month, which areas (scope), from which warehouse state."""

    __tablename__ = "analysis_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gemeente_code: Mapped[str] = mapped_column(GM)
    month: Mapped[str] = mapped_column(String(7))  # 2026-10 (ISO weeks by Thursday, see buurtbeeld.periods)
    scope: Mapped[str] = mapped_column(String(130))  # 'gemeente' or 'stadsdeel:<naam>'
    based_on_batch_id: Mapped[int | None] = mapped_column(ForeignKey("load_batch.id"))
    method: Mapped[dict] = mapped_column(JSON, default=dict)
    run_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_analysis_run_month", "gemeente_code", "month"),)


class AreaAnalysis(Base):
    """The analysis of one area for one month, as readers see it: every number in `content` and the
    headline has been through buurtbeeld.disclosure for the gedeeld audience, except `content['intern']`,
    the same text from the exact counts for the intern audience's page. A later generation from newer
    data supersedes it (kept, flagged)."""

    __tablename__ = "area_analysis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_run.id", ondelete="CASCADE"), index=True)
    gemeente_code: Mapped[str] = mapped_column(GM)
    month: Mapped[str] = mapped_column(String(7))
    area_level: Mapped[str] = mapped_column(String(10))
    area_code: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120))
    stadsdeel: Mapped[str | None] = mapped_column(String(120))
    headline: Mapped[str] = mapped_column(Text)
    content: Mapped[dict] = mapped_column(JSON)
    n_notable: Mapped[int] = mapped_column(Integer, default=0)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_area_analysis_lookup", "gemeente_code", "month", "area_level", "area_code"),)


# --- indicators ----------------------------------------------------------------------------------


class Indicator(Base):
    __tablename__ = "indicator"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    is_population: Mapped[bool] = mapped_column(Boolean, default=False)


class IndicatorValue(Base):
    """Long form: area, indicator, period, value. value NULL means secret/unknown, never zero."""

    __tablename__ = "indicator_value"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(AREA_CODE)
    indicator_code: Mapped[str] = mapped_column(ForeignKey("indicator.code"))
    period: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))  # ok | geheim (CBS: geheim of onbetrouwbaar)
    source: Mapped[str] = mapped_column(String(120))
    batch_id: Mapped[int] = mapped_column(ForeignKey("load_batch.id"))

    __table_args__ = (
        UniqueConstraint("area_code", "indicator_code", "period", "source", name="uq_indicator_value_key"),
        Index("ix_indicator_value_lookup", "indicator_code", "period"),
        CheckConstraint("status IN ('ok', 'geheim')", name="status"),
    )


# --- analyses ------------------------------------------------------------------------------------


class MonthlyAnalysis(Base):
    __tablename__ = "monthly_analysis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    scope_type: Mapped[str] = mapped_column(String(20))  # buurt | wijk | stadsdeel | gemeente
    scope_code: Mapped[str] = mapped_column(String(120))
    gemeente_code: Mapped[str] = mapped_column(GM)
    content: Mapped[dict] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    computed_from_batch_id: Mapped[int | None] = mapped_column(ForeignKey("load_batch.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_monthly_analysis_scope", "month", "scope_type", "scope_code"),)
