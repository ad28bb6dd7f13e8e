"""
### archief_opruimen: politie-exports verwijderen na de bewaartermijn

Elke nacht om 03:30 (Europe/Amsterdam) worden ruwe BVH-exports (met adressen en X/Y) uit het archief
en de quarantaine verwijderd zodra ze ouder zijn dan `BUURTBEELD_ARCHIVE_RETENTION_DAYS` (standaard
91 dagen). Wat het warehouse ervan maakte (tellingen, ladingen, redenen van afkeur) blijft. Met de
hand hetzelfde: `buurtbeeld opruimen` (`--proef` toont alleen wat weg zou gaan).
"""

from __future__ import annotations

from _defaults import DEFAULT_ARGS, RUN_TIMEOUT, START, TZ
from airflow.sdk import CronTriggerTimetable, dag, task


@dag(
    dag_id="archief_opruimen",
    schedule=CronTriggerTimetable("30 3 * * *", timezone=TZ),
    start_date=START,
    catchup=False,  # the file dates, not the run date, say what is due
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    tags=["buurtbeeld", "privacy"],
    doc_md=__doc__,
)
def archief_opruimen() -> None:
    @task
    def opruimen() -> dict[str, int]:
        from buurtbeeld.settings import get_settings
        from etl.retention import purge

        found = purge(get_settings())
        for path in [*found.folders, *found.files]:
            print(f"verwijderd: {path}")
        return {"mappen": len(found.folders), "bestanden": len(found.files)}

    opruimen()


archief_opruimen()
