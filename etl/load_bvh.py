"""Load a weekly BVH export (incident level): validate, assign a CBS buurt, drop personal fields,
upsert by hashed voorval id, refresh the weekly aggregates of the touched weeks."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from buurtbeeld.memory import release_memory
from buurtbeeld.settings import Settings
from etl import bvh, deliveries
from etl import load_counts as counts
from etl.batch import LoadOutcome, Prepared, run_load
from etl.categories import sync_categories
from etl.columns import hints, map_columns, resolve
from etl.errors import LoadError
from etl.extract import check_readable, read_table, sha256_of
from etl.publish import weeks_by_gemeente
from schemas.bvh import CleanIncident, RawIncident
from schemas.validation import rejects_for, validate
from warehouse.incidents import PendingIncidents, upsert_incidents
from warehouse.reads import buurten_of_year, gemeente_names, latest_indeling_year

_CODE_COLUMNS = ("voorval_id", "mk_code", "buurtcode", "postcode", "politie_buurt")
_ROWS_PER_CHUNK = 200_000
# The file's columns assign_buurten and the attempt flag read, after RawIncident has checked the rest.
_FOR_ASSIGNMENT = {"postcode", "huisnummer", "politie_buurt", "gemeente_naam", "poging"}
# What the steps after RawIncident read of a checked row.
_CHECKED = ["voorval_id", "mk_code", "begin_at", "eind_at", "kennisname_at", "buurtcode", "x_rd", "y_rd"]


def load_bvh(
    path: Path,
    settings: Settings,
    indeling_year: int | None = None,
    run_by: str = "cli",
    postcodes: Path | None = None,
) -> LoadOutcome:
    url = settings.warehouse_url
    year = indeling_year or latest_indeling_year(url)
    if year is None:
        raise LoadError("Er is nog geen CBS-buurtindeling geladen: laad eerst de buurten (buurtbeeld load buurten).")
    areas = Areas(buurten_of_year(url, year), gemeente_names(url, year), year)
    params: dict[str, Any] = {"jaar_indeling": year}
    if postcodes is not None:
        check_readable(postcodes)
        areas.postcodes = PostcodeTable(postcodes)
        params["postcodetabel"] = sha256_of(postcodes)
    key = settings.hashing_key()
    hic = frozenset(settings.hic_groups)
    earliest = settings.bvh_earliest_date
    return run_load("bvh", path, params, lambda p: prepare_bvh(p, areas, key, hic, earliest), settings, run_by)


class PostcodeTable:
    """CBS 'buurt, wijk en gemeente per postcode-huisnummer' (or a gemeente's own PC6 table).

    An exact postcode + huisnummer match wins; else the buurt holding most addresses of the PC6."""

    ALIASES: ClassVar[dict[str, tuple[str, ...]]] = {
        "postcode": ("PC6", "postcode", "pc6code"),
        "huisnummer": ("Huisnummer", "huisnr", "nr"),
        "buurtcode": ("buurtcode", "Buurt2024", "Buurt2025", "Buurt2023", "Buurt2022", "Buurt", "BU_CODE"),
    }

    def __init__(self, path: Path) -> None:
        table = map_columns(read_table(path, hints(self.ALIASES)), self.ALIASES, ["postcode", "buurtcode"], path.name)
        pc = _pc6(table["postcode"])
        code = table["buurtcode"].str.strip().str.upper()
        code = code.where(code.str.startswith("BU"), "BU" + code.str.zfill(8))  # CBS gives 8 digits
        self.exact: dict[tuple[str, str], str] = {}
        if "huisnummer" in table:
            self.exact = dict(zip(zip(pc, _number(table["huisnummer"]), strict=True), code, strict=True))
        self.majority = pd.DataFrame({"pc": pc, "code": code}).groupby("pc")["code"].agg(lambda s: s.mode().iloc[0])

    def lookup(self, postcode: pd.Series, huisnummer: pd.Series) -> pd.Series:
        pc = _pc6(postcode)
        exact = pd.Series([self.exact.get(k) for k in zip(pc, _number(huisnummer), strict=True)], index=pc.index)
        return exact.fillna(pc.map(self.majority))


def _pc6(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("str").str.replace(" ", "", regex=False).str.upper()


def _number(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("str").str.extract(r"^\s*(\d+)", expand=False).fillna("")


class Areas:
    """The buurten of one indeling year, ready for assignment (polygons in RD New)."""

    postcodes: PostcodeTable | None = None

    def __init__(self, buurten: pd.DataFrame, gemeenten: dict[str, str], year: int) -> None:
        if buurten.empty:
            raise LoadError(f"Buurtindeling {year} is niet geladen (buurtbeeld load buurten ... --jaar {year}).")
        self.year = year
        self.codes = buurten["code"].to_numpy()
        self.gemeente_of = dict(zip(buurten["code"], buurten["gemeente_code"], strict=True))
        self._code_index = pd.Index(self.codes)
        # Each buurt's gemeente as a position among the gemeenten of the indeling.
        at, self.gemeente_labels = pd.factorize(buurten["gemeente_code"])
        self.gemeente_at = np.asarray(at, dtype=np.int64)
        wgs = gpd.GeoSeries(shapely.from_geojson(buurten["geometry"].to_numpy()), crs="EPSG:4326")
        web_rd = np.asarray(wgs.to_crs("EPSG:28992").values)
        # Assigned on the buurten as CBS drew them; the simplified map geometry only for buurten loaded
        # before that was kept (load the buurtkaart again to fix those).
        drawn = buurten["geometry_rd"] if "geometry_rd" in buurten else pd.Series(None, index=buurten.index)
        exact = drawn.notna().to_numpy()
        self.polygons_rd = web_rd
        if exact.any():
            self.polygons_rd[exact] = shapely.from_wkb(drawn[exact].map(bytes).to_numpy())
        self.names = buurten.assign(key=bvh.normalise_name(buurten["name"]))[["key", "code", "gemeente_code"]]
        self.gemeenten = gemeenten

    def position(self, codes: pd.Series) -> np.ndarray:
        """Per buurtcode its position among these buurten (`codes`), -1 when it is not one of them."""
        return self._code_index.get_indexer(pd.Index(codes.astype("str")))

    def gemeenten_of(self, positions: np.ndarray) -> Counter[str]:
        """How many of the rows at these buurt positions (-1: none yet) lie in each gemeente."""
        per_buurt = np.bincount(positions[positions >= 0], minlength=len(self.codes))
        per_gemeente = np.bincount(self.gemeente_at, weights=per_buurt, minlength=len(self.gemeente_labels))
        return Counter({g: int(n) for g, n in zip(self.gemeente_labels, per_gemeente, strict=True) if n})


def _source_names(df: pd.DataFrame) -> dict[str, str]:
    found = resolve(df.columns, bvh.ALIASES)
    return {
        **found,
        "begin_text": found.get("begin", "begin"),
        "eind_text": found.get("eind", "eind"),
        "kennisname_text": found.get("kennisname", "kennisname"),
    }


def parse(df: pd.DataFrame, duplicate: pd.Series | None = None, us_order: bool = False) -> pd.DataFrame:
    """Canonical text columns and parsed dates, ready for RawIncident. duplicate: per row, whether its
    id occurs more than once in the whole file (default: within `df`), for a file checked in chunks.

    `df` as read_table gives it: text, stripped already (stripping each column again here, some of
    them twice, was 0.3 s of a million rows)."""
    texts: dict[str, pd.Series] = {}

    def col(name: str) -> pd.Series:
        if name not in texts:
            texts[name] = df[name].astype("str") if name in df else pd.Series("", index=df.index, dtype="str")
        return texts[name]

    out = pd.DataFrame(index=df.index)
    out["voorval_id"] = col("voorval_id")
    out["id_dubbel"] = bvh.repeated_ids(out["voorval_id"]) if duplicate is None else duplicate
    out["mk_code"] = col("mk_code").str.upper()
    for name in ("begin", "eind", "kennisname"):
        time = df.get(f"{name}_tijd")
        text = col(name) if time is None else (col(name) + " " + col(f"{name}_tijd")).str.strip()
        out[f"{name}_text"] = text
        out[f"{name}_at"] = bvh.parse_datetime(col(name), time, us_order)
    out["x"] = col("x")
    out["y"] = col("y")
    out["x_rd"] = bvh.coordinate(out["x"])
    out["y_rd"] = bvh.coordinate(out["y"])
    out["buurtcode"] = col("buurtcode").str.upper()
    excel = pd.Series("", index=df.index, dtype="str")
    for name in _CODE_COLUMNS:
        if name in df:
            excel = excel.mask((excel == "") & bvh.looks_like_excel_date(col(name)), name)
    out["excel_date"] = excel
    return out


# Identifying or address-level values are not kept in rejected rows either: the row number, column and
# reason let the police contact find the row in their own file (the raw file is in the archive).
_NOT_KEPT = {"voorval_id", "postcode", "huisnummer", "x", "y"}


def _file_rejects(rejects: pd.DataFrame, df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Report rejects under the file's own column names, without identifying values."""
    if rejects.empty:
        return rejects
    out = rejects.copy()
    excel = out["column"] == "excel_date"
    if excel.any():
        cols = out.loc[excel, "value"].tolist()
        rows = out.loc[excel, "row_number"]
        out.loc[excel, "value"] = [str(df.at[r, names.get(c, c)]) for r, c in zip(rows, cols, strict=True)]
        out.loc[excel, "column"] = cols
    out.loc[out["column"].isin(_NOT_KEPT), "value"] = "(niet bewaard)"
    out["column"] = out["column"].map(lambda c: names.get(c, c))
    return out


def assign_buurten(
    df: pd.DataFrame, valid: pd.DataFrame, areas: Areas, names_gemeente: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """buurt_code, assign_route and gemeente_code per valid row, in the order of the issue:
    CBS buurtcode column, RD x/y in a buurt polygon, postcode (+ huisnummer) lookup table when given,
    police buurt name, else 'onbekend'. df: the file's columns (its rows may be more than the valid
    ones: only those of `valid` are read, so no copy of the file is made). A row without a buurt whose
    own gemeente column (`names_gemeente`: not a woonplaats, which a gemeente holds several of) names
    another gemeente than the delivery's is left out, counted per name in attrs['andere_gemeente']:
    it would otherwise swell this gemeente's 'onbekende locatie'.

    Worked on positions: each row's buurt as its position among the buurten, its route as a
    position among ROUTES, the texts taken by Arrow at the end (bvh.labelled). Code strings per row
    in object arrays, looked up in dicts, cost a million rows 0.45 s beside the x/y test, and some
    150 MB more at the load's peak as label-indexed Series."""
    buurt = np.full(len(valid), -1, dtype=np.int64)
    route = np.full(len(valid), _ROUTE[bvh.ONBEKEND], dtype=np.int64)
    rejects = []

    given = valid["buurtcode"].fillna("")
    filled = (given != "").to_numpy()
    unknown = np.zeros(len(valid), dtype=bool)
    if filled.any():
        rows = np.flatnonzero(filled)
        found = areas.position(given.iloc[rows])
        unknown[rows[found < 0]] = True
        buurt[rows], route[rows[found >= 0]] = found, _ROUTE["buurtcode"]
    if unknown.any():
        rejects.append(
            rejects_for(
                valid.index[unknown],
                "buurtcode",
                given[unknown].to_numpy(),
                f"buurtcode staat niet in de CBS-buurtindeling {areas.year}",
            )
        )

    def open_rows() -> np.ndarray:
        return np.flatnonzero((buurt < 0) & ~unknown)

    todo = open_rows()
    xs = valid["x_rd"].to_numpy(dtype="float64", na_value=np.nan)[todo]
    ys = valid["y_rd"].to_numpy(dtype="float64", na_value=np.nan)[todo]
    found = bvh.assign_by_xy(xs, ys, areas.polygons_rd)
    inside = found >= 0
    buurt[todo[inside]], route[todo[inside]] = found[inside], _ROUTE["xy"]
    outside = int((~inside & ~np.isnan(xs)).sum())  # a valid row has numbers for x/y or none at all

    if areas.postcodes is not None and "postcode" in df and len(todo := open_rows()):
        rows = df.loc[valid.index[todo]]
        number = rows["huisnummer"] if "huisnummer" in rows else pd.Series("", index=rows.index)
        found = areas.position(areas.postcodes.lookup(rows["postcode"], number))
        hit = found >= 0
        buurt[todo[hit]], route[todo[hit]] = found[hit], _ROUTE["postcode"]

    if "politie_buurt" in df and len(todo := open_rows()):
        names = areas.names
        if present := areas.gemeenten_of(buurt):
            names = names[names["gemeente_code"].isin(present.keys())]
        unique = names.drop_duplicates("key", keep=False).set_index("key")["code"]
        by_name = bvh.normalise_name(df.loc[valid.index[todo], "politie_buurt"]).map(unique)
        found = areas.position(by_name.fillna(""))
        hit = found >= 0
        buurt[todo[hit]], route[todo[hit]] = found[hit], _ROUTE["naam"]

    other_gemeenten: dict[str, int] = {}
    gemeente_labels = list(areas.gemeente_labels)
    gemeente = np.where(buurt >= 0, areas.gemeente_at[buurt], -1)
    if (gemeente < 0).any():
        named = df.loc[valid.index, "gemeente_naam"] if "gemeente_naam" in df else None
        home = _delivery_gemeente(named, areas.gemeenten_of(buurt), areas)
        gemeente_labels.append(home)
        gemeente[gemeente < 0] = len(gemeente_labels) - 1
        if names_gemeente and named is not None:
            own = bvh.normalise_name(named.fillna("").astype("str"))
            home_key = bvh.normalise_name(pd.Series([areas.gemeenten.get(home, home)])).iloc[0]
            elsewhere = ((buurt < 0) & (own != "").to_numpy() & (own != home_key).to_numpy()) & ~unknown
            other = named[elsewhere].value_counts()
            other_gemeenten = {str(k): int(v) for k, v in other.items()}
            unknown |= elsewhere
    keep = ~unknown
    index = valid.index[keep]
    out = pd.DataFrame(
        {
            "buurt_code": bvh.labelled(areas.codes, buurt[keep], index, missing=bvh.ONBEKEND),
            "assign_route": bvh.labelled(bvh.ROUTES, route[keep], index),
            "gemeente_code": bvh.labelled(gemeente_labels, gemeente[keep], index),
        },
        index=index,
    )
    out.attrs["xy_buiten_indeling"] = outside
    out.attrs["andere_gemeente"] = other_gemeenten
    bad = pd.concat(rejects, ignore_index=True) if rejects else rejects_for([], "", [], "")
    return out, bad


_ROUTE = {name: i for i, name in enumerate(bvh.ROUTES)}


def mapped(values: np.ndarray, mapping: dict[Any, Any]) -> np.ndarray:
    """mapping[value] per value, None where it is missing or unmapped, looked up once per distinct
    value: a million rows hold a few hundred buurt codes (0.17 s, against 0.83 s by Series.map)."""
    positions, distinct = pd.factorize(values)  # -1 for a missing value: the None appended last
    return np.array([*(mapping.get(v) for v in distinct), None], dtype=object)[positions]


def _delivery_gemeente(names: pd.Series | None, assigned: Counter[str], areas: Areas) -> str:
    """The gemeente of rows without a buurt: the gemeente named in the file, else where most rows fall."""
    if names is not None:
        by_name = {bvh.normalise_name(pd.Series([n])).iloc[0]: c for c, n in areas.gemeenten.items()}
        distinct = names.dropna().unique()
        keys = bvh.normalise_name(pd.Series(distinct, dtype="str"))
        gemeente_by_name = dict(zip(distinct, keys.map(by_name), strict=True))
        named = pd.Series(mapped(names.to_numpy(dtype=object), gemeente_by_name)).dropna()
        if len(named):
            return named.mode().iloc[0]
    if assigned:
        return assigned.most_common(1)[0][0]
    raise LoadError(
        f"Geen enkele regel valt in een buurt van indeling {areas.year} en de gemeente staat niet in het bestand: "
        "is de juiste buurtindeling geladen (--jaar-indeling)?"
    )


def prepare_bvh(
    path: Path, areas: Areas, key: bytes, hic: frozenset[str] = frozenset(), earliest: date = date(2000, 1, 1)
) -> Prepared:
    aliases = {**bvh.ALIASES, **{f"count_{k}": v for k, v in counts.ALIASES.items()}}
    raw = read_table(path, hints(aliases), keep=lambda header: list(resolve(header, aliases).values()))
    if counts.is_counts_form(list(raw.columns)):
        return counts.prepare_counts(raw, path.name, areas, hic)
    rows_in = len(raw)
    checked, rejects, outside = check_incidents(raw, path.name, areas, earliest)
    # The file's text is let go before the incidents are cleaned: both at once were the load's peak.
    del raw
    release_memory(rows_in)

    routes = checked["assign_route"].value_counts()
    mk_codes = checked["mk_code"].value_counts()
    unknown_mk = mk_codes[bvh.categorise(mk_codes.index.to_series()).to_numpy() == bvh.ONBEKEND]
    recognised = checked.attrs.pop("herkend", {})
    summary: dict[str, Any] = {
        "regels_gelezen": rows_in,
        "regels_herkend": recognised,
        "toewijzing": {r: int(routes.get(r, 0)) for r in bvh.ROUTES},
        "xy_buiten_indeling": outside,
        "onbekende_mk_codes": {str(k): int(v) for k, v in unknown_mk.items()},
        "indeling": areas.year,
    }
    moments = checked["kennisname_at"].fillna(checked["begin_at"])
    periods = deliveries.file_periods(checked["gemeente_code"], moments, path.name)
    pending = [pending_incidents(checked, areas.year, key)]
    rows_valid = len(checked)
    del checked, moments

    def write(conn: Connection, batch_id: int) -> dict[str, Any]:
        sync_categories(conn, hic)
        # Written once, then let go: publishing the cube (same transaction) gets the memory.
        result = upsert_incidents(conn, pending.pop(), batch_id, periods)
        release_memory(rows_valid)
        if reverted := result.pop("teruggedraaid"):
            raise LoadError(_older_export(path.name, periods, reverted))
        return {"incidenten": result, "_publish": weeks_by_gemeente(result.pop("touched"))}

    return Prepared(rows_in, rows_valid, rejects, write, summary, recognised, periods)


def _older_export(name: str, periods: dict[str, tuple[int, int]], reverted: dict[str, Any]) -> str:
    last = max(b for _, b in periods.values())
    return (
        f"{name} is een oudere levering (t/m {deliveries.week_text(last)}) dan het al geladen "
        f"{reverted['bestand']} (t/m {deliveries.week_text(reverted['week'])}): laden zou "
        f"{reverted['aantal']} latere correctie(s) van incidenten terugdraaien. Er is niets geladen. "
        "Laad leveringen op volgorde van hun periode; is dit bestand een bewuste correctie, vraag dan "
        "een nieuwe export aan."
    )


def check_incidents(
    raw: pd.DataFrame, file_name: str, areas: Areas, earliest: date = date(2000, 1, 1)
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The rows that pass RawIncident and get a buurt, with only what the clean frame is built from;
    the rejects (under the file's column names); how many x/y points fell outside every buurt.

    `raw` is consumed: the columns it no longer needs are dropped from it as the checks go."""
    names = _source_names(raw)
    df = map_columns(raw, bvh.ALIASES, bvh.REQUIRED, file_name)
    df, recognised = _without_non_incidents(df)
    if df.empty:  # only a footer total (and blank rows): nothing to check or load
        found = ", ".join(f"{n} × {reason}" for reason, n in recognised.items())
        raise LoadError(
            f"{file_name}: het bestand heeft een kopregel maar geen gegevensregels ({found}). Er is niets geladen."
        )
    # Parsed and checked a chunk at a time, keeping only what the next steps use: the parsed text and
    # dates of a million rows at once would take most of a GB. Duplicate ids are a whole-file matter.
    duplicate = bvh.repeated_ids(df["voorval_id"])
    us_order = bvh.month_first(*(df[c] for c in ("begin", "eind", "kennisname") if c in df))
    checked, found = [], []
    for start in range(0, len(df), _ROWS_PER_CHUNK):
        rows = slice(start, start + _ROWS_PER_CHUNK)
        parsed = parse(df.iloc[rows], duplicate.iloc[rows], us_order)
        parsed.attrs["earliest"] = earliest
        ok, bad = validate(RawIncident, parsed)
        checked.append(ok[_CHECKED])
        found.append(bad)
    del duplicate
    valid = pd.concat(checked)
    del checked
    rejects = _file_rejects(pd.concat(found, ignore_index=True), raw, names)
    # The columns the checks have used up are let go before assignment, the peak of the load: from
    # `raw` as well (the caller hands it over), which shares them with `df`.
    used = [c for c in df.columns if c not in _FOR_ASSIGNMENT]
    df = df.drop(columns=used)
    still_used = {names.get(c, c) for c in df.columns}
    for column in [c for c in raw.columns if c not in still_used]:
        del raw[column]
    release_memory(len(raw))
    placed, unplaced = assign_buurten(df, valid, areas, "gemeente" in names.get("gemeente_naam", "").lower())
    if other := placed.attrs.get("andere_gemeente"):
        recognised = {**recognised, **{f"andere gemeente ({name})": n for name, n in other.items()}}
    unplaced = _file_rejects(unplaced, raw, names)
    out = valid.loc[placed.index, ["voorval_id", "mk_code", "begin_at", "eind_at", "kennisname_at"]]
    for column in placed.columns:
        out[column] = placed[column]
    out["is_attempt"] = attempt_flags(df.loc[out.index, "poging"]) if "poging" in df else pd.NA
    out["is_attempt"] = out["is_attempt"].astype("boolean")
    all_rejects = pd.concat([r for r in (rejects, unplaced) if len(r)] or [rejects], ignore_index=True)
    out.attrs["herkend"] = recognised
    return out, all_rejects, placed.attrs.get("xy_buiten_indeling", 0)


def _without_non_incidents(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows that may be incidents, and how many of the others there were per reason: blank rows
    (which the reader already skipped: the gaps in the row numbers), footer totals, and rows that
    repeat an earlier row exactly (kept once: the same incident delivered twice is one incident)."""
    numbers = df.index.to_numpy()
    skipped = int(numbers.max() - numbers.min() + 1 - len(df)) if len(df) else 0
    reason = bvh.non_incident_rows(df)
    repeats = bvh.exact_repeats(df, bvh.repeated_ids(df["voorval_id"]) & (reason == ""))
    reason[repeats] = bvh.DUPLICATE_ROW
    counts = reason[reason != ""].value_counts()
    recognised = {str(k): int(v) for k, v in counts.items()}
    if skipped:
        recognised[bvh.BLANK_ROW] = recognised.get(bvh.BLANK_ROW, 0) + skipped
    return df[reason == ""], recognised


def attempt_flags(poging: pd.Series) -> pd.Series:
    """BVH's Poging column: 'J' an attempt, 'N' not (also 'ja'/'nee', and 'true'/'false' or
    'waar'/'onwaar', the text of a checkbox cell), anything else unknown (compared, not mapped per
    row: a million rows in 0.1 s instead of 0.45-0.7 s)."""
    text = poging.str.upper()
    flags = pd.Series(pd.NA, index=poging.index, dtype="boolean")
    flags[text.isin(_ATTEMPT).to_numpy(dtype=bool, na_value=False)] = True
    flags[text.isin(_NO_ATTEMPT).to_numpy(dtype=bool, na_value=False)] = False
    return flags


_ATTEMPT = ["J", "JA", "TRUE", "WAAR"]
_NO_ATTEMPT = ["N", "NEE", "FALSE", "ONWAAR"]


def pending_incidents(checked: pd.DataFrame, indeling_year: int, key: bytes) -> PendingIncidents:
    """The checked rows, cleaned (clean_incidents) only when the writer asks for them; their hashes
    made once, when first asked for."""
    hashes: list[pd.Series] = []

    def all_hashes() -> pd.Series:
        if not hashes:
            hashes.append(bvh.voorval_hash(checked["voorval_id"], key))
        return hashes[0]

    def clean(positions: np.ndarray) -> pd.DataFrame:
        rows = _take(checked, positions)
        return clean_incidents(rows, indeling_year, key, _take(hashes[0], positions) if hashes else None)

    return PendingIncidents(len(checked), all_hashes, clean)


def _take(frame: pd.DataFrame | pd.Series, positions: np.ndarray) -> Any:
    """The rows at positions; consecutive ones (all of a first load) as a slice, which is cheaper."""
    if len(positions) and positions[-1] - positions[0] + 1 == len(positions) and (np.diff(positions) == 1).all():
        return frame.iloc[int(positions[0]) : int(positions[-1]) + 1]
    return frame.iloc[positions]


def clean_incidents(
    checked: pd.DataFrame, indeling_year: int, key: bytes, hashes: pd.Series | None = None
) -> pd.DataFrame:
    """What enters the warehouse (CleanIncident): no id but its keyed hash (`hashes` when already
    made), the moment counted at and its calendar, the dashboard group of the MK code."""
    # Stored no finer than the outputs need: the hour of the pleegmoment (weekday x dagdeel) and the
    # day of the kennisname (delivery horizon, provisional weeks). To the second, kennisname_at was
    # unique for 98.5 % of a real export's incidents: a key back to the police's records.
    moment = bvh.pleegmoment(checked["begin_at"], checked["eind_at"], checked["kennisname_at"]).dt.floor("h")
    clean = pd.DataFrame(
        {
            "voorval_hash": bvh.voorval_hash(checked["voorval_id"], key) if hashes is None else hashes,
            "gemeente_code": checked["gemeente_code"],
            "indeling_year": indeling_year,
            "buurt_code": checked["buurt_code"],
            "assign_route": checked["assign_route"],
            "mk_code": checked["mk_code"],
            "group_code": bvh.categorise(checked["mk_code"]),
            "pleeg_at": moment,
            "kennisname_at": checked["kennisname_at"].dt.floor("D"),
            **bvh.calendar(moment),
            "is_attempt": checked["is_attempt"],
        },
        index=checked.index,
    )
    # In place: the frame is this function's own. Its hashes are unique within the part; across the
    # file, RawIncident refused repeated ids and the warehouse's unique key holds.
    return CleanIncident.validate(clean, lazy=True, inplace=True)


def delivery_order(paths: list[str]) -> list[str]:
    """Files of one run in the order of the periods they cover (last week, then first), not of their
    names: an older export loaded after a newer one would undo the newer one's corrections (and is
    refused for that). A file whose period cannot be read goes last, where its load says why."""
    if len(paths) < 2:
        return list(paths)
    keyed = []
    for p in paths:
        try:
            period = _peek_period(Path(p))
        except (LoadError, ValueError, KeyError, OSError):
            period = None
        keyed.append((period is None, period[::-1] if period else (0, 0), Path(p).name, p))
    return [p for *_, p in sorted(keyed)]


def _peek_period(path: Path) -> tuple[int, int] | None:
    """The first and last week a file covers over all its gemeenten, from its date or week columns
    only (read without the rest of the file)."""
    aliases = {
        **{k: bvh.ALIASES[k] for k in ("kennisname", "begin")},
        **{k: counts.ALIASES[k] for k in ("week", "jaar", "van", "tot", "aantal")},
    }
    raw = read_table(path, hints(aliases), keep=lambda header: list(resolve(header, aliases).values()))
    found = resolve(raw.columns, aliases)
    df = raw.rename(columns={v: k for k, v in found.items()})
    if "aantal" in df:
        weeks = counts.parse_weeks(df).dropna(subset=["iso_year", "iso_week"])
        frame = weeks.assign(gemeente_code="")
        periods = deliveries.week_periods(frame)
    else:
        dates = [df[c] for c in ("kennisname", "begin") if c in df]
        if not dates:
            return None
        moments = bvh.parse_datetime(dates[0], us_order=bvh.month_first(*dates))
        if len(dates) > 1:
            moments = moments.fillna(bvh.parse_datetime(dates[1], us_order=bvh.month_first(*dates)))
        periods = deliveries.file_periods(pd.Series("", index=df.index), moments, path.name)
    return periods.get("")
