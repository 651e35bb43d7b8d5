"""`ketaplan close`: a closure or chair outage recorded in the ledger, which every command
and every desk then plans around; the sessions it hits are conflicts until repaired."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from helpers import book, query, run_json, sessions, snapshot, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def active_on(ledger: Path | str, day: str) -> set[tuple[str, str, int]]:
    rows = query(ledger, "SELECT plan_id, kind, number, start_utc FROM sessions WHERE status IN ('booked', 'attended')")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Chicago")
    return {
        (p, k, n) for p, k, n, s in rows if datetime.fromisoformat(s).astimezone(zone).date() == date.fromisoformat(day)
    }


def test_a_snow_day_is_seen_by_every_command(cli, clinic_file: Path, ledger_path: Path | str) -> None:
    plans = [book(cli, clinic_file, name) for name in ("Ann", "Ben", "Cat")]
    day = sessions(plans[0])[2]["start"][:10]
    hit = active_on(ledger_path, day)
    assert hit
    doc = run_json(cli, "close", day, "--reason", "snow day", "--clinic", clinic_file)
    assert doc["status"] == "ok" and doc["data"]["conflicts"] == len(hit)
    assert doc["data"]["closure"]["reason"] == "snow day" and doc["data"]["closure"]["id"] == 1
    r = cli("day", day, "--clinic", clinic_file, "--json")
    sheet = json.loads(r.stdout)["data"]
    assert sheet["closed"] == "snow day" and len(sheet["sessions"]) == len(hit)
    assert f"{len(hit)} booked sessions are in conflict" in r.stderr and "ketaplan conflicts" in r.stderr
    r = cli("day", day, "--clinic", clinic_file)
    assert "Closed: snow day" in r.stdout
    checked = run_json(cli, "clinic", "check", clinic_file)
    assert checked["data"]["conflicts"] == len(hit)
    later = book(cli, clinic_file, "Dan", plans[0]["window"]["first_day"])  # plans around the closed day
    assert all(s["start"][:10] != day for s in later["sessions"])
    free = run_json(cli, "availability", "--clinic", clinic_file, "--from", day, "--days", "1")
    assert [d["closed"] for d in free["data"]["days"]] == ["the clinic is closed that day: snow day"]


def test_close_refuses_what_it_cannot_mean(cli, clinic_file: Path, ledger_path: Path | str) -> None:
    book(cli, clinic_file, "Ann")
    before = snapshot(ledger_path)
    for args, field in (
        (["2027-02-03", "--chair", "Chair 9"], "--chair"),
        (["2027-02-03", "--until", "2027-02-01"], "--until"),
        (["2027-02-03", "--hours", "12:00-09:00"], "--hours"),
        (["2027-02-03", "--hours", "noon"], "--hours"),
        (["2026-11-01"], "DATE"),
        (["2027-02-03", "--until", "2028-06-01"], "--until"),
    ):
        r = cli("close", *args, "--reason", "x", "--clinic", clinic_file)
        assert r.exit_code == 2 and field in r.stderr, (args, r.stderr)
    r = cli("close", "2027-02-03", "--clinic", clinic_file)  # a closure says why
    assert r.exit_code == 2 and "--reason" in r.stderr
    assert snapshot(ledger_path) == before
    assert run_json(cli, "closures", "--clinic", clinic_file)["data"]["closures"] == []


def test_close_with_repair_moves_everyone_in_one_step(cli, clinic_file: Path, ledger_path: Path | str) -> None:
    plans = [book(cli, clinic_file, name) for name in ("Ann", "Ben", "Cat", "Dan")]
    day = sessions(plans[0])[3]["start"][:10]
    doc = run_json(cli, "close", day, "--reason", "burst pipe", "--repair", "--by", "Desk 1", "--clinic", clinic_file)
    assert doc["status"] == "ok" and doc["data"]["conflicts"] == 0
    moved = doc["data"]["repair"]["moved"]
    assert moved and not doc["data"]["repair"]["not_placed"]
    assert not active_on(ledger_path, day)
    shown = run_json(cli, "show", moved[0]["plan_id"])["data"]
    last = shown["history"][-1]
    assert last["change"].startswith("repaired:") and last["by"] == "Desk 1" and last["reason"] == "burst pipe"
    assert run_json(cli, "conflicts", "--clinic", clinic_file)["status"] == "ok"


def test_a_chair_out_of_service_for_some_hours_moves_its_patients_the_same_day(
    cli, clinic_file: Path, ledger_path: Path | str
) -> None:
    one = book(cli, clinic_file, "Ann")
    first = sessions(one)[1]
    day, chair = first["start"][:10], first["chair"]
    doc = run_json(cli, "close", day, "--chair", chair, "--hours", "08:00-12:00", "--reason", "pump", "--clinic",
                   clinic_file)  # fmt: skip
    assert doc["data"]["conflicts"] == 1
    listed = run_json(cli, "conflicts", "--clinic", clinic_file)
    assert listed["status"] == "infeasible"
    (c,) = listed["data"]["conflicts"]
    assert (c["rule"], c["chair"]) == ("closures", chair) and "out of service 08:00-12:00: pump" in c["reason"]
    done = run_json(cli, "repair", "--clinic", clinic_file)
    (m,) = done["data"]["moved"]
    (s,) = m["sessions"]
    assert s["to"]["start"][:10] == day and s["to"]["chair"] != chair  # the same day first, another chair
    sheet = run_json(cli, "day", day, "--clinic", clinic_file)["data"]
    assert sheet["notes"] == [f"{chair} is out of service 08:00-12:00: pump"]


@pytest.mark.slow
def test_close_while_desks_book_leaves_no_unlisted_session_on_the_day(tmp_path: Path, ledger_path: Path | str) -> None:
    """Real processes: a batch books while `close` records the closure; desks that start
    after `close` returned book around it; every session left on the day is a listed conflict."""
    clinic = write_clinic(tmp_path / "c.toml", chairs=4)
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start\n" + "".join(f"B{i},2027-02-01\n" for i in range(16)), encoding="utf-8")
    common = ["--clinic", str(clinic), "--ledger", str(ledger_path)]
    ketaplan = [sys.executable, "-m", "ketaplan"]
    batch = subprocess.Popen([*ketaplan, "batch", str(rows), *common], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    closing = subprocess.run([*ketaplan, "close", "2027-02-03", "--reason", "snow", *common, "--json"],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert closing.returncode == 0, closing.stderr
    desks = [
        subprocess.Popen(
            [*ketaplan, "schedule", "--patient", f"D{i}", "--start", "2027-02-01", *common, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(3)
    ]
    batch.communicate(timeout=300)
    after = [json.loads(d.communicate(timeout=120)[0]) for d in desks]
    assert all(d["status"] == "ok" for d in after), after
    assert all(s["start"][:10] != "2027-02-03" for d in after for s in d["data"]["sessions"])
    listed = subprocess.run([*ketaplan, "conflicts", *common, "--json"], capture_output=True, text=True, timeout=120)
    found = {(c["plan_id"], c["kind"], c["number"]) for c in json.loads(listed.stdout)["data"]["conflicts"]}
    assert active_on(ledger_path, "2027-02-03") == found
