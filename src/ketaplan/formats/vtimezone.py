"""A zone's DST rules as iCalendar RRULE-style observances, derived from zoneinfo.

Outlook reads only DTSTART/RRULE/TZOFFSETFROM/TZOFFSETTO of a VTIMEZONE, and ical.js
misreads the RDATE lists icalendar's add_missing_timezones() writes, so the clinic's
zone is described as yearly rules ("2nd Sunday of March at 02:00"), one STANDARD and
one DAYLIGHT observance, or a single STANDARD for zones without DST."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo


class Transition(NamedTuple):
    at: datetime  # the instant, UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str  # abbreviation after the change, e.g. "CDT"


class Observance(NamedTuple):
    daylight: bool
    dtstart: datetime  # naive local wall time, in offset_from, of the first change
    offset_from: timedelta
    offset_to: timedelta
    name: str
    rrule: dict[str, object] | None  # None: a single observance (zones without DST)


def transitions(zone: ZoneInfo, year: int) -> list[Transition]:
    """Every UTC-offset change in a calendar year, to the minute."""
    out = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while day < end:
        nxt = day + timedelta(days=1)
        before, after = day.astimezone(zone).utcoffset(), nxt.astimezone(zone).utcoffset()
        if before != after:
            lo, hi = day, nxt  # the change lies in (lo, hi]
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == before:
                    lo = mid
                else:
                    hi = mid
            hi = hi.replace(second=0, microsecond=0)
            out.append(
                Transition(hi, before or timedelta(0), after or timedelta(0), hi.astimezone(zone).tzname() or "")
            )
        day = nxt
    return out


def _byday(local: datetime, all_locals: list[datetime]) -> str:
    """'2SU' or '-1SU': the nth (or last) weekday, chosen to fit every year seen."""
    wd = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[local.weekday()]
    if all(d.day > calendar.monthrange(d.year, d.month)[1] - 7 for d in all_locals):
        return f"-1{wd}"
    return f"{(local.day - 1) // 7 + 1}{wd}"


@lru_cache(maxsize=64)
def observances(zone_name: str, first_year: int, last_year: int) -> tuple[Observance, ...]:
    zone = ZoneInfo(zone_name)
    years = range(first_year - 1, last_year + 2)  # neighbours too: tells "last Sunday" from "4th"
    changes = [t for y in years for t in transitions(zone, y)]
    if not changes:
        probe = datetime(first_year, 7, 1, tzinfo=UTC).astimezone(zone)
        offset = probe.utcoffset() or timedelta(0)
        return (Observance(False, datetime(1970, 1, 1), offset, offset, probe.tzname() or "", None),)
    out = []
    for daylight in (True, False):
        kind = [t for t in changes if (t.offset_to > t.offset_from) == daylight]
        if not kind:
            continue
        locals_ = [(t.at + t.offset_from).replace(tzinfo=None) for t in kind]
        # Start the rule the year before the plan, so every session date lies after it.
        t, loc = kind[0], locals_[0]
        rrule = {"freq": "yearly", "bymonth": loc.month, "byday": _byday(loc, locals_)}
        out.append(Observance(daylight, loc, t.offset_from, t.offset_to, t.name, rrule))
    return tuple(out)
