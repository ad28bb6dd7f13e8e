"""Helpers shared by the benchmarks: peak memory of this process, a fresh PostgreSQL database, the
benchmark city."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss alone: Linux carries that over from the parent across
    fork+exec, so a child started by a big parent would report the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_pg_database(url: str, name: str) -> str:
    """Drop and create database `name` on the server of `url`; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def benchmark_city(rng: object, gpkg: Path) -> object:
    """The benchmark city (600 buurten in 60 wijken), written to `gpkg`; returns the generator's City."""
    import numpy as np

    from etl.demo import make_buurten
    from etl.demo_bvh import City

    buurten = make_buurten(rng, [f"Wijk {i:02d}" for i in range(60)], per_wijk=10, radius=12_000)
    buurten.to_file(gpkg, layer="buurten", driver="GPKG")
    return City(
        "GM9999",
        buurten["buurtcode"].to_numpy(),
        buurten["buurtnaam"].to_numpy(),
        np.array([f"Wijk {c[-2:]}" for c in buurten["wijkcode"]]),
        np.asarray(buurten.geometry.values),
        rng.integers(200, 4000, len(buurten)).astype(float),
        np.ones(len(buurten)),
    )
