"""What every Buurtbeeld DAG shares: owner, retries, alerting, the time zone and the warehouse asset.

Not a DAG file (listed in .airflowignore). Cheap to import: no Buurtbeeld module is imported here;
the alert callback imports etl.notify only when a task has failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import Asset
from airflow.sdk.configuration import conf

TZ = "Europe/Amsterdam"
START = datetime(2026, 1, 5, tzinfo=ZoneInfo(TZ))
# The connection (type fs) whose extra "path" is the inbox root, BUURTBEELD_INBOX_DIR; see README.
INBOX_CONN = "buurtbeeld_inbox"
# How often a waiting run looks in its inbox again: Airflow's own configuration (section buurtbeeld,
# env AIRFLOW__BUURTBEELD__INBOX_POKE_SECONDS), as it schedules, and the DAG files may not import
# Buurtbeeld's settings when Airflow parses them. The tests look every second.
INBOX_POKE = timedelta(seconds=conf.getint("buurtbeeld", "inbox_poke_seconds", fallback=600))
# Updated by every BVH load that changed the warehouse; the monthly analyses run on it.
INCIDENTS = Asset(name="buurtbeeld_incidenten", uri="buurtbeeld://warehouse/incidenten")


def alert(context: dict[str, Any]) -> None:
    from etl.notify import on_failure

    on_failure(context)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "functioneel-beheer",
    # A locked SQLite file or a database restart is worth a few tries; a bad file is not retried
    # (the tasks raise AirflowFailException for that), so retries never re-run a refused load.
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": alert,
    # A task that hangs (a lock that is never released, a stuck mount) fails and alerts instead of
    # blocking every later run; the longest normal task, a first load of years of exports, takes minutes.
    "execution_timeout": timedelta(hours=3),
}
# A whole run: bvh_weekly waits up to 11 hours for the police file, then loads.
RUN_TIMEOUT = timedelta(hours=14)
