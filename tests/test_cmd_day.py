"""`ketaplan day [DATE]`: the day sheet by chair and room, on screen, as JSON, printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, pdf_text, run_json

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def two_plans(cli, clinic_file: Path) -> tuple[dict, dict]:
    return book(
        cli, clinic_file, "Zoë Ørsted", "2027-02-01", "--patient-id", "MRN-1", "--phone", "+1 312 555 0142"
    ), book(cli, clinic_file, "Bea Jones", "2027-02-01")


def test_the_day_lists_every_session_by_chair_with_patient_and_status(cli, clinic_file: Path, two_plans) -> None:
    a, b = two_plans
    day = next(s for s in a["sessions"] if s["kind"] == "infusion")["start"][:10]
    doc = run_json(cli, "day", day, "--clinic", clinic_file)
    sessions = doc["data"]["sessions"]
    expected = [s for p in (a, b) for s in p["sessions"] if s["start"][:10] == day and s["status"] != "cancelled"]
    assert len(sessions) == len(expected) >= 2
    assert {x["plan_id"] for x in sessions} <= {a["plan_id"], b["plan_id"]}
    assert all(x["resource"] for x in sessions) and {x["patient"]["name"] for x in sessions} >= {"Zoë Ørsted"}
    starts = [x["start"] for x in sessions]
    assert starts == sorted(starts)  # by time, as the desk works through the day
    phones = {x["patient"]["name"]: x["patient"]["phone"] for x in sessions}
    assert phones["Zoë Ørsted"] == "+13125550142" and phones.get("Bea Jones", None) is None  # the desk calls
    r = cli("day", day, "--clinic", clinic_file)
    assert r.exit_code == 0 and "Zoë Ørsted (MRN-1)" in r.stdout and "booked" in r.stdout
    assert "+13125550142" in r.stdout


def test_a_no_show_reads_missed_and_a_cancelled_session_is_gone(
    cli, clinic_file: Path, two_plans, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_plans
    first = next(s for s in a["sessions"] if s["kind"] == "infusion" and s["number"] == 1)
    run_json(cli, "cancel", b["plan_id"])  # before the day: every session of it
    monkeypatch.setenv("KETAPLAN_NOW", first["end"][:19])
    run_json(cli, "no-show", a["plan_id"], "--session", "1")
    doc = run_json(cli, "day", first["start"][:10], "--clinic", clinic_file)
    assert [(x["plan_id"], x["status"]) for x in doc["data"]["sessions"] if x["kind"] == "infusion"] == [
        (a["plan_id"], "no_show")
    ]


def test_the_printed_sheet_is_named_by_day_and_reads_back(cli, clinic_file: Path, two_plans, tmp_path: Path) -> None:
    a, _ = two_plans
    day = next(s for s in a["sessions"] if s["kind"] == "infusion")["start"][:10]
    doc = run_json(cli, "day", day, "--clinic", clinic_file, "--out", tmp_path / "desk")
    assert sorted(p.name for p in (tmp_path / "desk").iterdir()) == [f"day-{day}.html", f"day-{day}.pdf"]
    pdf = tmp_path / "desk" / f"day-{day}.pdf"
    assert (pdf.stat().st_mode & 0o777) == 0o600 and doc["data"]["files"]
    pages, text = pdf_text(pdf.read_bytes())
    assert pages == 1 and "Zoë Ørsted (MRN-1)" in text and "Bea Jones" in text and "Chair 1" in text
    assert "+13125550142" in text
    assert "Zoë Ørsted" in (tmp_path / "desk" / f"day-{day}.html").read_text()


def test_an_empty_day_and_a_bad_date(cli, clinic_file: Path) -> None:
    r = cli("day", "2027-03-06", "--clinic", clinic_file)
    assert r.exit_code == 0 and "no sessions" in r.stdout
    r = cli("day", "01/02/2027", "--clinic", clinic_file)
    assert r.exit_code == 2 and "DATE:" in r.stderr


def test_a_week_of_sheets_at_once(cli, clinic_file: Path, two_plans, tmp_path: Path) -> None:
    """`--days 7`: every day with its sessions, the weekend closed with why, one printable
    file for the week; a plan id is never broken across lines in the PDF."""
    a, _ = two_plans
    doc = run_json(cli, "day", "2027-02-01", "--days", "7", "--clinic", clinic_file, "--out", tmp_path / "desk")
    days = doc["data"]["days"]
    assert [d["date"] for d in days] == [f"2027-02-0{i}" for i in range(1, 8)]
    assert [d["closed"] for d in days[5:]] == ["closed on Saturdays", "closed on Sundays"]
    assert sum(len(d["sessions"]) for d in days) >= 6 and doc["data"]["date"] == "2027-02-01"
    pdf = tmp_path / "desk" / "days-2027-02-01-to-2027-02-07.pdf"
    pages, text = pdf_text(pdf.read_bytes())
    assert pages >= 7 and text.count(a["plan_id"]) >= 3  # whole on each line it appears
    r = cli("day", "2027-02-01", "--days", "15", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--days" in r.stderr
