"""The compose file is validated here (no Docker engine on these machines); Airflow's issue extends it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_requires_secrets_and_waits_for_a_healthy_database() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    services = compose["services"]
    assert {"postgres", "migrate"} <= set(services)
    assert "healthcheck" in services["postgres"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    # No secret has a default: every ${VAR} that holds one must be ${VAR:?...}.
    for secret in ("POSTGRES_PASSWORD", "BUURTBEELD_HASH_SECRET"):
        assert f"${{{secret}:?" in text and f"${{{secret}}}" not in text and f"${{{secret}:-" not in text


def test_env_example_lists_every_setting() -> None:
    from buurtbeeld.settings import Settings

    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"BUURTBEELD_{name.upper()}=" in example, name
