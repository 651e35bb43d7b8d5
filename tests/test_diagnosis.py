"""When no plan exists: the explanation names the blocking rules; every suggestion works."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from helpers import at, availability, busy, make_clinic, request
from ketaplan.app.booking import plan_one
from ketaplan.cli.suggestions import option
from ketaplan.core.clinic import demo_clinic
from ketaplan.core.errors import NoPlanError
from ketaplan.core.model import Booking
from ketaplan.core.planner import find_plan, verify
from ketaplan.store.holiday_cache import FROM_PACKAGE


def no_plan(clinic, req, bookings=()) -> NoPlanError:
    with pytest.raises(NoPlanError) as e:
        plan_one(clinic, req, availability(clinic, list(bookings)), "KP-T", None)
    return e.value


def assert_suggestions_work(clinic, err: NoPlanError, bookings=()) -> None:
    assert err.suggestions, "an infeasible request should come with at least one way out"
    for s in err.suggestions:
        avail = availability(clinic, list(bookings))
        plan = find_plan(clinic, s.request, avail)
        assert plan is not None, f"suggestion {s.change} does not work"
        verify(plan, clinic, s.request, avail)


def test_holiday_window_explains_closed_days() -> None:
    clinic = demo_clinic(FROM_PACKAGE)
    err = no_plan(clinic, request(date(2026, 12, 21), date(2027, 1, 3), days=frozenset({0, 2, 4})))
    first = err.explanation[0]
    assert first.startswith("only 4 open days between Dec 21 and Jan 3")
    assert "closed Dec 24, 25, 31, Jan 1, 2" in first and "Christmas Day" in first
    assert "the patient cannot come" in first
    changes = {s.change: s for s in err.suggestions}
    assert option(changes["start"]) == "--start 2027-01-04"  # Jan 2 is closed: the first day the series can start
    assert option(changes["end"]).startswith("--end ")
    assert_suggestions_work(clinic, err)


def test_weekday_restriction_that_blocks_is_named_and_dropping_it_works() -> None:
    clinic = make_clinic()
    req = request(date(2027, 2, 1), date(2027, 2, 14), days=frozenset({1}))  # Tuesdays only
    err = no_plan(clinic, req)
    assert "the patient cannot come" in err.explanation[0]
    assert "days" in {s.change for s in err.suggestions}
    assert_suggestions_work(clinic, err)


def test_time_restriction_that_blocks() -> None:
    clinic = make_clinic()
    req = request(date(2027, 2, 1), date(2027, 2, 14), earliest=time(16), latest=time(17))  # 60 min, session 90
    err = no_plan(clinic, req)
    assert "no 90-minute session fits the hours" in err.explanation[0]
    assert "times" in {s.change for s in err.suggestions}
    assert_suggestions_work(clinic, err)


def test_fully_booked_clinic_suggests_later_start() -> None:
    clinic = make_clinic(chairs=1, hours={d: ["08:00-10:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
    first = date(2027, 2, 1)
    bookings = [busy(clinic, first + timedelta(days=i), 8, 120, "Chair 1") for i in range(14)]
    err = no_plan(clinic, request(first, first + timedelta(days=13), consultation=False), bookings)
    assert "every chair is booked" in err.explanation[0]
    start = next(s for s in err.suggestions if s.change == "start")
    assert start.request.first_day > first
    assert_suggestions_work(clinic, err, bookings)


def test_consultation_that_blocks_is_named() -> None:
    clinic = make_clinic()
    first = date(2027, 2, 1)
    req = request(first, first + timedelta(days=13), not_before=first)
    # The consult room is taken all day, every day of the window.
    rooms = [
        Booking(
            at(clinic, first + timedelta(days=i), 8),
            at(clinic, first + timedelta(days=i), 17),
            "Consult room 1",
            "consultation",
        )
        for i in range(14)
    ]
    err = no_plan(clinic, req, rooms)
    assert "no consult room is free" in err.explanation[-1]
    assert "consultation" in {s.change for s in err.suggestions}
    assert_suggestions_work(clinic, err, rooms)


def test_boosters_that_block_are_named() -> None:
    clinic = make_clinic(closures={"dates": ["2027-02-20/2027-04-30"]})
    err = no_plan(clinic, request(date(2027, 2, 1), date(2027, 2, 14), boosters=1))
    assert any("boosters" in line for line in err.explanation)
    assert "maintenance" in {s.change for s in err.suggestions}
    assert_suggestions_work(clinic, err)
