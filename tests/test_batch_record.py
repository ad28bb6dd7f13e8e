"""Every load leaves a batch row from its first moment (etl.batch, step 0): an empty file, a process
killed half-way and an unchanged file each end in the right record."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from buurtbeeld.settings import Settings, get_settings
from cli import cli
from etl import batch
from etl.load_indicators import load_indicators
from tests.helpers import batches, snapshot


def test_an_empty_file_is_a_failed_batch_with_its_reason(settings: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "inwoners.csv"
    empty.write_bytes(b"")
    before = snapshot(settings.warehouse_url)
    outcome = load_indicators(empty, settings, period="2024")
    assert outcome.status == "failed" and "leeg (0 bytes)" in outcome.message
    [row] = batches(settings.warehouse_url)
    assert (row.status, row.file_name, row.finished_at is not None) == ("failed", "inwoners.csv", True)
    assert "leeg (0 bytes)" in row.message
    assert snapshot(settings.warehouse_url) == before


def test_a_load_killed_half_way_shows_as_not_finished(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "inwoners.csv"
    path.write_text("buurtcode,inwoners\nBU99990000,10\n")
    # A real process that dies by SIGKILL while it reads the file: nothing can clean up after it.
    script = textwrap.dedent(
        f"""
        import os, signal
        from buurtbeeld.settings import Settings
        from etl.batch import run_load
        settings = Settings(data_dir={str(settings.data_dir)!r}, warehouse_url={settings.warehouse_url!r})
        def die(path):
            os.kill(os.getpid(), signal.SIGKILL)
        run_load("indicatoren", {str(path)!r}, {{}}, die, settings)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    [row] = batches(settings.warehouse_url)
    assert (row.status, row.finished_at, row.message) == ("failed", None, batch.ABANDONED)
    assert row.sha256 and row.file_name == "inwoners.csv"

    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BUURTBEELD_WAREHOUSE_URL", settings.warehouse_url)
    get_settings.cache_clear()
    try:
        listing = CliRunner().invoke(cli, ["batches"])
    finally:
        get_settings.cache_clear()
    assert "niet afgerond" in listing.output and "inwoners.csv" in listing.output, listing.output

    # Loading the file again works and leaves the abandoned attempt on record.
    assert load_indicators(path, settings, period="2024").status == "loaded"
    assert [(b.status, b.finished_at is None) for b in batches(settings.warehouse_url)] == [
        ("failed", True),
        ("loaded", False),
    ]
    # An unchanged file leaves no row of its own.
    assert load_indicators(path, settings, period="2024").status == "unchanged"
    assert len(batches(settings.warehouse_url)) == 2
