"""
### indicators_load en buurten_load: indicatoren en CBS-buurtindelingen uit hun inbox laden

Elke ochtend om 06:30 (Europe/Amsterdam) kijken deze DAGs of er een bestand in hun inbox staat
(`indicatoren/` of `buurten/`); zo niet, dan wordt de run overgeslagen (grijs, geen melding). Een
bestand wordt geladen, opgeborgen (archief of quarantaine) en bij afkeuringen komt er een rapport in
`quarantine/<soort>/`.

Handmatig starten kan met een parameter: `periode` (indicatoren, bv. `2024` als het bestand zelf geen
periode noemt) of `jaar` (buurten: het indelingsjaar; standaard het jaar in de bestandsnaam). Na een
nieuwe buurtindeling worden de gepubliceerde cijfers en maandanalyses van de gemeente opnieuw berekend.
"""

from __future__ import annotations

from typing import Any

from _defaults import DEFAULT_ARGS, INBOX_CONN, RUN_TIMEOUT, START, TZ
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException


def inbox_dag(dag_id: str, kind: str, params: dict[str, Param]) -> None:
    """One small load DAG for an inbox; the BVH export has its own (bvh_weekly.py)."""

    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable("30 6 * * *", timezone=TZ),
        start_date=START,
        catchup=False,  # the inbox says what to load, not the date
        max_active_runs=1,
        dagrun_timeout=RUN_TIMEOUT,
        default_args=DEFAULT_ARGS,
        tags=["buurtbeeld", kind, "laden"],
        doc_md=__doc__,
        params=params,
    )
    def load_dag() -> None:
        # Poke once a minute for a few minutes, then skip: these files come a few times a year.
        wait = FileSensor(
            task_id="wacht_op_bestanden",
            fs_conn_id=INBOX_CONN,
            filepath=f"{kind}/*",
            poke_interval=60,
            timeout=300,
            mode="reschedule",
            soft_fail=True,
        )

        @task
        def laden() -> list[dict[str, Any]]:
            from buurtbeeld.settings import get_settings
            from etl import inbox

            settings = get_settings()
            return inbox.load_all(settings, kind, inbox.pending(settings, kind), get_current_context()["params"])

        @task
        def opbergen(outcomes: list[dict[str, Any]]) -> list[str]:
            from buurtbeeld.settings import get_settings
            from etl import inbox

            return inbox.file_away(get_settings(), kind, outcomes)

        @task
        def afkeuringenrapport(outcomes: list[dict[str, Any]]) -> str | None:
            from buurtbeeld.settings import get_settings
            from etl import inbox

            return inbox.rejects_report(get_settings(), kind, outcomes)

        @task
        def resultaat(outcomes: list[dict[str, Any]], report: str | None) -> None:
            from etl import inbox

            message = inbox.failures(outcomes)
            if message:
                raise AirflowFailException(message + (f" Afkeuringen: {report}" if report else ""))

        outcomes = laden()
        wait >> outcomes
        opbergen(outcomes)
        resultaat(outcomes, afkeuringenrapport(outcomes))

    load_dag()


inbox_dag(
    "indicators_load",
    "indicatoren",
    {"periode": Param(None, type=["null", "string"], description="Periode als het bestand er zelf geen noemt.")},
)
inbox_dag(
    "buurten_load",
    "buurten",
    {"jaar": Param(None, type=["null", "integer"], description="Indelingsjaar; standaard uit de bestandsnaam.")},
)
