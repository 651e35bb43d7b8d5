"""Who holds which chair or room when: the data structure, no rules.

Intervals are kept per resource in UTC, sorted by start, so a lookup is a bisect and
planning time does not grow with the number of bookings elsewhere in the calendar."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ketaplan.core.model import CHAIR_KINDS, INFUSION_KINDS, Booking


class Occupancy:
    def __init__(self, chairs: Iterable[str], rooms: Iterable[str], turnover: timedelta) -> None:
        self.chairs = tuple(chairs)
        self.rooms = tuple(rooms)
        self.turnover = turnover
        self._held: dict[str, list[tuple[datetime, datetime]]] = {r: [] for r in self.chairs + self.rooms}
        self._longest: dict[str, timedelta] = {r: timedelta(0) for r in self._held}
        self._starts: Counter[datetime] = Counter()
        self._blocks: set[tuple[str, datetime, datetime]] = set()  # chair outages, as held
        self.placed: dict[Booking, str] = {}  # where add_all put bookings naming no chair of ours

    def add_all(self, bookings: Iterable[Booking]) -> None:
        """Named bookings first, then the unnamed ones on whichever chair is free."""
        unnamed: list[Booking] = []
        for b in bookings:
            if self._resource_of(b) is None:
                unnamed.append(b)
            else:
                self.add(b)
        for b in sorted(unnamed, key=lambda b: (b.start, b.end)):
            self.placed[b] = self.add(b)

    def _resource_of(self, b: Booking) -> str | None:
        pool = self.chairs if b.kind in CHAIR_KINDS else self.rooms
        return b.resource if b.resource in pool else None

    def add(self, b: Booking) -> str:
        """Record a booking; returns the resource it was put on."""
        resource = self._resource_of(b)
        if resource is None:
            resource = self._first_free(b) if b.kind in CHAIR_KINDS else (self.rooms or ("?",))[0]
        start, end = b.start.astimezone(UTC), b.end.astimezone(UTC)
        held = self._held.setdefault(resource, [])
        insort(held, (start, end))
        self._longest[resource] = max(self._longest.get(resource, timedelta(0)), end - start)
        if b.kind in INFUSION_KINDS:
            self._starts[start] += 1
        return resource

    def block(self, chair: str, start: datetime, end: datetime) -> None:
        """A chair out of service over [start, end): placement keeps off it, but it is no
        booking (the `chairs` rule asks `overlap(..., blocks=False)`; the `closures` rule
        names the outage). Held shrunk by the turnover each side, which every placement
        query adds back, so a session may end as it begins and start as it ends."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        pad = min(self.turnover, (end - start) / 2)
        start, end = start + pad, end - pad
        held = self._held.setdefault(chair, [])
        insort(held, (start, end))
        self._longest[chair] = max(self._longest.get(chair, timedelta(0)), end - start)
        self._blocks.add((chair, start, end))

    def remove(self, b: Booking) -> None:
        """Take back a booking add_all put in (conflicts check each plan against everyone
        else's bookings)."""
        resource = self.placed.get(b) or b.resource or ""
        start, end = b.start.astimezone(UTC), b.end.astimezone(UTC)
        held = self._held[resource]
        del held[bisect_left(held, (start, end))]
        if b.kind in INFUSION_KINDS:
            self._starts[start] -= 1

    def _first_free(self, b: Booking) -> str:
        for chair in self.chairs:
            if self.overlap(chair, b.start - self.turnover, b.end + self.turnover) is None:
                return chair
        return self.chairs[0]  # over-full in the other system: it still holds a chair

    def overlap(
        self, resource: str, start: datetime, end: datetime, *, blocks: bool = True
    ) -> tuple[datetime, datetime] | None:
        """A held interval on `resource` that overlaps [start, end), if any (`blocks`
        False: bookings only, not a chair's outages)."""
        held = self._held.get(resource)
        if not held:
            return None
        if start.tzinfo is not UTC:
            start, end = start.astimezone(UTC), end.astimezone(UTC)
        i = bisect_left(held, (end,))
        floor = start - self._longest[resource]
        while i > 0:
            i -= 1
            s, e = held[i]
            if s < floor:
                break
            if e > start and s < end and (blocks or (resource, s, e) not in self._blocks):
                return (s, e)
        return None

    def held_between(self, resource: str, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """Intervals on `resource` that may touch [lo, hi), sorted by start (UTC)."""
        held = self._held.get(resource)
        if not held:
            return []
        return held[bisect_left(held, (lo - self._longest[resource],)) : bisect_left(held, (hi,))]

    def starts_at(self, start: datetime) -> int:
        return self._starts[start if start.tzinfo is UTC else start.astimezone(UTC)]
