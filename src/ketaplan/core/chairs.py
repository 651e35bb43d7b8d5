"""One day's sessions placed on named chairs and rooms: the exact model a day check falls
back to when the count model (core.joint: chairs interchangeable, named afterwards) keeps
answering with combinations no chair assignment exists for, which happens around bookings
pinned to their chairs. A column per (session, start, chair or room free then); on each
chair, at each moment, at most one session held (with turnover); the infusion starts per
slot; a same-day consultation before its infusion 1. Chairs are named in the model, so
its answer needs no assignment afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from ketaplan.core import checks
from ketaplan.core.availability import Availability, Option
from ketaplan.core.clinic import Clinic
from ketaplan.core.joint import Element, Program, Row
from ketaplan.core.model import CONSULTATION, Session


class Place(NamedTuple):
    """A possible session: element `element` at `option`'s time on `resource`."""

    element: int
    option: Option
    resource: str
    start: datetime  # UTC
    held_until: datetime  # UTC: end + turnover on a chair, end in a room


class Named(NamedTuple):
    """Columns: one `chosen` per element (0..n-1), then one per Place."""

    program: Program
    places: list[Place]
    weight: int  # one session placed: count = objective // weight

    def sessions(self, values: Sequence[float], one_day: Sequence[Element]) -> dict[int, Session]:
        """The sessions of the answer, per element placed."""
        n = len(one_day)
        out: dict[int, Session] = {}
        for k, p in enumerate(self.places):
            if values[n + k] > 0.5:
                e = one_day[p.element]
                out[p.element] = Session(e.kind, e.number, e.of, p.option.start, p.option.end, p.resource)
        return out


def build(
    clinic: Clinic,
    one_day: Sequence[Element],
    avail: Availability,
    before: Sequence[tuple[int, int]] = (),
    prefer: Sequence[tuple[datetime, str] | None] | None = None,
) -> Named:
    """The model of these elements (each with one day's options): the most placed, then
    the most at their preferred (UTC start, chair or room)."""
    occ, n = avail.occupancy, len(one_day)
    turnover = timedelta(minutes=clinic.turnover_minutes)
    places: list[Place] = []
    for i, e in enumerate(one_day):
        room = e.kind == CONSULTATION
        pool = clinic.rooms if room else clinic.chairs
        for options in e.days.values():
            for o in options:
                for r in pool:
                    clash = checks.room_clash(occ, r, o.start, o.end) if room else checks.chair_clash(
                        clinic, occ, r, o.start, o.end)  # fmt: skip
                    if clash is None:
                        end = o.end.astimezone(UTC) + (timedelta(0) if room else turnover)
                        places.append(Place(i, o, r, o.start.astimezone(UTC), end))
    favoured = [p for p in prefer if p is not None] if prefer else []
    weight = len(favoured) + 1  # one session more outweighs every preferred place
    bonus = [1.0 if prefer and prefer[p.element] == (p.start, p.resource) else 0.0 for p in places]
    rows: list[Row] = []
    by_element: dict[int, list[int]] = {}
    for k, p in enumerate(places):
        by_element.setdefault(p.element, []).append(n + k)
    for i in range(n):
        cols = by_element.get(i, [])
        rows.append(Row([*cols, i], [1.0] * len(cols) + [-1.0], 0.0, 0.0))
    by_resource: dict[str, list[int]] = {}
    for k, p in enumerate(places):
        by_resource.setdefault(p.resource, []).append(k)
    for ks in by_resource.values():  # at most one held at each start on one chair or room
        for t in sorted({places[k].start for k in ks}):
            covering = [n + k for k in ks if places[k].start <= t < places[k].held_until]
            if len(covering) > 1:
                rows.append(Row(covering, [1.0] * len(covering), 0.0, 1.0))
    starting: dict[datetime, list[int]] = {}
    for k, p in enumerate(places):
        if one_day[p.element].kind != CONSULTATION:
            starting.setdefault(p.start, []).append(n + k)
    for t, cols in starting.items():
        left = clinic.starts_per_slot - occ.starts_at(t)
        if len(cols) > left:
            rows.append(Row(cols, [1.0] * len(cols), 0.0, float(max(left, 0))))
    for a, b in before:  # each place of b, or a place of a ending after it starts
        for k, p in enumerate(places):
            if p.element == b:
                late = [n + m for m, q in enumerate(places) if q.element == a and q.option.end > p.option.start]
                if late:
                    rows.append(Row([n + k, *late], [1.0] * (len(late) + 1), 0.0, 1.0))
    cost = [float(weight)] * n + bonus
    return Named(Program(n + len(places), n + len(places), cost, None, rows), places, weight)


def pack_program(clinic: Clinic, avail: Availability, pool: str, spans: Sequence[tuple[datetime, datetime]]) -> Program:
    """How many sessions with these places (UTC start, end of hold) fit at once on the
    named chairs (or rooms) that bookings leave free: a column per (start, chair free
    then). Tighter than `core.days.pack_program`, which counts free chairs moment by
    moment and so misses a day cut into pieces too short by bookings held on chairs."""
    occ = avail.occupancy
    room = pool == "rooms"
    resources, wait = (clinic.rooms, timedelta(0)) if room else (clinic.chairs, occ.turnover)
    cols = [(s, e, r) for s, e in sorted(set(spans)) for r in resources if occ.overlap(r, s - wait, e) is None]
    rows: list[Row] = []
    for r in resources:
        mine = [k for k, c in enumerate(cols) if c[2] == r]
        for t in sorted({cols[k][0] for k in mine}):
            covering = [k for k in mine if cols[k][0] <= t < cols[k][1]]
            if len(covering) > 1:
                rows.append(Row(covering, [1.0] * len(covering), 0.0, 1.0))
    if not room:
        for t in sorted({c[0] for c in cols}):
            starting = [k for k, c in enumerate(cols) if c[0] == t]
            left = clinic.starts_per_slot - occ.starts_at(t)
            if len(starting) > left:
                rows.append(Row(starting, [1.0] * len(starting), 0.0, float(max(left, 0))))
    return Program(len(cols), len(cols), [1.0] * len(cols), None, rows)
