from __future__ import annotations

from datetime import UTC, date, time, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpers import availability, busy, make_clinic, request
from ketaplan.core.availability import Availability
from ketaplan.core.planner import find_plan, preference_key, verify
from ketaplan.core.times import local

FIRST = date(2027, 2, 1)  # a Monday


def dur(s) -> timedelta:
    """Real elapsed time (subtracting two datetimes of one zone gives wall-clock time)."""
    return s.end.astimezone(UTC) - s.start.astimezone(UTC)


def infusion_days(plan):
    return [s.start.date() for s in plan.infusions]


def test_plans_six_infusions_evenly_at_one_time() -> None:
    clinic = make_clinic()
    plan = find_plan(clinic, request(FIRST, FIRST + timedelta(days=20)), availability(clinic))
    assert plan is not None
    assert len(plan.infusions) == 6 and plan.consultation is not None
    assert len({s.start.time() for s in plan.infusions}) == 1
    gaps = [(b - a).days for a, b in zip(infusion_days(plan), infusion_days(plan)[1:], strict=False)]
    # Mon-Fri clinic: Mon/Wed/Fri gives gaps of 2 and 3 -- the smallest largest gap.
    assert max(gaps) == 3 and min(gaps) == 2
    assert infusion_days(plan)[0] == FIRST
    assert plan.consultation.start.date() == FIRST - timedelta(days=3)  # Friday before: Sat/Sun closed
    assert all(s.resource == "Chair 1" for s in plan.infusions)  # the lowest chair


def test_same_time_is_preferred_over_even_spacing() -> None:
    # Mornings are free only on Mon/Thu; afternoons every weekday. One time for all wins.
    clinic = make_clinic(chairs=1)
    bookings = [
        busy(clinic, FIRST + timedelta(days=i), 8, 240, "Chair 1")
        for i in range(21)
        if (FIRST + timedelta(days=i)).weekday() not in (0, 3)
    ]
    bookings += [
        busy(clinic, FIRST + timedelta(days=i), 13, 240, "Chair 1")
        for i in range(21)
        if (FIRST + timedelta(days=i)).weekday() in (0, 3)
    ]
    plan = find_plan(clinic, request(FIRST, FIRST + timedelta(days=20)), availability(clinic, bookings))
    assert plan is not None
    assert len({s.start.time() for s in plan.infusions}) == 1
    assert preference_key(plan)[0] == 0


def test_mixed_times_when_no_single_time_fits() -> None:
    clinic = make_clinic(
        chairs=1,
        turnover_minutes=0,
        protocol={"session_minutes": 45, "consultation": False},
        hours={d: ["08:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    # Each weekday a different hour is free; no time is free on enough days.
    bookings = []
    for i in range(21):
        d = FIRST + timedelta(days=i)
        free = 8 + (i % 4)  # the hour free that day: no hour is free on 6 weekdays
        for h in range(8, 12):
            if h != free:
                bookings.append(busy(clinic, d, h, 45, "Chair 1"))
    plan = find_plan(
        clinic, request(FIRST, FIRST + timedelta(days=20), consultation=False), availability(clinic, bookings)
    )
    assert plan is not None
    assert preference_key(plan)[0] == 1
    verify(plan, clinic, request(FIRST, FIRST + timedelta(days=20), consultation=False), availability(clinic, bookings))


def test_ledger_bookings_are_respected_and_next_chair_used() -> None:
    clinic = make_clinic(chairs=2, max_starts_per_slot=2)
    avail = availability(clinic)
    req = request(FIRST, FIRST + timedelta(days=20))
    first = find_plan(clinic, req, avail)
    assert first is not None
    avail.book(first.sessions)
    second = find_plan(clinic, req, avail)
    assert second is not None
    for a, b in zip(first.infusions, second.infusions, strict=False):
        assert not (
            a.resource == b.resource
            and a.start < b.end + timedelta(minutes=15)
            and b.start < a.end + timedelta(minutes=15)
        )
    assert {s.resource for s in second.infusions} == {"Chair 2"}  # same times, next chair


def test_starts_per_slot_limits_parallel_starts() -> None:
    clinic = make_clinic(chairs=3, max_starts_per_slot=1)
    avail = availability(clinic)
    req = request(FIRST, FIRST + timedelta(days=20))
    a = find_plan(clinic, req, avail)
    assert a is not None
    avail.book(a.sessions)
    b = find_plan(clinic, req, avail)
    assert b is not None
    assert {s.start for s in a.infusions}.isdisjoint({s.start for s in b.infusions})


def test_pain_profile_consecutive_days() -> None:
    clinic = make_clinic(
        protocol={"profile": "pain-5-day"},
        hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    plan = find_plan(clinic, request(FIRST, FIRST + timedelta(days=6)), availability(clinic))
    assert plan is not None
    assert infusion_days(plan) == [FIRST + timedelta(days=i) for i in range(5)]
    assert all(dur(s) == timedelta(hours=4) for s in plan.infusions)


def test_maintenance_boosters_follow_every_28_days() -> None:
    clinic = make_clinic()
    plan = find_plan(clinic, request(FIRST, FIRST + timedelta(days=20), boosters=3), availability(clinic))
    assert plan is not None and len(plan.boosters) == 3
    chain = [plan.infusions[-1]] + list(plan.boosters)
    for prev, b in zip(chain, chain[1:], strict=False):
        assert 21 <= (b.start.date() - prev.start.date()).days <= 35
    assert all(b.start.time() == plan.infusions[0].start.time() for b in plan.boosters)


def test_patient_restrictions_are_kept() -> None:
    clinic = make_clinic()
    req = request(
        FIRST,
        FIRST + timedelta(days=20),
        days=frozenset({0, 2, 4}),
        earliest=time(13),
        latest=time(16, 30),
        unavailable=frozenset({date(2027, 2, 3)}),
    )
    plan = find_plan(clinic, req, availability(clinic))
    assert plan is not None
    for s in plan.sessions:
        assert s.start.weekday() in (0, 2, 4) and s.start.date() != date(2027, 2, 3)
        assert time(13) <= s.start.time() and s.end.time() <= time(16, 30)


def test_deterministic() -> None:
    clinic = make_clinic()
    req = request(FIRST, FIRST + timedelta(days=20), boosters=1)
    assert find_plan(clinic, req, availability(clinic)) == find_plan(clinic, req, availability(clinic))


def test_consultation_never_in_the_past() -> None:
    clinic = make_clinic()
    req = request(FIRST, FIRST + timedelta(days=20), not_before=FIRST)
    plan = find_plan(clinic, req, availability(clinic))
    assert plan is not None and plan.consultation is not None
    assert plan.consultation.start.date() >= FIRST
    assert plan.infusions[0].start.date() > FIRST


# --- time zones and DST ------------------------------------------------------------------------

DST_CASES = [
    # zone, a window that crosses a DST change
    ("America/New_York", date(2027, 3, 8)),  # clocks forward Mar 14 2027
    ("America/New_York", date(2026, 10, 26)),  # clocks back Nov 1 2026
    ("Europe/Berlin", date(2027, 3, 22)),  # forward Mar 28 2027
    ("Europe/Berlin", date(2027, 10, 25)),  # back Oct 31 2027
    ("Australia/Sydney", date(2027, 3, 29)),  # back Apr 4 2027 (southern autumn)
    ("Australia/Sydney", date(2027, 9, 27)),  # forward Oct 3 2027
    ("Asia/Kolkata", date(2027, 3, 8)),  # +05:30, no DST
]


@pytest.mark.parametrize("zone, first", DST_CASES)
def test_series_across_dst_keeps_local_clock_time(zone: str, first: date) -> None:
    clinic = make_clinic(timezone=zone)
    plan = find_plan(clinic, request(first, first + timedelta(days=20)), availability(clinic))
    assert plan is not None
    walls = [local(s.start, clinic.zone) for s in plan.infusions]
    assert len({t.time() for t in walls}) == 1  # same wall-clock time all series
    offsets = {t.utcoffset() for t in walls}
    assert len(offsets) == (1 if zone == "Asia/Kolkata" else 2)  # really crossed the change
    assert all(dur(s) == timedelta(minutes=90) for s in plan.infusions)
    assert dur(plan.consultation) == timedelta(minutes=45)


@pytest.mark.parametrize(
    "zone, day, gap_hour",
    [
        ("America/New_York", date(2027, 3, 14), 2),
        ("Europe/Berlin", date(2027, 3, 28), 2),
        ("Australia/Sydney", date(2027, 10, 3), 2),
    ],
)
def test_nonexistent_local_times_are_never_offered(zone: str, day: date, gap_hour: int) -> None:
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    clinic = make_clinic(timezone=zone, hours={d: ["00:00-06:00"] for d in week}, protocol={"session_minutes": 60})
    slots = Availability(clinic).clinic_slots(day, 60)
    starts = [local(s.start, clinic.zone) for s in slots]
    assert starts and all(t.hour != gap_hour for t in starts)
    for slot in slots:
        s, e = slot.start, slot.end
        assert e.astimezone(UTC) - s.astimezone(UTC) == timedelta(minutes=60)
        # what we offer is a real instant that reads back as the same wall-clock time
        assert s.astimezone(UTC).astimezone(clinic.zone).replace(tzinfo=None) == s.replace(tzinfo=None)


ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/Chicago"]


@settings(max_examples=60, deadline=None)
@example(zone="America/Santiago", first=date(2028, 8, 19), opens=720, hours=12, step=5, minutes=30)  # 24:00 is 01:00
@example(zone="America/Havana", first=date(2026, 10, 25), opens=1200, hours=4, step=15, minutes=90)  # two 00:00s
@given(
    zone=st.sampled_from(ZONES + ["Australia/Lord_Howe", "America/Santiago", "America/Havana", "Atlantic/Azores"]),
    first=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    opens=st.integers(0, 20 * 60),
    hours=st.integers(1, 12),
    step=st.sampled_from([5, 15, 30, 60]),
    minutes=st.sampled_from([30, 45, 90, 240]),
)
def test_steady_day_template_equals_converting_every_start(
    zone: str, first: date, opens: int, hours: int, step: int, minutes: int
) -> None:
    """clinic_slots builds days without a clock change from a per-weekday template; on
    every day it must offer exactly what converting each start through zoneinfo offers."""
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    close = min(opens + hours * 60, 24 * 60)
    # Hours that may hold none of the protocol's sessions (the clinic file would refuse
    # them): set on the value directly, as only the slots are compared here.
    clinic = make_clinic(timezone=zone)._replace(slot_minutes=step, hours=(((opens, close),),) * len(week))
    avail = Availability(clinic)
    for i in range(15):
        day = first + timedelta(days=i)
        assert avail.clinic_slots(day, minutes) == avail._changing_day_slots(day, minutes), day


@settings(max_examples=40, deadline=None)
@given(zone=st.sampled_from(ZONES), offset=st.integers(0, 364), hour=st.integers(0, 3))
def test_any_start_any_zone_plans_on_the_grid_in_local_time(zone: str, offset: int, hour: int) -> None:
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    clinic = make_clinic(timezone=zone, hours={d: [f"{hour:02d}:00-{hour + 8:02d}:00"] for d in week})
    first = date(2027, 1, 1) + timedelta(days=offset)
    req = request(first, first + timedelta(days=20), boosters=1)
    avail = availability(clinic)
    plan = find_plan(clinic, req, avail)
    assert plan is not None
    verify(plan, clinic, req, avail)
    for s in plan.sessions:
        t = local(s.start, clinic.zone)
        assert (t.hour * 60 + t.minute) % 15 == 0 and dur(s) == timedelta(
            minutes=90 if s.kind != "consultation" else 45
        )
