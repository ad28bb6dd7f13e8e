"""The inbox functions the DAGs call, with broken input: a clear Dutch outcome, the warehouse unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from buurtbeeld.settings import Settings
from etl import inbox
from etl.errors import LoadError
from tests.helpers import snapshot
from tests.synthetic import setup_city


def test_broken_inbox_input_gives_a_clear_outcome_and_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    setup_city(settings, tmp_path / "bron")
    before = snapshot(settings.warehouse_url)
    folder = inbox.inbox(settings, "buurten")
    nameless = folder / "buurtkaart.gpkg"  # no year in the name and no 'jaar' parameter
    nameless.write_bytes(b"not a geopackage")
    empty = inbox.inbox(settings, "bvh") / "leeg.csv"
    empty.write_text("")
    assert inbox.pending(settings, "buurten") == []  # just written: not settled yet
    assert inbox.pending(settings.model_copy(update={"inbox_settle_seconds": 0}), "buurten") == [str(nameless)]
    assert inbox.check([str(empty), str(tmp_path / "weg.xlsx")]) == [
        "leeg.csv: het bestand is leeg (0 bytes).",
        f"{tmp_path / 'weg.xlsx'}: bestand bestaat niet.",
    ]

    [year] = inbox.load_all(settings, "buurten", [str(nameless)])
    assert year["status"] == "failed" and "geen jaar in de bestandsnaam" in year["message"]
    [missing] = inbox.load_all(settings, "bvh", [str(tmp_path / "weg.xlsx")])  # a 'bestand' param gone wrong
    assert missing["status"] == "failed" and "bestaat niet" in missing["message"]
    [garbage] = inbox.load_all(settings, "bvh", [str(empty)])
    assert garbage["status"] == "failed" and "leeg" in garbage["message"]
    assert snapshot(settings.warehouse_url) == before

    outcomes = [year, missing, garbage]
    assert inbox.failures(outcomes).startswith("3 van 3 bestanden niet geladen: buurtkaart.gpkg: ")
    report = inbox.rejects_report(settings, "bvh", outcomes)
    assert report and Path(report).exists()
    moved = inbox.file_away(settings, "bvh", [garbage])
    assert moved == [str(settings.quarantine_dir / "bvh" / "leeg.csv")] and not empty.exists()
    with pytest.raises(LoadError, match="Onbekende inbox 'onzin'"):
        inbox.inbox(settings, "onzin")


def test_the_inbox_protocol_counts_only_complete_files(sqlite_settings: Settings) -> None:
    """Settled or marked files count; temporary names are left alone; unknown types go to quarantine
    with their reason, once."""
    import os
    import time

    settings = sqlite_settings
    folder = inbox.inbox(settings, "bvh")
    old = time.time() - 3600
    settled = folder / "bvh_2026-W01.csv"
    fresh = folder / "bvh_2026-W02.csv"
    marked = folder / "bvh_2026-W03.xlsx"
    for f in (settled, fresh, marked):
        f.write_text("x")
    (folder / "bvh_2026-W03.xlsx.klaar").write_text("")
    temporary = ["bvh_2026-W04.csv.filepart", "~$bvh.xlsx", ".bvh.csv.Xa81b", "bvh.csv.part", "bvh.tmp"]
    for name in temporary:
        (folder / name).write_text("x")
    (folder / "foto.jpg").write_bytes(b"\xff\xd8")
    os.utime(settled, (old, old))
    now = time.time() + 30  # 30 s later: settled's change time is that old, fresh's too, within 120 s
    found = inbox.look(settings, "bvh", now=now)
    assert found.ready == [str(marked)]  # ctime of settled is still fresh: utime does not age it
    assert found.waiting == [str(settled), str(fresh)]
    assert found.quarantined == [
        "foto.jpg: onbekend bestandstype '.jpg'; verwacht .csv, .geojson, .gpkg, .json, .txt, .xls, .xlsx, .zip."
        " Niet geladen; in quarantaine gezet."
    ]
    assert (settings.quarantine_dir / "bvh" / "foto.jpg.reden.txt").read_text().startswith("foto.jpg: onbekend")
    later = inbox.look(settings, "bvh", now=time.time() + settings.inbox_settle_seconds + 1)
    assert later.ready == [str(settled), str(fresh), str(marked)] and later.quarantined == []
    assert sorted(p.name for p in folder.iterdir() if p.name in temporary) == sorted(temporary)

    outcomes = [{"file": str(marked), "status": "loaded", "batch_id": 1}]
    inbox.file_away(settings, "bvh", outcomes)
    assert not (folder / "bvh_2026-W03.xlsx.klaar").exists()  # the marker goes with its file


def test_a_rerun_by_name_finds_the_archived_file(sqlite_settings: Settings) -> None:
    settings = sqlite_settings
    received = settings.archive_dir / "ontvangen" / "bvh"
    for day in ("2026-11-02", "2026-11-09"):
        (received / day).mkdir(parents=True)
        (received / day / "bvh_2026-W45.csv").write_text(day)
    assert inbox.locate(settings, "bvh", "bvh_2026-W45.csv") == str(received / "2026-11-09" / "bvh_2026-W45.csv")
    with pytest.raises(LoadError, match=r"bvh_2026-W99\.csv: niet gevonden in de inbox"):
        inbox.locate(settings, "bvh", "bvh_2026-W99.csv")
