"""Monthly analyses on real SQLite and PostgreSQL: generation, idempotent re-runs, superseding after a
revising load, scopes, messages, the CLI, and a text scan proving no count 1-4 reaches any analysis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from buurtbeeld import disclosure
from buurtbeeld.settings import Settings
from etl.analyses import generate
from etl.demo import SEED, make_buurten, make_population, stadsdelen_for
from etl.errors import LoadError
from etl.load_buurten import load_buurten
from etl.load_bvh import load_bvh
from etl.load_stadsdelen import load_stadsdelen
from warehouse import queries
from warehouse.db import get_engine
from warehouse.models import AnalysisRun, AreaAnalysis

GROUPS = {"Woninginbraak": 0.8, "Fietsen- en bromfietsdiefstal": 1.5, "Overlast": 2.0}  # per buurt per week
WEEKS = [(year, week) for year in (2024, 2025) for week in range(1, 53)]
HOT = "Woninginbraak"


def _counts(path: Path, codes: list[str], weeks: list[tuple[int, int]], seed: int, hot: str | None) -> Path:
    """A buurt-level delivery: Poisson counts; in December 2025 one buurt gets 8 burglaries a week."""
    rng = np.random.default_rng(seed)
    rows = []
    for code in codes:
        for label, rate in GROUPS.items():
            for year, week in weeks:
                n = rng.poisson(rate)
                if code == hot and label == HOT and (year, week) >= (2025, 49):
                    n = 8
                rows.append((code, f"{year}-W{week:02d}", label, n))
    pd.DataFrame(rows, columns=["Buurtcode", "Week", "Categorie", "Aantal"]).to_csv(path, sep=";", index=False)
    return path


@pytest.fixture
def city(settings: Settings, tmp_path: Path) -> tuple[Settings, list[str]]:
    rng = np.random.default_rng(SEED)
    buurten = make_buurten(rng)
    make_population(buurten, rng)
    gpkg = tmp_path / "buurten.gpkg"
    buurten.to_file(gpkg, layer="buurten", driver="GPKG")
    stadsdelen = tmp_path / "stadsdelen.xlsx"
    stadsdelen_for(buurten).to_excel(stadsdelen, index=False)
    assert load_buurten(gpkg, 2024, settings).ok
    assert load_stadsdelen(stadsdelen, settings).ok
    codes = sorted(buurten["buurtcode"])
    out = load_bvh(_counts(tmp_path / "aantallen.csv", codes, WEEKS, 1, codes[0]), settings)
    assert out.status == "loaded", out.message
    return settings, codes


def _current(url: str, month: str) -> pd.DataFrame:
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(AreaAnalysis.area_level, AreaAnalysis.area_code, AreaAnalysis.content, AnalysisRun.based_on_batch_id)
            .join(AnalysisRun, AnalysisRun.id == AreaAnalysis.run_id)
            .where(AreaAnalysis.month == month, AreaAnalysis.superseded_at.is_(None))
        ).all()
    return pd.DataFrame(rows, columns=["area_level", "area_code", "content", "batch"])


def _all_rows(url: str, month: str) -> list[Any]:
    with get_engine(url).connect() as conn:
        return conn.execute(select(AreaAnalysis).where(AreaAnalysis.month == month)).all()


def test_generate_replace_and_supersede(city: tuple[Settings, list[str]], tmp_path: Path) -> None:
    settings, codes = city
    url = settings.warehouse_url
    [result] = generate(settings, "2025-12", gemeente="GM9999")
    areas = queries.areas(url, "GM9999")
    n_areas = int((areas["area_code"] != "onbekend").sum())
    assert result.analyses == n_areas and result.notable >= 1
    assert result.provisional == ["2025-W51", "2025-W52"]  # the last two weeks of the delivery
    current = _current(url, "2025-12")
    hot = current[current["area_code"] == codes[0]].iloc[0]
    content = hot["content"] if isinstance(hot["content"], dict) else json.loads(hot["content"])
    assert content["headline"].startswith("In december 2025 werden in ")
    assert "woninginbraken geregistreerd" in content["headline"] and "opvallend hoog" in content["headline"]
    assert "voorlopig" in " ".join(content["paragraphs"]).lower()
    row = next(r for r in content["table"] if r["Categorie"] == HOT)
    assert row["Beoordeling"] == "opvallend hoog" and int(row["Geregistreerd"]) >= 30

    # Re-running on the same warehouse replaces: same number of analyses, nothing superseded, one run.
    generate(settings, "2025-12", gemeente="GM9999")
    assert len(_all_rows(url, "2025-12")) == n_areas
    with get_engine(url).connect() as conn:
        assert len(conn.execute(select(AnalysisRun).where(AnalysisRun.month == "2025-12")).all()) == 1

    # A later delivery revising December regenerates it; the older version stays, flagged superseded.
    revised = _counts(tmp_path / "herzien.csv", codes[:5], [(2025, 50)], 7, None)
    out = load_bvh(revised, settings)
    assert out.status == "loaded", out.message
    assert out.summary["analyses_vernieuwd"] == {"GM9999": ["2025-12"]}
    rows = _all_rows(url, "2025-12")
    assert len(rows) == 2 * n_areas
    assert sum(r.superseded_at is not None for r in rows) == n_areas
    assert set(_current(url, "2025-12")["batch"]) == {out.batch_id}
    # A month that was never analysed is not generated by a load.
    assert _all_rows(url, "2025-11") == []


def test_scope_and_messages(city: tuple[Settings, list[str]]) -> None:
    settings, _ = city
    url = settings.warehouse_url
    names = sorted(queries.areas(url, "GM9999").query("area_level == 'stadsdeel' and area_code != 'onbekend'")["name"])
    [one] = generate(settings, "2025-11", scope=f"stadsdeel:{names[0]}", gemeente="GM9999")
    stored = _current(url, "2025-11")
    assert set(stored["area_level"]) <= {"stadsdeel", "wijk", "buurt"}
    assert (stored["area_level"] == "stadsdeel").sum() == 1 and one.analyses == len(stored)
    # The gemeente run afterwards covers the rest without duplicating the stadsdeel's areas.
    generate(settings, "2025-11", gemeente="GM9999")
    stored = _current(url, "2025-11")
    assert not stored.duplicated(["area_level", "area_code"]).any()
    assert (stored["area_level"] == "stadsdeel").sum() == len(names)

    with pytest.raises(LoadError, match="Stadsdeel 'Nergens' bestaat niet; kies uit: "):
        generate(settings, "2025-11", scope="stadsdeel:Nergens", gemeente="GM9999")
    with pytest.raises(LoadError, match=r"Maand 2026-05 is voor GM9999 niet \(volledig\) geladen; beschikbare"):
        generate(settings, "2026-05", gemeente="GM9999")
    with pytest.raises(LoadError, match="Onbekende scope 'wijk'"):
        generate(settings, "2025-11", scope="wijk", gemeente="GM9999")


def test_cli_analyses(city: tuple[Settings, list[str]], tmp_path: Path) -> None:
    settings, _ = city
    env = {
        **os.environ,
        "BUURTBEELD_DATA_DIR": str(settings.data_dir),
        "BUURTBEELD_WAREHOUSE_URL": settings.warehouse_url,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "buurtbeeld.cli", "analyses", *args], capture_output=True, text=True, env=env
        )

    done = run("maand", "2025-10")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("GM9999 2025-10: ") and "opvallend" in done.stdout
    listed = run("lijst")
    assert listed.returncode == 0 and "2025-10" in listed.stdout
    bad = run("maand", "oktober")
    assert bad.returncode != 0 and "gebruik JJJJ-MM" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("maand", "2030-01")
    assert missing.returncode != 0 and "niet (volledig) geladen" in missing.stderr
    assert "Traceback" not in missing.stderr


# --- no count 1-4 in any analysis ---------------------------------------------------------------------

# A digit 1-4 standing alone (not part of a larger number, a decimal, a date or a week code).
SMALL = re.compile(r"(?<![\d.,\-W/])[1-4](?![\d.,%])")
ALLOWED = ("x 1 000",)  # the unit of the WOZ value in the CBS kerncijfers


def small_numbers(doc: dict[str, Any], names: list[str]) -> list[str]:
    """Every place in an analysis where a count 1-4 could be read: text, table cells and chart points."""
    found = []
    texts = [doc["headline"], *doc["paragraphs"], *(c["text"] for c in doc.get("children", []))]
    for text in texts:
        for skip in (*ALLOWED, *names):
            text = text.replace(skip, "")
        found += [text[max(0, m.start() - 30) : m.end() + 30] for m in SMALL.finditer(text)]
    for row in doc["table"]:
        found += [f"{row['Categorie']}: {row['Geregistreerd']}"] if row["Geregistreerd"] in {"1", "2", "3", "4"} else []
    charts = doc["charts"]
    points = [*charts["trend"]["values"], *charts["groups"]["observed"]]
    found += [f"grafiekpunt {v}" for v in points if v is not None and 0 < v < 5]
    return found


def test_the_scan_catches_a_leak() -> None:
    doc = {
        "headline": "In mei 2026 werden in Oost 3 woninginbraken geregistreerd.",
        "paragraphs": ["Per 1.000 inwoners: 2,5; week 2026-W03; 12 incidenten; x 1 000 euro"],
        "table": [{"Categorie": "Drugs", "Geregistreerd": "2"}],
        "charts": {"trend": {"values": [None, 12.0, 4.0]}, "groups": {"observed": [0.0]}},
    }
    assert small_numbers(doc, []) == [
        "In mei 2026 werden in Oost 3 woninginbraken geregistreerd.",
        "Drugs: 2",
        "grafiekpunt 4.0",
    ]


def test_no_analysis_of_the_demo_reveals_a_count_below_five(demo_warehouse: Settings) -> None:
    url = demo_warehouse.warehouse_url
    names = sorted(queries.areas(url, "GM9999")["name"].dropna(), key=len, reverse=True)
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(AreaAnalysis.month, AreaAnalysis.area_code, AreaAnalysis.content)).all()
    months = {r.month for r in rows}
    assert len(months) >= 24 and len(rows) >= 24 * 70  # every month of the demo, every area
    leaks = []
    hidden_findings = 0
    for row in rows:
        doc = row.content if isinstance(row.content, dict) else json.loads(row.content)
        leaks += [f"{row.month} {row.area_code}: {s}" for s in small_numbers(doc, names)]
        hidden_findings += doc["notable_hidden"]
    assert leaks == []
    # The scan saw the cases that matter: small counts shown as '<5', and findings kept back.
    shown = [json.loads(r.content) if isinstance(r.content, str) else r.content for r in rows[:200]]
    assert any(t["Geregistreerd"] == disclosure.small_label(5) for d in shown for t in d["table"])
    assert hidden_findings > 0


def test_demo_generates_every_month(demo_warehouse: Settings) -> None:
    lines = (demo_warehouse.data_dir.parent / "lines.txt").read_text(encoding="utf-8")
    assert "[analyses] " in lines and "maanden geanalyseerd" in lines
    months = queries.analysis_months(demo_warehouse.warehouse_url, "GM9999")
    assert len(months) >= 24 and max(months) >= f"{date.today().year - 1}-01"
