"""The life of one file load, the same for every kind of file.

0. a batch row is committed first, as failed with the message ABANDONED and no finish time: a load
   that dies on the way (kill -9, a machine or database that went away) shows as "mislukt, niet
   afgerond" in `buurtbeeld batches` and on Beheer, and every other ending overwrites it;
1. hash the file; an identical file already loaded with the same parameters is a no-op (the row goes);
2. `prepare` reads, validates and transforms it (no warehouse writes), giving rejects and a writer;
3. archive the raw file by content hash (only a file that reads as a delivery);
4. too many rejects: the file is refused (rejects kept, no data written); else
5. one transaction, serialised against other loads: data, rejects, batch totals and status.
A failure at any step leaves the warehouse data as it was and is recorded as a failed batch.
"""

from __future__ import annotations

import getpass
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from buurtbeeld.safe_output import write_csv
from buurtbeeld.settings import Settings
from etl.errors import LoadError
from etl.extract import archive, check_readable, sha256_of
from etl.publish import publish
from warehouse import deliveries
from warehouse.db import get_engine, load_transaction
from warehouse.models import LoadBatch, RejectedRow

log = logging.getLogger(__name__)

Writer = Callable[[Connection, int], dict[str, Any]]
ABANDONED = (
    "Niet afgerond: de lading is gestopt voordat ze klaar was (proces afgebroken, machine of database "
    "weggevallen). Er is niets van geladen; laad het bestand opnieuw."
)


@dataclass
class Prepared:
    """A validated, transformed file, ready to write."""

    rows_in: int
    rows_valid: int
    rejects: pd.DataFrame  # row_number, column, value, reason
    write: Writer  # writes the valid data for batch id; returns summary figures
    summary: dict[str, Any] = field(default_factory=dict)
    # Rows that are no data (per reason: blank, footer total, exact repeat): neither loaded nor
    # rejected, so that rows read + blank skipped = loaded + rejected + recognised.
    recognised: dict[str, int] = field(default_factory=dict)
    # Per gemeente the first and last week (year * 100 + week) the file covers: the delivery register.
    periods: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class LoadOutcome:
    status: str  # loaded | unchanged | refused | failed
    file_name: str
    message: str
    batch_id: int | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in {"loaded", "unchanged"}


def run_load(
    kind: str,
    path: Path,
    parameters: dict[str, Any],
    prepare: Callable[[Path], Prepared],
    settings: Settings,
    run_by: str = "cli",
) -> LoadOutcome:
    path = Path(path)
    params = json.loads(json.dumps(parameters, sort_keys=True, default=str))
    url = settings.warehouse_url
    base = {
        "kind": kind,
        "file_name": path.name,
        "sha256": "",
        "parameters": params,
        "run_by": f"{run_by} ({getpass.getuser()}@{socket.gethostname()})",
        "started_at": datetime.now(UTC),
    }
    batch_id = _begin(url, base)
    try:
        check_readable(path)
        sha = sha256_of(path)
    except LoadError as exc:
        return _record_failure(url, batch_id, base, str(exc))

    with get_engine(url).connect() as conn:
        earlier = _earlier_load(conn, kind, sha, params)
    if earlier is not None:
        _discard(url, batch_id)
        return _unchanged(path, earlier)

    base |= {"sha256": sha}
    with get_engine(url).begin() as conn:
        conn.execute(update(LoadBatch).where(LoadBatch.id == batch_id).values(sha256=sha))
    clock = _Clock()
    try:
        prepared = prepare(path)
    except LoadError as exc:
        return _record_failure(url, batch_id, base, _naming(path.name, exc))
    except Exception as exc:
        _record_failure(url, batch_id, base, f"Interne fout bij het lezen ({type(exc).__name__}); er is niets geladen.")
        raise

    # Archived only once it reads as a delivery: a file that is not one (garbage, a zip, a PDF) stays
    # where it was sent and is recorded as failed, never kept as if it were an export.
    archived = archive(path, sha, settings.archive_dir)
    base["archive_path"] = str(archived)
    with get_engine(url).begin() as conn:
        conn.execute(update(LoadBatch).where(LoadBatch.id == batch_id).values(archive_path=str(archived)))
    clock.lap("voorbereiden")
    rejected_rows = prepared.rejects["row_number"].nunique() if len(prepared.rejects) else 0
    share = rejected_rows / prepared.rows_in if prepared.rows_in else 1.0
    if rejected_rows and share > settings.max_reject_share:
        message = (
            f"{path.name}: {rejected_rows} van {prepared.rows_in} regels afgekeurd ({share:.1%}); "
            f"dat is meer dan de toegestane {settings.max_reject_share:.0%}. Er is niets geladen."
        )
        return _record_refusal(url, batch_id, base, prepared, rejected_rows, message, settings.quarantine_dir)

    try:
        with load_transaction(url) as conn:
            # Inside the lock: a concurrent run may have loaded the same file meanwhile.
            earlier = _earlier_load(conn, kind, sha, params)
            if earlier is not None:
                conn.execute(delete(LoadBatch).where(LoadBatch.id == batch_id))
                return _unchanged(path, earlier)
            written = prepared.write(conn, batch_id)
            deliveries.record(conn, batch_id, prepared.periods)
            _insert_rejects(conn, batch_id, prepared.rejects)
            clock.lap("schrijven")
            targets = written.pop("_publish", {})
            summary = {**prepared.summary, **written, **_publish(conn, targets, settings, batch_id)}
            clock.lap("publiceren")
            message = _loaded_message(
                path.name, prepared.rows_in, prepared.rows_valid, rejected_rows, prepared.recognised
            )
            conn.execute(
                update(LoadBatch)
                .where(LoadBatch.id == batch_id)
                .values(
                    status="loaded",
                    rows_in=prepared.rows_in,
                    rows_loaded=prepared.rows_valid,
                    rows_rejected=rejected_rows,
                    summary={**summary, "duur_s": clock.laps},
                    message=message,
                    finished_at=datetime.now(UTC),
                )
            )
    except LoadError as exc:
        return _record_failure(url, batch_id, base, _naming(path.name, exc))
    except Exception as exc:
        # A bug or an unreachable database: the transaction rolled back. Say why where the database
        # still answers (else the row keeps ABANDONED), then fail loudly with the original error.
        try:
            _record_failure(
                url, batch_id, base, f"Interne fout bij het laden ({type(exc).__name__}); er is niets geladen."
            )
        except Exception:  # the original error is the one to raise
            log.exception("could not record the failure of batch %s", batch_id)
        raise
    if rejected_rows:
        _write_quarantine(settings.quarantine_dir, batch_id, path, prepared.rejects)
    clock.lap("vastleggen")
    from etl.analyses import refresh_analyses  # analyses read through the query module: loaded when needed

    summary = {**summary, **refresh_analyses(settings, targets, run_by)}
    clock.lap("analyses")
    summary["duur_s"] = clock.laps
    return LoadOutcome(
        "loaded", path.name, message, batch_id, prepared.rows_in, prepared.rows_valid, rejected_rows, summary
    )


class _Clock:
    """Seconds per phase of a load, kept in the batch summary: ops see where a slow load spent its time."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] = round(now - self._last, 2)
        self._last = now


def _publish(
    conn: Connection, targets: dict[str, list[tuple[int, int]] | None], settings: Settings, batch_id: int
) -> dict[str, Any]:
    """Republish the disclosure-controlled cube for what the write touched, in the same transaction.

    Writers return `_publish`: {gemeente: [(iso year, week), ...] or None for all weeks}."""
    done = {
        g: publish(conn, g, settings.suppression_threshold, batch_id, weeks, secret=settings.cell_key())
        for g, weeks in targets.items()
    }
    return {"gepubliceerd": {g: s.get("cellen", 0) for g, s in done.items() if s}} if done else {}


def _earlier_load(conn: Connection, kind: str, sha: str, params: dict[str, Any]) -> LoadBatch | None:
    rows = conn.execute(
        select(LoadBatch.id, LoadBatch.parameters, LoadBatch.finished_at)
        .where(LoadBatch.kind == kind, LoadBatch.sha256 == sha, LoadBatch.status == "loaded")
        .order_by(LoadBatch.id.desc())
    ).all()
    return next((r for r in rows if r.parameters == params), None)


def _unchanged(path: Path, earlier: Any) -> LoadOutcome:
    when = earlier.finished_at.strftime("%d-%m-%Y %H:%M") if earlier.finished_at else "eerder"
    return LoadOutcome(
        "unchanged",
        path.name,
        f"{path.name}: dit bestand is al geladen (batch {earlier.id}, {when}); er is niets veranderd.",
        earlier.id,
    )


def _loaded_message(name: str, rows_in: int, rows_valid: int, rejected: int, recognised: dict[str, int]) -> str:
    text = f"{name}: {rows_valid} van {rows_in} regels geladen"
    if rejected:
        text += f", {rejected} afgekeurd (zie buurtbeeld rejects)"
    for reason, n in recognised.items():
        text += f", {n} × {reason}"
    return text + "."


def _insert_rejects(conn: Connection, batch_id: int, rejects: pd.DataFrame) -> None:
    if rejects.empty:
        return
    records = [
        {"batch_id": batch_id, "row_number": None if pd.isna(r) else int(r), "column": c, "value": v, "reason": why}
        for r, c, v, why in zip(
            rejects["row_number"], rejects["column"], rejects["value"], rejects["reason"], strict=True
        )
    ]
    conn.execute(insert(RejectedRow), records)


def _begin(url: str, base: dict[str, Any]) -> int:
    """The batch row, committed before anything else happens (step 0)."""
    with get_engine(url).begin() as conn:
        return conn.execute(
            insert(LoadBatch).values(**base, status="failed", message=ABANDONED, summary={}).returning(LoadBatch.id)
        ).scalar_one()


def _discard(url: str, batch_id: int) -> None:
    """An unchanged file leaves no batch (the earlier one stands)."""
    with get_engine(url).begin() as conn:
        conn.execute(delete(LoadBatch).where(LoadBatch.id == batch_id))


def _naming(name: str, exc: LoadError) -> str:
    """The message of a refused file, naming it: a check deep in the reading (the file's date order,
    its gemeente) does not know which file it reads, and a scheduled run's alert shows the message."""
    message = str(exc)
    return message if name in message else f"{name}: {message}"


def _record_failure(url: str, batch_id: int, base: dict[str, Any], message: str) -> LoadOutcome:
    with get_engine(url).begin() as conn:
        conn.execute(
            update(LoadBatch)
            .where(LoadBatch.id == batch_id)
            .values(status="failed", message=message, finished_at=datetime.now(UTC))
        )
    log.info("load failed: %s", message)
    return LoadOutcome("failed", base["file_name"], message, batch_id)


def _record_refusal(
    url: str, batch_id: int, base: dict[str, Any], prepared: Prepared, rejected: int, message: str, quarantine: Path
) -> LoadOutcome:
    with get_engine(url).begin() as conn:
        conn.execute(
            update(LoadBatch)
            .where(LoadBatch.id == batch_id)
            .values(
                status="refused",
                rows_in=prepared.rows_in,
                rows_rejected=rejected,
                summary=prepared.summary,
                message=message,
                finished_at=datetime.now(UTC),
            )
        )
        _insert_rejects(conn, batch_id, prepared.rejects)
    _write_quarantine(quarantine, batch_id, Path(base["file_name"]), prepared.rejects)
    return LoadOutcome("refused", base["file_name"], message, batch_id, prepared.rows_in, 0, rejected)


def _write_quarantine(quarantine: Path, batch_id: int, path: Path, rejects: pd.DataFrame) -> None:
    """A CSV per batch next to the warehouse record, for whoever fixes the file."""
    quarantine.mkdir(parents=True, exist_ok=True)
    out = rejects.rename(columns={"row_number": "regel", "column": "kolom", "value": "waarde", "reason": "reden"})
    write_csv(out, quarantine / f"batch_{batch_id}_{path.stem}_afgekeurd.csv", index=False, sep=";")
