"""core.chairs: one day's sessions on named chairs, the exact model a day check falls back to
when the count model (chairs interchangeable) answers with sessions no chair can take."""

from __future__ import annotations

import time
from datetime import UTC, date, timedelta

import pytest

from helpers import at, busy, make_clinic
from ketaplan.core import chairs, days, joint
from ketaplan.core.availability import Availability
from ketaplan.core.model import INFUSION, Booking

pytest.importorskip("highspy")

DAY = date(2027, 3, 2)  # a Tuesday


def fragmented():
    """Two chairs, 60-minute infusions on a 30-minute grid, 09:00-12:00; chair 1 booked
    09:00-10:00 and chair 2 10:15-11:15. At every moment from 09:30 to 10:30 a chair is
    free, yet neither is free for that whole hour."""
    clinic = make_clinic(
        chairs=2,
        slot_minutes=30,
        turnover_minutes=0,
        min_notice_hours=0,
        hours={d: ["09:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        protocol={"session_minutes": 60},
    )
    c1, c2 = clinic.chairs
    later = Booking(at(clinic, DAY, 10, 15), at(clinic, DAY, 11, 15), c2, INFUSION, "KP-OTHER")
    return clinic, Availability(clinic, [busy(clinic, DAY, 9, 60, c1), later])


def solve(program: joint.Program) -> int:
    from ketaplan.solver.highs import Solver

    solved = Solver(program, deadline=time.monotonic() + 30, gap=0.0, log=False).solve()
    assert solved.proven
    return round(solved.objective)


def test_named_chairs_see_what_counting_free_chairs_misses() -> None:
    clinic, avail = fragmented()
    spans = [(at(clinic, DAY, 9, 30).astimezone(UTC), at(clinic, DAY, 10, 30).astimezone(UTC))]
    counted = days.pack_program(spans, lambda t: joint.free_at(avail.occupancy, clinic.chairs, timedelta(0), t), 2)
    assert solve(counted) == 1  # counting free chairs at its start: one fits
    assert solve(chairs.pack_program(clinic, avail, "chairs", spans)) == 0  # no chair is free that hour


def test_the_named_model_places_what_fits_and_prefers_a_session_s_own_place() -> None:
    clinic, avail = fragmented()
    c1, c2 = clinic.chairs
    options = avail.options(DAY, INFUSION, None)
    element = joint.Element(INFUSION, 1, 6, None, {DAY: options})
    own = at(clinic, DAY, 11).astimezone(UTC)
    model = chairs.build(clinic, [element, element], avail, prefer=[None, (own, c1)])
    from ketaplan.solver.highs import Solver

    solved = Solver(model.program, deadline=time.monotonic() + 30, gap=0.0, log=False).solve()
    placed = model.sessions(solved.values, [element, element])
    assert len(placed) == 2 and placed[1].start.astimezone(UTC) == own and placed[1].resource == c1
    for s in placed.values():  # each on a chair free for the whole hour
        assert avail.occupancy.overlap(s.resource or "", s.start, s.end) is None
    (a, b) = placed.values()
    assert a.resource != b.resource or a.end <= b.start or b.end <= a.start
