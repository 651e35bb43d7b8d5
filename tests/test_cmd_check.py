"""`ketaplan check FILE.ics`: every rule on a series made anywhere; broken files refused."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from corpus_cases import BROKEN, CORPUS

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.mark.parametrize("name", list(BROKEN))
def test_check_command_refuses_broken_files(cli, name: str) -> None:
    r = cli("check", CORPUS / name)
    assert r.exit_code == 2 and name in r.stderr and "Traceback" not in r.stderr


def scheduled_ics(cli, tmp_path: Path) -> Path:
    path = tmp_path / "series.ics"
    r = cli("schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--weeks", "3", "--ics", path)
    assert r.exit_code == 0, r.stderr
    return path


def test_export_then_check_passes(cli, tmp_path: Path) -> None:
    path = scheduled_ics(cli, tmp_path)
    r = cli("check", path)
    assert r.exit_code == 0, r.stdout
    doc = json.loads(cli("check", path, "--json").stdout)
    assert doc["status"] == "ok" and all(c["ok"] for c in doc["data"]["checks"])
    assert len(doc["data"]["sessions"]) == 7


def test_tampered_file_names_the_session(cli, tmp_path: Path) -> None:
    path = scheduled_ics(cli, tmp_path)
    text = path.read_bytes().decode()
    # Move infusion 3 (both its start and end) to Christmas Day.
    found = re.search(r"BEGIN:VEVENT(?:(?!END:VEVENT).)*-infusion-3@ketaplan(?:(?!END:VEVENT).)*END:VEVENT", text, re.S)
    assert found is not None
    block = found.group(0)
    start = re.search(r"DTSTART;TZID=America/Chicago:(\d{8})T", block)
    assert start is not None
    day = start.group(1)
    moved = block.replace(f":{day}T", ":20261225T")
    path.write_bytes(text.replace(block, moved).encode())
    r = cli("check", path)
    assert r.exit_code == 3
    assert "infusion 3" in r.stdout and "Christmas Day" in r.stdout
    doc = json.loads(cli("check", path, "--json").stdout)
    failed = {c["rule"]: c for c in doc["data"]["checks"] if not c["ok"]}
    assert "closures" in failed and failed["closures"]["problems"][0]["session"] == "infusion 3"
    assert doc["exit_code"] == 3 and doc["status"] == "infeasible"


def test_check_a_series_made_elsewhere(cli, tmp_path: Path) -> None:
    """Another tool's Mon/Wed/Fri RRULE series, kinds from titles, chairs assigned."""
    text = textwrap.dedent(
        """\
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//someone else//EN
        BEGIN:VEVENT
        UID:c1@else
        DTSTART;TZID=America/Chicago:20270301T100000
        DTEND;TZID=America/Chicago:20270301T104500
        SUMMARY:Consult
        END:VEVENT
        BEGIN:VEVENT
        UID:s1@else
        DTSTART;TZID=America/Chicago:20270303T100000
        DTEND;TZID=America/Chicago:20270303T113000
        RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6
        SUMMARY:Session
        END:VEVENT
        END:VCALENDAR
        """
    ).replace("\n", "\r\n")
    path = tmp_path / "else.ics"
    path.write_text(text, encoding="utf-8")
    doc = json.loads(cli("check", path, "--json").stdout)
    assert doc["exit_code"] == 0, doc["data"]["checks"]
    kinds = [s["kind"] for s in doc["data"]["sessions"]]
    assert kinds == ["consultation"] + ["infusion"] * 6
    assert all(s["chair"] for s in doc["data"]["sessions"][1:])


def test_a_full_start_slot_is_named_as_such_not_as_a_taken_chair(cli, tmp_path: Path) -> None:
    import json

    from helpers import write_clinic

    clinic = write_clinic(tmp_path / "c.toml", chairs=2, max_starts_per_slot=1)
    doc = json.loads(cli("schedule", "--patient", "Ann", "--start", "2027-02-01", "--clinic", clinic, "--json").stdout)
    pid = doc["data"]["plan_id"]
    ics = tmp_path / "a.ics"
    assert cli("export", pid, "--ics", ics, "--clinic", clinic).exit_code == 0
    other = tmp_path / "other.ics"  # the same times, as another plan's series
    other.write_text(ics.read_text().replace(pid, "KP-OTHERPLN"))
    r = cli("check", other, "--clinic", clinic, "--json")
    results = {c["rule"]: c for c in json.loads(r.stdout)["data"]["checks"]}
    assert r.exit_code == 3
    assert not results["starts"]["ok"] and results["chairs"]["ok"], results


def test_an_old_revision_of_our_file_is_said_to_be_out_of_date(cli, tmp_path: Path) -> None:
    import json

    from helpers import write_clinic

    clinic = write_clinic(tmp_path / "c.toml")
    doc = json.loads(cli("schedule", "--patient", "Ann", "--start", "2027-02-01", "--clinic", clinic, "--json").stdout)
    pid = doc["data"]["plan_id"]
    ics = tmp_path / "a.ics"
    assert cli("export", pid, "--ics", ics, "--clinic", clinic).exit_code == 0
    r = cli("check", ics, "--clinic", clinic, "--json")
    assert json.loads(r.stdout)["data"]["current_revision"] is None and "out of date" not in r.stderr
    assert cli("cancel", pid, "--session", "6").exit_code == 0
    r = cli("check", ics, "--clinic", clinic, "--json")
    assert json.loads(r.stdout)["data"]["current_revision"] == 2
    assert "out of date" in r.stderr and "revision 1" in r.stderr and f"ketaplan export {pid}" in r.stderr
