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
    assert inbox.pending(settings, "buurten") == [str(nameless)]
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
