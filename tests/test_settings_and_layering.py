"""Settings come from one module; packages import only downwards; nothing heavy at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from buurtbeeld.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUURTBEELD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BUURTBEELD_SUPPRESSION_THRESHOLD", "10")
    monkeypatch.setenv("BUURTBEELD_INBOX_DIR", "")
    s = Settings()
    assert s.warehouse_url == f"sqlite:///{tmp_path / 'buurtbeeld.sqlite'}"
    assert s.inbox_dir == tmp_path / "inbox"
    assert s.suppression_threshold == 10


def test_generated_hash_key_is_kept(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    key = s.hashing_key()
    assert len(key) == 64 and Settings(data_dir=tmp_path).hashing_key() == key
    assert (tmp_path / "hash_secret").stat().st_mode & 0o077 == 0
    assert Settings(data_dir=tmp_path, hash_secret="x").hashing_key() == b"x"


# package -> packages it must not import
FORBIDDEN = {
    "warehouse": {"etl", "dashboard", "dags", "schemas"},
    "schemas": {"etl", "warehouse", "dashboard", "dags"},
    "etl": {"dashboard", "dags"},
    "dashboard": {"etl", "dags"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layering(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = _imports(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_the_settings_module_reads_buurtbeeld_environment() -> None:
    for package in ("buurtbeeld", "etl", "schemas", "warehouse", "dashboard", "dags"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "settings.py":
                assert "os.environ" not in path.read_text() and "getenv" not in path.read_text(), path


def test_importing_the_cli_is_cheap() -> None:
    """The CLI imports pandas/geopandas only inside the command that needs them."""
    heavy = "('pandas', 'geopandas', 'sqlalchemy')"
    code = f"import sys, buurtbeeld.cli; print(','.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""
