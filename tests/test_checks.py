"""Every rule both ways: a plan that keeps it passes, one that breaks it is caught."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, timedelta

import pytest

from helpers import at, availability, busy, make_clinic, request
from ketaplan.core import checks
from ketaplan.core.availability import Availability, lowest_free_chairs
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Booking, Plan, Request, Session
from ketaplan.core.planner import find_plan

FIRST, LAST = date(2027, 2, 1), date(2027, 2, 21)  # Mon .. Sun, no US holidays inside


def base() -> tuple[Clinic, Request, Plan]:
    clinic = make_clinic(closures={"dates": ["2027-02-12"]})
    req = request(FIRST, LAST, boosters=1)
    plan = find_plan(clinic, req, availability(clinic))
    assert plan is not None
    return clinic, req, plan


def ctx(clinic: Clinic, req: Request, bookings: Sequence[Booking] = (), **kw: object) -> checks.CheckContext:
    return checks.CheckContext(
        clinic, req, Availability(clinic, list(bookings)).occupancy, req.consultation, req.boosters, **kw
    )


def failed(plan: Plan, c: checks.CheckContext) -> set[str]:
    return {r.rule for r in checks.run_checks(plan, c) if not r.ok}


def move(plan: Plan, label: str, delta: timedelta) -> Plan:
    return plan._replace(
        sessions=tuple(
            s._replace(start=s.start + delta, end=s.end + delta) if s.label == label else s for s in plan.sessions
        )
    )


def session(plan: Plan, label: str) -> Session:
    return next(s for s in plan.sessions if s.label == label)


def test_planned_series_keeps_every_rule() -> None:
    clinic, req, plan = base()
    results = checks.run_checks(plan, ctx(clinic, req))
    assert [r.rule for r in results] == list(checks.RULES)
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]


def _t_count(clinic, req, plan):
    return plan._replace(sessions=tuple(s for s in plan.sessions if s.label != "infusion 6")), ctx(clinic, req)


def _t_window(clinic, req, plan):
    narrow = req._replace(last_day=session(plan, "infusion 6").start.date() - timedelta(days=1))
    return plan, ctx(clinic, narrow)


def _t_spacing(clinic, req, plan):
    gap = (session(plan, "infusion 2").start.date() - session(plan, "infusion 1").start.date()).days
    return move(plan, "infusion 2", timedelta(days=1 - gap)), ctx(clinic, req)


def _t_hours(clinic, req, plan):
    s = session(plan, "infusion 3")
    return move(plan, "infusion 3", at(clinic, s.start.date(), 7) - s.start), ctx(clinic, req)


def _t_grid(clinic, req, plan):
    return move(plan, "infusion 3", timedelta(minutes=5)), ctx(clinic, req)


def _t_closures(clinic, req, plan):
    day = session(plan, "infusion 3").start.date().isoformat()
    return plan, ctx(make_clinic(closures={"dates": ["2027-02-12", day]}), req)


def _t_chairs(clinic, req, plan):
    s = session(plan, "infusion 3")
    # Another patient leaves the same chair 5 minutes before: turnover is 15.
    other = Booking(s.start - timedelta(minutes=95), s.start - timedelta(minutes=5), s.resource, "infusion")
    return plan, ctx(clinic, req, [other])


def _t_starts(clinic, req, plan):
    s = session(plan, "infusion 3")
    others = [Booking(s.start, s.end, "Chair 2", "infusion")]
    return plan, ctx(make_clinic(closures={"dates": ["2027-02-12"]}, chairs=3, max_starts_per_slot=1), req, others)


def _t_consultation(clinic, req, plan):
    c, first = session(plan, "consultation"), session(plan, "infusion 1")
    return move(plan, "consultation", timedelta(days=(first.start.date() - c.start.date()).days)), ctx(clinic, req)


def _t_patient(clinic, req, plan):
    weekday = session(plan, "infusion 4").start.weekday()
    return plan, ctx(clinic, req._replace(days=frozenset(set(range(7)) - {weekday})))


def _t_maintenance(clinic, req, plan):
    return move(plan, "booster 1", timedelta(days=-12)), ctx(clinic, req)


TAMPER: dict[str, Callable] = {
    "count": _t_count,
    "window": _t_window,
    "spacing": _t_spacing,
    "hours": _t_hours,
    "grid": _t_grid,
    "closures": _t_closures,
    "chairs": _t_chairs,
    "starts": _t_starts,
    "consultation": _t_consultation,
    "patient": _t_patient,
    "maintenance": _t_maintenance,
}


def test_every_rule_has_a_tamper_case() -> None:
    assert set(TAMPER) == set(checks.RULES) == set(checks.CHECKS)


@pytest.mark.parametrize("rule", list(TAMPER))
def test_breaking_a_rule_is_caught(rule: str) -> None:
    clinic, req, plan = base()
    bad_plan, c = TAMPER[rule](clinic, req, plan)
    results = {r.rule: r for r in checks.run_checks(bad_plan, c)}
    assert not results[rule].ok
    assert results[rule].problems, "a failed check names the session at fault"


# --- the edges of each rule, on the keep side and the break side -------------------------


def test_chair_turnover_edge() -> None:
    clinic = make_clinic()
    day = date(2027, 2, 2)
    occ = Availability(clinic, [busy(clinic, day, 8, 90, "Chair 1")]).occupancy
    ok_start = at(clinic, day, 9, 45)  # 09:30 + 15 min turnover
    assert checks.chair_problem(clinic, occ, "Chair 1", ok_start, ok_start + timedelta(minutes=90)) is None
    early = ok_start - timedelta(minutes=15)
    assert "turnover" in str(checks.chair_problem(clinic, occ, "Chair 1", early, early + timedelta(minutes=90)))
    assert checks.chair_problem(clinic, occ, "Chair 2", early, early + timedelta(minutes=90)) is None


def test_hours_edges_and_split_days() -> None:
    clinic = make_clinic(hours={"tue": ["08:00-12:00", "13:00-18:00"]})
    tue = date(2027, 2, 2)
    assert checks.hours_problem(clinic, at(clinic, tue, 10, 30), at(clinic, tue, 12)) is None
    assert "opening hours" in str(checks.hours_problem(clinic, at(clinic, tue, 11, 30), at(clinic, tue, 13)))
    assert "closed on Sundays" in str(
        checks.hours_problem(clinic, at(clinic, date(2027, 2, 7), 9), at(clinic, date(2027, 2, 7), 10))
    )


def test_hours_until_midnight_across_a_fall_back_at_one() -> None:
    """Havana turns 01:00 back to 00:00 on 1 Nov 2026, so 00:00 comes twice. A clinic open
    until 24:00 closes at the first; 90 real minutes from 22:30 end at the first (kept),
    from 23:30 at the second, an hour after closing (caught)."""

    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    clinic = make_clinic(timezone="America/Havana", hours={d: ["20:00-24:00"] for d in week})
    sat = date(2026, 10, 31)
    for h, m, fits in ((22, 30, True), (23, 0, False), (23, 30, False)):
        start = at(clinic, sat, h, m)
        end = start.astimezone(UTC) + timedelta(minutes=90)
        assert (checks.hours_problem(clinic, start, end) is None) is fits, (h, m)
    late = at(clinic, sat, 23, 30)
    assert (
        checks.hours_problem(clinic, late, late.astimezone(UTC) + timedelta(minutes=90))
        == "the session runs past midnight (the clocks go back that night)"
    )
    offered = [s.start.time().isoformat("minutes") for s in Availability(clinic).clinic_slots(sat, 90)]
    assert offered[-1] == "22:30"


def test_spacing_edges() -> None:
    clinic = make_clinic()
    d = date(2027, 2, 1)
    assert checks.spacing_problem(clinic, d, d + timedelta(days=2)) is None
    assert checks.spacing_problem(clinic, d, d + timedelta(days=7)) is None
    assert checks.spacing_problem(clinic, d, d + timedelta(days=1))
    assert checks.spacing_problem(clinic, d, d + timedelta(days=8))


def test_holiday_is_a_closure() -> None:
    clinic = make_clinic(closures={"holidays": "US"})
    assert checks.closure_problem(clinic, date(2026, 12, 25)) == "public holiday: Christmas Day"
    assert checks.closure_problem(clinic, date(2026, 12, 28)) is None


def test_patient_time_window_edges() -> None:
    from datetime import time

    clinic = make_clinic()
    req = request(FIRST, LAST, earliest=time(9), latest=time(12))
    d = date(2027, 2, 2)
    assert checks.patient_problem(req, clinic.zone, at(clinic, d, 9), at(clinic, d, 10, 30)) is None
    assert checks.patient_problem(req, clinic.zone, at(clinic, d, 10, 30), at(clinic, d, 12)) is None
    assert "earliest" in str(checks.patient_problem(req, clinic.zone, at(clinic, d, 8, 45), at(clinic, d, 10, 15)))
    assert "latest" in str(checks.patient_problem(req, clinic.zone, at(clinic, d, 10, 45), at(clinic, d, 12, 15)))


def test_consultation_room_capacity() -> None:
    clinic, req, plan = base()
    c = session(plan, "consultation")
    taken = Booking(c.start, c.end, c.resource, "consultation")
    results = {r.rule: r for r in checks.run_checks(plan, ctx(clinic, req, [taken]))}
    assert not results["consultation"].ok and "taken" in results["consultation"].detail


# --- the bulk form of the chairs rule agrees with the single one --------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(
    held=st.lists(
        st.tuples(st.integers(0, 40), st.integers(1, 12), st.sampled_from(["Chair 1", "Chair 2", "Chair 3"])),
        max_size=12,
    ),
    turnover=st.sampled_from([0, 15, 30]),
    length=st.sampled_from([15, 45, 90]),
)
def test_lowest_free_chairs_agrees_with_chair_clash(held, turnover, length) -> None:
    from datetime import datetime

    clinic = make_clinic(chairs=3, turnover_minutes=turnover)
    base = datetime(2027, 2, 1, 8, tzinfo=UTC)
    bookings = [
        Booking(base + timedelta(minutes=15 * s), base + timedelta(minutes=15 * (s + d)), chair, "infusion")
        for s, d, chair in held
    ]
    occ = Availability(clinic, list(bookings)).occupancy
    slots = [(base + timedelta(minutes=15 * k), base + timedelta(minutes=15 * k + length)) for k in range(0, 48)]
    expected = [
        next((c for c in clinic.chairs if checks.chair_clash(clinic, occ, c, s, e) is None), None) for s, e in slots
    ]
    assert lowest_free_chairs(clinic, occ, slots) == expected
