"""Turning what a coordinator or a batch row typed into a validated Request.

`schedule` options and batch fields share this code, so they mean and check the same."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from typing import NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import parse_date_list, parse_near, parse_time, parse_weekdays
from ketaplan.core.errors import InputError
from ketaplan.core.model import Patient, Request
from ketaplan.core.span import MAX_BOOSTERS

MAX_NAME = 200


class RequestFields(NamedTuple):
    """The raw text of a request, as typed (None = not given)."""

    patient: str | None
    start: str | None
    patient_id: str | None = None
    weeks: int | str | None = None
    end: str | None = None
    days: str | None = None
    earliest: str | None = None
    latest: str | None = None
    unavailable: str | None = None
    consultation: bool = True
    maintenance: int | str | None = 0
    allow_past: bool = False
    request_id: str | None = None


def clean_text(value: str, *, field: str, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise InputError("must not be empty", field=field)
    if len(text) > MAX_NAME:
        raise InputError(f"is longer than {MAX_NAME} characters", field=field)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text):
        raise InputError("contains control characters", field=field)
    return text


def _whole(value: int | str | None, *, field: str, lo: int, hi: int) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not (text.lstrip("+-").isascii() and text.lstrip("+-").isdigit()):
        # int() would read "٣" as 3 and a float 2.9 as 2: neither is what was written
        raise InputError(f"{value!r} is not a whole number", field=field)
    n = int(text)
    if not lo <= n <= hi:
        raise InputError(f"must be from {lo} to {hi}", field=field)
    return n


def _cutoff_day(clinic: Clinic, now: datetime | None) -> date:
    return date.min if now is None else clinic.earliest_booking(now).astimezone(clinic.zone).date()


def build_request(f: RequestFields, clinic: Clinic, today: date, now: datetime | None = None) -> Request:
    """Validate every field; raise InputError naming the first one at fault. With `now`,
    nothing starts sooner than the clinic's minimum notice from it (unless allow_past)."""
    for name in ("end", "days", "earliest", "latest", "unavailable"):
        value = getattr(f, name)
        if isinstance(value, str) and not value.strip():  # `--days ""` is a mistake, not "any day"
            raise InputError("is empty; leave it out for no restriction", field=name)
    if f.patient is None:
        raise InputError("is required", field="patient")
    name = clean_text(f.patient, field="patient")
    pid = clean_text(f.patient_id, field="patient_id", required=False) or None if f.patient_id else None
    if f.start is None:
        raise InputError("is required", field="start")
    first = parse_near(f.start, today=today, field="start")
    if first < today and not f.allow_past:
        raise InputError(
            f"{first} is in the past; allow past dates (--allow-past) to enter a plan already under way",
            field="start",
        )
    lo, hi = clinic.protocol.window_days
    weeks = _whole(f.weeks, field="weeks", lo=2, hi=3) if f.weeks not in (None, "") else None
    if weeks is not None and f.end:
        raise InputError("give weeks or end, not both", field="end")
    if f.end:
        last = parse_near(f.end, today=today, field="end")
        if last < first:
            raise InputError(f"{last} is before the start {first}", field="end")
        length, where = (last - first).days + 1, "end"
    else:
        length, where = (weeks * 7 if weeks else hi), "weeks"
        last = first + timedelta(days=length - 1)
    if not lo <= length <= hi:
        raise InputError(f"a {length}-day window is outside the protocol's {lo}-{hi} days", field=where)
    earliest = parse_time(f.earliest, field="earliest") if f.earliest else None
    # Sessions end by midnight anyway (opening hours end by 24:00): 24:00 restricts nothing.
    latest = parse_time(f.latest, field="latest") if f.latest and f.latest.strip() != "24:00" else None
    if earliest and latest and earliest >= latest:
        raise InputError(f"{earliest:%H:%M} is not before the latest time {latest:%H:%M}", field="earliest")
    maintenance = _whole(f.maintenance, field="maintenance", lo=0, hi=MAX_BOOSTERS) or 0
    return Request(
        patient=Patient(name, pid),
        first_day=first,
        last_day=last,
        days=parse_weekdays(f.days, field="days") if f.days else None,
        earliest=earliest,
        latest=latest,
        unavailable=parse_date_list(f.unavailable, today=today, field="unavailable") if f.unavailable else frozenset(),
        consultation=f.consultation and clinic.protocol.consultation,
        boosters=maintenance,
        not_before=None if f.allow_past else max(today, _cutoff_day(clinic, now)),
        not_before_at=None if f.allow_past or now is None else clinic.earliest_booking(now),
        request_id=clean_text(f.request_id, field="request_id") if f.request_id else None,
    )
