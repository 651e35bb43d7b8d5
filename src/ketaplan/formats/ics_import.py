"""Reading calendars other programs wrote: busy time for the clinic (`busy_ics`) and a
series to check (`ketaplan check`). Anything we cannot read exactly is an error naming
the file, the component and the line; nothing is silently skipped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ketaplan.core.dates import BOOKING_YEARS
from ketaplan.core.errors import CalendarFileError
from ketaplan.core.model import Booking, Patient, Plan, Session
from ketaplan.core.span import series_span
from ketaplan.formats.reading import read_regular

if TYPE_CHECKING:
    from ketaplan.core.clinic import Clinic

CHAIR_PROPERTY = "X-KETAPLAN-CHAIR"
#: Properties a component has at most once (RFC 5545), checked before any is read.
_SINGLE = (
    "DTSTART", "DTEND", "DURATION", "UID", "RECURRENCE-ID", "STATUS", "TRANSP", "TZID", "TZOFFSETFROM", "TZOFFSETTO",
)  # fmt: skip
_OUR_UID = re.compile(r"^(KP-[A-Z0-9]+)-(consultation|infusion|maintenance)-(\d+)@ketaplan$")


class IcsFile:
    """A parsed, validated calendar file with its source lines (for error messages)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = _read_lines(path)
        self.calendar = _parse(path, self.lines)
        self._validate()

    def fail(self, message: str, line: int | None = None) -> CalendarFileError:
        where = f"{self.path}" + (f", line {line}" if line else "")
        return CalendarFileError(f"{message}", field=where)

    def line_of(self, startswith: str, after: int = 0) -> int | None:
        """1-based number of the first (unfolded) line from `after` starting with text."""
        key = startswith.upper()
        for number, text in self.lines[after:]:
            if text.upper().startswith(key):
                return number
        return None

    def _component_line(self, comp: Any) -> int:
        uid = comp.get("UID")
        if uid is not None:
            found = self.line_of(f"UID:{uid}")
            if found:
                # the component's BEGIN line before the UID
                begins = [n for n, t in self.lines if t.upper() == f"BEGIN:{comp.name}" and n <= found]
                return begins[-1] if begins else found
        return self.line_of(f"BEGIN:{comp.name}") or 1

    def describe(self, comp: Any) -> str:
        uid = comp.get("UID")
        return f"{comp.name}" + (f" {uid}" if uid else "")

    def _validate(self) -> None:
        known_tzids = {str(tz.get("TZID")) for tz in self.calendar.walk("VTIMEZONE")}
        for comp in self.calendar.walk():
            # Where the component begins: worked out only for an error (a scan of the file,
            # which for each of 10,000 events once took a clean file 90 s to check).
            start = _Lazy(self, comp)
            for prop, message in getattr(comp, "errors", []) or []:
                found = _quoted_line(self, message) or (self.line_of(prop, _index(self, int(start))) if prop else None)
                line = found or int(start)
                raise self.fail(f"{self.describe(comp)}: {prop or 'a line'} cannot be read: {message}", line)
            for name in _SINGLE:  # a second DTEND or DURATION: which one holds is anyone's guess
                if isinstance(comp.get(name), list):
                    line = int(start)  # the component's BEGIN line
                    raise self.fail(
                        f"{self.describe(comp)} has {len(comp.get(name))} {name} lines; one is allowed", line
                    )
            if comp.name in ("STANDARD", "DAYLIGHT"):
                dt = comp.get("DTSTART")
                if dt is None or not isinstance(dt.dt, datetime):
                    line = self.line_of("DTSTART", _index(self, int(start))) or int(start)
                    raise self.fail(f"VTIMEZONE {comp.name}: DTSTART must be a date-time", line)
            if comp.name == "VEVENT":
                starts = comp.get("DTSTART")
                if starts is None:
                    raise self.fail(f"{self.describe(comp)} has no DTSTART", int(start))
                problem = _event_problem(comp)
                if problem:
                    raise self.fail(f"{self.describe(comp)}: {problem}", int(start))
                ends = comp.get("DTEND")
                if ends is not None and not isinstance(ends, list) and _order_key(ends.dt) < _order_key(starts.dt):
                    raise self.fail(
                        f"{self.describe(comp)} ends before it starts",
                        self.line_of("DTEND", _index(self, int(start))) or int(start),
                    )
            for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
                values = comp.get(name)
                for value in values if isinstance(values, list) else [values]:
                    tzid = value.params.get("TZID") if value is not None and hasattr(value, "params") else None
                    if tzid and tzid not in known_tzids and not _is_iana(tzid):
                        line = self.line_of(name, _index(self, int(start))) or int(start)
                        raise self.fail(
                            f"{self.describe(comp)}: unknown time zone TZID={tzid} (no VTIMEZONE defines it)", line
                        )

    def occurrences(self, start: datetime, end: datetime) -> list[Any]:
        """Every event happening in [start, end), repeats expanded, at most MAX_OCCURRENCES."""
        import recurring_ical_events

        found: list[Any] = []
        try:
            for event in recurring_ical_events.of(self.calendar).after(start):  # in order of start
                if _order_key(event["DTSTART"].dt) >= end:
                    break
                found.append(event)
                if len(found) > MAX_OCCURRENCES:
                    raise self.fail(f"repeats to more than {MAX_OCCURRENCES:,} events in the weeks planned")
        except CalendarFileError:
            raise
        except Exception as e:  # the library raises many types for malformed recurrences
            raise self.fail(f"cannot expand the recurring events: {type(e).__name__}: {e}") from None
        return found


YEARS = BOOKING_YEARS
#: The longest event that is still a booking (a chair out of service for a season).
LONGEST = timedelta(days=366)


def _event_problem(comp: Any) -> str | None:
    """What makes an event no booking at all: a time outside YEARS, or a DURATION that is
    negative (the DTEND form of the same is refused too) or longer than LONGEST."""
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = comp.get(name)
        if prop is None or isinstance(prop, list):
            continue
        value = getattr(prop, "dt", None)
        if not isinstance(value, date):  # a duration or a period where a time belongs
            return f"{name} is not a date or a date-time"
        if not YEARS[0] <= value.year <= YEARS[1]:
            return f"{name} is in the year {value.year}; bookings lie from {YEARS[0]} to {YEARS[1]}"
    duration = comp.get("DURATION")
    if duration is not None and not isinstance(duration, list):
        if not isinstance(duration.dt, timedelta) or duration.dt < timedelta(0):
            return "DURATION is negative: the event would end before it starts"
        if duration.dt > LONGEST:
            return f"DURATION is {duration.dt.days:,} days; an event of more than {LONGEST.days} is not a booking"
    return None


class _Lazy:
    """A component's first line, looked up the first time an error needs it."""

    def __init__(self, file: IcsFile, comp: Any) -> None:
        self._file, self._comp, self._value = file, comp, 0

    def __int__(self) -> int:
        if not self._value:
            self._value = self._file._component_line(self._comp)
        return self._value


def _order_key(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _index(f: IcsFile, line_number: int) -> int:
    return next((i for i, (n, _) in enumerate(f.lines) if n >= line_number), 0)


def _quoted_line(f: IcsFile, message: str) -> int | None:
    m = re.search(r"'([A-Z-]+[;:][^']*)'", message)
    return f.line_of(m.group(1)) if m else None


def _is_iana(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _read_lines(path: Path) -> list[tuple[int, str]]:
    raw = read_regular(path, MAX_BYTES, CalendarFileError)
    if b"\x00" in raw:
        raise CalendarFileError("is a binary file, not iCalendar text", field=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CalendarFileError(f"is not UTF-8 text (byte {e.start})", field=str(path)) from None
    lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + line[1:])  # unfold, keeping the first line's number
        elif line.strip():
            lines.append((number, line))
    return lines


#: Limits that keep a hostile or broken calendar from hanging a run or filling memory.
MAX_DEPTH = 8  # VCALENDAR > VEVENT > VALARM is 3; VTIMEZONE > STANDARD is 3
MAX_EVENTS = 10_000
#: Changed occurrences of repeating events (RECURRENCE-ID): the expanding library looks
#: each one up per occurrence, so 5,000 once took a year's expansion 25 s.
MAX_OVERRIDES = 1_000
#: Bytes a calendar file may hold: a year of a busy clinic's bookings is well under 5 MB.
MAX_BYTES = 20 * 1024 * 1024
MAX_OCCURRENCES = 100_000  # expanded in the span one plan (or batch) looks at
_TOO_OFTEN = ("SECONDLY", "MINUTELY", "HOURLY")


def _check_rule(upper: str, where: str) -> None:
    """Clinic bookings repeat daily at the most: a rule that repeats by the second, minute
    or hour would make millions of occurrences to expand, so it is refused outright."""
    parts = dict(p.partition("=")[::2] for p in upper.partition(":")[2].split(";"))
    if parts.get("FREQ") in _TOO_OFTEN:
        raise CalendarFileError(
            f"a rule repeats {parts['FREQ'].lower()}; ketaplan reads rules that repeat daily or less often",
            field=where,
        )
    if "BYSECOND" in parts or "BYMINUTE" in parts and len(parts["BYMINUTE"].split(",")) > 4:
        raise CalendarFileError("a rule repeats within the hour (BYSECOND/BYMINUTE); not a booking", field=where)
    interval = parts.get("INTERVAL", "1")
    if not (interval.isascii() and interval.isdigit()) or not 1 <= int(interval) <= 10_000:
        # INTERVAL=0 repeats without moving on: expanding it filled 7.5 GB in five minutes
        raise CalendarFileError(f"a rule's INTERVAL={interval} is not a whole number from 1 to 10000", field=where)
    count = parts.get("COUNT")
    if count is not None and not (count.isascii() and count.isdigit() and int(count) >= 1):
        raise CalendarFileError(f"a rule's COUNT={count} is not a whole number of 1 or more", field=where)


def _parse(path: Path, lines: list[tuple[int, str]]) -> Any:
    from icalendar import Calendar

    if not lines or not lines[0][1].upper().startswith("BEGIN:"):
        raise CalendarFileError("is not an iCalendar file (it does not start with BEGIN:VCALENDAR)", field=str(path))
    stack: list[tuple[str, int]] = []
    events = overrides = 0
    for number, text in lines:
        upper = text.upper()
        if upper.startswith("RECURRENCE-ID"):
            overrides += 1
            if overrides > MAX_OVERRIDES:
                raise CalendarFileError(
                    f"changes more than {MAX_OVERRIDES:,} occurrences of repeating events; "
                    "export only the weeks you plan in",
                    field=f"{path}, line {number}",
                )
        if upper.startswith("BEGIN:"):
            stack.append((upper[6:].strip(), number))
            if len(stack) > MAX_DEPTH:
                raise CalendarFileError(
                    f"components nest more than {MAX_DEPTH} deep; not a calendar ketaplan reads",
                    field=f"{path}, line {number}",
                )
            if stack[-1][0] == "VEVENT":
                events += 1
                if events > MAX_EVENTS:
                    raise CalendarFileError(
                        f"holds more than {MAX_EVENTS:,} events; export only the weeks you plan in",
                        field=f"{path}, line {number}",
                    )
        elif upper.startswith(("RRULE", "EXRULE")):
            _check_rule(upper, f"{path}, line {number}")
        elif upper.startswith("END:"):
            name = upper[4:].strip()
            if not stack or stack[-1][0] != name:
                raise CalendarFileError(f"END:{name} does not close an open component", field=f"{path}, line {number}")
            stack.pop()
    if stack:
        name, number = stack[-1]
        raise CalendarFileError(f"truncated: BEGIN:{name} is never closed", field=f"{path}, line {number}")
    text = "\r\n".join(t for _, t in lines) + "\r\n"
    try:
        parsed = Calendar.from_ical(text)
    except ValueError as e:
        raise CalendarFileError(f"cannot be parsed: {str(e)[:200]}", field=str(path)) from None
    except Exception as e:  # icalendar fails on some malformed input with other types (a
        # VTIMEZONE with two TZIDs: AttributeError); the file is at fault either way
        raise CalendarFileError(f"cannot be parsed ({type(e).__name__})", field=str(path)) from None
    if parsed.name != "VCALENDAR":
        # A bare VEVENT (some tools export single events so): read it as a calendar of one.
        wrapper = Calendar()
        wrapper.add_component(parsed)
        parsed = wrapper
    return parsed


def _as_clinic_time(value: date | datetime, zone: ZoneInfo, floating_zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=floating_zone)  # floating time: the clinic's wall clock
        return value.astimezone(UTC).astimezone(zone)
    return datetime(value.year, value.month, value.day, tzinfo=zone)  # all-day: from local midnight


def _span(event: Any, zone: ZoneInfo, floating_zone: ZoneInfo) -> tuple[datetime, datetime]:
    start_v = event.get("DTSTART").dt
    end_p = event.get("DTEND")
    if end_p is not None:
        end_v = end_p.dt
    elif event.get("DURATION") is not None:
        end_v = start_v + event.get("DURATION").dt
    elif isinstance(start_v, datetime):
        end_v = start_v  # RFC 5545: a date-time event without end takes no time
    else:
        end_v = start_v + timedelta(days=1)  # a date event without end lasts the day
    return _as_clinic_time(start_v, zone, floating_zone), _as_clinic_time(end_v, zone, floating_zone)


def _floating_zone(f: IcsFile, zone: ZoneInfo) -> ZoneInfo:
    """Floating times are the clinic's wall clock, unless the file names its zone (Google)."""
    name = f.calendar.get("X-WR-TIMEZONE")
    return ZoneInfo(str(name)) if name and _is_iana(str(name)) else zone


def _chair_of(event: Any, chairs: Iterable[str]) -> str | None:
    names = set(chairs)
    explicit = event.get(CHAIR_PROPERTY)
    if explicit is not None and str(explicit) in names:
        return str(explicit)
    resources = event.get("RESOURCES")
    for res in resources if isinstance(resources, list) else [resources] if resources is not None else []:
        for part in str(res.to_ical().decode() if hasattr(res, "to_ical") else res).split(","):
            if part.strip() in names:
                return part.strip()
    return None


class BusyCalendar:
    """Bookings from another system: each event takes one chair for its duration
    (the chair it names, or whichever is free); transparent and cancelled events take none."""

    def __init__(self, path: Path, clinic: Clinic) -> None:
        self.file = IcsFile(path)
        self.zone = clinic.zone
        self.chairs = clinic.chairs
        self.floating = _floating_zone(self.file, self.zone)

    def between(self, start: datetime, end: datetime) -> list[Booking]:
        out = []
        for ev in self.file.occurrences(start, end):
            if str(ev.get("STATUS", "")).upper() == "CANCELLED" or str(ev.get("TRANSP", "")).upper() == "TRANSPARENT":
                continue
            s, e = _span(ev, self.zone, self.floating)
            if e > s:
                out.append(Booking(s, e, _chair_of(ev, self.chairs), "busy"))
        return out


def read_busy(path: Path, clinic: Clinic) -> BusyCalendar:
    return BusyCalendar(path, clinic)


def _kind(uid: str, summary: str) -> tuple[str, str | None, int | None]:
    m = _OUR_UID.match(uid)
    if m:
        return m.group(2), m.group(1), int(m.group(3))
    low = summary.lower()
    if "consult" in low:
        return "consultation", None, None
    if any(w in low for w in ("booster", "maintenance", "follow-up")):
        return "maintenance", None, None
    return "infusion", None, None


def read_series(path: Path, clinic: Clinic) -> Plan:
    """A treatment series from any calendar: our own exports (kinds from their UIDs) or
    another tool's (kinds from the titles: 'consult', 'booster'/'maintenance'; the rest
    are infusions). Chairs are not in the file; `check` gives each session a free one."""
    f = IcsFile(path)
    zone = clinic.zone
    floating = _floating_zone(f, zone)
    events = f.calendar.walk("VEVENT")
    if not events:
        raise f.fail("holds no events (VEVENT)")
    firsts = [_span(ev, zone, floating)[0] for ev in events]
    # Every event the file holds, and repeats as far as a series can reach from its start.
    lo, hi = series_span(clinic, min(firsts).date())
    hi = max(hi, max(firsts) + timedelta(days=1))
    found: list[tuple[datetime, datetime, str, str | None, int | None, str]] = []
    plan_ids = set()
    sequence = 0  # our files: SEQUENCE is the plan's revision when the file was written
    for ev in f.occurrences(lo, hi):
        kind, plan_id, number = _kind(str(ev.get("UID", "")), str(ev.get("SUMMARY", "")))
        if plan_id:
            plan_ids.add(plan_id)
            try:
                sequence = max(sequence, int(str(ev.get("SEQUENCE", 0))))
            except ValueError:
                pass  # not a number: no revision to compare
        s, e = _span(ev, zone, floating)
        status = "cancelled" if str(ev.get("STATUS", "")).upper() == "CANCELLED" else "booked"
        found.append((s, e, kind, plan_id, number, status))
    if not found:  # every instance excluded, an UNTIL before the start: nothing happens
        raise f.fail("holds no sessions: its events' repeats are all excluded or end before they begin")
    found.sort(key=lambda t: t[0].astimezone(UTC))
    sessions = []
    for kind in ("consultation", "infusion", "maintenance"):
        mine = [t for t in found if t[2] == kind]
        for i, (s, e, _, _, number, status) in enumerate(mine, start=1):
            sessions.append(Session(kind, number or i, len(mine), s, e, None, status))  # type: ignore[arg-type]
    infusions = sorted((s for s in sessions if s.kind == "infusion"), key=lambda s: s.start.astimezone(UTC))
    days = [s.start.date() for s in infusions] or [sessions[0].start.date()]
    plan_id = plan_ids.pop() if len(plan_ids) == 1 else "imported"
    revision = sequence if plan_id != "imported" else 0
    return Plan(
        plan_id, Patient("(from file)"), clinic.name, clinic.timezone, days[0], days[-1], tuple(sessions), revision
    )
