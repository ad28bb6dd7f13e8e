"""The `buurtbeeld` command line: help everywhere, Dutch messages, exit codes, no tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _commands(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "buurtbeeld")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    """Every command has help, and its frame is Dutch like the rest of the CLI."""
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="buurtbeeld")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Gebruik: ") and "\nOpties:\n" in result.output, result.output
    english = ("Usage", "Options", "Commands:", "Show this message", "[OPTIONS]", "COMMAND", "ARGS", "INTEGER")
    assert not [word for word in english if word in result.output], result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["lod"], "Fout: Onbekende opdracht 'lod'. Bedoelt u 'load'?"),
        (["load", "bvh", "--nope"], "Fout: Onbekende optie '--nope'."),
        (["load", "bvh"], "Fout: Argument ontbreekt 'BESTANDEN...'."),
        (["rejects", "tien"], "Fout: Ongeldige waarde voor 'LADING': 'tien' is geen geldig getal."),
        (["load", "buurten", "x.gpkg"], "Fout: Optie ontbreekt '--jaar'."),
        (["serve", "--weergave", "alles"], "Fout: Ongeldige waarde voor '--weergave': 'alles' is niet een van"),
    ],
)
def test_usage_errors_are_dutch(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, args, prog_name="buurtbeeld")
    assert result.exit_code == 2
    assert expected in result.output and "Zie 'buurtbeeld" in result.output, result.output


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BUURTBEELD_DATA_DIR": str(tmp_path / "var"), "BUURTBEELD_WAREHOUSE_URL": ""}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
    )


def test_load_before_upgrade_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("buurtcode,inwoners\nBU99990000,1\n")
    result = _run(tmp_path, "load", "indicatoren", "x.csv", "--periode", "2024")
    assert result.returncode == 1
    assert "buurtbeeld db upgrade" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BUURTBEELD_AUDIENCES", '{"open": "iedereen"}', "'intern' or 'gedeeld'"),
        ("BUURTBEELD_MAX_REJECT_SHARE", "veel", "number"),
    ],
)
def test_a_bad_setting_is_named_without_a_traceback(tmp_path: Path, name: str, value: str, expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "publiceer", "--controleer"],
        capture_output=True,
        text=True,
        env={**_env(tmp_path), name: value},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    assert f"Ongeldige instelling: {name}" in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_load_batches_and_rejects_from_the_command_line(tmp_path: Path, real_data: Path) -> None:
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    ok = _run(
        tmp_path, "load", "buurten", str(real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson"), "--jaar", "2024"
    )
    assert ok.returncode == 0, ok.stderr
    assert "[geladen]" in ok.stdout and "21 van 21" in ok.stdout
    again = _run(
        tmp_path, "load", "buurten", str(real_data / "geometry/cbs_buurten_2024_baarn_wgs84.geojson"), "--jaar", "2024"
    )
    assert again.returncode == 0 and "[ongewijzigd]" in again.stdout
    (tmp_path / "bad.csv").write_text(
        "buurtcode,inwoners\nBU03080000,1\nBU03080003,2\nBU03080004,3\nBU03080005,4\nBU03080001,veel\nBU03080002,=1+2\n"
    )
    bad = _run(tmp_path, "load", "indicatoren", "bad.csv", "--periode", "2024")
    assert bad.returncode == 1 and "[geweigerd]" in bad.stdout and "buurtbeeld rejects 2" in bad.stdout
    listing = _run(tmp_path, "batches")
    assert "geweigerd" in listing.stdout and "bad.csv" in listing.stdout
    rejects = _run(tmp_path, "rejects", "2", "--xlsx", "afgekeurd.xlsx")
    assert rejects.returncode == 0 and "veel" in rejects.stdout and "geen getal" in rejects.stdout
    # A rejected value that looks like a formula stays text, in the workbook and in the quarantine CSV.
    import openpyxl

    cells = [c for row in openpyxl.load_workbook(tmp_path / "afgekeurd.xlsx")["Afgekeurd"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.quotePrefix for c in cells if c.value == "=1+2"] == [True]
    [quarantined] = tmp_path.rglob("batch_2_bad_afgekeurd.csv")
    assert ";'=1+2;" in quarantined.read_text() and ";=1+2;" not in quarantined.read_text()
    missing = _run(tmp_path, "load", "buurten", "bestaat_niet.gpkg", "--jaar", "2024")
    said = missing.stdout + missing.stderr  # a failed batch ("[mislukt] ..."), recorded like any other
    assert missing.returncode == 1 and "bestaat niet" in said and "Traceback" not in said


def test_password_hash_for_the_accounts_file() -> None:
    from werkzeug.security import check_password_hash

    result = CliRunner().invoke(cli, ["gebruiker", "wachtwoord", "--wachtwoord", "lang-genoeg-geheim"])
    assert result.exit_code == 0, result.output
    assert check_password_hash(result.output.strip(), "lang-genoeg-geheim")
    short = CliRunner().invoke(cli, ["gebruiker", "wachtwoord", "--wachtwoord", "kort"])
    assert short.exit_code != 0 and "12 tekens" in short.output


def test_a_bad_month_range_is_named(tmp_path: Path) -> None:
    for args, expected in (
        (["2025-01", "--tot", "2025-1x"], "Maand '2025-1x' niet herkend"),
        (["2025-13"], "Maand '2025-13' niet herkend"),
    ):
        result = _run(tmp_path, "analyses", "maand", *args)
        assert result.returncode == 1 and expected in result.stderr + result.stdout, result
        assert "Traceback" not in result.stderr


def test_a_database_that_is_not_running_is_named_as_such(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port on loopback where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**_env(tmp_path), "BUURTBEELD_WAREHOUSE_URL": f"postgresql+psycopg://bb:bb@127.0.0.1:{port}/bb"}
    for args in (["batches"], ["publiceer"]):
        done = subprocess.run(
            [sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
        assert done.returncode == 1, done.stderr
        assert "niet bereikbaar" in done.stderr and "Draait de database" in done.stderr, done.stderr
        assert "db upgrade" not in done.stderr and "Traceback" not in done.stderr + done.stdout
