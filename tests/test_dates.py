from __future__ import annotations

from datetime import date, time

import pytest

from ketaplan.core.dates import parse_date, parse_date_list, parse_time, parse_weekdays, short_list
from ketaplan.core.errors import InputError

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("today", TODAY),
        ("Tomorrow", date(2026, 11, 26)),
        ("1 Dec 2026", date(2026, 12, 1)),
        ("Dec 1", date(2026, 12, 1)),
        ("December 1, 2026", date(2026, 12, 1)),
        ("Jan 5", date(2027, 1, 5)),  # no year: the next Jan 5 on or after today
        ("Nov 25", TODAY),
    ],
)
def test_readable_dates(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY, field="--start") == expected


@pytest.mark.parametrize("text", ["01/02/2026", "1.2.2026", "01-02-2026", "12/01", "20261201"])
def test_numeric_dates_are_refused_as_ambiguous(text: str) -> None:
    with pytest.raises(InputError, match="ambiguous") as e:
        parse_date(text, today=TODAY, field="--start")
    assert e.value.field == "--start"


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "Feb 30 2026", "someday", ""])
def test_impossible_dates(text: str) -> None:
    with pytest.raises(InputError) as e:
        parse_date(text, today=TODAY, field="--end")
    assert e.value.field == "--end"


def test_weekdays() -> None:
    assert parse_weekdays("mon,wed,fri", field="--days") == {0, 2, 4}
    assert parse_weekdays("Monday, sun", field="--days") == {0, 6}
    with pytest.raises(InputError, match="unknown weekday 'mo'"):
        parse_weekdays("mo,we", field="--days")


def test_date_lists_and_ranges() -> None:
    got = parse_date_list("2026-12-03,2026-12-10/2026-12-12", today=TODAY, field="--unavailable")
    assert got == {date(2026, 12, 3), date(2026, 12, 10), date(2026, 12, 11), date(2026, 12, 12)}
    with pytest.raises(InputError, match="ends before"):
        parse_date_list("2026-12-12/2026-12-10", today=TODAY, field="--unavailable")
    with pytest.raises(InputError, match="ambiguous"):
        parse_date_list("01/02/2026", today=TODAY, field="--unavailable")


def test_times() -> None:
    assert parse_time("9:30", field="--earliest") == time(9, 30)
    for bad in ("25:00", "9am", "09:60"):
        with pytest.raises(InputError):
            parse_time(bad, field="--earliest")


def test_short_list_names_the_month_where_it_changes() -> None:
    days = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31), date(2027, 1, 1)]
    assert short_list(days) == "Dec 24, 25, 31, Jan 1"


def test_local_tells_apart_times_that_differ_only_by_fold() -> None:
    """01:30 on the night New York's clocks go back happens twice; `local` remembers its
    answers, and must not give the first 01:30's for the second (they compare equal)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from ketaplan.core.times import local

    zone = ZoneInfo("America/New_York")
    first = datetime(2027, 11, 7, 1, 30, tzinfo=zone)
    second = first.replace(fold=1)
    assert first == second  # what would fool a cache keyed on the datetime alone
    for _ in range(2):  # asked twice: the second time from what was remembered
        assert local(first, zone).astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
        assert local(second, zone).astimezone(UTC) == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
        assert local(datetime(2027, 11, 7, 6, 30, tzinfo=UTC), zone).fold == 1
