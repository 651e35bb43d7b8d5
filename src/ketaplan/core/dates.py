"""Parsing the dates, times and weekday lists people type. Pure: raises InputError."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from ketaplan.core.errors import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMERIC = re.compile(r"^[\d\s./-]+$")
_YEAR = re.compile(r"\b\d{4}\b")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_date(text: str, *, today: date, field: str) -> date:
    """ISO dates, today/tomorrow, and forms with a month name ("1 Dec 2026", "Dec 1").

    All-numeric forms other than ISO (01/02/2026) are refused: day-month or month-day
    cannot be told apart. A month-name form without a year means its next occurrence
    on or after today."""
    s = text.strip()
    low = s.lower()
    if low == "today":
        return today
    if low == "tomorrow":
        return today + timedelta(days=1)
    if _ISO.match(s):
        try:
            return date.fromisoformat(s)
        except ValueError as e:
            raise InputError(f"{s!r} is not a real date ({e})", field=field) from None
    if not s or _NUMERIC.match(s):
        raise InputError(
            f"{s!r} is ambiguous or not a date; use YYYY-MM-DD or a month name (1 Dec 2026)",
            field=field,
        )
    from dateutil import parser  # only needed for the month-name forms

    try:
        parsed = parser.parse(s, default=datetime(today.year, 1, 1)).date()
    except (ValueError, OverflowError):
        leap = None if _YEAR.search(s) else _next_leap_day(s, today, parser)
        if leap is None:
            raise InputError(f"{s!r} is not a date I can read; use YYYY-MM-DD", field=field) from None
        return leap
    if not _YEAR.search(s) and parsed < today:
        parsed = _next_year(parsed)
    return parsed


def read_as_next_year(text: str, day: date, today: date) -> bool:
    """A month-name date without a year ("Jan 5") that parse_date put in next year: worth
    saying so, since the coordinator may have meant a day already past."""
    s = text.strip().lower()
    return (
        s not in ("today", "tomorrow")
        and not _ISO.match(text.strip())
        and not _YEAR.search(s)
        and day.year > today.year
    )


def _next_leap_day(s: str, today: date, parser: Any) -> date | None:
    """'29 Feb' without a year in a year that has none: the next year that has one."""
    for year in range(today.year + 1, today.year + 9):
        try:
            found: date = parser.parse(s, default=datetime(year, 1, 1)).date()
        except (ValueError, OverflowError):
            continue
        if found.month == 2 and found.day == 29:
            return found
        return None  # a date some other year can read, but not a leap day: not what we fix
    return None


def _next_year(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28)


def parse_time(text: str, *, field: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise InputError(f"{text!r} is not a time; use HH:MM (24-hour)", field=field)
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise InputError(f"{text!r} is not a time of day", field=field)
    return time(hour, minute)


def parse_minutes(text: str, *, field: str, allow_24: bool = False) -> int:
    """HH:MM as minutes after midnight; '24:00' allowed where a period may end at midnight."""
    if allow_24 and text.strip() == "24:00":
        return 24 * 60
    t = parse_time(text, field=field)
    return t.hour * 60 + t.minute


def parse_weekdays(text: str, *, field: str) -> frozenset[int]:
    """'mon,wed,fri' (or full names) as weekday numbers, 0 = Monday."""
    days: set[int] = set()
    for part in text.split(","):
        name = part.strip().lower()
        if name in WEEKDAYS:
            days.add(WEEKDAYS.index(name))
        elif name in _FULL:
            days.add(_FULL.index(name))
        else:
            raise InputError(f"unknown weekday {part.strip()!r}; use mon,tue,wed,thu,fri,sat,sun", field=field)
    return frozenset(days)


#: The longest inclusive range of days one entry may name (unavailable days, closures).
MAX_RANGE_DAYS = 3 * 366
#: How far from today a plan's dates may lie: beyond it a date is a typo, and date
#: arithmetic near year 9999 overflows.
REACH_YEARS = 10
#: The years a booking can lie in: outside them date sums overflow (9998 plus a window),
#: and no clinic books there. Calendars, ledger rows and the test clock are held to them.
BOOKING_YEARS = (1900, 2200)


def parse_near(text: str, *, today: date, field: str) -> date:
    """parse_date, for a day a plan or a view starts from: within REACH_YEARS of today."""
    day = parse_date(text, today=today, field=field)
    if abs((day - today).days) > REACH_YEARS * 366:
        raise InputError(f"{day} is more than {REACH_YEARS} years from today", field=field)
    return day


def parse_date_list(text: str, *, today: date, field: str) -> frozenset[date]:
    """'DATE,DATE' and inclusive ranges 'DATE/DATE'."""
    out: set[date] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        out.update(parse_range(part, today=today, field=field))
    return frozenset(out)


def parse_range(text: str, *, today: date, field: str) -> list[date]:
    """One date, or an inclusive range 'DATE/DATE' (01/02/2026 has two slashes: refused)."""
    if text.count("/") == 1:
        first_s, _, last_s = text.partition("/")
        first = parse_date(first_s, today=today, field=field)
        last = parse_date(last_s, today=today, field=field)
        if last < first:
            raise InputError(f"range {text!r} ends before it starts", field=field)
        if (last - first).days >= MAX_RANGE_DAYS:
            raise InputError(f"range {text!r} is longer than {MAX_RANGE_DAYS // 366} years", field=field)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [parse_date(text, today=today, field=field)]


def short(d: date) -> str:
    """'Dec 24' — how the explanations name a day."""
    return f"{d:%b} {d.day}"


def short_list(days: list[date]) -> str:
    """'Dec 24, 25, 31, Jan 1': the month only where it changes."""
    parts: list[str] = []
    month = None
    for d in sorted(days):
        parts.append(str(d.day) if (d.year, d.month) == month else short(d))
        month = (d.year, d.month)
    return ", ".join(parts)
