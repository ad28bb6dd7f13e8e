"""Invariants every published cube must satisfy, checked from the stored cells alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select

from buurtbeeld import disclosure
from buurtbeeld.periods import containing
from etl.publish import KEY, full_hierarchy, links
from warehouse.db import get_engine
from warehouse.models import PublishedCount


def published(url: str, gemeente: str) -> pd.DataFrame:
    pc = PublishedCount
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(
                pc.period_type, pc.period, pc.area_level, pc.area_code, pc.group_code, pc.mk_code, pc.count, pc.status
            ).where(pc.gemeente_code == gemeente)
        ).all()
    return pd.DataFrame(
        rows, columns=["period_type", "period", "area_level", "area_code", "group_code", "mk_code", "count", "status"]
    )


def check_cube(url: str, gemeente: str, hierarchy: pd.DataFrame, threshold: int = 5) -> dict[str, int]:
    """No shown count 1..t-1; sums add up; no shown total reveals a hidden child (area and category
    relations); no shown month/quarter/year reveals a hidden part. Returns cell counts per status."""
    cells = published(url, gemeente)
    assert len(cells), "nothing published"
    small = (cells["count"] > 0) & (cells["count"] < threshold)
    assert (cells.loc[small, "status"] == disclosure.PRIMARY).all()
    assert not ((cells["status"] == disclosure.PRIMARY) & ~small).any()

    # Rebuild the relations from the hierarchy (+ the pseudo areas) and re-check them.
    hier = full_hierarchy(hierarchy)[0].set_index("buurt_code")
    for kind, cube in cells.groupby("period_type"):
        cube = cube.reset_index(drop=True)
        buurt = cube["area_level"] == "buurt"
        cube["wijk"] = np.where(buurt, cube["area_code"].map(hier["wijk_code"]), None)
        cube["stadsdeel"] = np.where(buurt, cube["area_code"].map(hier["stadsdeel"]), None)
        parent, child, relation = links(cube[[*KEY, "wijk", "stadsdeel", "count"]])
        counts = cube["count"].to_numpy()
        sums = pd.Series(counts[child]).groupby(relation).sum()
        heads = pd.Series(counts[parent]).groupby(relation).first()
        assert (sums == heads).all(), f"{kind}: parts do not add up"
        status = cube["status"].to_numpy().astype(np.int8)
        bad = disclosure.derivable_relations(counts, status, parent, child, relation, threshold)
        assert not bad.any(), f"{kind}: a shown total reveals a hidden cell"

    # Time: a shown coarser period must not reveal a hidden finer one.
    for coarse, finer in (("month", ["week"]), ("quarter", ["month", "week"]), ("year", ["quarter", "month", "week"])):
        parents = cells[cells["period_type"] == coarse]
        shown = parents[parents["status"] == disclosure.SHOWN].set_index(
            ["period", "area_level", "area_code", "group_code", "mk_code"]
        )
        for kind in finer:
            parts = cells[cells["period_type"] == kind].copy()
            parts["target"] = [containing(p, coarse) for p in parts["period"]]
            keys = parts[["target", "area_level", "area_code", "group_code", "mk_code"]]
            reveal = disclosure.derivable_from_components(keys, parts["count"], parts["status"], threshold)
            leaking = reveal[reveal].index.intersection(shown.index)
            assert len(leaking) == 0, f"shown {coarse} cells reveal a hidden {kind}: {list(leaking)[:5]}"
    return cells["status"].value_counts().to_dict()
