"""Settings come from one module; packages import only downwards; nothing heavy at import."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from buurtbeeld.settings import Settings, SettingsError

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


def test_production_never_generates_the_hash_key_beside_the_data(tmp_path: Path) -> None:
    url = "postgresql+psycopg://buurtbeeld@127.0.0.1:5432/buurtbeeld"
    with pytest.raises(SettingsError, match="BUURTBEELD_HASH_SECRET is niet ingesteld"):
        Settings(data_dir=tmp_path, warehouse_url=url).hashing_key()
    assert not (tmp_path / "hash_secret").exists()
    assert Settings(data_dir=tmp_path, warehouse_url=url, hash_secret="geheim").hashing_key() == b"geheim"


# package -> packages it must not import: arrows point down only (cli and dags at the top, the pure
# core `buurtbeeld` at the bottom).
FORBIDDEN = {
    "buurtbeeld": {"etl", "schemas", "warehouse", "dashboard", "dags", "cli"},
    "warehouse": {"etl", "dashboard", "dags", "schemas", "cli"},
    "schemas": {"etl", "warehouse", "dashboard", "dags", "cli"},
    "etl": {"dashboard", "dags", "cli"},
    "dashboard": {"etl", "dags", "cli"},
    "dags": {"dashboard", "cli"},
}
PACKAGES = ("buurtbeeld", "etl", "schemas", "warehouse", "dashboard", "dags", "cli")


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


def _module_imports() -> dict[str, set[str]]:
    """Every project module (migrations aside) and the project modules it imports anywhere in it."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_two_modules_import_each_other() -> None:
    graph = _module_imports()
    assert "etl.batch" in graph and "etl.publish" in graph["etl.batch"]  # the check sees real imports
    mutual = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets if a in graph[b]})
    assert not mutual, f"modules that import each other: {mutual}"


def test_only_the_settings_module_reads_buurtbeeld_environment() -> None:
    for package in ("buurtbeeld", "etl", "schemas", "warehouse", "dashboard", "dags"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "settings.py":
                assert "os.environ" not in path.read_text() and "getenv" not in path.read_text(), path


def test_importing_the_cli_is_cheap() -> None:
    """The CLI imports pandas/geopandas only inside the command that needs them."""
    heavy = "('pandas', 'geopandas', 'sqlalchemy')"
    code = f"import sys, cli; print(','.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_the_default_data_folder_is_the_checkouts_wherever_a_command_runs(tmp_path: Path) -> None:
    """Run from another folder, the CLI finds the same warehouse, not a new empty one there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUURTBEELD_")}
    code = "from buurtbeeld.settings import Settings; print(Settings().data_dir)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert Path(out.stdout.strip()) == ROOT / "var"
