"""`ketaplan show PLAN_ID`: one plan's sessions, calendar and revision history."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, run_json

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


def test_show_prints_sessions_calendar_and_history(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Zoë Ørsted")
    pid = plan["plan_id"]
    run_json(cli, "cancel", pid, "--session", "6")
    r = cli("show", pid, "--clinic", clinic_file)
    assert r.exit_code == 0, r.stderr
    assert pid in r.stdout and "Zoë Ørsted" in r.stdout
    assert "Calendar" in r.stdout and "cancelled" in r.stdout
    assert "revision 2; history:" in r.stdout and "cancelled infusion 6" in r.stdout


def test_show_json_matches_the_ledger(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    data = run_json(cli, "show", plan["plan_id"], "--clinic", clinic_file)["data"]
    assert data["sessions"] == plan["sessions"] and data["revision"] == 1
    assert [h["change"] for h in data["history"]] == ["booked"]


def test_show_of_an_unknown_plan_is_exit_2(cli, clinic_file: Path) -> None:
    book(cli, clinic_file, "Jane")
    r = cli("show", "KP-NOPE")
    assert r.exit_code == 2 and r.stderr.startswith("ketaplan: error: PLAN_ID:")


def test_a_plan_is_shown_in_its_own_clinics_zone(cli, tmp_path: Path) -> None:
    from helpers import write_clinic

    lakeside = write_clinic(tmp_path / "lake.toml", name="Lakeside", timezone="America/Chicago")
    plan = book(cli, lakeside, "Jane")
    first = next(s for s in plan["sessions"] if s["kind"] == "infusion")
    r = cli("show", plan["plan_id"])  # the default (demo) clinic is in New York
    assert r.exit_code == 0 and "own time zone (America/Chicago)" in r.stderr
    assert first["start"][11:16] in r.stdout and "America/Chicago" in r.stdout
    doc = run_json(cli, "show", plan["plan_id"])
    assert doc["data"]["history"][0]["at"].endswith(("-06:00", "-05:00"))  # local time, not UTC


def _tamper(ledger: Path | str, sql: str, *args: object) -> None:
    """A row changed by hand, outside ketaplan (SQLite file or PostgreSQL database)."""
    if isinstance(ledger, str):
        import psycopg

        with psycopg.connect(ledger, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), args)
    else:
        import sqlite3

        with sqlite3.connect(ledger) as db:
            db.execute(sql, args)


@pytest.mark.parametrize(
    "column, value, words",
    [("start_utc", "garbage", "its time 'garbage' is not a time"), ("status", "weird", "its status 'weird'")],
)
def test_a_row_changed_by_hand_is_named_not_a_traceback(
    cli, clinic_file: Path, ledger_path: Path | str, tmp_path: Path, column: str, value: str, words: str
) -> None:
    """`plans`, `day`, `show` and `export` on a row tampered with by hand exited 1 or
    printed a raw traceback; now each names the damaged row (or leaves it out: `day`)."""
    pid = book(cli, clinic_file, "Ann")["plan_id"]
    book(cli, clinic_file, "Bea")
    sql = f"UPDATE sessions SET {column} = ? WHERE plan_id = ? AND kind = 'infusion' AND number = 2"
    if isinstance(ledger_path, str) and column == "start_utc":
        import psycopg

        with pytest.raises(psycopg.errors.InvalidDatetimeFormat):  # the server itself refuses it
            _tamper(ledger_path, sql, value, pid)
        return
    _tamper(ledger_path, sql, value, pid)
    for args in (["show", pid], ["export", pid, "--ics", tmp_path / "x.ics"], ["plans"], ["plans", "--json"],
                 ["day", "2027-02-03"]):  # fmt: skip
        r = cli(*args, "--clinic", clinic_file)
        assert "Traceback" not in r.stdout + r.stderr and r.exit_code in (0, 2), (args, r.stdout, r.stderr)
        if r.exit_code == 2:
            assert "damaged row" in r.stdout + r.stderr and words in r.stdout + r.stderr, (args, r.stderr)
        else:  # the day sheet leaves it out; plans counts statuses it knows (the row is skipped)
            assert args[0] == "day" or (args[0] == "plans" and column == "status"), args


def test_every_change_records_who_made_it_and_why(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--by` (default $KETAPLAN_USER, else the login name) and `--reason`, in `show` and
    its JSON, for a booking, a move, attendance and a cancellation."""
    monkeypatch.setenv("KETAPLAN_USER", "Front desk")
    pid = book(cli, clinic_file, "Ann")["plan_id"]
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-01T12:00:00")
    assert cli("attend", pid, "--session", "1", "--kind", "consultation", "--by", "Nurse Kim").exit_code == 0
    assert cli("reschedule", pid, "--session", "3", "--clinic", clinic_file, "--reason", "school run").exit_code == 0
    monkeypatch.delenv("KETAPLAN_USER")
    assert cli("cancel", pid, "--session", "6", "--reason", "feels better").exit_code == 0
    history = run_json(cli, "show", pid)["data"]["history"]
    import getpass

    assert [(h["by"], h["reason"]) for h in history] == [
        ("Front desk", None),
        ("Nurse Kim", None),
        ("Front desk", "school run"),
        (getpass.getuser(), "feels better"),
    ], history
    r = cli("show", pid, "--clinic", clinic_file)
    assert "(by Nurse Kim)" in r.stdout and "(by Front desk: school run)" in r.stdout
    r = cli("cancel", pid, "--session", "5", "--reason", "a\nb")
    assert r.exit_code == 2 and "--reason:" in r.stderr
