"""Hostile and careless input found by a hostile run: calendars that hung or filled memory,
files that are not files, clinic values that broke the papers. Each is a clean exit 2
naming what is wrong (or, for a merely large but honest file, an answer), never a hang.
Each failed against the code before its fix (hung, crashed, or was accepted)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from helpers import clinic_doc, to_toml, write_clinic

HEADER = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//hostile//EN\r\n"
FOOTER = "END:VCALENDAR\r\n"


def event(uid: str, start: str, end: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"{extra}END:VEVENT\r\n"
    )


def ketaplan(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A real process, so a hang is a timeout (the hang guard, not a speed target)."""
    env = dict(os.environ, KETAPLAN_TODAY="2026-11-25")
    return subprocess.run(
        [sys.executable, "-m", "ketaplan", *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )


def clinic_with_busy(tmp_path: Path, busy: str | Path) -> Path:
    return write_clinic(tmp_path / "c.toml", closures={"busy_ics": str(busy)})


@pytest.mark.parametrize(
    "rule, words",
    [
        ("RRULE:FREQ=DAILY;INTERVAL=0", "INTERVAL=0"),
        ("RRULE:FREQ=WEEKLY;INTERVAL=-2", "INTERVAL=-2"),
        ("RRULE:FREQ=DAILY;INTERVAL=x", "INTERVAL=X"),
        ("RRULE:FREQ=DAILY;COUNT=0", "COUNT=0"),
    ],
)
def test_a_rule_that_never_moves_on_is_refused(tmp_path: Path, rule: str, words: str) -> None:
    """INTERVAL=0 filled 7.5 GB in five minutes as a busy calendar."""
    ics = tmp_path / "busy.ics"
    ics.write_text(HEADER + event("r@x", "20270301T150000Z", "20270301T160000Z", rule + "\r\n") + FOOTER)
    clinic = clinic_with_busy(tmp_path, "busy.ics")
    for args in (["clinic", "check", clinic], ["check", ics, "--clinic", clinic]):
        r = ketaplan(*args)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_many_changed_occurrences_are_refused(tmp_path: Path) -> None:
    """5,000 RECURRENCE-ID overrides took a year's expansion 21-25 s."""
    first = date(2027, 1, 1)
    overrides = "".join(
        event(
            "r@x",
            f"{first + timedelta(days=i):%Y%m%d}T170000Z",
            f"{first + timedelta(days=i):%Y%m%d}T180000Z",
            f"RECURRENCE-ID:{first + timedelta(days=i):%Y%m%d}T150000Z\r\n",
        )
        for i in range(1_500)
    )
    base = event("r@x", "20270101T150000Z", "20270101T160000Z", "RRULE:FREQ=DAILY;COUNT=3000\r\n")
    (tmp_path / "busy.ics").write_text(HEADER + base + overrides + FOOTER)
    r = ketaplan("clinic", "check", clinic_with_busy(tmp_path, "busy.ics"))
    assert r.returncode == 2 and "more than 1,000 occurrences" in r.stderr, r.stderr


@pytest.mark.slow
def test_a_large_honest_calendar_is_read(tmp_path: Path) -> None:
    """9,999 events (just under the cap) took `clinic check` 128 s: each event's line was
    looked up by a scan of the file, for an error message that never came."""
    events = "".join(
        event(f"e{i}@x", f"20270301T{8 + i % 8:02d}0000Z", f"20270301T{9 + i % 8:02d}0000Z") for i in range(9_999)
    )
    (tmp_path / "busy.ics").write_text(HEADER + events + FOOTER)
    r = ketaplan("clinic", "check", clinic_with_busy(tmp_path, "busy.ics"), timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("where", ["/dev/zero", "/dev/urandom", "fifo", "folder"])
def test_files_that_are_not_files_are_refused(tmp_path: Path, where: str) -> None:
    """/dev/zero, /dev/urandom or a FIFO as busy_ics (or to `check`, or as the clinic
    file) never returned."""
    if where == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    elif where == "folder":
        path = tmp_path / "folder"
        path.mkdir()
    else:
        path = Path(where)
    clinic = clinic_with_busy(tmp_path, path)
    for args in (["clinic", "check", clinic], ["check", path, "--clinic", write_clinic(tmp_path / "plain.toml")],
                 ["clinic", "check", path]):  # fmt: skip
        r = ketaplan(*args, timeout=30)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (args, r.stderr)
        assert "not a regular file" in r.stderr or "no clinic file" in r.stderr, (args, r.stderr)


@pytest.mark.parametrize(
    "doc, field, words",
    [
        (clinic_doc(instructions={"fasting": "x" * 1_000_000}), "instructions.fasting", "at most 1,000"),
        (clinic_doc(instructions={"escort": "drive\x00home"}), "instructions.escort", "control characters"),
        (clinic_doc(chairs=["Chair\x00A", "B"]), "chairs", "control characters"),
        (clinic_doc(chairs=["Chair\nA", "B"]), "chairs", "control characters"),
        (clinic_doc(chairs=["\u202eA riahC", "B"]), "chairs", "control characters"),
        (clinic_doc(chairs=["Consult room 1", "B"]), "chairs", "how consult rooms are named"),
        (clinic_doc(chairs=100_000), "chairs", "from 1 to 200"),
        (clinic_doc(name="x" * 5_000), "name", "at most 300"),
    ],
)
def test_clinic_values_that_broke_the_papers_are_refused(
    cli, tmp_path: Path, doc: dict, field: str, words: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    r = cli("clinic", "check", path)
    assert r.exit_code == 2 and f"{field}:" in r.stderr and words in r.stderr, r.stderr


def test_a_clinic_file_with_a_byte_order_mark_is_read(cli, tmp_path: Path) -> None:
    """Notepad saves UTF-8 with a byte-order mark: it once read as 'Invalid statement'."""
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf" + to_toml(clinic_doc()).encode("utf-8"))
    r = cli("clinic", "check", path)
    assert r.exit_code == 0, r.stderr


@pytest.mark.parametrize(
    "lines, words",
    [
        ("DTSTART:20270301T150000Z\r\nDURATION:P99999999W\r\n", "DURATION is 699,999,993 days"),
        ("DTSTART:20270301T150000Z\r\nDURATION:-PT1H30M\r\n", "DURATION is negative"),
        ("DTSTART:00010301T150000Z\r\nDTEND:00010301T160000Z\r\n", "in the year 1;"),
        ("DTSTART:99981231T150000Z\r\nDTEND:99981231T160000Z\r\n", "in the year 9998;"),
        (
            "DTSTART:20270301T150000Z\r\nDTEND:20270301T160000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\n"
            "EXDATE:20270301T150000Z,20270302T150000Z\r\n",
            "holds no sessions",
        ),
        (
            "DTSTART:20270301T150000Z\r\nDTEND:20270301T160000Z\r\nRRULE:FREQ=DAILY;UNTIL=20270101T000000Z\r\n",
            "holds no sessions",
        ),
    ],
)
def test_events_that_are_no_booking_are_a_clean_refusal(cli, tmp_path: Path, lines: str, words: str) -> None:
    """Each crashed `check` with exit 1 (an overflow, an empty series); the negative
    DURATION was accepted as a busy event while the DTEND form of it was refused."""
    ics = tmp_path / "x.ics"
    ics.write_text(HEADER + f"BEGIN:VEVENT\r\nUID:a@x\r\nDTSTAMP:20260101T000000Z\r\n{lines}END:VEVENT\r\n" + FOOTER)
    clinic = write_clinic(tmp_path / "c.toml")
    r = cli("check", ics, "--clinic", clinic)
    assert r.exit_code == 2 and words in r.stderr, r.stderr
    if words != "holds no sessions":  # as a busy calendar too
        r = cli("clinic", "check", clinic_with_busy(tmp_path, ics))
        assert r.exit_code == 2 and words in r.stderr, r.stderr


@pytest.mark.parametrize(
    "row, field, words",
    [
        ('{"patient": "A", "start": "2027-02-01", "weeks": Infinity}', "weeks", "not a whole number"),
        ('{"patient": "A", "start": "2027-02-01", "weeks": 1e400}', "weeks", "not a whole number"),
        ('{"patient": "A", "start": "2027-02-01", "weeks": 2.9}', "weeks", "not a whole number"),
        ('{"patient": "A", "start": "2027-02-01", "maintenance": 1.5}', "maintenance", "not a whole number"),
        ('{"patient": "A", "start": "2027-02-01", "maintenance": true}', "maintenance", "whole number"),
        ('{"patient": "A", "start": "2027-02-01", "weeks": "٣"}', "weeks", "not a whole number"),
        ('{"patient": "A", "start": "2027-02-01", "request_id": {"x": 1}}', "request_id", "must be text"),
    ],
)
def test_batch_numbers_are_whole_or_refused_on_their_row(
    cli, clinic_file: Path, row: str, field: str, words: str
) -> None:
    """Infinity or 1e400 failed the whole batch; 2.9 weeks became 14 days; 1.5 or true
    became one booster; a JSON object was taken as a request id. Now: that row's error,
    the next row planned."""
    import json

    good = '{"patient": "B", "start": "2027-02-01", "weeks": 3}'
    r = cli("batch", "-", "--clinic", clinic_file, "--dry-run", input=f"{row}\n{good}\n")
    docs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [d["status"] for d in docs] == ["error", "ok"], r.stdout + r.stderr
    assert docs[0]["errors"][0]["field"] == field and words in docs[0]["errors"][0]["message"]


def test_session_numbers_are_written_with_ascii_digits(cli, clinic_file: Path) -> None:
    r = cli("reschedule", "KP-23456789", "--session", "٣", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--session" in r.stderr and "digits 0-9" in r.stderr, r.stderr
    r = cli("schedule", "--patient", "A", "--start", "2027-02-01", "--weeks=٣", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--weeks" in r.stderr and "digits 0-9" in r.stderr, r.stderr


@pytest.mark.parametrize("value", ["[" * 100_000 + "]" * 100_000, "{b = " * 5_000 + "1" + "}" * 5_000])
def test_a_deeply_nested_clinic_file_is_refused(cli, tmp_path: Path, value: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'name = "x"\ntimezone = "UTC"\na = {value}\n', encoding="utf-8")
    r = cli("clinic", "check", path)
    assert r.exit_code == 2 and "nest too deeply" in r.stderr, r.stderr


@pytest.mark.parametrize("option", ["--pdf", "--html", "--ics", "--out"])
def test_a_file_name_too_long_is_a_clean_refusal(cli, tmp_path: Path, option: str) -> None:
    path = tmp_path / ("a" * 300 + ("" if option == "--out" else "." + option[2:]))
    r = cli("schedule", "--patient", "A", "--start", "2027-02-01", "--dry-run", option, path)
    assert r.exit_code == 2 and f"{option}:" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_clinic_show_days_are_bounded(cli) -> None:
    r = cli("clinic", "show", "--days", "3000000")
    assert r.exit_code == 2 and "--days:" in r.stderr


@pytest.mark.parametrize("variable", ["KETAPLAN_TODAY", "KETAPLAN_NOW"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_the_test_clock_at_its_limits_is_refused(
    cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """Each command crashed with an overflow at the ends of the calendar."""
    from helpers import book

    plan = book(cli, clinic_file, "Ann")["plan_id"]
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv(variable, value + ("T10:00" if variable == "KETAPLAN_NOW" else ""))
    clinic = ["--clinic", clinic_file]
    for args in (["plans"], ["day", *clinic], ["availability", *clinic],
                 ["schedule", "--patient", "A", "--start", "today", *clinic], ["attend", plan, "--session", "1"],
                 ["reschedule", plan, "--session", "2", *clinic]):  # fmt: skip
        r = cli(*args)
        assert r.exit_code == 2 and f"{variable}:" in r.stderr, (args, r.stderr)


def test_the_test_clock_sets_today_and_history(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KETAPLAN_NOW alone once left 'today' on the real clock, and history on it too."""
    import json

    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-10T09:30")
    r = cli("schedule", "--patient", "A", "--start", "today", "--clinic", clinic_file, "--json")
    data = json.loads(r.stdout)["data"]
    assert data["window"]["first_day"] == "2027-01-10", data["window"]
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-11T08:00")
    cli("cancel", data["plan_id"], "--session", "6")
    shown = json.loads(cli("show", data["plan_id"], "--json").stdout)["data"]
    times = [h["at"] for h in shown["history"]]
    assert times[0].startswith("2027-01-10T09:30") and times[1].startswith("2027-01-11T08:00"), times


def test_a_leap_day_without_a_year_is_the_next_one(cli) -> None:
    r = cli("day", "29 Feb", "--json")  # today is Nov 25, 2026
    assert r.exit_code == 0 and '"date": "2028-02-29"' in r.stdout, r.stdout + r.stderr


def test_a_batch_of_only_a_header_says_so(cli, clinic_file: Path) -> None:
    r = cli("batch", "-", "--clinic", clinic_file, input="patient,start\n")
    assert r.exit_code == 2 and "no requests" in r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize(
    "doc, words",
    [
        (clinic_doc(hours={"mon": ["08:00-09:00"]}), "90-minute infusion"),
        (clinic_doc(hours={"mon": ["08:05-09:40"]}, slot_minutes=15), "90-minute infusion"),
        (clinic_doc(hours={"mon": ["08:00-10:00"]}, protocol={"consultation_minutes": 150}), "150-minute consultation"),
    ],
)
def test_a_clinic_where_no_session_can_fit_is_refused(cli, tmp_path: Path, doc: dict, words: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    r = cli("clinic", "check", path)
    assert r.exit_code == 2 and "hours:" in r.stderr and words in r.stderr, r.stderr
