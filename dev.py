#!/usr/bin/env python3
"""Bootstrap and run Buurtbeeld with nothing but Python 3.11+.

    python3 dev.py demo    # install, load the demo gemeente into the embedded SQLite warehouse
    python3 dev.py serve   # open the dashboard on what is loaded (the demo again, without reloading it)
    python3 dev.py test    # install, run the whole test suite (pytest arguments may follow)
    python3 dev.py test --snel   # only the fast tier: no browser, Airflow, full demo or large real files
    python3 dev.py lint    # ruff and `alembic check`
    python3 dev.py airflow ARGS...   # the Airflow CLI on var/airflow and dags/ (e.g. dags test bvh_weekly)

The first run creates .tools/ (a pinned uv) and .venv/ (the locked dependencies from uv.lock).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
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
        print(f"uv {UV_VERSION} installeren in {TOOLS} ...", flush=True)
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
    """Install exactly what uv.lock pins (bytecode compiled: imports are much faster). The first
    install takes minutes, so it shows uv's own progress; later ones are quiet checks."""
    first = not (ROOT / ".venv" / BIN / "python").exists()
    if first:
        print("Eerste keer: de afhankelijkheden installeren in .venv/ (ongeveer 1 GB, enkele minuten) ...", flush=True)
    _run(_uv(), "sync", "--frozen", "--compile-bytecode", *([] if first else ["--quiet"]), *extra)
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
        # `airflow standalone` starts its scheduler and the rest as `airflow ...` from PATH.
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if not (home / "airflow.db").exists():
        _run(bindir / "airflow", "db", "migrate", env=env)
    _run(bindir / "airflow", *rest, env=env)


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    initdb = found[-1] if found else (Path(shutil.which("initdb")) if shutil.which("initdb") else None)
    return initdb.parent if initdb else None


def _test_postgres(tmp: Path) -> dict[str, str]:
    """A throw-away PostgreSQL for the tests when none is configured and the server is installed
    (as .ci/postgres.sh starts it in CI); {} when there is none to start."""
    if os.environ.get("BUURTBEELD_TEST_POSTGRES_URL") or _postgres_bin() is None:
        return {}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: .ci/postgres.sh runs it as postgres
        shutil.chown(tmp, "postgres")
        out = subprocess.run(
            ["bash", str(ROOT / ".ci" / "postgres.sh"), "start", str(tmp), str(port)], capture_output=True, text=True
        )
        url = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    else:
        bindir = _postgres_bin()
        data = tmp / "data"
        steps = [
            [bindir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"],
            [
                bindir / "pg_ctl",
                "-D",
                data,
                "-l",
                tmp / "log",
                "-w",
                "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={tmp} -c fsync=off",
                "start",
            ],
            [bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "buurtbeeld_test"],
        ]
        ok = all(subprocess.run([str(a) for a in step], capture_output=True).returncode == 0 for step in steps)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/buurtbeeld_test" if ok else ""
    return {"BUURTBEELD_TEST_POSTGRES_URL": url, "_BUURTBEELD_OWN_POSTGRES": "1"} if url else {}


def _stop_postgres(tmp: Path) -> None:
    if (tmp / "data" / "PG_VERSION").exists():
        if os.geteuid() == 0:
            subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop", str(tmp)], capture_output=True)
        else:
            subprocess.run(
                [str(_postgres_bin() / "pg_ctl"), "-D", str(tmp / "data"), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )


def _tiers(env: dict[str, str], fast: bool) -> str:
    """One line: which kinds of tests will run, and why the others will not."""
    pg = env.get("BUURTBEELD_TEST_POSTGRES_URL")
    parts = [
        "trage tests (browser, Airflow, volledige demo, grote echte bestanden): "
        + ("overgeslagen (--snel)" if fast else "ja"),
        "SQLite: ja",
        ("PostgreSQL: ja (tijdelijke server)" if env.get("_BUURTBEELD_OWN_POSTGRES") else "PostgreSQL: ja")
        if pg
        else "PostgreSQL: overgeslagen (installeer de server: apt-get install postgresql, of zet "
        "BUURTBEELD_TEST_POSTGRES_URL)",
        "browser: ja" if shutil.which("chromium") else "browser: overgeslagen (apt-get install chromium)",
        "echte CBS/politie-data: ja"
        if (ROOT.parent / "shared" / "data" / "real").exists()
        else "echte CBS/politie-data: overgeslagen (../shared/data/real ontbreekt)",
    ]
    return "Tests: " + " · ".join(parts)


def main(argv: list[str]) -> None:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "demo":
        _run(sync("--inexact") / "buurtbeeld", "demo", *rest)
    elif command == "serve":
        _run(sync("--inexact") / "buurtbeeld", "serve", *rest)
    elif command == "test":
        fast = "--snel" in rest
        rest = [a for a in rest if a != "--snel"] + (["-m", "not slow"] if fast else [])
        # One worker per core; an idle worker takes tests queued for the other, so the slow tests
        # (demo, DAGs, browser) do not leave one core waiting at the end.
        parallel = [] if any(a.startswith("-n") for a in rest) else ["-n", "auto", "--dist", "worksteal"]
        bindir = sync(*WITH_AIRFLOW)
        with tempfile.TemporaryDirectory(prefix="buurtbeeld-pg-") as tmp:
            env = {**os.environ, **_test_postgres(Path(tmp))}
            print(_tiers(env, fast), flush=True)
            try:
                _run(bindir / "python", "-m", "pytest", *parallel, *rest, env=env)
            finally:
                _stop_postgres(Path(tmp))
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
