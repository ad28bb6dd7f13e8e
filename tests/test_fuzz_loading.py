"""Fuzzing the BVH load with hostile files (tests/hostile.py), issue 25.

Every generated file is loaded into a warehouse that already holds a known state (the demo gemeente's
buurten and one good week, tests/hostile.py TEMPLATE). Then EITHER it loads (or is recognised as
loaded before) and every row it holds is accounted for: rows read = loaded + rejected + recognised,
and the warehouse gained exactly the new incidents; OR it is refused with a Dutch message that names
the file, and the warehouse data is exactly as before. Never an uncaught exception.

The outcomes are counted per status and per refusal reason, printed (pytest -s) and written to
test-artifacts/fuzz_stats.json.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from sqlalchemy import insert, select, text

from buurtbeeld.settings import Settings
from etl import bvh
from etl.errors import LoadError
from etl.load_buurten import load_buurten
from etl.load_bvh import load_bvh
from tests.helpers import batches, snapshot
from tests.hostile import TEMPLATE_CSV, TEMPLATE_ROWS, HostileFile, fixed_corpus, hostile_files
from warehouse.db import get_engine, upgrade
from warehouse.models import Base
from warehouse.reads import batch_rejects

ROOT = Path(__file__).resolve().parent.parent
STATS_FILE = ROOT / "test-artifacts" / "fuzz_stats.json"
EXAMPLES = {"sqlite": 500, "postgresql": 60}

# Refusal reasons, by the Dutch text of their message (docs/loading.md, "What gets refused").
REASONS = {
    "het bestand is leeg (0 bytes)": "leeg bestand",
    "dit is een PDF-bestand": "PDF",
    "webpagina (HTML)": "webpagina (HTML)",
    "zip-archief": "zip-archief",
    "OpenDocument-rekenblad": "OpenDocument (.ods)",
    "oud Excel-bestand (.xls)": "oud Excel (.xls)",
    "geen geldig Excel-bestand": "geen geldig Excel-bestand",
    "dit Excel-bestand kan niet gelezen worden": "Excel onleesbaar (beschadigd/afgekapt)",
    "binaire gegevens": "binaire gegevens",
    "tekenset niet herkend": "tekenset niet herkend",
    "CSV kan niet gelezen worden": "CSV onleesbaar",
    "bevat geen gegevens": "geen gegevens",
    "kopregel maar geen gegevensregels": "alleen een kopregel",
    "verplichte kolom(men) ontbreken": "verplichte kolom ontbreekt",
    "staat twee keer in de kopregel": "kolom twee keer in de kopregel",
    "tabbladen": "gegevens op meer tabbladen",
    "Datums in twee volgordes": "datums in twee volgordes",
    "regels afgekeurd": "te veel regels afgekeurd (> 5%)",
    "oudere levering": "oudere levering",
    "Geen enkele regel valt in een buurt": "geen regel in een buurt",
}
# Words of an English (or Python) error that must not reach whoever reads a message or reject reason.
ENGLISH = re.compile(
    r"traceback|exception|error|\b(invalid|expected|unexpected|could not|cannot|not found|no such|failed|"
    r"saw|line \d+|fields?|none|nan|dtype|object|str|int|float)\b",
    re.IGNORECASE,
)


class Warehouse:
    """A warehouse in the template state for every example: a copy of a prepared SQLite file, or on
    PostgreSQL the template's rows put back (every table emptied and refilled, ids included)."""

    def __init__(self, db_url: str, tmp_path: Path, buurten: Path) -> None:
        self.backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
        self.tmp = tmp_path
        self.inbox = tmp_path / "inbox"
        template = Settings(data_dir=tmp_path / "var", warehouse_url=db_url, hash_secret="test-secret")
        upgrade(db_url)
        assert load_buurten(buurten, 2024, template).ok
        week = tmp_path / "week45.csv"
        week.write_bytes(TEMPLATE_CSV)
        first = load_bvh(week, template)
        assert (first.status, first.rows_loaded) == ("loaded", TEMPLATE_ROWS), first.message
        if self.backend == "sqlite":
            get_engine(db_url).dispose()
            self.template_file = Path(db_url.removeprefix("sqlite:///"))
            self.url = f"sqlite:///{tmp_path / 'example.sqlite'}"
        else:
            self.url = db_url
            with get_engine(db_url).connect() as conn:
                self.rows = {t.name: conn.execute(select(t)).mappings().all() for t in Base.metadata.sorted_tables}
        self.settings = template.model_copy(update={"warehouse_url": self.url})
        self.reset()
        self.before = snapshot(self.url)
        self.incidents = len(self.before["incident"])
        assert self.incidents == TEMPLATE_ROWS

    def reset(self) -> None:
        if self.backend == "sqlite":
            get_engine(self.url).dispose()
            target = Path(self.url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.template_file, target)
            return
        tables = Base.metadata.sorted_tables
        with get_engine(self.url).begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} CASCADE"))
            for table in tables:
                if self.rows[table.name]:
                    conn.execute(insert(table), [dict(r) for r in self.rows[table.name]])

    def put(self, f: HostileFile) -> Path:
        shutil.rmtree(self.inbox, ignore_errors=True)
        self.inbox.mkdir()
        path = self.inbox / f.name
        path.write_bytes(f.data)
        return path


class Stats:
    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.outcomes: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()
        self.recognised: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.seconds: list[float] = []
        self.samples: dict[str, list[str]] = {}
        self.started = time.perf_counter()

    def add(self, f: HostileFile, status: str, reason: str | None, seconds: float) -> None:
        kind = next((k for k in ("xlsx", "csv") if any(n.startswith(k) for n in f.notes)), "overig")
        self.outcomes[status] += 1
        self.kinds[f"{kind}:{status}"] += 1
        self.notes.update(set(f.notes))
        if reason:
            self.reasons[reason] += 1
            if len(self.samples.setdefault(reason, [])) < 2:
                self.samples[reason].append(f"{f.name} {f.notes}")
        self.seconds.append(seconds)

    def report(self) -> dict[str, Any]:
        loads = sorted(self.seconds)
        out = {
            "voorbeelden": len(self.seconds),
            "uitkomsten": dict(self.outcomes.most_common()),
            "weigeringsredenen": dict(self.reasons.most_common()),
            "per_soort": dict(sorted(self.kinds.items())),
            "regels": dict(self.rows),
            "regels_herkend": dict(self.recognised.most_common()),
            "bewerkingen": dict(sorted(self.notes.items())),
            "voorbeelden_per_reden": self.samples,
            "seconden_totaal": round(time.perf_counter() - self.started, 1),
            "seconden_per_lading": {
                "mediaan": round(loads[len(loads) // 2], 3) if loads else None,
                "max": round(loads[-1], 3) if loads else None,
                "som": round(sum(loads), 1),
            },
        }
        STATS_FILE.parent.mkdir(exist_ok=True)
        try:
            earlier = json.loads(STATS_FILE.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = {}
        earlier[self.backend] = out
        STATS_FILE.write_text(json.dumps(earlier, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nfuzz statistics ({self.backend}):\n{json.dumps(out, indent=2, ensure_ascii=False)}")
        return out


def reason_of(message: str) -> str:
    return next((label for found, label in REASONS.items() if found in message), f"overig: {message[:120]}")


def assert_dutch(message: str, f: HostileFile) -> None:
    assert message and f.name in message, f"the message does not name {f.name!r}: {message!r}"
    english = ENGLISH.search(message)
    assert english is None, f"English/Python text {english.group(0)!r} in: {message!r}"


def check_file(warehouse: Warehouse, stats: Stats, f: HostileFile) -> None:
    warehouse.reset()
    path = warehouse.put(f)
    url, before = warehouse.url, warehouse.before
    n_batches = len(batches(url))
    started = time.perf_counter()
    try:
        out = load_bvh(path, warehouse.settings)
    except LoadError as exc:  # only for what is wrong before a load starts (no buurten): not here
        pytest.fail(f"LoadError outside run_load: {exc}")
    seconds = time.perf_counter() - started
    message = out.message

    if out.status == "unchanged":
        assert f.data == TEMPLATE_CSV, message
        assert_dutch(message, f)
        assert snapshot(url) == before
        assert len(batches(url)) == n_batches
        stats.add(f, out.status, None, seconds)
        return

    recorded = batches(url)
    assert len(recorded) == n_batches + 1
    assert (recorded[-1].status, recorded[-1].message) == (out.status, message)
    if out.status in ("refused", "failed"):
        assert_dutch(message, f)
        assert snapshot(url) == before, f"refused ({message}) but the warehouse changed"
        reason = reason_of(message)
        stats.add(f, out.status, reason, seconds)
        if out.status == "refused":  # by the reject policy: the rows were read and counted
            assert out.rows_rejected > 0.05 * out.rows_in and out.rows_loaded == 0
            if f.data_rows is not None:
                assert out.rows_in == f.data_rows, (out.rows_in, f.data_rows, message)
            _check_rejects(url, out.batch_id, out.rows_rejected)
        return

    assert out.status == "loaded", (out.status, message)
    assert_dutch(message, f)
    summary = out.summary
    recognised = summary["regels_herkend"]
    # Blank rows are skipped by the reader (not in rows_in) and counted as recognised from the gaps
    # they leave in the row numbers: rows read + blank rows = loaded + rejected + recognised.
    blank = recognised.get(bvh.BLANK_ROW, 0)
    assert out.rows_in + blank == out.rows_loaded + out.rows_rejected + sum(recognised.values()), (out, recognised)
    if f.data_rows is not None:
        assert out.rows_in == f.data_rows, (out.rows_in, f.data_rows, message)
    assert out.rows_rejected <= 0.05 * out.rows_in
    for reason, n in recognised.items():
        assert f"{n} × {reason}" in message
    assert sum(summary["toewijzing"].values()) == out.rows_loaded
    incidents = summary["incidenten"]
    assert incidents["nieuw"] + incidents["gewijzigd"] + incidents["ongewijzigd"] == out.rows_loaded
    after = snapshot(url)
    assert len(after["incident"]) == warehouse.incidents + incidents["nieuw"]
    assert len(after["incident_revision"]) == len(before["incident_revision"]) + incidents["gewijzigd"]
    if out.rows_rejected:
        _check_rejects(url, out.batch_id, out.rows_rejected)
    stats.add(f, out.status, None, seconds)
    stats.rows.update(
        rows_in=out.rows_in, geladen=out.rows_loaded, afgekeurd=out.rows_rejected, herkend=sum(recognised.values())
    )
    stats.rows.update(nieuw=incidents["nieuw"], gewijzigd=incidents["gewijzigd"])
    stats.recognised.update(recognised)


def _check_rejects(url: str, batch_id: int, rejected: int) -> None:
    _, rejects = batch_rejects(url, batch_id)
    assert rejects["regel"].nunique() == rejected
    for reason in rejects["reden"].unique():
        english = ENGLISH.search(reason)
        assert reason and english is None, f"reject reason {reason!r} ({english and english.group(0)!r})"


def _examples(backend: str) -> int:
    import os

    return int(os.environ.get("BUURTBEELD_FUZZ_EXAMPLES", EXAMPLES[backend]))


@pytest.mark.slow
def test_hostile_files_load_exactly_or_are_refused_in_dutch(db_url: str, small_files: Any, tmp_path: Path) -> None:
    warehouse = Warehouse(db_url, tmp_path, small_files.buurten)
    stats = Stats(warehouse.backend)

    @hsettings(
        max_examples=_examples(warehouse.backend),
        deadline=None,
        derandomize=True,  # the same files in every run: a red CI can be replayed
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(hostile_files())
    def check(f: HostileFile) -> None:
        check_file(warehouse, stats, f)

    try:
        for f in fixed_corpus():
            check_file(warehouse, stats, f)
        fixed = dict(stats.outcomes)
        assert fixed == {"loaded": 4, "failed": 1} and stats.reasons == {"oudere levering": 1}, (fixed, stats.reasons)
        assert stats.recognised == {
            "dubbele regel (één keer geladen)": 2,
            "totaalregel": 1,
            "lege regel": 1,
            "andere gemeente (Amsterdam)": 2,
        }, stats.recognised
        assert stats.rows["gewijzigd"] == 5, stats.rows
        check()
    finally:
        stats.report()
