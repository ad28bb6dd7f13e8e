#!/usr/bin/env python3
"""Bootstrap and run Buurtbeeld with nothing but Python 3.11+.

    python3 dev.py demo    # install, load the demo gemeente into the embedded SQLite warehouse
    python3 dev.py test    # install, run the whole test suite (pytest arguments may follow)
    python3 dev.py lint    # ruff and `alembic check`

The first run creates .tools/ (a pinned uv) and .venv/ (the locked dependencies from uv.lock).
"""

from __future__ import annotations

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


def main(argv: list[str]) -> None:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "demo":
        _run(sync() / "buurtbeeld", "demo", *rest)
    elif command == "test":
        parallel = [] if any(a.startswith("-n") for a in rest) else ["-n", "auto"]  # one worker per core
        _run(sync() / "python", "-m", "pytest", *parallel, *rest)
    elif command == "lint":
        bindir = sync()
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
