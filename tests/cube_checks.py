"""Invariants every published cube must satisfy, checked from the stored cells alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from buurtbeeld import disclosure
from etl.publish import KEY, audit_year, cube_relations, full_hierarchy, shared_design
from warehouse import published as store
from warehouse.db import get_engine


def published(url: str, gemeente: str) -> pd.DataFrame:
    with get_engine(url).connect() as conn:
        frame = store.cells(conn, gemeente)
    frame["shared_count"] = frame["shared_count"].astype("float64")
    return frame


def check_cube(url: str, gemeente: str, hierarchy: pd.DataFrame, threshold: int = 5) -> dict[str, int]:
    """Exact counts add up along every relation; the gedeeld audience is offered only the shared design,
    as multiples of the threshold within the rounding rule (a coarse figure: the nearest multiple of
    twice the threshold, of a kept total); and the auditor narrows no true small count below
    disclosure.MIN_WIDTH. Returns the number of design cells shown (coarse ones too) and hidden."""
    cells = published(url, gemeente)
    assert len(cells), "nothing published"
    design = shared_design(cells)
    assert (cells.loc[~design, "status"] != disclosure.SHOWN).all() and cells.loc[~design, "shared_count"].isna().all()
    shown = cells[design & (cells["status"] == disclosure.SHOWN)]
    assert (shown["shared_count"] % threshold == 0).all()
    low, high = disclosure.rounding_box(shown["shared_count"].to_numpy(), np.zeros(len(shown), bool), threshold)
    assert ((low <= shown["count"]) & (shown["count"] <= high)).all(), "a shared figure outside its rounding"
    coarse = cells[design & (cells["status"] == disclosure.COARSE)]
    assert (coarse["shared_count"] == disclosure.coarse_figure(coarse["count"], threshold)).all()
    assert (coarse["count"] >= threshold).all()

    hier = full_hierarchy(hierarchy)[0].set_index("buurt_code")
    for year, cube in cells.groupby(cells["period"].str[:4]):
        cube = cube.reset_index(drop=True)
        buurt = cube["area_level"] == "buurt"
        cube["wijk"] = np.where(buurt, cube["area_code"].map(hier["wijk_code"]), None)
        cube["stadsdeel"] = np.where(buurt, cube["area_code"].map(hier["stadsdeel"]), None)
        rel = cube_relations(cube[[*KEY, "period_type", "wijk", "stadsdeel", "count"]])
        counts = cube["count"].to_numpy()
        index, heads, r = rel.compact()
        assert np.array_equal(np.bincount(index, weights=counts[rel.child], minlength=r), counts[heads]), (
            f"{year}: parts do not add up"
        )
        attacked = audit_year(cells[cells["period"].str[:4] == year], hierarchy, threshold)
        assert not attacked.findings, f"{year}: the auditor narrows {len(attacked.findings)} small counts"
    return {
        "shown": len(shown) + len(coarse),
        "hidden": int((design & (cells["status"] == disclosure.SECONDARY)).sum()),
        "outside": int((~design).sum()),
    }
