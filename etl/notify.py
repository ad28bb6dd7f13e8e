"""Alerts for ops when a scheduled task fails: always a log line, and optionally a webhook and a mail.

Called from the DAGs' on_failure_callback with Airflow's context; only plain values are read from it
so this module does not import Airflow. A failing alert is logged and never hides the task's own error.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from buurtbeeld.settings import Settings, get_settings

log = logging.getLogger("buurtbeeld.alert")


def message(context: dict[str, Any]) -> dict[str, str]:
    """What went wrong, where, and where to look: the fields of every alert."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "") or str(context.get("dag_id", ""))
    task_id = getattr(ti, "task_id", "") or ""
    run_id = str(context.get("run_id", "") or getattr(ti, "run_id", ""))
    error = context.get("exception")
    return {
        "titel": f"Buurtbeeld: taak {dag_id}.{task_id} mislukt",
        "dag": dag_id,
        "taak": task_id,
        "run": run_id,
        "poging": str(getattr(ti, "try_number", "")),
        "fout": str(error) if error else "onbekend (zie het takenlog in Airflow)",
    }


def send(context: dict[str, Any], settings: Settings | None = None) -> dict[str, str]:
    body = message(context)
    log.error("%s (run %s, poging %s): %s", body["titel"], body["run"], body["poging"], body["fout"])
    deliver(body, settings or get_settings())
    return body


def alert(title: str, text: str, settings: Settings | None = None, **fields: str) -> dict[str, str]:
    """An alert that is not a failed task (a file put in quarantine, a delivery missing)."""
    body = {"titel": f"Buurtbeeld: {title}", "fout": text, **fields}
    log.warning("%s: %s", body["titel"], text)
    deliver(body, settings or get_settings())
    return body


def deliver(body: dict[str, str], settings: Settings) -> None:
    """To the webhook and the mail address the settings name (if any); a failure is logged only."""
    if settings.alert_webhook_url:
        try:
            request = urllib.request.Request(
                settings.alert_webhook_url,
                data=json.dumps({"text": f"{body['titel']}: {body['fout']}", **body}).encode(),
                headers={"Content-Type": "application/json"},
            )
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            log.exception("Melding naar de webhook mislukt")
    if settings.alert_email and settings.smtp_host:
        try:
            mail = EmailMessage()
            mail["Subject"], mail["From"], mail["To"] = body["titel"], settings.alert_from, settings.alert_email
            mail.set_content("\n".join(f"{k}: {v}" for k, v in body.items()))
            host, _, port = settings.smtp_host.partition(":")
            with smtplib.SMTP(host, int(port or 25), timeout=10) as smtp:
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException):
            log.exception("Melding per e-mail mislukt")


def on_failure(context: dict[str, Any]) -> None:
    """The on_failure_callback of every Buurtbeeld task."""
    send(context)
