"""`ketaplan show PLAN_ID`: one plan's sessions, calendar and revision history."""

from __future__ import annotations

from pathlib import Path

from helpers import book, run_json


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
