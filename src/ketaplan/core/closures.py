"""The clinic as it stands: the clinic file's closures with those recorded in the ledger
(`ketaplan close`), which every desk sharing the ledger sees. A whole-day closure of the
whole clinic closes the date, like the file's; one of some hours, or of one chair, is an
*outage* the `closures` rule and availability read from here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from types import MappingProxyType

from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import parse_date, parse_minutes, short
from ketaplan.core.errors import InputError
from ketaplan.core.model import Closure
from ketaplan.core.requests import clean_text
from ketaplan.core.times import hm, local

#: The longest one `close` may record: a chair out for a season is a clinic file change.
MOST_DAYS = 366


def standing(clinic: Clinic, recorded: Iterable[Closure]) -> Clinic:
    """`clinic` with the ledger's closures put in. Applied once: a clinic that has them
    already is returned as it is."""
    if clinic.ledger_closures is not None:
        return clinic
    recorded = tuple(recorded)
    closed = set(clinic.closures)
    reasons = dict(clinic.closure_reasons)
    outages = list(clinic.outages)
    for c in recorded:
        if c.all_day and c.chair is None:
            for i in range((c.last - c.first).days + 1):
                day = c.first + timedelta(days=i)
                closed.add(day)
                reasons.setdefault(day, c.reason)  # the file's label, or the first recorded, wins
        else:
            outages.append(c)
    return clinic._replace(
        closures=frozenset(closed),
        closure_reasons=MappingProxyType(reasons),
        outages=tuple(outages),
        ledger_closures=recorded,
    )


def outages_on(clinic: Clinic, day: date) -> list[Closure]:
    """The outages (some hours, or one chair) that touch `day`."""
    return [c for c in clinic.outages if c.covers(day)]


def outage_span(c: Closure, day: date, clinic: Clinic) -> tuple[datetime, datetime]:
    """An outage's local start and end on `day` (all day: midnight to midnight)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=clinic.zone)
    if c.hours is None:
        return midnight, datetime.combine(day + timedelta(days=1), midnight.timetz())
    lo, hi = c.hours
    return (
        datetime(day.year, day.month, day.day, lo // 60, lo % 60, tzinfo=clinic.zone),
        midnight + timedelta(minutes=hi) if hi < 1440 else datetime.combine(day + timedelta(days=1), midnight.timetz()),
    )


def outage_problem(clinic: Clinic, start: datetime, end: datetime, resource: str | None) -> str | None:
    """Part of the `closures` rule: the session's time, on its chair, is not closed for
    some hours or out of service. `resource` None asks about the whole clinic only."""
    if not clinic.outages:
        return None
    ls, le = local(start, clinic.zone), local(end, clinic.zone)
    for day in {ls.date(), le.date()}:
        for c in outages_on(clinic, day):
            if c.chair is not None and c.chair != resource:
                continue
            lo, hi = outage_span(c, day, clinic)
            if ls < hi and lo < le:  # both aware: compared as instants
                return describe(c)
    return None


def describe(c: Closure) -> str:
    """How a refusal or the day sheet names a closure."""
    what = f"{c.chair} is out of service" if c.chair else "the clinic is closed"
    when = f" {hm(c.hours[0])}-{hm(c.hours[1])}" if c.hours else ""
    days = "" if c.first == c.last else f" {short(c.first)}-{short(c.last)}"
    return f"{what}{when}{days}: {c.reason}"


def new_closure(
    clinic: Clinic, *, day: str, until: str | None, hours: str | None, chair: str | None, reason: str, today: date
) -> Closure:
    """A closure `close` was asked to record, checked field by field (InputError names it)."""
    first = parse_date(day, today=today, field="DATE")
    last = parse_date(until, today=today, field="--until") if until else first
    if last < first:
        raise InputError(f"{last} is before {first}", field="--until")
    if last < today:
        raise InputError(f"{last} is in the past; a closure is for days to come", field="--until" if until else "DATE")
    if (last - first).days >= MOST_DAYS:
        raise InputError(f"at most {MOST_DAYS} days at once (a longer one belongs in the clinic file)", field="--until")
    span: tuple[int, int] | None = None
    if hours:
        start_s, sep, end_s = hours.partition("-")
        if not sep:
            raise InputError(f"{hours!r} is not HH:MM-HH:MM", field="--hours")
        span = (parse_minutes(start_s, field="--hours"), parse_minutes(end_s, field="--hours", allow_24=True))
        if span[1] <= span[0]:
            raise InputError(f"{hours!r} ends before it begins", field="--hours")
    if chair is not None and chair not in clinic.chairs:
        raise InputError(f"{chair!r} is not a chair of this clinic ({', '.join(clinic.chairs)})", field="--chair")
    return Closure(first, last, clean_text(reason, field="--reason"), span, chair)
