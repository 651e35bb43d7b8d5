"""The values everything else passes around: requests, sessions, plans, bookings.

They are immutable NamedTuples rather than frozen dataclasses: a frozen dataclass costs
about a millisecond to define at import, and `ketaplan schedule` start-up is measured
(benchmarks/bench_startup.py). Change one with `value._replace(field=...)`."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Final, Literal, NamedTuple

Kind = Literal["consultation", "infusion", "maintenance", "busy"]
Status = Literal["planned", "booked", "attended", "no_show", "cancelled"]

# The kinds of session. Code says "booster"; "maintenance" is the name the JSON contract fixes in
# the JSON, the ledger and the clinic file ([protocol] maintenance_*), so it stays the value.
CONSULTATION: Final = "consultation"
INFUSION: Final = "infusion"
BOOSTER: Final = "maintenance"
#: What people read for each kind.
KIND_LABEL: dict[str, str] = {CONSULTATION: "consultation", INFUSION: "infusion", BOOSTER: "booster"}

#: Kinds of session that take a chair (a consultation takes a consult room).
CHAIR_KINDS: frozenset[str] = frozenset({INFUSION, BOOSTER, "busy"})
#: Kinds that start an infusion, and so count against max_starts_per_slot.
INFUSION_KINDS: frozenset[str] = frozenset({INFUSION, BOOSTER})
#: Statuses of a session that no longer holds its chair or counts toward the series: a
#: missed session (no_show) is kept, as the calendar keeps it cancelled, until it is moved.
INACTIVE_STATUSES: frozenset[str] = frozenset({"cancelled", "no_show"})
#: Statuses the ledger counts as taking a chair or room (a patient in the chair right now
#: may already be marked attended).
HELD_STATUSES: tuple[str, ...] = ("booked", "attended")


class Patient(NamedTuple):
    name: str
    id: str | None = None


class Request(NamedTuple):
    """What the coordinator asked for. Dates are local dates in the clinic's zone."""

    patient: Patient
    first_day: date
    last_day: date
    days: frozenset[int] | None = None  # allowed weekdays, 0 = Monday; None = any
    earliest: time | None = None
    latest: time | None = None
    unavailable: frozenset[date] = frozenset()
    consultation: bool = True
    boosters: int = 0  # maintenance boosters after the series (the option and JSON say maintenance)
    not_before: date | None = None  # nothing may be booked before this day (today)
    not_before_at: datetime | None = None  # ... nor start before this moment (now + minimum notice)
    request_id: str | None = None
    # Gaps the coordinator allowed beyond the protocol's longest (`reschedule --allow-gap`):
    # (infusion number, longest gap in days before it), recorded with a reason.
    gaps: tuple[tuple[int, int], ...] = ()

    @property
    def window_length(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def longest_gap(self, number: int, default: int) -> int:
        """The longest gap allowed before infusion `number`: the protocol's, or more if allowed."""
        return max([default, *(days for n, days in self.gaps if n == number)])

    def with_gap(self, number: int, days: int) -> Request:
        return self._replace(gaps=tuple(sorted({**dict(self.gaps), number: days}.items())))


class Session(NamedTuple):
    """One appointment. `resource` is the chair, or the consult room for a consultation."""

    kind: Kind
    number: int
    of: int
    start: datetime
    end: datetime
    resource: str | None
    status: Status = "planned"

    @property
    def chair(self) -> str | None:
        return self.resource if self.kind in CHAIR_KINDS else None

    @property
    def active(self) -> bool:
        """Still holds its time (booked or planned), as opposed to cancelled."""
        return self.status not in INACTIVE_STATUSES

    @property
    def label(self) -> str:
        name = KIND_LABEL.get(self.kind, self.kind)
        return name if self.kind == CONSULTATION else f"{name} {self.number}"


class Change(NamedTuple):
    """One revision of a plan: when (UTC text), what, who made it and why."""

    revision: int
    at: str
    action: str
    author: str | None = None
    reason: str | None = None


class Contact(NamedTuple):
    """How to reach the patient: an email address and a phone number (E.164), each
    validated on the way in (formats.contact). Patient data: never in logs, file names,
    error lines or clinic-calendar titles."""

    email: str | None = None
    phone: str | None = None


class Author(NamedTuple):
    """Who makes a change (--by, $KETAPLAN_USER, the OS user) and why (--reason)."""

    name: str | None = None
    reason: str | None = None


#: A change nobody was named for (library callers, tests).
UNNAMED = Author()


class Plan(NamedTuple):
    plan_id: str
    patient: Patient
    clinic: str
    timezone: str
    first_day: date
    last_day: date
    sessions: tuple[Session, ...]
    revision: int = 1
    stamp: datetime | None = None  # when this revision was made (the .ics DTSTAMP)
    request_id: str | None = None
    history: tuple[Change, ...] = ()
    contact: Contact | None = None  # how to reach the patient (patient data)
    lang: str | None = None  # the language of the patient's papers; None: the clinic's

    def of_kind(self, kind: str) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.kind == kind)

    @property
    def infusions(self) -> tuple[Session, ...]:
        return self.of_kind("infusion")

    @property
    def consultation(self) -> Session | None:
        found = self.of_kind("consultation")
        return found[0] if found else None

    @property
    def boosters(self) -> tuple[Session, ...]:
        return self.of_kind(BOOSTER)

    @property
    def active(self) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.active)


class BookedSession(NamedTuple):
    """A session as the ledger holds it, with its plan and patient (the day sheet)."""

    plan_id: str
    patient: Patient
    session: Session
    phone: str | None = None  # the patient's, for the desk to call (patient data)


class Booking(NamedTuple):
    """Chair or room time already taken by someone else (ledger or busy_ics).

    `resource` None means a busy event that names no chair: it takes whichever chair
    is free (see Occupancy.add_all)."""

    start: datetime
    end: datetime
    resource: str | None
    kind: Kind = "busy"
    plan_id: str | None = None


class Closure(NamedTuple):
    """A stretch when the clinic, or one chair, takes no patients: from the clinic file
    (whole days, no id) or recorded in the ledger by `close` (an id, maybe hours, a chair)."""

    first: date
    last: date
    reason: str
    hours: tuple[int, int] | None = None  # local minutes [from, to) each day; None = all day
    chair: str | None = None  # None = the whole clinic
    id: int | None = None
    author: str | None = None

    @property
    def all_day(self) -> bool:
        return self.hours is None

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last
