"""How far a plan can reach in the calendar: the one place that knows it.

Availability is built for a span (busy_ics is expanded only inside it, bookings are read
only inside it), so every caller that plans, re-plans or reads a series asks here."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ketaplan.core.clinic import Clinic

#: The most boosters one plan may carry (--maintenance, a batch row's maintenance).
MAX_BOOSTERS = 12


def planning_span(clinic: Clinic, first_day: date, last_day: date, boosters: int) -> tuple[datetime, datetime]:
    """From the earliest consultation before `first_day` to past the last booster after
    `last_day`, a day of slack each side, as midnights in the clinic's zone."""
    p = clinic.protocol
    first = first_day - timedelta(days=p.consultation_days_before[1] + 1)
    reach = boosters * (p.maintenance_every_days + p.maintenance_tolerance_days)
    last = last_day + timedelta(days=reach + 1)
    zone = clinic.zone
    return (
        datetime(first.year, first.month, first.day, tzinfo=zone),
        datetime(last.year, last.month, last.day, tzinfo=zone),
    )


def series_span(clinic: Clinic, first_day: date, from_day: date | None = None) -> tuple[datetime, datetime]:
    """Everything a series starting `first_day` can touch with the longest window and the
    most boosters; with `from_day`, also a move of one of its sessions to that day or later."""
    longest = clinic.protocol.window_days[1]
    last = first_day + timedelta(days=longest - 1)
    if from_day is not None:
        last = max(last, from_day + timedelta(days=longest))
    return planning_span(clinic, first_day, last, MAX_BOOSTERS)
