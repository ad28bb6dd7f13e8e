"""File inboxes for scheduled loads: what is waiting, load it, file it away, report what was refused.

The Airflow DAGs call these functions and pass only small values between tasks (paths, batch ids,
months). Folders (all under the settings' inbox/archive/quarantine dirs):

    inbox/<kind>/            files waiting (kind: bvh, indicatoren, buurten, stadsdelen)
    archive/ontvangen/<kind>/<YYYY-MM-DD>/   processed files, as received
    quarantine/<kind>/       files that could not be loaded, with the rejects report of their batch

The warehouse also keeps its own copy of every file by content hash (etl.extract.archive), so moving a
file out of the inbox never loses it; putting a processed file back re-loads it idempotently.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from buurtbeeld.settings import Settings
from etl.errors import LoadError

KINDS = ("bvh", "indicatoren", "buurten", "stadsdelen")
SUFFIXES = {".csv", ".txt", ".xlsx", ".xls", ".gpkg", ".geojson", ".json", ".zip"}
# Names that transfer tools and office programs give a file while it is being written (WinSCP
# .filepart, browsers .crdownload/.part, rsync's hidden .name.XXXXXX, Excel's ~$ lock file).
TEMPORARY = re.compile(r"^~\$|^\.|\.(part|filepart|partial|tmp|crdownload|download)$", re.IGNORECASE)
# A sender that cannot write under a temporary name puts `<file>.klaar` beside a file when it is complete.
MARKERS = (".klaar", ".done")


def inbox(settings: Settings, kind: str) -> Path:
    if kind not in KINDS:
        raise LoadError(f"Onbekende inbox '{kind}'; kies uit {', '.join(KINDS)}.")
    folder = settings.inbox_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pending(settings: Settings, kind: str) -> list[str]:
    """Files ready in the inbox (`look`), oldest name first (weekly exports carry their week in the name, so
    name order is delivery order; a revision of an earlier week sorts after the original)."""
    return look(settings, kind).ready


@dataclass
class Look:
    """What an inbox holds at one look: files complete and ready to load (oldest name first), files
    still being written, and files of an unknown type that were moved to quarantine (with a reason)."""

    ready: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)


def look(settings: Settings, kind: str, now: float | None = None) -> Look:
    """The inbox protocol (docs/operations.md): a file counts when it has a done-marker
    (`<file>.klaar`) or has not changed for settings.inbox_settle_seconds; temporary names are left
    alone; anything else of an unknown type goes to quarantine/<kind>/ with `<file>.reden.txt`.

    'Not changed' is judged on the later of the file's modification and status-change times: a copy
    that keeps the sender's modification time still gets a fresh status-change time when written
    or renamed into the inbox."""
    folder = inbox(settings, kind)
    now = time.time() if now is None else now
    found = Look()
    names = {p.name for p in folder.iterdir()}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or TEMPORARY.search(path.name) or path.suffix.lower() in MARKERS:
            continue
        if path.suffix.lower() not in SUFFIXES:
            found.quarantined.append(_quarantine(settings, kind, path, _unknown_type(path)))
            continue
        info = path.stat()
        marked = any(f"{path.name}{m}" in names for m in MARKERS)
        if marked or now - max(info.st_mtime, info.st_ctime) >= settings.inbox_settle_seconds:
            found.ready.append(str(path))
        else:
            found.waiting.append(str(path))
    return found


def _unknown_type(path: Path) -> str:
    return (
        f"{path.name}: onbekend bestandstype '{path.suffix or '(geen extensie)'}'; verwacht "
        f"{', '.join(sorted(SUFFIXES))}. Niet geladen; in quarantaine gezet."
    )


def _quarantine(settings: Settings, kind: str, path: Path, reason: str) -> str:
    folder = settings.quarantine_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}_{int(time.time())}{path.suffix}"
    shutil.move(path, target)
    target.with_name(target.name + ".reden.txt").write_text(reason + "\n", encoding="utf-8")
    return reason


def locate(settings: Settings, kind: str, name: str) -> str:
    """A file asked for by name or path (a re-run): itself when it exists, else the latest copy of that
    name in the archive of received files."""
    given = Path(name)
    if given.is_file():
        return str(given)
    for folder in (inbox(settings, kind), settings.archive_dir / "ontvangen" / kind):
        copies = sorted(folder.rglob(given.name), key=lambda p: p.parent.name)
        if copies:
            return str(copies[-1])
    kept = f" (politie-exports worden na {settings.archive_retention_days} dagen verwijderd)" if kind == "bvh" else ""
    raise LoadError(
        f"{given.name}: niet gevonden in de inbox {inbox(settings, kind)} of in het archief "
        f"{settings.archive_dir / 'ontvangen' / kind}{kept}."
    )


def year_from_name(path: str) -> int:
    """The indeling year of a CBS buurten file from its name (wijkenbuurten_2024.gpkg)."""
    years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", Path(path).name)
    if not years:
        raise LoadError(f"{Path(path).name}: geen jaar in de bestandsnaam; start de taak met de parameter 'jaar'.")
    return int(years[-1])


def check(paths: list[str]) -> list[str]:
    """A pre-flight on the files before anything is written: present, non-empty, a known type. Row-level
    validation happens inside the load (pandera, lazily: all problems at once) and its rejects are
    reported per row; this only gives ops an early, file-level warning in the task log."""
    from etl.extract import check_readable

    problems = []
    for path in paths:
        file = Path(path)
        try:
            check_readable(file)
            if file.suffix.lower() not in SUFFIXES:
                raise LoadError(f"{file.name}: onbekend bestandstype '{file.suffix}'.")
        except LoadError as exc:
            problems.append(str(exc))
    return problems


def load(settings: Settings, kind: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load one file with the loader of its kind; a small, JSON-safe outcome for the next task."""
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from etl.load_indicators import load_indicators
    from etl.load_stadsdelen import load_stadsdelen

    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    file = Path(path)
    try:
        if kind == "bvh":
            outcome = load_bvh(file, settings, indeling_year=params.get("jaar"), run_by="airflow")
        elif kind == "indicatoren":
            outcome = load_indicators(file, settings, period=params.get("periode"), run_by="airflow")
        elif kind == "buurten":
            outcome = load_buurten(file, int(params.get("jaar") or year_from_name(path)), settings, run_by="airflow")
        else:
            outcome = load_stadsdelen(file, settings, run_by="airflow")
    except LoadError as exc:  # a refusal before a batch exists (e.g. no year): still a clear outcome
        return {"file": path, "status": "failed", "batch_id": None, "message": str(exc), "rows_rejected": 0}
    return {
        "file": path,
        "status": outcome.status,
        "batch_id": outcome.batch_id,
        "message": outcome.message,
        "rows_loaded": outcome.rows_loaded,
        "rows_rejected": outcome.rows_rejected,
        "weeks": outcome.summary.get("aantallen", outcome.summary.get("incidenten", {})).get("weken_bijgewerkt"),
    }


def load_all(settings: Settings, kind: str, paths: list[str], params: dict[str, Any] | None = None) -> list[dict]:
    """Load the files one after the other (police exports in the order of their periods): each is its
    own transaction, and a bad file does not stop the good ones after it."""
    if kind == "bvh":
        from etl.load_bvh import delivery_order

        paths = delivery_order(paths)
    return [load(settings, kind, p, params) for p in paths]


def file_away(settings: Settings, kind: str, outcomes: list[dict[str, Any]], today: date | None = None) -> list[str]:
    """Move every processed file out of the inbox: loaded or unchanged to the archive, the others to
    quarantine (next to their rejects report). Returns the new locations."""
    day = (today or date.today()).isoformat()
    moved = []
    for outcome in outcomes:
        source = Path(outcome["file"])
        if not source.exists() or source.parent != inbox(settings, kind):
            continue  # a re-run of a file given by path, or already filed by an earlier try
        ok = outcome["status"] in ("loaded", "unchanged")
        target_dir = settings.archive_dir / "ontvangen" / kind / day if ok else settings.quarantine_dir / kind
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / source.name
        if target.exists():
            target = target_dir / f"{source.stem}_{outcome.get('batch_id') or 'x'}{source.suffix}"
        shutil.move(source, target)
        for marker in MARKERS:
            source.with_name(source.name + marker).unlink(missing_ok=True)
        moved.append(str(target))
    return moved


def rejects_report(settings: Settings, kind: str, outcomes: list[dict[str, Any]]) -> str | None:
    """One Excel file with the rejected rows of every batch of this run that had any (for the police
    contact), in quarantine/<kind>/; None when nothing was rejected."""
    import pandas as pd

    from buurtbeeld.safe_output import write_xlsx
    from warehouse.reads import batch_rejects

    frames, summary = [], []
    for outcome in outcomes:
        summary.append(
            {
                "Bestand": Path(outcome["file"]).name,
                "Resultaat": outcome["status"],
                "Lading": outcome["batch_id"],
                "Afgekeurde regels": outcome.get("rows_rejected", 0),
                "Melding": outcome["message"],
            }
        )
        if outcome["batch_id"] and outcome.get("rows_rejected"):
            _, frame = batch_rejects(settings.warehouse_url, outcome["batch_id"])
            frames.append(frame.assign(bestand=Path(outcome["file"]).name, lading=outcome["batch_id"]))
    if not any(o["status"] not in ("loaded", "unchanged") or o.get("rows_rejected") for o in outcomes):
        return None
    folder = settings.quarantine_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    ids = "_".join(str(o["batch_id"]) for o in outcomes if o["batch_id"]) or "zonder_lading"
    path = folder / f"afkeuringen_{date.today().isoformat()}_{ids}.xlsx"
    sheets = {"Overzicht": pd.DataFrame(summary)}
    if frames:
        sheets["Afgekeurd"] = pd.concat(frames, ignore_index=True)
    write_xlsx(path, sheets)
    return str(path)


def failures(outcomes: list[dict[str, Any]]) -> str | None:
    """The Dutch message for the files that were not loaded, or None when all were."""
    bad = [o for o in outcomes if o["status"] not in ("loaded", "unchanged")]
    if not bad:
        return None
    return f"{len(bad)} van {len(outcomes)} bestanden niet geladen: " + "; ".join(
        f"{Path(o['file']).name}: {o['message']}" for o in bad
    )
