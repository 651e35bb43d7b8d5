"""`ketaplan attend` and `ketaplan no-show`: what happened at a session, and a missed
infusion booked again."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar

from helpers import assert_all_rules_hold, book, query, run_json, sessions

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")

NOW = "2027-02-03T12:00:00"  # infusion 1 (Feb 1) and 2 (Feb 3, morning) have begun


@pytest.fixture
def plan(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    data = book(cli, clinic_file, "Jane")
    monkeypatch.setenv("KETAPLAN_NOW", NOW)
    return data


def test_attend_records_the_session_and_the_time(cli, plan: dict, clinic_file: Path) -> None:
    doc = run_json(cli, "attend", plan["plan_id"], "--session", "1")
    assert doc["status"] == "ok" and doc["data"]["marked"] == {"kind": "infusion", "number": 1, "status": "attended"}
    assert sessions(doc["data"])[1]["status"] == "attended" and doc["data"]["revision"] == 2
    history = run_json(cli, "show", plan["plan_id"], "--clinic", clinic_file)["data"]["history"]
    assert history[-1]["change"] == "infusion 1 marked attended"


def test_a_session_still_to_come_cannot_be_marked(cli, plan: dict) -> None:
    r = cli("attend", plan["plan_id"], "--session", "4")
    assert r.exit_code == 2 and "still to come" in r.stderr and "--session:" in r.stderr
    r = cli("no-show", plan["plan_id"], "--session", "9")
    assert r.exit_code == 2 and "no infusion 9" in r.stderr


def test_marking_twice_is_refused_and_a_correction_is_recorded(cli, plan: dict) -> None:
    pid = plan["plan_id"]
    assert cli("attend", pid, "--session", "2").exit_code == 0
    assert cli("attend", pid, "--session", "2").exit_code == 2
    doc = run_json(cli, "no-show", pid, "--session", "2")  # the desk corrects a mistake
    assert sessions(doc["data"])[2]["status"] == "no_show" and doc["data"]["revision"] == 3


def test_a_no_show_frees_its_chair_and_is_cancelled_in_the_calendar(
    cli, plan: dict, tmp_path: Path, ledger_path: Path, clinic_file: Path
) -> None:
    pid = plan["plan_id"]
    run_json(cli, "no-show", pid, "--session", "2")
    ics = tmp_path / "p.ics"
    assert cli("export", pid, "--ics", ics, "--clinic", clinic_file).exit_code == 0
    events = {str(e["UID"]): e for e in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")}
    assert str(events[f"{pid}-infusion-2@ketaplan"]["STATUS"]) == "CANCELLED"
    assert str(events[f"{pid}-infusion-1@ketaplan"]["STATUS"]) == "CONFIRMED"
    ((held,),) = query(
        ledger_path, "SELECT COUNT(*) FROM sessions WHERE plan_id = ? AND status IN ('booked', 'attended')", (pid,)
    )
    assert held == 6  # the consultation and five infusions: the missed one holds no chair


def test_a_missed_infusion_is_booked_again_keeping_the_rules(
    cli, plan: dict, clinic_file: Path, ledger_path: Path
) -> None:
    pid = plan["plan_id"]
    before = sessions(plan)
    run_json(cli, "attend", pid, "--session", "1")
    run_json(cli, "no-show", pid, "--session", "2")
    doc = run_json(cli, "reschedule", pid, "--session", "2", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    after = sessions(doc["data"])
    assert after[2]["status"] == "booked" and after[2]["start"] > NOW
    moved = {m["number"] for m in doc["data"]["moved"]}
    assert 2 in moved and all(after[n]["start"] == before[n]["start"] for n in before if n not in moved)
    assert after[1]["status"] == "attended" and after[1]["start"] == before[1]["start"]
    assert_all_rules_hold(ledger_path, clinic_file, pid)


def test_a_past_unmarked_infusion_counts_as_missed_for_reschedule(cli, plan: dict, clinic_file: Path) -> None:
    doc = run_json(cli, "reschedule", plan["plan_id"], "--session", "2", "--clinic", clinic_file)
    assert doc["status"] == "ok" and sessions(doc["data"])[2]["start"] > NOW


def test_each_session_is_printed_with_its_own_status(cli, plan: dict, tmp_path: Path, clinic_file: Path) -> None:
    """PDF (read back) and HTML agree: attended, missed and cancelled each say so, and a
    session still to come says nothing (the PDF once called every marked session cancelled)."""
    from helpers import pdf_text

    pid = plan["plan_id"]
    run_json(cli, "attend", pid, "--session", "1", "--kind", "consultation")
    run_json(cli, "attend", pid, "--session", "1")
    run_json(cli, "no-show", pid, "--session", "2")
    run_json(cli, "cancel", pid, "--session", "5")
    html, pdf = tmp_path / "p.html", tmp_path / "p.pdf"
    assert cli("export", pid, "--html", html, "--pdf", pdf, "--clinic", clinic_file).exit_code == 0
    _, pdf_words = pdf_text(pdf.read_bytes())
    for text in (html.read_text(), pdf_words):
        assert "Consultation (attended)" in text and "Infusion (attended)" in text
        assert "Infusion (missed)" in text and "Infusion (cancelled)" in text
        assert text.count("(cancelled)") == 1 and text.count("(attended)") == 2 and text.count("(missed)") == 1
    assert html.read_text().count('class="cancelled"') == 2  # missed and cancelled are struck through


def test_undoing_a_no_show_checks_the_chair_is_still_free(
    cli, tmp_path: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a no-show another patient took the chair; marking the no-show attended once
    exited 0 and left two patients in one chair (both back ends)."""
    from helpers import write_clinic

    one_chair = write_clinic(tmp_path / "one.toml", chairs=1, max_starts_per_slot=1,
                             hours={d: ["08:00-10:00"] for d in ("mon", "tue", "wed", "thu", "fri")})  # fmt: skip
    first = book(cli, one_chair, "P1", "2027-02-01", "--no-consultation")
    pid = first["plan_id"]
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-01T11:00:00")
    assert run_json(cli, "no-show", pid, "--session", "1")["status"] == "ok"
    second = book(cli, one_chair, "P2", "2027-02-01", "--no-consultation", "--allow-past")
    assert sessions(second)[1]["start"] == sessions(first)[1]["start"]  # the freed chair, taken
    r = cli("attend", pid, "--session", "1")
    assert r.exit_code == 2 and second["plan_id"] in r.stderr and "no-show" in r.stderr, r.stderr
    from helpers import capacity_violations

    assert capacity_violations(ledger_path, chairs=1, starts_per_slot=1, rooms=1, turnover_minutes=15) == []


def test_the_hostile_runs_crashes_stay_fixed(
    cli, plan: dict, clinic_file: Path, ledger_path: Path, monkeypatch
) -> None:
    """Two no-shows in a row, then moving a later infusion (a dry run first); boosters asked
    for while later infusions are past and never marked. Each once ended in exit 1."""
    pid = plan["plan_id"]
    assert cli("no-show", pid, "--session", "1").exit_code == 0
    assert cli("no-show", pid, "--session", "2").exit_code == 0
    for args in (["--dry-run"], []):
        r = cli("reschedule", pid, "--session", "5", "--clinic", clinic_file, *args)
        assert r.exit_code in (0, 3), r.stderr
    assert_all_rules_hold(ledger_path, clinic_file, pid)
    monkeypatch.setenv("KETAPLAN_NOW", "2027-03-01T12:00:00")  # every infusion past, none marked
    r = cli("boosters", pid, "1", "--clinic", clinic_file)
    assert r.exit_code == 2 and "record attendance first" in r.stderr, r.stderr
