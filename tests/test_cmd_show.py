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
