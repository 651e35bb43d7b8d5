"""Free capacity per day and hour, for the `availability` picture and its JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ketaplan.core import checks
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Booking


def capacity(
    clinic: Clinic, bookings: Iterable[Booking], first: date, days: int, span: tuple[datetime, datetime]
) -> dict[str, Any]:
    """Per day: the closure reason, free chairs in each opening hour, and how many slots an
    infusion of the protocol's length could start in (the planner's own options)."""
    avail = Availability(clinic, list(bookings), span=span)
    opened = [m for spans in clinic.hours for o, c in spans for m in (o, c)]
    hours = [f"{h:02d}:00" for h in range(min(opened) // 60, -(-max(opened) // 60))]
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        closed = checks.closure_problem(clinic, day) or (
            None if clinic.hours[day.weekday()] else f"closed on {day:%A}s"
        )
        free: dict[str, int] = {}
        if not closed:
            for label in hours:
                h = int(label[:2])
                start = datetime(day.year, day.month, day.day, h, tzinfo=clinic.zone)
                end = (start.astimezone(UTC) + timedelta(hours=1)).astimezone(clinic.zone)
                if not any(o <= h * 60 and h * 60 + 60 <= c for o, c in clinic.hours[day.weekday()]):
                    continue  # not wholly open this hour
                free[label] = sum(1 for chair in clinic.chairs if avail.occupancy.overlap(chair, start, end) is None)
        out.append(
            {
                "date": day.isoformat(),
                "closed": closed,
                "free": free,
                "infusion_starts": 0 if closed else len(avail.options(day, "infusion", None)),
            }
        )
    return {
        "clinic": clinic.name,
        "timezone": clinic.timezone,
        "chairs": list(clinic.chairs),
        "hours": hours,
        "days": out,
    }
