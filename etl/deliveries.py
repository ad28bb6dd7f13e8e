"""Expected deliveries: what period a police file covers (from its own dates), and the alert when an
expected weekly export is missing. The register itself is warehouse.deliveries."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd

from buurtbeeld.settings import Settings
from etl import notify
from warehouse import deliveries
from warehouse.db import get_engine

# A week named in the file name (bvh_2026-W47.xlsx, export 2026W47.csv): the week the export is of,
# even when its rows do not reach it (a week without registrations, or only late ones).
_WEEK_IN_NAME = re.compile(r"(?<!\d)(20\d\d)[-_ ]?W(\d\d)(?!\d)", re.IGNORECASE)


def named_week(file_name: str) -> int | None:
    found = _WEEK_IN_NAME.search(file_name)
    if not found:
        return None
    year, week = int(found.group(1)), int(found.group(2))
    try:
        return deliveries.week_key(datetime.fromisocalendar(year, week, 1).date())
    except ValueError:
        return None


def file_periods(gemeente: pd.Series, moments: pd.Series, file_name: str) -> dict[str, tuple[int, int]]:
    """Per gemeente, the first and last week a file covers: the weeks of its rows' kennisname (the
    caller passes the pleegmoment where a row has none), stretched to a week its name gives. A weekly
    export covers its week, a history export all of its weeks. Late revisions of old incidents can
    stretch a period back; that hides a missing week only when such a revision falls in it."""
    frame = pd.DataFrame({"g": gemeente.astype("str").to_numpy(), "at": pd.to_datetime(moments).to_numpy()})
    frame = frame.dropna()
    if frame.empty:
        return {}
    named = named_week(file_name)
    out = {}
    for g, low, high in frame.groupby("g")["at"].agg(["min", "max"]).itertuples(name=None):
        first, last = deliveries.week_key(low.date()), deliveries.week_key(high.date())
        if named is not None:
            first, last = min(first, named), max(last, named)
        out[str(g)] = (first, last)
    return out


def week_periods(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per gemeente, the first and last week of a counts file (gemeente_code, iso_year, iso_week)."""
    if frame.empty:
        return {}
    keys = frame["iso_year"].astype("int64") * 100 + frame["iso_week"].astype("int64")
    by = keys.groupby(frame["gemeente_code"].astype("str")).agg(["min", "max"])
    return {str(g): (int(a), int(b)) for g, a, b in by.itertuples(name=None)}


def week_text(key: int) -> str:
    return f"week {key % 100} van {key // 100}"


def weeks_text(keys: list[int]) -> str:
    shown = ", ".join(week_text(k) for k in keys[:8])
    return shown + (f" en nog {len(keys) - 8}" if len(keys) > 8 else "")


def alert_missing(settings: Settings, now: datetime | None = None) -> list[str]:
    """Alert ops once per missing weekly export ("levering ontbreekt"); returns the alert texts."""
    now = now or datetime.now(UTC)
    with get_engine(settings.warehouse_url).begin() as conn:
        found = deliveries.registers(conn, now)
        fresh = deliveries.not_yet_alerted(conn, found)
        deliveries.mark_alerted(conn, fresh, now.replace(tzinfo=None))
    texts = []
    for gemeente, weeks in fresh.items():
        text = (
            f"{gemeente}: geen politie-export geladen voor {weeks_text(weeks)}. De maanden met die weken "
            "worden niet als volledig gepubliceerd of geanalyseerd tot de levering er is."
        )
        notify.alert("levering ontbreekt", text, settings, gemeente=gemeente)
        texts.append(text)
    return texts
