"""Retention of raw police exports: the archive and quarantine keep them only as long as the setting
`archive_retention_days` says (default 91 days, 13 weeks).

A BVH export holds streets, postcodes, X/Y and exact times: personal data that the warehouse itself
never stores. It is kept for a while so that a load can be re-run or a refusal fixed, and then
deleted, in every place it was put:

    archive/ab/<sha256>.<ext>               the content copy made at load (etl.extract.archive)
    archive/ontvangen/bvh/<YYYY-MM-DD>/     the file as received, by the day it was filed
    quarantine/bvh/                         refused files, their reasons and rejects reports

A content copy goes when the last load of that content is older than the retention (an export
delivered again keeps its copy). What the warehouse made of the files (counts, batches, reasons)
stays. Other kinds (CBS buurten, indicators) hold no personal data and are kept.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from buurtbeeld.settings import Settings
from warehouse.db import get_engine
from warehouse.models import LoadBatch

KIND = "bvh"


@dataclass
class Expired:
    """What the retention removes (or, in a dry run, would remove)."""

    files: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files) + len(self.folders)


def expired(settings: Settings, now: datetime | None = None) -> Expired:
    """Everything of the BVH kind older than the retention; changes nothing."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=settings.archive_retention_days)
    found = Expired()
    received = settings.archive_dir / "ontvangen" / KIND
    for folder in sorted(received.glob("*")) if received.is_dir() else []:
        day = _day(folder.name)
        if folder.is_dir() and day is not None and day < limit:
            found.folders.append(folder)
    quarantine = settings.quarantine_dir / KIND
    for path in sorted(quarantine.glob("*")) if quarantine.is_dir() else []:
        if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) < limit:
            found.files.append(path)
    found.files += _content_copies(settings, limit)
    return found


def purge(settings: Settings, now: datetime | None = None, dry_run: bool = False) -> Expired:
    """Delete what `expired` finds; returns it."""
    found = expired(settings, now)
    if not dry_run:
        for folder in found.folders:
            shutil.rmtree(folder, ignore_errors=True)
        for path in found.files:
            path.unlink(missing_ok=True)
    return found


def _day(name: str) -> datetime | None:
    try:
        return datetime.strptime(name, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
    except ValueError:
        return None  # not a folder file_away made: left alone


def _content_copies(settings: Settings, limit: datetime) -> list[Path]:
    """Content copies of BVH exports whose last load started before `limit`."""
    last = func.max(LoadBatch.started_at)
    with get_engine(settings.warehouse_url).connect() as conn:
        rows = conn.execute(select(LoadBatch.sha256, last).where(LoadBatch.kind == KIND).group_by(LoadBatch.sha256))
        old = [sha for sha, at in rows if sha and _aware(at) < limit]
    return [path for sha in old for path in sorted((settings.archive_dir / sha[:2]).glob(f"{sha}.*"))]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite returns naive UTC
