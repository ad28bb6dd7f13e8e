"""Benchmark: dashboard server time per callback, browser time to the Weekoverzicht map, and 20
concurrent users against gunicorn.

Two warehouses are built (SQLite by default) with synthetic areas and weekly counts, then published
through the real publish step (disclosure-controlled cube):

  * city:     1 gemeente, 600 buurten (60 wijken, 6 stadsdelen), 10 years, ~60 000 incidents a year
  * national: 14 500 buurten in ~345 gemeenten, 5 years, ~1 000 000 incidents a year

For each, a realistic sequence of interactions is replayed against the page callbacks in-process
(every filter change an analyst makes on Weekoverzicht, Trends, Buurtprofiel and Verbanden, plus the
Excel exports); the first call after a load is cold (the caches are per load), later ones may be warm.
Targets: city p95 <= 150 ms per callback and the map drawn <= 2 s; national (a gemeente selected)
p95 <= 300 ms. Then gunicorn with 2 workers serves the city warehouse to 20 simulated users for 60 s
(each replays recorded Weekoverzicht/Trends callback requests with random filters): errors and p95.

    .venv/bin/python benchmarks/dashboard.py [--scale 1.0] [--skip-national] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

GROUP_SHARE = {  # rough shares of registered incidents per group (police open data, order of magnitude)
    "overlast": 0.22,
    "vernieling": 0.09,
    "fietsendiefstal": 0.08,
    "winkeldiefstal": 0.05,
    "geweld": 0.10,
    "diefstal_uit_voertuig": 0.06,
    "woninginbraak": 0.04,
    "fraude_cyber": 0.10,
    "verkeer": 0.12,
    "drugs": 0.03,
    "inbraak_schuur_garage": 0.02,
    "zakkenrollerij": 0.02,
    "voertuigdiefstal": 0.015,
    "openbare_orde": 0.02,
    "overig": 0.05,
    "straatroof": 0.004,
    "overval": 0.001,
    "zeden": 0.005,
    "bedrijfsinbraak": 0.01,
}


MK_SPLIT = (0.6, 0.3, 0.1)


def _mk_codes() -> dict[str, list[str]]:
    from etl import bvh

    codes: dict[str, list[str]] = {}
    for item in bvh.catalogue()[1].values():
        codes.setdefault(item.group_code, []).append(item.mk_code)
    return codes


def square(lon: float, lat: float, size: float) -> str:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size * 0.62], [lon, lat + size * 0.62], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def build(
    url: str,
    gemeenten: int,
    buurten_per: int,
    wijken_per: int,
    years: int,
    per_year: int,
    seed: int,
    stadsdelen: int = 0,
) -> dict[str, float]:
    """Areas, population, weekly counts and one BVH batch; then the publish step per gemeente."""
    from sqlalchemy import insert

    from buurtbeeld.settings import Settings
    from etl.categories import sync_categories
    from etl.publish import publish
    from warehouse.bulk import bulk_insert
    from warehouse.db import get_engine, upgrade
    from warehouse.models import Buurt, Gemeente, Indicator, IndicatorValue, LoadBatch, Stadsdeel, StadsdeelArea, Wijk

    rng = np.random.default_rng(seed)
    upgrade(url)
    year = 2025
    last_monday = date(2026, 11, 16)
    weeks = [(last_monday - timedelta(weeks=i)).isocalendar()[:2] for i in range(52 * years)][::-1]
    groups = list(GROUP_SHARE)
    mk_codes = _mk_codes()
    shares = np.array([GROUP_SHARE[g] for g in groups])
    shares /= shares.sum()
    n_buurten = gemeenten * buurten_per
    per_buurt_week = per_year / 52 / n_buurten
    started = time.perf_counter()
    secret = Settings(warehouse_url=url, hash_secret="benchmark").cell_key()  # as the other benchmarks
    engine = get_engine(url)
    with engine.begin() as conn:
        sync_categories(conn, frozenset({"woninginbraak", "straatroof", "overval"}))
        batch = conn.execute(
            insert(LoadBatch)
            .values(
                kind="bvh",
                file_name="synthetisch",
                sha256="0" * 64,
                parameters={},
                status="loaded",
                rows_in=per_year * years,
                rows_loaded=per_year * years,
                rows_rejected=0,
                summary={},
                run_by="benchmark",
                started_at=datetime.now(UTC),
                finished_at=datetime.now(UTC),
            )
            .returning(LoadBatch.id)
        ).scalar_one()
        exists = conn.execute(Indicator.__table__.select().where(Indicator.code == "aantal_inwoners")).first()
        if not exists:
            conn.execute(
                insert(Indicator).values(
                    code="aantal_inwoners", label="Aantal inwoners", unit="aantal", is_population=True
                )
            )
    codes = []
    for g in range(gemeenten):
        gm = f"GM{8000 + g:04d}" if gemeenten > 1 else "GM7777"
        codes.append(gm)
        base_lon, base_lat = 4.0 + (g % 20) * 0.15, 51.5 + (g // 20) * 0.1
        side = int(np.ceil(np.sqrt(buurten_per)))
        size = 0.1 / side
        buurt_rows, wijk_rows, pop_rows = [], [], []
        rates = rng.gamma(2.0, 0.5, buurten_per) * per_buurt_week
        for b in range(buurten_per):
            w = b * wijken_per // buurten_per
            wk = f"WK{gm[2:]}{w:02d}"
            lon, lat = base_lon + (b % side) * size, base_lat + (b // side) * size * 0.62
            code = f"BU{gm[2:]}{w:02d}{b:02d}" if buurten_per <= 100 else f"BU{gm[2:]}{b:04d}"
            buurt_rows.append(
                {
                    "indeling_year": year,
                    "code": code,
                    "name": f"Buurt {b}",
                    "wijk_code": wk,
                    "gemeente_code": gm,
                    "geometry": square(lon, lat, size),
                    "area_m2": 1e6,
                    "label_lon": lon + size / 2,
                    "label_lat": lat + size / 3,
                    "batch_id": batch,
                }
            )
            pop_rows.append(
                {
                    "area_code": code,
                    "indicator_code": "aantal_inwoners",
                    "period": "2025",
                    "value": float(rng.integers(300, 6000)),
                    "status": "ok",
                    "source": "benchmark",
                    "batch_id": batch,
                }
            )
        for w in range(wijken_per):
            wijk_rows.append(
                {
                    "indeling_year": year,
                    "code": f"WK{gm[2:]}{w:02d}",
                    "name": f"Wijk {w}",
                    "gemeente_code": gm,
                    "batch_id": batch,
                }
            )
        counts = rng.poisson(np.outer(rates, shares)[None, :, :] * np.ones((len(weeks), 1, 1)))
        wi, bi, gi = np.nonzero(counts)
        group_counts = counts[wi, bi, gi].astype(int)
        # Rows per MK code as an incident load writes them: each group's count split over its first
        # three MK codes (60/30/10 %); the group's own total is summed from them when published.
        parts, left = [], group_counts
        for share in MK_SPLIT[:-1]:
            part = rng.binomial(left, share)
            parts.append(part)
            left = left - part
        parts.append(left)
        rows = []
        for k, part in enumerate(parts):
            keep = part > 0
            codes_k = np.array([mk_codes[g][k % len(mk_codes[g])] for g in groups], dtype=object)
            rows.append((wi[keep], bi[keep], gi[keep], codes_k[gi[keep]], part[keep]))
        w_, b_, g_, mk_, c_ = (np.concatenate(x) for x in zip(*rows, strict=True))
        # A group with fewer than three MK codes gets one code twice: those rows are summed.
        frame = pd.DataFrame({"w": w_, "b": b_, "g": g_, "mk": mk_, "c": c_}).groupby(["w", "b", "g", "mk"]).sum()
        w_, b_, g_, mk_, c_ = (frame.reset_index()[c].to_numpy() for c in ("w", "b", "g", "mk", "c"))
        columns = {
            "gemeente_code": [gm] * len(w_),
            "indeling_year": [year] * len(w_),
            "buurt_code": [buurt_rows[i]["code"] for i in b_],
            "group_code": [groups[i] for i in g_],
            "mk_code": mk_.tolist(),
            "iso_year": [int(weeks[i][0]) for i in w_],
            "iso_week": [int(weeks[i][1]) for i in w_],
            "count": c_.astype(int).tolist(),
            "is_provisional": [weeks[i] >= weeks[-2] for i in w_],
        }
        with engine.begin() as conn:
            conn.execute(insert(Gemeente).values(indeling_year=year, code=gm, name=f"Gemeente {g}", batch_id=batch))
            conn.execute(insert(Wijk), wijk_rows)
            conn.execute(insert(Buurt), buurt_rows)
            conn.execute(insert(IndicatorValue), pop_rows)
            if stadsdelen:
                for s in range(stadsdelen):
                    sid = conn.execute(
                        insert(Stadsdeel)
                        .values(gemeente_code=gm, name=f"Stadsdeel {s}", batch_id=batch)
                        .returning(Stadsdeel.id)
                    ).scalar_one()
                    conn.execute(
                        insert(StadsdeelArea),
                        [
                            {"stadsdeel_id": sid, "area_code": r["code"]}
                            for i, r in enumerate(wijk_rows)
                            if i % stadsdelen == s
                        ],
                    )
            bulk_insert(conn, "weekly_count", columns)
            publish(conn, gm, 5, batch, secret=secret)
        if g % 25 == 0:
            print(f"  gebouwd: {g + 1}/{gemeenten} gemeenten ({time.perf_counter() - started:.0f} s)", flush=True)
    return {"build_s": time.perf_counter() - started, "gemeenten": codes}


def sequence(url: str, gm: str, rng: random.Random) -> list[tuple[str, object]]:
    """The interactions of an analyst session, as (label, thunk) pairs."""
    from dashboard import components as ui
    from dashboard.pages import buurtprofiel, trends, verbanden, weekoverzicht
    from warehouse import queries

    weeks = queries.periods(url, gm, "week")
    groups = ["*", "woninginbraak", "geweld", "overlast", "fietsendiefstal"]
    areas = queries.areas(url, gm)
    buurten = areas[(areas.area_level == "buurt") & (areas.area_code != "onbekend")].area_code.tolist()
    wijken = areas[areas.area_level == "wijk"].area_code.tolist()
    quarters = queries.periods(url, gm, "quarter")
    years = queries.periods(url, gm, "year")
    steps: list[tuple[str, object]] = []
    steps.append(("weekoverzicht: openen", lambda: weekoverzicht.update(gm, weeks[-1], "*", "aantal")))
    for g in groups[1:]:
        steps.append(("weekoverzicht: categorie", lambda g=g: weekoverzicht.update(gm, weeks[-1], g, "aantal")))
    steps.append(("weekoverzicht: per 1 000", lambda: weekoverzicht.update(gm, weeks[-1], "*", "per1000")))
    for w in (weeks[-2], weeks[-10]):
        steps.append(("weekoverzicht: week", lambda w=w: weekoverzicht.update(gm, w, "*", "aantal")))
    mk = queries.mk_codes(url, gm, "woninginbraak")[0][0]
    steps.append(("weekoverzicht: MK-codes", lambda: ui.mk_state(gm, "woninginbraak", None)))
    steps.append(("weekoverzicht: MK-code", lambda: weekoverzicht.update(gm, weeks[-1], "woninginbraak", "aantal", mk)))
    steps.append(("weekoverzicht: export", lambda: weekoverzicht.export(1, gm, weeks[-1], "*")))
    steps.append(
        ("weekoverzicht: klik buurt", lambda: weekoverzicht.open_profile({"points": [{"location": buurten[0]}]}, gm))
    )
    for level, code in (("gemeente", gm), ("wijk", rng.choice(wijken)), ("buurt", rng.choice(buurten))):
        steps.append((f"trends: gebieden {level}", lambda level=level: trends.area_options(gm, level, None)))
        for grain in ("week", "month"):
            steps.append(
                (
                    f"trends: {level} {grain}",
                    lambda level=level, code=code, grain=grain: trends.update(
                        gm, level, code, rng.choice(groups), grain, "aantal"
                    ),
                )
            )
    steps.append(("trends: MK-code", lambda: trends.update(gm, "gemeente", gm, "woninginbraak", "week", "aantal", mk)))
    steps.append(("trends: export", lambda: trends.export(1, gm, "gemeente", gm, "*", "month")))
    for b in rng.sample(buurten, 4):
        period = quarters[-1] if quarters else None
        steps.append(("buurtprofiel", lambda b=b, period=period: buurtprofiel.update(gm, b, buurten[:2], period)))
    steps.append(("buurtprofiel: export", lambda: buurtprofiel.export(1, gm, buurten[0], [], quarters[-1])))
    for g in groups[:3]:
        period = years[-1] if years else quarters[-1]
        steps.append(("verbanden", lambda g=g, period=period: verbanden.update(gm, "aantal_inwoners", g, period)))
    return steps


def time_callbacks(url: str, gemeenten: list[str], sessions: int) -> dict[str, object]:
    os.environ["BUURTBEELD_WAREHOUSE_URL"] = url
    from buurtbeeld.settings import get_settings

    get_settings.cache_clear()
    from dashboard.app import create_app

    app = create_app()
    rng = random.Random(1)
    timings: list[tuple[str, float]] = []
    with app.server.test_request_context("/"):
        for s in range(sessions):
            gm = gemeenten[s % len(gemeenten)] if s else gemeenten[0]
            for label, step in sequence(url, gm, rng):
                t0 = time.perf_counter()
                step()
                timings.append((label, (time.perf_counter() - t0) * 1000))
    ms = [t for _, t in timings]
    worst = sorted(timings, key=lambda x: -x[1])[:5]
    return {
        "calls": len(ms),
        "p50_ms": statistics.median(ms),
        "p95_ms": float(np.percentile(ms, 95)),
        "max_ms": max(ms),
        "slowest": [(label, round(t)) for label, t in worst],
    }


def browser_map_time(url: str, data_dir: Path) -> dict[str, float]:
    """Seconds from navigation to the Weekoverzicht map drawn in headless Chromium, against gunicorn
    (2 workers) as deployed: the first visit (cold caches) and the median of the next four."""
    from playwright.sync_api import sync_playwright

    port = 8765
    proc = _gunicorn(url, data_dir, port)
    try:
        _wait(f"http://127.0.0.1:{port}/login")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            times = []
            for _ in range(5):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/weekoverzicht")
                page.wait_for_function(  # polygons in the SVG map (or on the canvas of a tiled map)
                    "() => { const g = document.querySelector('#wo-map .js-plotly-plot');"
                    " return g && g._fullData && g._fullData.length > 0"
                    " && (g.querySelectorAll('.choroplethlocation').length > 0 || g.querySelector('canvas')); }",
                    timeout=60000,
                )
                times.append(time.perf_counter() - t0)
                page.close()
            browser.close()
        return {"first_s": round(times[0], 2), "warm_median_s": round(statistics.median(times[1:]), 2)}
    finally:
        proc.terminate()
        proc.wait(10)


def _gunicorn(url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "BUURTBEELD_WAREHOUSE_URL": url, "BUURTBEELD_DATA_DIR": str(data_dir)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "-c",
            "python:dashboard.gunicorn_conf",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "dashboard.wsgi:server",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(url: str) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"server at {url} did not start")


def record_requests(base: str) -> list[dict]:
    """Callback requests a browser makes on Weekoverzicht and Trends (replayed by the load test)."""
    from playwright.sync_api import sync_playwright

    recorded: list[dict] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.on(
            "request",
            lambda r: (
                recorded.append(json.loads(r.post_data)) if "_dash-update-component" in r.url and r.post_data else None
            ),
        )
        for path in ("/weekoverzicht", "/trends?niveau=wijk&per=month", "/buurtprofiel", "/verbanden"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
        browser.close()
    return recorded


def load_test(url: str, data_dir: Path, users: int, seconds: int) -> dict[str, object]:
    port = 8766
    proc = _gunicorn(url, data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/login")
        payloads = record_requests(base)
        from warehouse import queries

        weeks = queries.periods(url, queries.gemeenten(url)[0][0], "week")[-30:]
        latencies: list[float] = []
        errors: list[str] = []
        stop = time.perf_counter() + seconds
        lock = threading.Lock()

        def user(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop:
                payload = json.loads(json.dumps(rng.choice(payloads)))
                for item in payload.get("inputs", []):
                    if isinstance(item, dict) and item.get("id") == "wo-week":
                        item["value"] = rng.choice(weeks)
                body = json.dumps(payload).encode()
                request = urllib.request.Request(
                    base + "/_dash-update-component", data=body, headers={"Content-Type": "application/json"}
                )
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        response.read()
                        ok = response.status in (200, 204)
                except Exception as exc:
                    ok = False
                    with lock:
                        errors.append(str(exc))
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if not ok and len(errors) < 1:
                        errors.append("status")
                time.sleep(rng.uniform(0.5, 2.0))  # think time between clicks

        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {
            "users": users,
            "seconds": seconds,
            "requests": len(latencies),
            "errors": len(errors),
            "p50_ms": statistics.median(latencies),
            "p95_ms": float(np.percentile(latencies, 95)),
            "recorded_callbacks": len(payloads),
        }
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the national warehouse (0.1 = 10%%)")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--postgres", help="build the warehouses in PostgreSQL at this URL instead of SQLite")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workdir", help="reuse the warehouses built in this folder by an earlier run")
    args = parser.parse_args()
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"Werkmap: {work}", flush=True)
    results: dict[str, object] = {}

    def url_for(name: str) -> str:
        if args.postgres:
            from benchmarks.common import fresh_pg_database

            return fresh_pg_database(args.postgres, f"bench_dashboard_{name}")
        return f"sqlite:///{work / name}.sqlite"

    def report(key: str, value: object) -> None:
        results[key] = value
        print(f"{key}: {json.dumps(value, default=str)}", flush=True)

    reuse = bool(args.workdir) and not args.postgres
    if not args.skip_city:
        city = url_for("city")
        if reuse and (work / "city.sqlite").exists():
            gemeenten = ["GM7777"]
        else:
            print("Stad: 600 buurten, 10 jaar, ~60 000 incidenten per jaar ...", flush=True)
            built = build(city, 1, 600, 60, 10, 60_000, seed=1, stadsdelen=6)
            report("city_build_s", round(built["build_s"], 1))
            gemeenten = built["gemeenten"]
        report("city_callbacks", time_callbacks(city, gemeenten, sessions=3))
        report("city_map_drawn", browser_map_time(city, work))
        report("city_load_test", load_test(city, work, args.users, args.seconds))
    if not args.skip_national:
        n = max(1, int(345 * args.scale))
        national = url_for("national")
        if reuse and (work / "national.sqlite").exists():
            gemeenten = [f"GM{8000 + g:04d}" for g in range(n)]
        else:
            print(f"Landelijk: {n * 42} buurten in {n} gemeenten, 5 jaar ...", flush=True)
            built = build(national, n, 42, 8, 5, int(1_000_000 * args.scale), seed=2)
            report("national_build_s", round(built["build_s"], 1))
            gemeenten = built["gemeenten"]
        report("national_callbacks", time_callbacks(national, gemeenten, sessions=4))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
