"""A batch keeps its view of free chairs and rooms up to date as it books, without working
each day out again: what it offers after any sequence of bookings must be exactly what
a view built afresh from the same bookings offers (DST days included)."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import make_clinic
from ketaplan.core.availability import Availability
from ketaplan.core.model import Booking, Patient, Request, Session

# Days around DST changes (New York: 2027-03-14 and 2027-11-07; Berlin: 2027-03-28).
ZONES = {"America/New_York": [date(2027, 3, 13), date(2027, 11, 6)], "Europe/Berlin": [date(2027, 3, 27)]}
TIMES = [(None, None), (time(9, 0), None), (None, time(13, 0)), (time(10, 30), time(15, 0))]
KINDS = ["infusion", "maintenance", "consultation"]


@st.composite
def clinics(draw):
    zone = draw(st.sampled_from(sorted(ZONES)))
    first = draw(st.sampled_from(ZONES[zone]))
    clinic = make_clinic(
        timezone=zone,
        chairs=draw(st.integers(1, 3)),
        consult_rooms=draw(st.integers(1, 2)),
        slot_minutes=draw(st.sampled_from([15, 30])),
        turnover_minutes=draw(st.sampled_from([0, 15, 30])),
        max_starts_per_slot=draw(st.integers(1, 2)),
        # open across the small hours too, where the clocks change
        hours={d: ["00:00-06:00", "08:00-14:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        protocol={"session_minutes": draw(st.sampled_from([60, 90])), "consultation_minutes": 45},
    )
    return clinic, [first + timedelta(days=i) for i in range(3)]


def _requests() -> list[Request | None]:
    return [
        None,
        *[Request(Patient("P"), date(2027, 1, 1), date(2027, 12, 31), earliest=e, latest=la) for e, la in TIMES],
    ]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), setup=clinics())
def test_booking_into_a_view_equals_building_it_afresh(data, setup) -> None:
    clinic, days = setup
    avail = Availability(clinic)
    booked: list[Booking] = []
    for _ in range(data.draw(st.integers(1, 12), label="bookings")):
        # Read every day first, so the bookings below update views already built.
        for day in days:
            for kind in KINDS:
                for request in _requests():
                    avail.options(day, kind, request)
        day = data.draw(st.sampled_from(days), label="day")
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        offered = avail.options(day, kind, None)
        if offered and data.draw(st.booleans(), label="an offered place"):
            o = data.draw(st.sampled_from(offered), label="option")
            start, end, resource = o.start, o.end, o.resource
        else:  # any time and place, as the ledger may hold (another program's booking, a clash)
            o = data.draw(st.sampled_from([*avail.clinic_slots(day, 45), None]), label="slot")
            if o is None:
                continue
            pool = clinic.rooms if kind == "consultation" else clinic.chairs
            start, end, resource = o.start, o.end, data.draw(st.sampled_from(pool), label="resource")
        avail.book([Session(kind, 1, 1, start, end, resource, "booked")])
        booked.append(Booking(start, end, resource, kind))
        fresh = Availability(clinic, booked)
        for d in days:
            for k in KINDS:
                for request in _requests():
                    assert avail.options(d, k, request) == fresh.options(d, k, request), (d, k, request)
