"""
### monthly_analyses: de maandanalyses per buurt, wijk, stadsdeel en gemeente

Draait zodra een BVH-lading het warehouse heeft bijgewerkt (asset `buurtbeeld_incidenten`), en
daarnaast op de 5e van elke maand om 08:00 als vangnet. Per gemeente wordt gekeken of de laatste
volledige maand al geanalyseerd is; zo niet, dan wordt hij berekend: één taak per stadsdeel (dynamic
task mapping; een fout in één stadsdeel houdt de andere niet tegen) plus één voor het gemeentelijk
overzicht. Herzieningen van eerdere maanden regelt de lading zelf (oudere versie: vervangen). Een
maand waarvan een wekelijkse levering ontbreekt, is niet volledig en wacht (het log zegt welke week).

Handmatig: start met parameter `maand` (`JJJJ-MM`) om die maand opnieuw te berekenen, en met
`maand` en `tot_maand` om een reeks maanden te berekenen (na een backfill).
"""

from __future__ import annotations

from _defaults import DEFAULT_ARGS, INCIDENTS, RUN_TIMEOUT, START, TZ
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException


@dag(
    dag_id="monthly_analyses",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 8 5 * *", timezone=TZ),
        assets=[INCIDENTS],
    ),
    start_date=START,
    catchup=False,  # the warehouse, not the date, says which month is due
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    tags=["buurtbeeld", "analyses"],
    doc_md=__doc__,
    params={
        "maand": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$|^$"),
        "tot_maand": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$|^$",
            description="Met 'maand': alle maanden van 'maand' t/m deze (inhalen na een backfill).",
        ),
    },
)
def monthly_analyses() -> None:
    @task
    def te_analyseren() -> list[dict[str, str]]:
        from buurtbeeld.settings import get_settings
        from etl import analyses

        settings = get_settings()
        params = get_current_context()["params"]
        due = analyses.due(settings, params.get("maand") or None, params.get("tot_maand") or None)
        waiting = analyses.waiting(settings)
        for line in waiting:
            print(f"WACHT: {line}")
        if not due:
            raise AirflowSkipException(" ".join(["Geen nieuwe volledige maand om te analyseren.", *waiting]))
        return [{**item, "scope": scope} for item in due for scope in analyses.scopes(settings, item["gemeente"])]

    # At most two scopes at a time: each reads the warehouse and fits a model per buurt; the
    # LocalExecutor's other slots stay free for a load that arrives meanwhile.
    @task(map_index_template="{{ gebied }}", max_active_tis_per_dagrun=2)
    def analyseren(item: dict[str, str]) -> str:
        from buurtbeeld.settings import get_settings
        from etl import analyses

        get_current_context()["gebied"] = f"{item['gemeente']} {item['month']} {item['scope']}"  # type: ignore[literal-required]

        results = analyses.generate(
            get_settings(), item["month"], scope=item["scope"], gemeente=item["gemeente"], run_by="airflow"
        )
        return "; ".join(r.line for r in results)

    analyseren.expand(item=te_analyseren())


monthly_analyses()
