"""Keep the Weekoverzicht's first view warm in every gunicorn worker.

The query caches are per process and keyed by the latest load batch, so a fresh worker, and every
worker after a new load, would make the first visitor wait for the database (0.8 s of the city
benchmark's first visit). A daemon thread fills them at worker start and again whenever a new batch
appears. Started by gunicorn's post_worker_init hook (dashboard/gunicorn_conf.py), never at import.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)
CHECK_EVERY_S = 30.0


def warm_once() -> int:
    """Warm the default gemeente's first view; returns the batch id the caches now hold."""
    from dashboard import components as ui
    from dashboard.pages import weekoverzicht
    from warehouse import queries

    version = queries.state(ui.url())
    present = queries.gemeenten(ui.url())  # no user here: the default view of the first gemeente
    if present:
        weekoverzicht.warm(present[0][0])
    return version


def _loop() -> None:
    from dashboard import components as ui
    from warehouse import queries

    seen = None
    while True:
        try:
            if queries.state(ui.url()) != seen:
                started = time.perf_counter()
                seen = warm_once()
                log.info("caches warm for batch %s in %.2f s", seen, time.perf_counter() - started)
        except Exception:  # a warm-up is an optimisation: never take the worker down with it
            log.exception("warming the caches failed; the next visit reads from the database")
        time.sleep(CHECK_EVERY_S)


def start() -> threading.Thread:
    thread = threading.Thread(target=_loop, name="buurtbeeld-warmup", daemon=True)
    thread.start()
    return thread
