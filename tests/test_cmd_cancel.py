"""`ketaplan cancel`: a session or the rest of a series; the chair is free again."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, run_json, sessions, snapshot, write_clinic

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


def test_cancel_frees_the_chair_for_the_next_patient(cli, tmp_path: Path) -> None:
    one = write_clinic(tmp_path / "one.toml", chairs=1, max_starts_per_slot=1)
    a = book(cli, one, "A")
    b = book(cli, one, "B")
    assert {s["start"] for s in sessions(a).values()}.isdisjoint({s["start"] for s in sessions(b).values()})
    doc = run_json(cli, "cancel", a["plan_id"])
    assert len(doc["data"]["cancelled"]) == 7 and doc["data"]["revision"] == 2
    c = book(cli, one, "C")
    assert [s["start"] for s in sessions(c).values()] == [s["start"] for s in sessions(a).values()]


def test_cancelled_session_cannot_be_cancelled_again(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    assert cli("cancel", plan["plan_id"], "--session", "6").exit_code == 0
    r = cli("cancel", plan["plan_id"], "--session", "6")
    assert r.exit_code == 2 and "is cancelled" in r.stderr


def test_cancelling_the_rest_leaves_past_sessions(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = book(cli, clinic_file, "Jane")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-04T12:00:00")
    assert run_json(cli, "attend", plan["plan_id"], "--session", "1")["status"] == "ok"
    r = cli("reschedule", plan["plan_id"], "--session", "1", "--clinic", clinic_file)
    assert r.exit_code == 2 and "was attended" in r.stderr
    doc = run_json(cli, "cancel", plan["plan_id"])
    assert {c["number"] for c in doc["data"]["cancelled"] if c["kind"] == "infusion"} == {3, 4, 5, 6}


def test_cancel_dry_run_and_files(cli, clinic_file: Path, tmp_path: Path, ledger_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    before = snapshot(ledger_path)
    doc = run_json(cli, "cancel", pid, "--session", "6", "--dry-run")
    assert doc["data"]["dry_run"] and [c["number"] for c in doc["data"]["cancelled"]] == [6]
    assert snapshot(ledger_path) == before
    r = cli("cancel", pid, "--session", "6", "--ics", tmp_path / "p.ics")  # the demo clinic is not the plan's
    assert r.exit_code == 2 and "--clinic" in r.stderr and snapshot(ledger_path) == before
    doc = run_json(cli, "cancel", pid, "--session", "6", "--ics", tmp_path / "p.ics", "--clinic", clinic_file)
    assert doc["data"]["revision"] == 2 and "STATUS:CANCELLED" in (tmp_path / "p.ics").read_text()
