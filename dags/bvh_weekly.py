"""
### bvh_weekly: de wekelijkse BVH-export van de politie laden

Elke maandag 07:00 (Europe/Amsterdam) wacht deze DAG tot er bestanden in de inbox `bvh/` staan
(uitgestelde FileSensor: wachten kost geen worker, de triggerer kijkt elke 10 minuten, tot 18:00),
en dan per bestand, in naamvolgorde:

1. **controleren**: bestaat het bestand, is het niet leeg, is het csv/xlsx (waarschuwing in het log);
2. **laden en aggregeren** in één transactie per bestand: elke regel gevalideerd (kolommen, datums,
   MK-codes, buurt; afgekeurde regels met reden bewaard), incidenten, weektellingen, de gepubliceerde
   (afgeschermde) cijfers en daarna de maandanalyses van herziene maanden;
3. **opbergen**: geladen bestanden naar `archive/ontvangen/bvh/<datum>/`, geweigerde naar
   `quarantine/bvh/`;
4. **afkeuringenrapport** (xlsx in `quarantine/bvh/`) als er iets is afgekeurd; het pad staat in XCom.

Een geweigerd bestand laat het warehouse ongemoeid; de goede bestanden van dezelfde run worden wel
geladen, en de run eindigt dan als *failed* met een melding (log, en webhook/e-mail als ingesteld).

**Opnieuw draaien**: zet het bestand terug in de inbox (of geef `bestand` mee als parameter) en start
de DAG; een ongewijzigd bestand wordt herkend en verandert niets. Parameter `jaar`: de buurtindeling
waarop geladen wordt (standaard de nieuwste).
"""

from __future__ import annotations

from typing import Any

from _defaults import DEFAULT_ARGS, INBOX_CONN, INCIDENTS, START, TZ
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException


@dag(
    dag_id="bvh_weekly",
    schedule=CronTriggerTimetable("0 7 * * 1", timezone=TZ),
    start_date=START,
    # The inbox, not the date, says what to load: a missed Monday is caught up by the next run.
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["buurtbeeld", "bvh", "laden"],
    doc_md=__doc__,
    params={
        "bestand": Param(None, type=["null", "string"], description="Eén bestand (pad) in plaats van de inbox."),
        "jaar": Param(None, type=["null", "integer"], description="Buurtindeling (jaar); standaard de nieuwste."),
    },
)
def bvh_weekly() -> None:
    wait = FileSensor(
        task_id="wacht_op_bestanden",
        fs_conn_id=INBOX_CONN,
        filepath="bvh/*",
        deferrable=True,
        poke_interval=600,
        timeout=11 * 3600,
    )

    @task
    def bestanden() -> list[str]:
        from buurtbeeld.settings import get_settings
        from etl import inbox

        chosen = get_current_context()["params"].get("bestand")
        return [chosen] if chosen else inbox.pending(get_settings(), "bvh")

    @task
    def controleren(paths: list[str]) -> list[str]:
        from etl.inbox import check

        if not paths:
            raise AirflowSkipException("Geen bestanden in de inbox.")
        for problem in check(paths):
            print(f"WAARSCHUWING: {problem}")  # the load refuses such a file with the same reason
        return paths

    @task
    def laden_en_aggregeren(paths: list[str]) -> list[dict[str, Any]]:
        from buurtbeeld.settings import get_settings
        from etl import inbox

        return inbox.load_all(get_settings(), "bvh", paths, get_current_context()["params"])

    @task
    def opbergen(outcomes: list[dict[str, Any]]) -> list[str]:
        from buurtbeeld.settings import get_settings
        from etl import inbox

        return inbox.file_away(get_settings(), "bvh", outcomes)

    @task
    def afkeuringenrapport(outcomes: list[dict[str, Any]]) -> str | None:
        from buurtbeeld.settings import get_settings
        from etl import inbox

        return inbox.rejects_report(get_settings(), "bvh", outcomes)

    @task(outlets=[INCIDENTS])
    def warehouse_bijgewerkt(outcomes: list[dict[str, Any]]) -> int:
        """Announces the asset only when a file changed the warehouse (the monthly analyses follow)."""
        loaded = [o for o in outcomes if o["status"] == "loaded"]
        if not loaded:
            raise AirflowSkipException("Niets nieuws geladen.")
        return len(loaded)

    @task
    def resultaat(outcomes: list[dict[str, Any]], report: str | None) -> None:
        from etl import inbox

        message = inbox.failures(outcomes)
        if message:
            raise AirflowFailException(message + (f" Afkeuringen: {report}" if report else ""))

    files = controleren(bestanden())
    wait >> files
    outcomes = laden_en_aggregeren(files)
    report = afkeuringenrapport(outcomes)
    opbergen(outcomes)
    warehouse_bijgewerkt(outcomes)
    resultaat(outcomes, report)


bvh_weekly()
