"""Free chair and room time: opening hours − closures − holidays − bookings − turnover.

Built from the rules in `checks`, so what is offered here is exactly what the checks allow."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from ketaplan.core import checks
from ketaplan.core.clinic import Clinic
from ketaplan.core.closures import outage_problem, outage_span
from ketaplan.core.model import INFUSION_KINDS, Booking, Request, Session
from ketaplan.core.occupancy import Occupancy

_NOON, _DAY = timedelta(hours=12), timedelta(days=1)


class Option(NamedTuple):
    """A place for one session: when, and on which chair or room. (NamedTuples: the
    planner makes thousands of these, and frozen dataclasses are slow to build.)"""

    start: datetime
    end: datetime
    resource: str
    clock: time  # the local wall-clock start, which the planner compares across days


class Slot(NamedTuple):
    """A start/end the clinic's hours, grid and closures allow, in local time and UTC."""

    start: datetime
    end: datetime
    start_utc: datetime
    end_utc: datetime


class Availability:
    """The clinic's calendar with everyone else's bookings, for one planning run or batch."""

    def __init__(
        self, clinic: Clinic, bookings: Iterable[Booking] = (), span: tuple[datetime, datetime] | None = None
    ) -> None:
        """`span`: the stretch of time planned in; the clinic's busy_ics is read for it."""
        self.clinic = clinic
        self.zone = clinic.zone
        self.span = span
        self.occupancy = Occupancy(clinic.chairs, clinic.rooms, timedelta(minutes=clinic.turnover_minutes))
        busy: list[Booking] = []
        if clinic.busy is not None:
            if span is None:
                raise ValueError("a clinic with busy_ics needs the span to plan in")
            busy = clinic.busy.between(*span)
        self.occupancy.add_all(busy + list(bookings))
        for c in clinic.outages:  # a chair out of service (closed hours are left out of the slots)
            if c.chair in clinic.chairs:
                for i in range((c.last - c.first).days + 1):
                    self.occupancy.block(c.chair, *outage_span(c, c.first + timedelta(days=i), clinic))
        self._slots: dict[tuple[date, int], list[Slot]] = {}
        # Free starts per (day, pool), and the same filtered by a patient's times per
        # (earliest, latest): kept up to date as a batch books (see `book`).
        self._free: dict[tuple[date, str], _Free] = {}
        self._fits_times: dict[tuple[date, int, time | None, time | None], bool] = {}
        self._steady: dict[tuple[int, int], tuple[timedelta, ...]] = {}
        self._rooms = clinic.rooms

    def book(self, sessions: Iterable[Session]) -> None:
        """Take these sessions' time, so the next plan of a batch sees them."""
        for s in sessions:
            if s.active:
                resource = self.occupancy.add(Booking(s.start, s.end, s.resource, s.kind))
                self._update(s, resource)

    def _update(self, s: Session, resource: str) -> None:
        """Bring the cached free starts up to date with one new booking, without working the
        day out again (a batch books thousands of sessions into days it keeps reading).
        A booking only takes time away, so each cached start either stays as it is, moves
        to its next free place (it was on the chair or room now taken, close enough to
        clash), or goes (no place is left, or its slot now has the most infusions that may
        start in it). What remains is exactly what `free_options` would work out afresh (a
        test compares the two)."""
        room = s.kind == "consultation"
        gap = timedelta(0) if room else self.occupancy.turnover
        # In UTC: two times of the clinic's zone compare by wall clock, wrong in a fold.
        start_utc = s.start.astimezone(UTC)
        lo, hi = start_utc - gap, s.end.astimezone(UTC) + gap
        full = s.kind in INFUSION_KINDS and checks.starts_full(self.clinic, self.occupancy.starts_at(start_utc))
        first, last = lo.astimezone(self.zone).date(), hi.astimezone(self.zone).date()
        for i in range((last - first).days + 1):
            free = self._free.get((first + timedelta(days=i), "room" if room else "chair"))
            if free is None:
                continue
            # Starts are sorted and all of one length: the clashing ones are a run.
            clash = range(bisect_right(free.ends, lo), bisect_left(free.starts, hi))
            hit = [k for k in clash if free.options[k].resource == resource]
            places: list[str | None]
            if room:
                places = [self.free_resource("consultation", free.starts[k], free.ends[k]) for k in hit]
            else:
                # The chairs before the one taken were taken already for these starts.
                later = self.clinic.chairs[self.clinic.chairs.index(resource) + 1 :]
                spans = [(free.starts[k], free.ends[k]) for k in hit]
                places = lowest_free_chairs(self.clinic, self.occupancy, spans, later)
            moved = {
                k: (None if p is None else Option(free.options[k].start, free.options[k].end, p, free.options[k].clock))
                for k, p in zip(hit, places, strict=True)
            }
            if full:
                k = bisect_left(free.starts, start_utc)
                if k < len(free.starts) and free.starts[k] == start_utc:
                    moved[k] = None
            if moved:
                free.move(moved)

    def clinic_slots(self, day: date, minutes: int) -> list[Slot]:
        """Slots on `day` that keep hours, grid and closures (bookings aside); cached."""
        key = (day, minutes)
        cached = self._slots.get(key)
        if cached is not None:
            return cached
        out: list[Slot] = []
        if checks.closure_problem(self.clinic, day) is None:
            zone = self.zone
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            offset = midnight.utcoffset()
            midnight_utc = midnight.astimezone(UTC)
            # Most days keep one UTC offset for the 24 real hours from midnight: their clock
            # times convert by subtraction. Days with a DST change (also one at the very
            # end of the day, as in Santiago, where 24:00 is 01:00) go through zoneinfo.
            if (
                offset
                == (midnight_utc + _NOON).astimezone(zone).utcoffset()
                == (midnight_utc + _DAY).astimezone(zone).utcoffset()
            ):
                length = timedelta(minutes=minutes)
                for since in self._steady_starts(day, minutes):
                    start, start_utc = midnight + since, midnight_utc + since
                    out.append(Slot(start, start + length, start_utc, start_utc + length))
            else:
                out = self._changing_day_slots(day, minutes)
            if self.clinic.outages:  # the clinic closed some hours of the day
                out = [s for s in out if outage_problem(self.clinic, s.start, s.end, None) is None]
        self._slots[key] = out
        return out

    def _candidates(self, day: date, minutes: int) -> Iterator[int]:
        """Grid minutes of `day`'s opening intervals a session of `minutes` might start at."""
        step = self.clinic.slot_minutes
        for opens, closes in self.clinic.hours[day.weekday()]:
            for m in range(-(-opens // step) * step, min(closes, 1440), step):
                if m + minutes > closes + 60:
                    break  # cannot fit even on a day the clocks go back an hour
                yield m

    def _steady_starts(self, day: date, minutes: int) -> tuple[timedelta, ...]:
        """On a day without a DST change the wall clock alone decides hours and grid, so
        the starts that fit are the same for every such day of this weekday: the rules
        are asked once per weekday and length, on the first such day planned."""
        memo = (day.weekday(), minutes)
        starts = self._steady.get(memo)
        if starts is None:
            clinic, zone, length = self.clinic, self.zone, timedelta(minutes=minutes)
            fits = []
            for m in self._candidates(day, minutes):
                start = datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=zone)
                if checks.hours_fit_local(clinic, start, start + length) and checks.grid_fit_local(clinic, start):
                    fits.append(timedelta(minutes=m))
            starts = self._steady[memo] = tuple(fits)
        return starts

    def _changing_day_slots(self, day: date, minutes: int) -> list[Slot]:
        """Slots on a day the clocks change: every start converts through zoneinfo, and a
        clock time the change skips is never offered."""
        clinic, zone, length = self.clinic, self.zone, timedelta(minutes=minutes)
        out: list[Slot] = []
        for m in self._candidates(day, minutes):
            start = datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=zone)
            start_utc = start.astimezone(UTC)
            if start_utc.astimezone(zone).replace(tzinfo=None) != start.replace(tzinfo=None):
                continue  # this clock time does not exist today (DST gap)
            end_utc = start_utc + length
            end = end_utc.astimezone(zone)
            if checks.hours_fit_local(clinic, start, end) and checks.grid_fit_local(clinic, start):
                out.append(Slot(start, end, start_utc, end_utc))
        return out

    def options(self, day: date, kind: str, request: Request | None) -> list[Option]:
        """Every start on `day` where a session of `kind` fits, each on its lowest free resource."""
        if request is None:
            return self.free_options(day, kind)
        return self.window((day,), kind, request)[day]

    def window(self, days: Iterable[date], kind: str, request: Request) -> dict[date, list[Option]]:
        """`options` for each of these days (the planner asks for a whole window at once)."""
        any_time = request.earliest is None and request.latest is None
        days = list(days)
        # No weekdays, days off or past to keep: no day needs the patient's day rule.
        any_day = (
            request.days is None
            and not request.unavailable
            and (request.not_before is None or not days or request.not_before <= min(days))
        )
        out: dict[date, list[Option]] = {}
        cutoff = request.not_before_at
        for day in days:
            if not any_day and checks.patient_day_problem(request, day):
                out[day] = []
                continue
            free = self._free_of(day, kind)
            out[day] = free.options if any_time else free.for_patient(request)
            if cutoff is not None and day <= cutoff.astimezone(self.zone).date():  # the minimum notice
                out[day] = [o for o in out[day] if o.start >= cutoff]
        return out

    def fits_times(self, day: date, minutes: int, request: Request) -> bool:
        """Whether any slot of `day` (bookings aside) keeps the patient's earliest/latest times."""
        key = (day, minutes, request.earliest, request.latest)
        found = self._fits_times.get(key)
        if found is None:
            found = self._fits_times[key] = any(
                not checks.patient_time_problem(request, s.start, s.end) for s in self.clinic_slots(day, minutes)
            )
        return found

    def free_options(self, day: date, kind: str) -> list[Option]:
        """Starts on `day` that any patient could have; kept up to date as a batch books."""
        return self._free_of(day, kind).options

    def _free_of(self, day: date, kind: str) -> _Free:
        key = (day, "room" if kind == "consultation" else "chair")
        cached = self._free.get(key)
        if cached is None:
            p = self.clinic.protocol
            minutes = p.consultation_minutes if kind == "consultation" else p.session_minutes
            slots = self.clinic_slots(day, minutes)
            kept: list[tuple[Slot, str]] = []
            if kind == "consultation":
                for slot in slots:
                    resource = self.free_resource(kind, slot.start_utc, slot.end_utc)
                    if resource is not None:
                        kept.append((slot, resource))
            else:
                chairs = lowest_free_chairs(self.clinic, self.occupancy, [(s.start_utc, s.end_utc) for s in slots])
                for slot, chair in zip(slots, chairs, strict=False):
                    if chair is not None and not checks.starts_full(
                        self.clinic, self.occupancy.starts_at(slot.start_utc)
                    ):
                        kept.append((slot, chair))
            cached = self._free[key] = _Free(kept)
        return cached

    def free_resource(self, kind: str, start: datetime, end: datetime) -> str | None:
        """The lowest chair (or room) free then. Only the place: whether another infusion may
        start in that slot is the `starts` rule's to say (so `check` names the rule that fails)."""
        clinic, occ = self.clinic, self.occupancy
        if kind == "consultation":
            for room in self._rooms:
                if checks.room_clash(occ, room, start, end) is None:
                    return room
            return None
        for chair in clinic.chairs:
            if checks.chair_clash(clinic, occ, chair, start, end) is None:
                return chair
        return None


class _Free:
    """A day's free starts for one pool (chairs or rooms), with their UTC times (sorted,
    for bisecting), and which of them keep a patient's (earliest, latest) times."""

    __slots__ = ("options", "starts", "ends", "keeps", "fitting")

    def __init__(self, kept: list[tuple[Slot, str]]) -> None:
        self.options = [Option(s.start, s.end, resource, s.start.time()) for s, resource in kept]
        self.starts = [s.start_utc for s, _ in kept]
        self.ends = [s.end_utc for s, _ in kept]
        self.keeps: dict[tuple[time | None, time | None], list[bool]] = {}  # per option
        self.fitting: dict[tuple[time | None, time | None], list[Option]] = {}  # built from keeps

    def for_patient(self, request: Request) -> list[Option]:
        times = (request.earliest, request.latest)
        found = self.fitting.get(times)
        if found is None:
            keeps = self.keeps.get(times)
            if keeps is None:
                keeps = self.keeps[times] = [
                    not checks.patient_time_problem(request, o.start, o.end) for o in self.options
                ]
            found = self.fitting[times] = [o for o, keep in zip(self.options, keeps, strict=True) if keep]
        return found

    def move(self, moved: dict[int, Option | None]) -> None:
        """Put the starts at these positions on their new place, or drop them (None)."""
        self.options = list(self.options)  # a new list: callers may still hold the old one
        for k in sorted(moved, reverse=True):  # from the end, so positions stay right
            new = moved[k]
            if new is not None:
                self.options[k] = new
                continue
            del self.options[k], self.starts[k], self.ends[k]
            for keeps in self.keeps.values():
                del keeps[k]
        self.fitting.clear()


def lowest_free_chairs(
    clinic: Clinic, occ: Occupancy, slots: list[tuple[datetime, datetime]], chairs: Sequence[str] | None = None
) -> list[str | None]:
    """`chair_clash` for a whole day at once: for each slot (UTC, sorted by start, ends in
    the same order) the lowest chair with no booking closer than turnover. A sweep keeps
    the latest end among bookings starting before the slot's end + turnover; the slot
    clashes exactly when that end is after its start - turnover (tests compare the two)."""
    free: list[str | None] = [None] * len(slots)
    if not slots:
        return free
    gap = occ.turnover
    lo, hi = slots[0][0] - gap, slots[-1][1] + gap
    left = len(slots)
    for chair in clinic.chairs if chairs is None else chairs:
        held = occ.held_between(chair, lo, hi)
        count, j, latest = len(held), 0, None
        for k, (start, end) in enumerate(slots):
            while j < count and held[j][0] < end + gap:
                if latest is None or held[j][1] > latest:
                    latest = held[j][1]
                j += 1
            if free[k] is None and (latest is None or latest <= start - gap):
                free[k] = chair
                left -= 1
        if not left:
            break  # every slot has its lowest free chair
    return free
