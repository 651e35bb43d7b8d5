"""What several commands need: the clinic, the ledger, today's date."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ketaplan.cli import config
from ketaplan.cli.output import notice
from ketaplan.core.clinic import DEMO_SOURCE, Clinic
from ketaplan.core.dates import BOOKING_YEARS, parse_date
from ketaplan.core.errors import InputError
from ketaplan.core.model import Author, Plan, Request
from ketaplan.store.ledger import Ledger


def load_clinic(option: Path | None) -> Clinic:
    path = config.clinic_path(option)
    clinic = config.resolve_clinic(path)
    if path is None:
        notice(
            f"no clinic file given: planning against the built-in demo clinic ({clinic.name}); see "
            f"`ketaplan clinic init`"
        )
    return clinic


#: The years a test clock may be set to: within the booking years (core.dates), starting
#: at 1970 (a plan reaches years around today).
CLOCK_YEARS = (1970, BOOKING_YEARS[1])


def today(zone: ZoneInfo) -> date:
    """Today in the clinic's zone. KETAPLAN_TODAY overrides it (tests, re-running a day);
    KETAPLAN_NOW alone sets it too (its date)."""
    forced = os.environ.get("KETAPLAN_TODAY")
    if forced:
        day = parse_date(forced, today=date.today(), field="KETAPLAN_TODAY")
        _in_range(day, "KETAPLAN_TODAY")
        return day
    if os.environ.get("KETAPLAN_NOW"):
        return now(zone).date()
    return datetime.now(zone).date()


def now(zone: ZoneInfo) -> datetime:
    """The current time in the clinic's zone. KETAPLAN_NOW (ISO date-time) overrides it;
    with only KETAPLAN_TODAY set, it is the start of that day."""
    forced = os.environ.get("KETAPLAN_NOW")
    if forced:
        try:
            value = datetime.fromisoformat(forced)
        except ValueError:
            raise InputError(f"{forced!r} is not an ISO date-time", field="KETAPLAN_NOW") from None
        _in_range(value.date(), "KETAPLAN_NOW")
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    if os.environ.get("KETAPLAN_TODAY"):
        day = today(zone)
        return datetime(day.year, day.month, day.day, tzinfo=zone)
    return datetime.now(zone)


def _in_range(day: date, field: str) -> None:
    if not CLOCK_YEARS[0] <= day.year <= CLOCK_YEARS[1]:
        raise InputError(f"{day} is not a day ketaplan plans around ({CLOCK_YEARS[0]}-{CLOCK_YEARS[1]})", field=field)


def open_ledger(option: str | None) -> Ledger:
    from ketaplan.store.location import ledger_at

    return ledger_at(config.ledger_location(option), notice)  # e.g. a ledger other users can read


def note_other_clinics(ledger: Ledger, clinic: Clinic) -> None:
    """Say so when the ledger holds bookings, but none under this clinic's name: after a
    rename in the clinic file, the old bookings would silently look like free chairs."""
    if not ledger.exists():
        return
    with ledger.read() as tx:
        others = tx.other_clinics(clinic.name)
    if others:
        names = ", ".join(repr(n) for n in others)
        notice(
            f"this ledger has bookings for {names} but none for {clinic.name!r}; bookings belong to a "
            "clinic by its name, so if the clinic was renamed, restore the old name or its booked chairs look free"
        )


def author(by: str | None, reason: str | None = None) -> Author:
    """Who makes a change: --by, else $KETAPLAN_USER, else the login name; and why."""
    import getpass

    from ketaplan.core.requests import clean_text

    name = by if by is not None else os.environ.get("KETAPLAN_USER") or None
    field = "--by" if by is not None else "KETAPLAN_USER"
    if name is None:
        try:
            name, field = getpass.getuser(), "login name"
        except (OSError, KeyError):  # no login name (a container with no passwd entry)
            name = None
    who = (clean_text(name, field=field, required=False) or None) if name else None
    why = (clean_text(reason, field="--reason", required=False) or None) if reason else None
    return Author(who, why)


def protected(clinic: Clinic | None, ledger: Ledger | None = None) -> dict[Path, str]:
    """The files no output may replace: the ledger (and SQLite's side files), the clinic
    file and its busy calendar. `--ics ledger.sqlite3 --force` once replaced every plan."""
    kept: dict[Path, str] = {}
    path = getattr(ledger, "path", None)  # an SQLite ledger's file (a URL has none)
    if isinstance(path, Path):
        kept[path] = "the ledger"
        for suffix in ("-wal", "-shm", "-journal"):
            kept[path.with_name(path.name + suffix)] = "the ledger's journal"
    if clinic is not None and clinic.source != DEMO_SOURCE:
        source = Path(clinic.source)
        kept[source] = "the clinic file"
        if clinic.busy_ics:
            kept[source.parent / clinic.busy_ics] = "the clinic's busy calendar (busy_ics)"
    return kept


def existing_ledger(option: str | None) -> Ledger:
    """A ledger that must exist already (commands that read or change booked plans)."""
    ledger = open_ledger(option)
    if not ledger.exists():
        raise InputError(f"no ledger at {ledger.name}; nothing has been booked there yet", field="--ledger")
    return ledger


def load_plan(ledger: Ledger, plan_id: str) -> tuple[Plan, Request]:
    with ledger.read() as tx:
        return tx.load_plan(plan_id)


def plan_clinic(plan: Plan, option: Path | None) -> Clinic:
    """The clinic a plan belongs to: the given (or default) clinic file when it is that
    clinic, else refused naming the plan's clinic (its hours and closures are not here)."""
    from ketaplan.app.changes import same_clinic

    clinic = load_clinic(option)
    same_clinic(plan, clinic)
    return clinic


def view_clinic(plan: Plan, option: Path | None) -> Clinic:
    """The clinic to show a plan with: its own clinic file when given (or the default one
    is it), else a stand-in in the plan's own time zone, so times are never shown in
    another clinic's zone; closures are then unknown, and a notice says so."""
    clinic = load_clinic(option)
    if plan.clinic == clinic.name:
        return clinic
    notice(
        f"{plan.plan_id} belongs to {plan.clinic!r}: shown in its own time zone ({plan.timezone}); "
        "give --clinic with that clinic's file to see its hours and closures"
    )
    every_day = ((0, 24 * 60),)
    return Clinic(name=plan.clinic, timezone=plan.timezone, chairs=clinic.chairs, hours=(every_day,) * 7)


def day_range(start: str | None, end: str | None, zone: ZoneInfo) -> tuple[date | None, date | None]:
    """--from/--to as days (either may be left out); refused when reversed."""
    from ketaplan.core.dates import parse_near

    today_ = today(zone)
    first = parse_near(start, today=today_, field="--from") if start else None
    last = parse_near(end, today=today_, field="--to") if end else None
    if first and last and last < first:
        raise InputError(f"{last} is before --from {first}", field="--to")
    return first, last


def mention_conflicts(ledger: Ledger, clinic: Clinic) -> None:
    """A notice when booked sessions are in conflict with the clinic as it stands (`day`,
    `clinic check`, `close` point to `conflicts`)."""
    from ketaplan.app.repair import count_conflicts

    n = count_conflicts(ledger, clinic, now(clinic.zone))
    if n:
        notice(
            f"{n} booked session{'s are' if n != 1 else ' is'} in conflict with the clinic as it stands; "
            "see `ketaplan conflicts`, move them with `ketaplan repair`"
        )
