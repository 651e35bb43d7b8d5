"""Free chair and room time: opening hours − closures − holidays − bookings − turnover.

Built from the rules in `checks`, so what is offered here is exactly what the checks allow."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from ketaplan.core import checks
from ketaplan.core.clinic import Clinic
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
        self._slots: dict[tuple[date, int], list[Slot]] = {}
        self._free: dict[tuple[date, str], list[Option]] = {}
        self._steady: dict[tuple[int, int], tuple[timedelta, ...]] = {}
        self._rooms = clinic.rooms

    def book(self, sessions: Iterable[Session]) -> None:
        """Take these sessions' time, so the next plan of a batch sees them."""
        for s in sessions:
            if s.active:
                self.occupancy.add(Booking(s.start, s.end, s.resource, s.kind))
                # Forget the cached starts this booking can change: its pool (chairs or
                # rooms), on each local day its time plus turnover touches.
                kinds = ("consultation",) if s.kind == "consultation" else tuple(INFUSION_KINDS)
                gap = self.occupancy.turnover
                first = (s.start - gap).astimezone(self.zone).date()
                last = (s.end + gap).astimezone(self.zone).date()
                for i in range((last - first).days + 1):
                    for kind in kinds:
                        self._free.pop((first + timedelta(days=i), kind), None)

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
        if request is not None and checks.patient_day_problem(request, day):
            return []
        free = self.free_options(day, kind)
        if request is None or (request.earliest is None and request.latest is None):
            return free
        return [o for o in free if not checks.patient_time_problem(request, o.start, o.end)]

    def free_options(self, day: date, kind: str) -> list[Option]:
        """Starts on `day` that any patient could have; cached until a booking touches the day."""
        key = (day, kind)
        cached = self._free.get(key)
        if cached is None:
            p = self.clinic.protocol
            minutes = p.consultation_minutes if kind == "consultation" else p.session_minutes
            slots = self.clinic_slots(day, minutes)
            cached = []
            if kind == "consultation":
                for slot in slots:
                    resource = self.free_resource(kind, slot.start_utc, slot.end_utc)
                    if resource is not None:
                        cached.append(Option(slot.start, slot.end, resource, slot.start.time()))
            else:
                chairs = lowest_free_chairs(self.clinic, self.occupancy, [(s.start_utc, s.end_utc) for s in slots])
                for slot, chair in zip(slots, chairs, strict=False):
                    if chair is not None and not checks.starts_full(
                        self.clinic, self.occupancy.starts_at(slot.start_utc)
                    ):
                        cached.append(Option(slot.start, slot.end, chair, slot.start.time()))
            self._free[key] = cached
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


def lowest_free_chairs(clinic: Clinic, occ: Occupancy, slots: list[tuple[datetime, datetime]]) -> list[str | None]:
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
    for chair in clinic.chairs:
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
