"""The crime_category table: written by every BVH load (incident-level or counts) before its data, so
the dashboard and the analyses know every group label whatever form a gemeente delivers."""

from __future__ import annotations

from sqlalchemy import Connection

from etl import bvh
from warehouse.models import CrimeCategory
from warehouse.upsert import upsert


def sync_categories(conn: Connection, hic_groups: frozenset[str]) -> None:
    """The crime_category table follows the versioned data file; the HIC flag follows the settings."""
    version, items = bvh.catalogue()
    upsert(
        conn,
        CrimeCategory.__table__,
        [
            {
                "mk_code": c.mk_code,
                "mk_description": c.mk_description,
                "soort_code": c.soort_code or None,
                "soort_description": c.soort_description or None,
                "group_code": c.group_code,
                "group_label": c.group_label,
                "is_hic": c.group_code in hic_groups,
                "mapping_version": version,
            }
            for c in items.values()
        ],
        keys=["mk_code"],
        update=[
            "mk_description",
            "soort_code",
            "soort_description",
            "group_code",
            "group_label",
            "is_hic",
            "mapping_version",
        ],
    )
