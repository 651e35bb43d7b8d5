"""Reading calendars other programs wrote: busy_ics for the clinic, and `ketaplan check`."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from corpus_cases import BROKEN, CORPUS, WELL_FORMED, WIDE
from helpers import make_clinic, write_clinic
from ketaplan.core.availability import Availability
from ketaplan.core.errors import CalendarFileError
from ketaplan.core.model import Patient, Request
from ketaplan.core.planner import find_plan
from ketaplan.formats.ics_import import BusyCalendar, IcsFile
from ketaplan.store.holiday_cache import FROM_PACKAGE


@pytest.mark.parametrize("name, count", list(WELL_FORMED.items()))
def test_well_formed_corpus_files_import(name: str, count: int) -> None:
    busy = BusyCalendar(CORPUS / name, make_clinic())
    assert len(busy.between(*WIDE)) == count


def test_custom_vtimezone_is_read() -> None:
    """tzurl's custom_America/New_York: 08:00 New York is 07:00 in Chicago."""
    (b,) = BusyCalendar(CORPUS / "america_new_york.ics", make_clinic()).between(*WIDE)
    assert b.start.isoformat() == "2014-08-29T07:00:00-05:00" and b.end.isoformat() == "2014-08-29T09:00:00-05:00"


def test_recurrence_expansion_respects_exdates_in_the_right_zone() -> None:
    busy = BusyCalendar(
        CORPUS / "event_with_recurrence_exdates_on_different_lines.ics", make_clinic(timezone="Europe/Vienna")
    )
    starts = sorted(b.start for b in busy.between(*WIDE))
    assert all(s.hour == 10 and s.minute == 0 for s in starts)  # 10:00 Vienna wall clock all year
    assert date(2012, 4, 10) not in {s.date() for s in starts}  # an EXDATE


@pytest.mark.parametrize("name, expected", list(BROKEN.items()))
def test_broken_corpus_files_are_refused_with_file_and_line(name: str, expected: tuple[str, str]) -> None:
    with pytest.raises(CalendarFileError) as e:
        IcsFile(CORPUS / name)
    line, words = expected
    assert name in e.value.line() and line in e.value.line() and words in e.value.line()


def test_time_valued_rdate_is_refused_when_expanded() -> None:
    busy = BusyCalendar(CORPUS / "multiple_timezones.ics", make_clinic())
    with pytest.raises(CalendarFileError, match="cannot expand the recurring events"):
        busy.between(*WIDE)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"\x00\x01\x02binary", "binary"),
        (b"Subject: hello\r\n", "not an iCalendar file"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:é\r\n".encode("latin-1"), "not UTF-8"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270101T100000Z\r\n", "truncated"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Mars/Base:20270101T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "unknown time zone TZID=Mars/Base",
        ),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270101T100000Z\r\nDTEND:20270101T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "ends before it starts",
        ),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.ics"
    path.write_bytes(content)
    with pytest.raises(CalendarFileError, match=words):
        IcsFile(path)


BUSY = textwrap.dedent(
    """\
    BEGIN:VCALENDAR
    VERSION:2.0
    PRODID:-//other system//EN
    BEGIN:VEVENT
    UID:weekly@other
    DTSTART;TZID=America/Chicago:20270201T080000
    DTEND;TZID=America/Chicago:20270201T170000
    RRULE:FREQ=WEEKLY;COUNT=4
    EXDATE;TZID=America/Chicago:20270208T080000
    RDATE;TZID=America/Chicago:20270203T080000
    RESOURCES:Chair 1
    SUMMARY:Chair 1 out of service
    END:VEVENT
    BEGIN:VEVENT
    UID:weekly@other
    RECURRENCE-ID;TZID=America/Chicago:20270215T080000
    DTSTART;TZID=America/Chicago:20270215T130000
    DTEND;TZID=America/Chicago:20270215T170000
    RESOURCES:Chair 1
    END:VEVENT
    BEGIN:VEVENT
    UID:utc@other
    DTSTART:20270202T140000Z
    DTEND:20270202T160000Z
    X-KETAPLAN-CHAIR:Chair 2
    END:VEVENT
    BEGIN:VEVENT
    UID:allday@other
    DTSTART;VALUE=DATE:20270204
    END:VEVENT
    BEGIN:VEVENT
    UID:transparent@other
    DTSTART;TZID=America/Chicago:20270205T080000
    DTEND;TZID=America/Chicago:20270205T170000
    TRANSP:TRANSPARENT
    END:VEVENT
    BEGIN:VEVENT
    UID:cancelled@other
    DTSTART;TZID=America/Chicago:20270205T080000
    DTEND;TZID=America/Chicago:20270205T170000
    STATUS:CANCELLED
    END:VEVENT
    BEGIN:VEVENT
    UID:tokyo@other
    DTSTART;TZID=Asia/Tokyo:20270210T000000
    DTEND;TZID=Asia/Tokyo:20270210T020000
    END:VEVENT
    END:VCALENDAR
    """
).replace("\n", "\r\n")


def busy_clinic(tmp_path: Path):
    (tmp_path / "busy.ics").write_text(BUSY, encoding="utf-8")
    path = write_clinic(tmp_path / "clinic.toml", chairs=2, closures={"busy_ics": "busy.ics"})
    from ketaplan.formats.clinic_file import load_clinic

    return load_clinic(path, FROM_PACKAGE)


def test_busy_events_expand_with_overrides_exceptions_and_chairs(tmp_path: Path) -> None:
    clinic = busy_clinic(tmp_path)
    span = (datetime(2027, 1, 25, tzinfo=clinic.zone), datetime(2027, 3, 1, tzinfo=clinic.zone))
    got = sorted((b.start.isoformat(), b.end.isoformat(), b.resource) for b in clinic.busy.between(*span))
    assert got == [
        ("2027-02-01T08:00:00-06:00", "2027-02-01T17:00:00-06:00", "Chair 1"),
        ("2027-02-02T08:00:00-06:00", "2027-02-02T10:00:00-06:00", "Chair 2"),  # 14:00Z
        ("2027-02-03T08:00:00-06:00", "2027-02-03T17:00:00-06:00", "Chair 1"),  # RDATE
        ("2027-02-04T00:00:00-06:00", "2027-02-05T00:00:00-06:00", None),  # all day, any chair
        ("2027-02-09T09:00:00-06:00", "2027-02-09T11:00:00-06:00", None),  # Tokyo midnight
        ("2027-02-15T13:00:00-06:00", "2027-02-15T17:00:00-06:00", "Chair 1"),  # the override
        ("2027-02-22T08:00:00-06:00", "2027-02-22T17:00:00-06:00", "Chair 1"),
    ]  # Feb 8 is an EXDATE; transparent and cancelled events take no chair


def test_planner_plans_around_busy_ics(tmp_path: Path) -> None:
    clinic = busy_clinic(tmp_path)._replace(max_starts_per_slot=2)
    first = date(2027, 2, 1)
    req = Request(Patient("P"), first, first + timedelta(days=20), consultation=False)
    span = (datetime(2027, 1, 1, tzinfo=clinic.zone), datetime(2027, 4, 1, tzinfo=clinic.zone))
    plan = find_plan(clinic, req, Availability(clinic, span=span))
    assert plan is not None
    chairs = {s.start.date(): s.resource for s in plan.infusions}
    assert chairs[date(2027, 2, 1)] == "Chair 2"  # Chair 1 out of service all day (RRULE)
    assert chairs[date(2027, 2, 3)] == "Chair 2"  # ... and on the RDATE
    assert chairs[date(2027, 2, 5)] == "Chair 1"  # transparent and cancelled events take no chair
    assert chairs[date(2027, 2, 8)] == "Chair 1"  # the EXDATE frees Chair 1


def test_clinic_check_refuses_an_unreadable_busy_ics(cli, tmp_path: Path) -> None:
    (tmp_path / "busy.ics").write_bytes((CORPUS / "broken_dtstart.ics").read_bytes())
    path = write_clinic(tmp_path / "clinic.toml", closures={"busy_ics": "busy.ics"})
    r = cli("clinic", "check", path)
    assert r.exit_code == 2 and "busy.ics, line 6" in r.stderr and "Traceback" not in r.stderr
    r = cli("schedule", "--clinic", path, "--patient", "P", "--start", "2026-12-01")
    assert r.exit_code == 2 and "busy.ics" in r.stderr


# --- ketaplan check: round trip ---------------------------------------------------------
