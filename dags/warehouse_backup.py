"""
### warehouse_backup: nachtelijke backup van warehouse, archief en sleutels

Elke nacht om 01:30 (Europe/Amsterdam) maakt deze DAG een backup in `BUURTBEELD_BACKUP_DIR`
(standaard `backups/` in de datamap): het warehouse (SQLite: online backup; PostgreSQL: pg_dump),
het archief, de quarantaine, de geheime sleutelbestanden en een manifest met controlesommen en
aantallen rijen. Daarna worden backups boven de nieuwste `BUURTBEELD_BACKUP_KEEP` (standaard 14)
verwijderd. Met de hand: `buurtbeeld backup`; terugzetten: `buurtbeeld restore BACKUP`
(docs/operations.md, "Backup, restore, upgrade and rollback").
"""

from __future__ import annotations

from _defaults import DEFAULT_ARGS, RUN_TIMEOUT, START, TZ
from airflow.sdk import CronTriggerTimetable, dag, task


@dag(
    dag_id="warehouse_backup",
    # 01:30, not 02:30: on the last Sunday of March 02:00-03:00 does not exist in Europe/Amsterdam and
    # in October it happens twice. Before archief_opruimen (03:30) and the morning loads.
    schedule=CronTriggerTimetable("30 1 * * *", timezone=TZ),
    start_date=START,
    catchup=False,  # a backup is of now: a missed night is not made up for
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    tags=["buurtbeeld", "beheer"],
    doc_md=__doc__,
)
def warehouse_backup() -> None:
    @task
    def backup() -> dict[str, object]:
        from buurtbeeld.settings import get_settings
        from etl.backup import make_backup

        made = make_backup(get_settings())
        print(f"backup: {made.path} ({made.rows} rijen, {len(made.manifest['files'])} bestanden)")
        return {"backup": str(made.path), "rijen": made.rows, "bestanden": len(made.manifest["files"])}

    @task
    def opruimen() -> list[str]:
        from buurtbeeld.settings import get_settings
        from etl.backup import prune

        gone = prune(get_settings())
        for path in gone:
            print(f"verwijderd: {path}")
        return [str(p) for p in gone]

    # Old backups go only after tonight's succeeded: a failing backup never leaves fewer behind.
    backup() >> opruimen()


warehouse_backup()
