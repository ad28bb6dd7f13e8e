"""
### bvh_weekly: de wekelijkse BVH-export van de politie laden

Elke werkdag om 07:00 (Europe/Amsterdam) kijkt deze DAG in de inbox `bvh/`. Op maandag, de
leverdag, wacht hij tot er een bestand klaarstaat (elke 10 minuten kijken, tot 18:00; wachten kost
geen worker); komt er niets, dan mislukt de taak `wacht_op_bestanden` en volgt een melding. Op de
andere dagen laadt hij wat er (laat) binnenkwam en slaat hij over als de inbox leeg is. Een bestand
telt pas als het `inbox_settle_seconds` (standaard 120) seconden niet meer veranderd is of als er
een `<bestand>.klaar` naast staat; tijdelijke namen (`.part`, `.filepart`, `.tmp`, `~$…`) worden
genegeerd en een onbekend bestandstype gaat met een reden naar `quarantine/bvh/` (één melding). Dan
per bestand, in de volgorde van de weken die het dekt (niet van de naam):

1. **controleren**: bestaat het bestand, is het niet leeg, is het csv/xlsx (waarschuwing in het log);
2. **laden en aggregeren** in één transactie per bestand: elke regel gevalideerd (kolommen, datums,
   MK-codes, buurt; afgekeurde regels met reden bewaard), incidenten, weektellingen, de gepubliceerde
   (afgeschermde) cijfers en daarna de maandanalyses van herziene maanden;
3. **opbergen**: geladen bestanden naar `archive/ontvangen/bvh/<datum>/`, geweigerde naar
   `quarantine/bvh/`;
4. **afkeuringenrapport** (xlsx in `quarantine/bvh/`) als er iets is afgekeurd; het pad staat in XCom.

Daarna, in elke run (ook als er niets binnenkwam), **leveringen_controleren**: volgens het
leveringsregister hoort er elke week een export te zijn (uiterlijk maandag 18:00 voor de week
ervoor). Voor elke ontbrekende week komt één melding "levering ontbreekt"; maanden met zo'n week
worden niet als volledig gepubliceerd of geanalyseerd tot de levering er is.

Een geweigerd bestand laat het warehouse ongemoeid; de goede bestanden van dezelfde run worden wel
geladen, en de run eindigt dan als *failed* met een melding (log, en webhook/e-mail als ingesteld).

**Opnieuw draaien**: zet het bestand terug in de inbox, of start de DAG met de parameter `bestand`
(een pad, of alleen de naam van een eerder ontvangen bestand: dan wordt het uit het archief
genomen); een ongewijzigd bestand wordt herkend en verandert niets. Parameter `jaar`: de buurtindeling
waarop geladen wordt (standaard de nieuwste).
"""

from __future__ import annotations

from typing import Any

from _defaults import DEFAULT_ARGS, INBOX_POKE, INCIDENTS, RUN_TIMEOUT, START, TZ
from airflow.sdk import (
    CronTriggerTimetable,
    Param,
    PokeReturnValue,
    TriggerRule,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

DELIVERY_DAY = 0  # Monday: the police export arrives then; the other weekdays pick up late files


@dag(
    dag_id="bvh_weekly",
    schedule=CronTriggerTimetable("0 7 * * 1-5", timezone=TZ),
    start_date=START,
    # The inbox, not the date, says what to load: a missed Monday is caught up by the next run.
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    tags=["buurtbeeld", "bvh", "laden"],
    doc_md=__doc__,
    params={
        "bestand": Param(None, type=["null", "string"], description="Eén bestand (pad) in plaats van de inbox."),
        "jaar": Param(None, type=["null", "integer"], description="Buurtindeling (jaar); standaard de nieuwste."),
        "wachten": Param(
            False, type="boolean", description="Wachten tot er een bestand klaarstaat, ook buiten de leverdag."
        ),
    },
)
def bvh_weekly() -> None:
    # The sensor is the listing: it hands on exactly the files it found ready, so a file that arrives
    # after 07:00 is loaded by this run, not left for next week.
    @task.sensor(poke_interval=INBOX_POKE, timeout=11 * 3600, mode="reschedule")
    def wacht_op_bestanden() -> PokeReturnValue:
        from pendulum import instance

        from buurtbeeld.settings import get_settings
        from etl import inbox, notify

        context = get_current_context()
        settings = get_settings()
        chosen = context["params"].get("bestand")
        if chosen:
            return PokeReturnValue(is_done=True, xcom_value=[inbox.locate(settings, "bvh", chosen)])
        found = inbox.look(settings, "bvh")
        for reason in found.quarantined:
            notify.alert("bestand in quarantaine", reason, settings, dag="bvh_weekly")
        if found.ready:
            return PokeReturnValue(is_done=True, xcom_value=found.ready)
        run = context["dag_run"]
        scheduled = run.run_type == "scheduled" and run.logical_date is not None
        delivery_day = scheduled and instance(run.logical_date).in_tz(TZ).weekday() == DELIVERY_DAY
        if not found.waiting and not (delivery_day or context["params"].get("wachten")):
            raise AirflowSkipException("Geen bestanden in de inbox.")
        return PokeReturnValue(is_done=False)

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

    # Every run, also when nothing arrived (all_done): the register says which expected weekly
    # exports are missing, and ops get one alert per missing week.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def leveringen_controleren() -> list[str]:
        from buurtbeeld.settings import get_settings
        from etl.deliveries import alert_missing

        return alert_missing(get_settings())

    @task
    def resultaat(outcomes: list[dict[str, Any]], report: str | None) -> None:
        from etl import inbox

        message = inbox.failures(outcomes)
        if message:
            raise AirflowFailException(message + (f" Afkeuringen: {report}" if report else ""))

    files = controleren(wacht_op_bestanden())
    outcomes = laden_en_aggregeren(files)
    report = afkeuringenrapport(outcomes)
    opbergen(outcomes)
    warehouse_bijgewerkt(outcomes)
    resultaat(outcomes, report)
    outcomes >> leveringen_controleren()


bvh_weekly()
