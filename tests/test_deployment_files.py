"""The deployment files: the compose file validated by a real parser (Debian's docker-compose; there
is no Docker engine on these machines) and the image's entrypoint script run outside Docker."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
SECRETS = (
    "POSTGRES_PASSWORD",
    "BUURTBEELD_HASH_SECRET",
    "BUURTBEELD_SESSION_SECRET",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
)
LONG_RUNNING = (
    "postgres",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "dashboard",
)


def _compose_config(env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        if IN_CI:
            pytest.fail("docker-compose is not installed (apt-get install docker-compose)")
        pytest.skip("no docker-compose on this machine")
    return subprocess.run(
        [tool, *options, "-f", str(ROOT / "docker-compose.yml"), "config"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_compose_file_is_valid_and_refuses_to_start_without_secrets() -> None:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS} | {"COMPOSE_PROJECT_NAME": "buurtbeeld"}
    missing = _compose_config(env)
    assert missing.returncode != 0 and "set " in missing.stderr, missing.stderr
    done = _compose_config(env | {s: f"test-{s.lower()}" for s in SECRETS})
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert set(LONG_RUNNING) | {"migrate", "cli"} <= set(services)
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], name
    for name in set(LONG_RUNNING) - {"postgres"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["migrate"]
    airflow = services["airflow-scheduler"]["environment"]
    assert airflow["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert airflow["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow")
    assert airflow["BUURTBEELD_WAREHOUSE_URL"].endswith("/buurtbeeld")  # separate databases
    assert {"inbox", "archive", "quarantine"} <= set(yaml.safe_load(done.stdout)["volumes"])
    # Operations: Airflow 3's own user key, a password that survives a re-create, DAGs that run from
    # the first deploy, task logs kept, container logs rotated, a versioned image, bounded memory.
    assert airflow["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "beheer:admin"
    assert "AIRFLOW__SIMPLE_AUTH_MANAGER__USERS" not in airflow
    assert airflow["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith("/opt/airflow/auth/")
    assert airflow["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    mounts = " ".join(str(v) for v in services["airflow-apiserver"]["volumes"])
    assert "/opt/airflow/auth" in mounts and "/opt/airflow/logs" in mounts
    for name, service in services.items():
        if name != "postgres":
            assert not service["image"].endswith(":latest"), name
        if name in LONG_RUNNING:
            assert service["logging"]["options"]["max-size"] == "10m", name
    assert services["airflow-scheduler"]["mem_limit"] and services["dashboard"]["mem_limit"]


def test_no_secret_has_a_default() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in SECRETS:
        assert f"${{{secret}:?" in text and f"${{{secret}}}" not in text and f"${{{secret}:-" not in text


@pytest.mark.slow
def test_entrypoint_roles_outside_docker(tmp_path: Path) -> None:
    """migrate runs both migrations (warehouse and Airflow metadata); other words reach the CLI."""
    if importlib.util.find_spec("airflow") is None:
        if IN_CI:
            pytest.fail("Airflow is not installed (python3 dev.py test installs the airflow extra)")
        pytest.skip("Airflow is not installed (uv sync --extra airflow)")
    script = ROOT / "docker" / "entrypoint.sh"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "BUURTBEELD_DATA_DIR": str(tmp_path / "data"),
        "BUURTBEELD_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'warehouse.sqlite'}",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=300)

    helped = run("help")
    assert helped.returncode == 0 and "migrate" in helped.stdout and "dashboard" in helped.stdout
    migrated = run("migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    with sqlite3.connect(tmp_path / "warehouse.sqlite") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"incident", "area_analysis", "alembic_version"} <= tables
    with sqlite3.connect(tmp_path / "airflow.db") as conn:
        assert conn.execute("select count(*) from sqlite_master where name='dag_run'").fetchone()[0] == 1
    for kind in ("bvh", "indicatoren", "buurten", "stadsdelen"):
        assert (tmp_path / "data" / "inbox" / kind).is_dir()
    listed = run("batches")
    assert listed.returncode == 0, listed.stderr
    wrong = run("load", "bvh", str(tmp_path / "bestaat-niet.csv"))
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr


def test_compose_runs_on_env_example_with_its_empty_values_filled_in(tmp_path: Path) -> None:
    """What ops do on a first deploy: copy .env.example to .env and fill in what is empty."""
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text()))
    lines = (ROOT / ".env.example").read_text().splitlines()
    keys = {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}
    assert required <= keys, required - keys
    filled = [f"{line}test-value" if re.fullmatch(r"[A-Z_]+=", line) else line for line in lines]
    (tmp_path / ".env").write_text("\n".join(filled) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in required and not k.startswith("BUURTBEELD_")}
    done = _compose_config(env, "--env-file", str(tmp_path / ".env"))
    assert done.returncode == 0, done.stderr


def test_env_example_lists_every_setting() -> None:
    from buurtbeeld.settings import Settings

    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"BUURTBEELD_{name.upper()}=" in example, name


def test_the_image_gets_no_secrets_data_or_environments() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", "secrets/", "var/", ".venv/", ".tools/", ".git/", "*.sqlite"):
        assert entry in ignored, entry
    assert "!.env.example" in ignored
