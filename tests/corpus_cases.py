"""The corpus calendars (tests/data/corpus, from ../shared/corpus) and what each should give:
shared by the import tests and the `check` command's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "corpus"
WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))

# file: busy bookings over 1990-2030 (zero-length events take no chair time)
WELL_FORMED = {
    "alarm_google_future.ics": 1,
    "alarm_thunderbird_future.ics": 1,
    "bom_calendar.ics": 0,
    "calendar_with_unicode.ics": 0,
    "event_with_recurrence.ics": 97,  # daily x100 minus 3 EXDATEs
    "event_with_recurrence_exdates_on_different_lines.ics": 10,
    "issue_112_missing_tzinfo_on_exdate.ics": 11,
    "issue_1231_recurrence.ics": 0,  # a DTSTART without end: no time taken
    "timezoned.ics": 1,
    "america_new_york.ics": 1,
}
BROKEN = {
    "broken_ical.ics": ("line 4", "DTSTART;;VALUE"),
    "broken_dtstart.ics": ("line 6", "VEVENT test-123: DTSTART"),
    "big_bad_calendar.ics": ("line 1", "truncated"),
    "issue_218_bad_tzid.ics": ("line 7", "VTIMEZONE STANDARD: DTSTART must be a date-time"),
    # Not in the corpus README's list, but not valid RFC 5545 either (see README):
    "pacific_fiji.ics": ("line 46", "2 DTSTART lines"),
}
