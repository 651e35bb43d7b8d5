"""core.reschedule on its own, against brute force: when an infusion moves, the answer
moves as few infusions as the rules force, or says no only when no set of moves works.

Small random clinics (one chair, one slot a day, some days taken by other patients),
a plan found by the planner, one infusion moved from a random day on; the brute force
tries every choice of new days for the target and the next m infusions, smallest m first."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import combinations

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from helpers import availability, busy, make_clinic, request
from ketaplan.core import checks
from ketaplan.core.errors import NoPlanError
from ketaplan.core.planner import find_plan
from ketaplan.core.reschedule import reschedule
from ketaplan.core.times import local

FIRST = date(2027, 3, 1)  # a Monday
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@st.composite
def instances(draw: st.DrawFn):
    open_days = draw(st.sets(st.sampled_from(DAYS), min_size=3))
    lo = draw(st.integers(1, 2))
    hi = draw(st.integers(lo + 1, 4))
    n = draw(st.integers(3, 4))
    clinic = make_clinic(
        chairs=1,
        hours={d: ["08:00-09:30"] for d in open_days},  # one 90-minute slot a day
        protocol={
            "infusions": n,
            "min_days_apart": lo,
            "max_days_apart": hi,
            "window_days": [7, 14],
            "consultation": False,
        },
    )
    taken = draw(st.sets(st.integers(0, 20), max_size=6))
    bookings = [busy(clinic, FIRST + timedelta(days=i), 8, 90, "Chair 1") for i in sorted(taken)]
    target = draw(st.integers(1, n))
    shift = draw(st.integers(0, 6))
    missed = draw(st.booleans())  # the target was a no-show: "now" is after it
    return clinic, bookings, target, shift, missed


def minimal_moves(clinic, avail, plan, req, target: int, from_day: date, now: datetime) -> tuple[int, int] | None:
    """The fewest infusions (target and the ones after it) that can take new days, and the
    smallest largest gap of the whole series that moving that many allows; or None."""
    p, zone = clinic.protocol, clinic.zone
    infusions = sorted(plan.infusions, key=lambda s: s.number)
    days = [local(s.start, zone).date() for s in infusions]
    idx = target - 1
    latest_last = plan.first_day + timedelta(days=p.window_days[1] - 1)
    req = req._replace(not_before=from_day)

    def free(d: date) -> bool:
        return any(o.start > now for o in avail.options(d, "infusion", req))

    lo = max(from_day, plan.first_day)
    candidates = [lo + timedelta(days=i) for i in range((latest_last - lo).days + 1) if free(lo + timedelta(days=i))]
    for m in range(1, len(infusions) - idx + 1):
        gaps = []
        for choice in combinations(candidates, m):
            if choice[0] == days[idx]:
                continue  # the target leaves its day
            seq = days[:idx] + list(choice) + days[idx + m :]
            if all(checks.spacing_problem(clinic, a, b) is None for a, b in zip(seq, seq[1:], strict=False)):
                gaps.append(max((b - a).days for a, b in zip(seq, seq[1:], strict=False)))
        if gaps:
            return m, min(gaps)
    return None


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(instances())
def test_reschedule_moves_as_few_as_the_rules_force(instance) -> None:
    clinic, bookings, target, shift, missed = instance
    req = request(FIRST, FIRST + timedelta(days=13), consultation=False)
    avail = availability(clinic, bookings)
    plan = find_plan(clinic, req, avail, plan_id="KP-T")
    assume(plan is not None)
    assert plan is not None
    plan = plan._replace(sessions=tuple(s._replace(status="booked") for s in plan.sessions))
    now = datetime.combine(FIRST - timedelta(days=1), datetime.min.time(), tzinfo=clinic.zone)
    if missed:  # the patient missed it: marked a no-show an hour after it began
        t = next(s for s in plan.infusions if s.number == target)
        now = t.start + timedelta(hours=1)
        plan = plan._replace(sessions=tuple(s._replace(status="no_show") if s is t else s for s in plan.sessions))
        # every infusion before it was attended
        plan = plan._replace(
            sessions=tuple(
                s._replace(status="attended") if s.kind == "infusion" and s.number < target else s
                for s in plan.sessions
            )
        )
    from_day = max(FIRST + timedelta(days=shift), now.date())
    expected = minimal_moves(clinic, avail, plan, req, target, from_day, now)
    event(f"{'missed, ' if missed else ''}brute force: {'no move' if expected is None else f'{expected[0]} move'}")
    try:
        result = reschedule(clinic, plan, req, avail, kind="infusion", number=target, from_day=from_day, now=now)
    except NoPlanError:
        assert expected is None, f"no move offered, but moving {expected} infusion(s) works"
        return
    assert expected is not None, "a move was made that brute force says cannot keep the rules"
    fewest, best_gap = expected
    moved = sorted(a.number for b, a in result.moved if a.kind == "infusion")
    assert moved == list(range(target, target + fewest)), (moved, fewest)
    series = sorted(local(s.start, clinic.zone).date() for s in result.plan.infusions)
    assert max((b - a).days for a, b in zip(series, series[1:], strict=False)) == best_gap  # evenly spaced
    before = {s.number: s for s in plan.infusions}
    after = {s.number: s for s in result.plan.infusions}
    assert local(after[target].start, clinic.zone).date() != local(before[target].start, clinic.zone).date()
    assert all(after[k] == before[k] for k in before if k not in moved)  # nothing else moved
    assert all(local(after[k].start, clinic.zone).date() >= from_day for k in moved)
    assert all(after[k].status == "booked" and after[k].start > now for k in moved)
