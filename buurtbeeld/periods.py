"""Reporting periods: ISO weeks, and months as the ISO weeks whose Thursday falls in them.

A week belongs to the month of its Thursday, as ISO assigns weeks to years. Months are then exact
unions of weeks, which keeps monthly figures consistent with the weekly deliveries and lets
disclosure control treat a month as the sum of its weeks (see buurtbeeld.disclosure, rule 3)."""

from __future__ import annotations

from datetime import date, timedelta

# The police's four parts of the day (0-6, 6-12, 12-18, 18-24 h) and the days of an ISO week.
DAGDELEN = ("nacht", "ochtend", "middag", "avond")
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def parse_week(label: str) -> tuple[int, int]:
    year, week = label.split("-W")
    return int(year), int(week)


def month_of_week(year: int, week: int) -> str:
    return date.fromisocalendar(year, week, 4).strftime("%Y-%m")


def weeks_of_month(month: str) -> list[tuple[int, int]]:
    first = date.fromisoformat(f"{month}-01")
    day = first + timedelta(days=(3 - first.weekday()) % 7)  # first Thursday
    weeks = []
    while day.strftime("%Y-%m") == month:
        year, week, _ = day.isocalendar()
        weeks.append((year, week))
        day += timedelta(days=7)
    return weeks


def quarter_of_month(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def months_of_quarter(quarter: str) -> list[str]:
    first = (int(quarter[-1]) - 1) * 3 + 1
    return [f"{quarter[:4]}-{m:02d}" for m in range(first, first + 3)]


def months_of_year(year: str) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def quarters_of_year(year: str) -> list[str]:
    return [f"{year}-Q{q}" for q in range(1, 5)]


def kind_of(label: str) -> str:
    if "-W" in label:
        return "week"
    if "-Q" in label:
        return "quarter"
    return "year" if len(label) == 4 else "month"


def containing(label: str, kind: str) -> str:
    """The period of `kind` (month, quarter, year) that contains the period `label`."""
    if kind == "year":
        return label[:4]  # an ISO week's year is the year of its Thursday, as for its month
    month = month_of_week(*parse_week(label)) if kind_of(label) == "week" else label
    return month if kind == "month" else quarter_of_month(month)


def months_of(label: str) -> list[str]:
    kind = kind_of(label)
    if kind == "quarter":
        return months_of_quarter(label)
    return months_of_year(label) if kind == "year" else [label]


def period_start(period_type: str, period: str) -> date:
    if period_type == "week":
        return date.fromisocalendar(*parse_week(period), 1)
    return date.fromisoformat(f"{months_of(period)[0]}-01")


def month_span(months: list[str] | tuple[str, ...]) -> tuple[date, date]:
    """Monday of the first week and the Monday after the last week of these months (end exclusive)."""
    weeks = [w for m in months for w in weeks_of_month(m)]
    first, last = min(weeks), max(weeks)
    return date.fromisocalendar(*first, 1), date.fromisocalendar(*last, 1) + timedelta(days=7)


def weeks_before(label: str, n: int) -> str:
    """The week n weeks before `label`."""
    day = date.fromisocalendar(*parse_week(label), 1) - timedelta(weeks=n)
    year, week, _ = day.isocalendar()
    return week_label(year, week)
