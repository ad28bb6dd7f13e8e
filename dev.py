#!/usr/bin/env python3
"""Bootstrap and run Buurtbeeld with nothing but Python 3.11+.

    python3 dev.py demo    # install, load the demo gemeente into the embedded SQLite warehouse
    python3 dev.py test    # install, run the whole test suite (pytest arguments may follow)
    python3 dev.py lint    # ruff and `alembic check`
    python3 dev.py airflow ARGS...   # the Airflow CLI on var/airflow and dags/ (e.g. dags test bvh_weekly)

The first run creates .tools/ (a pinned uv) and .venv/ (the locked dependencies from uv.lock).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
UV_VERSION = "0.13.9"
BIN = "Scripts" if os.name == "nt" else "bin"


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def _uv() -> Path:
    uv = TOOLS / BIN / "uv"
    if not uv.exists():
        print(f"Installing uv {UV_VERSION} into {TOOLS} ...", flush=True)
        venv.create(TOOLS, with_pip=True, clear=True)
        _run(
            TOOLS / BIN / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"uv=={UV_VERSION}",
        )
    return uv


def sync(*extra: str) -> Path:
    """Install exactly what uv.lock pins (bytecode compiled: imports are much faster)."""
    _run(_uv(), "sync", "--frozen", "--compile-bytecode", "--quiet", *extra)
    return ROOT / ".venv" / BIN


# Airflow is an optional extra: the demo does not need it (and does not remove it when present).
WITH_AIRFLOW = ("--extra", "airflow")


def airflow(rest: list[str]) -> None:
    """The Airflow CLI with a local home (var/airflow, SQLite metadata), the dags/ folder and the inbox
    connection pointing at Buurtbeeld's inbox; the metadata database is created on first use."""
    bindir = sync(*WITH_AIRFLOW)
    inbox = subprocess.run(
        [bindir / "python", "-c", "from buurtbeeld.settings import get_settings; print(get_settings().inbox_dir)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    home = ROOT / "var" / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_BUURTBEELD_INBOX": json.dumps({"conn_type": "fs", "extra": {"path": inbox}}),
        **os.environ,
    }
    if not (home / "airflow.db").exists():
        _run(bindir / "airflow", "db", "migrate", env=env)
    _run(bindir / "airflow", *rest, env=env)


def main(argv: list[str]) -> None:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "demo":
        _run(sync("--inexact") / "buurtbeeld", "demo", *rest)
    elif command == "test":
        parallel = [] if any(a.startswith("-n") for a in rest) else ["-n", "auto"]  # one worker per core
        _run(sync(*WITH_AIRFLOW) / "python", "-m", "pytest", *parallel, *rest)
    elif command == "airflow":
        airflow(rest)
    elif command == "lint":
        bindir = sync(*WITH_AIRFLOW)
        _run(bindir / "ruff", "check", ".")
        _run(bindir / "ruff", "format", "--check", ".")
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "BUURTBEELD_WAREHOUSE_URL": f"sqlite:///{tmp}/check.sqlite"}
            _run(bindir / "alembic", "upgrade", "head", env=env)
            _run(bindir / "alembic", "check", env=env)
    else:
        print(__doc__)
        sys.exit(0 if command in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
