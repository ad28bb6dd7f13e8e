"""Benchmark: the attacker who keeps every weekly state of the published figures.

The real Groningen police export (../shared/data/real, 15 947 registrations 2013-2017) is cut into
weekly deliveries by the week of registration and loaded one after another, as a gemeente would.
After every load each ISO year of the gedeeld figures is attacked alone (`audit_year`) and together
with the same year as it was published before the load (`audit_pair`: the attacker knows which
counts did not change). Reported: how many true small counts either attack narrows below
disclosure.MIN_WIDTH, and how often protecting the new figures beside the previous state failed and
`share` fell back (to the year protected alone, or new and changed cells hidden).

    .venv/bin/python benchmarks/pair_attack.py [--weeks N] [--alone]

--weeks N loads only the first N weekly deliveries (default: all, about 230).
--alone protects every publication on its own (no previous state beside it), for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REAL = ROOT.parent / "shared" / "data" / "real"
EXPORT = REAL / "crime/politie_bvh_export_fietsdiefstal_groningen_2013_2017.xlsx"
BUURTEN = REAL / "geometry/cbs_buurten_2017_groningen_wgs84.geojson"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=0)
    parser.add_argument("--alone", action="store_true")
    args = parser.parse_args()

    import pandas as pd

    import etl.publish as publish
    from buurtbeeld.settings import Settings
    from etl.load_buurten import load_buurten
    from etl.load_bvh import load_bvh
    from warehouse import published as store
    from warehouse.db import get_engine, upgrade

    fallbacks = {"pair": 0, "alone": 0}
    protect = publish._protect_keeping

    def counted(*a: object) -> object:
        result = protect(*a)
        if a[-1] is not None:
            fallbacks["pair" if result is not None else "alone"] += 1
        return result

    publish._protect_keeping = counted  # count, do not change, what share() decides
    if args.alone:
        publish.carried_over = lambda *a: False
    export = pd.read_excel(EXPORT, dtype=str, engine="calamine")
    stamp = pd.to_datetime(export["Kennisnamedatum/tijd"], errors="coerce")
    week = stamp.dt.isocalendar()
    export["_week"] = (week["year"] * 100 + week["week"]).astype("Int64")
    weeks = sorted(export["_week"].dropna().unique())
    if args.weeks:
        weeks = weeks[: args.weeks]
    out = {"deliveries": 0, "years_attacked": 0, "alone_narrowed": 0, "pair_narrowed": 0, "pair_states": 0}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'w.sqlite'}"
        upgrade(url)
        settings = Settings(data_dir=root / "var", warehouse_url=url, hash_secret="benchmark")
        assert load_buurten(BUURTEN, 2017, settings).ok
        gemeente = "GM0014"
        before = None
        for n, w in enumerate(weeks):
            path = root / f"bvh_{w}.csv"
            export[export["_week"] == w].drop(columns="_week").to_csv(path, sep=";", index=False)
            outcome = load_bvh(path, settings)
            assert outcome.ok, outcome.message
            out["deliveries"] += 1
            with get_engine(url).connect() as conn:
                after = store.cells(conn, gemeente)
                hierarchy = store.hierarchy(conn, gemeente, store.latest_year(conn, gemeente))
            narrowed_here = 0
            for year in sorted(set(after["period"].str[:4])):
                new = after[after["period"].str.startswith(year)]
                out["years_attacked"] += 1
                out["alone_narrowed"] += len(publish.audit_year(new, hierarchy, 5).findings)
                if before is not None and (before["period"].str.startswith(year)).any():
                    old = before[before["period"].str.startswith(year)]
                    found = publish.audit_pair(old, new, hierarchy, 5)
                    narrowed_here += len(found)
            out["pair_narrowed"] += narrowed_here
            out["pair_states"] += bool(narrowed_here)
            before = after
            if n % 20 == 0:
                print(f"{n + 1}/{len(weeks)} deliveries, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    out["published_beside_previous"] = fallbacks["pair"]
    out["fell_back"] = fallbacks["alone"]  # to the first of share()'s fallbacks the pair attack passes
    out["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
