"""A series over time: list, show, reschedule, cancel, export again, availability."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from icalendar import Calendar

from helpers import write_clinic
from ketaplan.core import checks
from ketaplan.core.availability import Availability
from ketaplan.core.span import planning_span
from ketaplan.store.ledger import Ledger


def run_json(cli, *args: str) -> dict:
    r = cli(*args, "--json")
    return json.loads(r.stdout)


def book(cli, clinic: Path, patient: str, start: str = "2027-02-01", *extra: str) -> dict:
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", patient, "--start", start, "--weeks", "3", *extra)
    assert doc["status"] == "ok", doc
    return doc["data"]


def sessions(data: dict, kind: str = "infusion") -> dict[int, dict]:
    return {s["number"]: s for s in data["sessions"] if s["kind"] == kind}


def assert_all_rules_hold(ledger: Path, clinic_file: Path, plan_id: str) -> None:
    from ketaplan.formats.clinic_file import load_clinic

    clinic = load_clinic(clinic_file)
    led = Ledger(ledger)
    with led.read() as tx:
        plan, req = tx.load_plan(plan_id)
        span = planning_span(clinic, req.first_day, req.last_day, req.maintenance)
        others = [b for b in tx.bookings(clinic.name, *span, clinic.zone) if b.plan_id != plan_id]
    req = req._replace(last_day=plan.last_day)
    ctx = checks.CheckContext(clinic, req, Availability(clinic, others, span=span).occupancy, True, len(plan.boosters))
    failed = [r for r in checks.run_checks(plan, ctx) if not r.ok and r.rule != "count"]
    assert not failed, [r.detail for r in failed]


@pytest.fixture
def clinic_file(tmp_path: Path) -> Path:
    return write_clinic(
        tmp_path / "clinic.toml", chairs=2, hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    )


def test_reschedule_alone_when_the_neighbours_allow(cli, clinic_file: Path, ledger_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    before = sessions(plan)  # Mon/Wed/Fri: Feb 1, 3, 5, 8, 10, 12
    # The last infusion has room after it (2-7 days after infusion 5): it moves alone.
    doc = run_json(cli, "reschedule", plan["plan_id"], "--session", "6", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    moved = doc["data"]["moved"]
    assert [m["number"] for m in moved] == [6]
    after = sessions(doc["data"])
    assert after[6]["start"][:10] != before[6]["start"][:10]
    assert after[6]["start"][11:16] == before[6]["start"][11:16]  # the usual time kept
    assert {n: s["start"] for n, s in after.items() if n != 6} == {n: s["start"] for n, s in before.items() if n != 6}
    assert doc["data"]["revision"] == 2
    assert_all_rules_hold(ledger_path, clinic_file, plan["plan_id"])


def test_reschedule_moves_later_infusions_only_when_forced(cli, clinic_file: Path, ledger_path: Path) -> None:
    # Mon-Fri clinic, infusions 2 days apart at most... make spacing tight: 2..2 days
    tight = write_clinic(
        clinic_file.parent / "tight.toml",
        chairs=2,
        protocol={"min_days_apart": 2, "max_days_apart": 3},
        hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    plan = book(cli, tight, "Jane")
    before = sessions(plan)  # every 2 days: Feb 1, 3, 5, 7, 9, 11
    doc = run_json(cli, "reschedule", plan["plan_id"], "--session", "3", "--clinic", tight)
    assert doc["status"] == "ok", doc
    moved = [m["number"] for m in doc["data"]["moved"]]
    # Infusion 3 can go a day later (Feb 6) only if 4 moves too; nothing smaller works.
    assert moved[0] == 3 and len(moved) >= 2 and moved == list(range(3, 3 + len(moved)))
    after = sessions(doc["data"])
    assert all(after[n]["start"] == before[n]["start"] for n in before if n not in moved)
    assert "had to move too" in " ".join(doc["data"]["notes"])
    assert_all_rules_hold(ledger_path, tight, plan["plan_id"])
    # As few as possible: no choice of days moving fewer infusions keeps the spacing rule
    # (the clinic is open daily with chairs to spare, so only the days matter).
    from datetime import date, timedelta
    from itertools import product

    from ketaplan.formats.clinic_file import load_clinic

    clinic = load_clinic(tight)
    days = {n: date.fromisoformat(s["start"][:10]) for n, s in before.items()}
    window = [date(2027, 2, 1) + timedelta(days=i) for i in range(21)]
    for fewer in range(1, len(moved)):
        movable = list(range(3, 3 + fewer))
        for choice in product(window, repeat=fewer):
            if choice[0] == days[3]:
                continue  # infusion 3 must leave its day
            trial = {**days, **dict(zip(movable, choice, strict=False))}
            seq = [trial[n] for n in sorted(trial)]
            if all(checks.spacing_problem(clinic, a, b) is None for a, b in zip(seq, seq[1:], strict=False)):
                raise AssertionError(f"moving only {movable} to {choice} would have worked")


def test_reschedule_that_cannot_fit_explains(cli, tmp_path: Path) -> None:
    # One weekday only: nowhere else to go.
    only_mondays = write_clinic(
        tmp_path / "mon.toml",
        chairs=1,
        protocol={
            "infusions": 2,
            "min_days_apart": 7,
            "max_days_apart": 7,
            "window_days": [8, 8],
            "consultation": False,
        },
        hours={"mon": ["08:00-10:00"]},
    )
    doc = run_json(
        cli, "schedule", "--clinic", only_mondays, "--patient", "P", "--start", "2027-02-01", "--end", "2027-02-08"
    )
    pid = doc["data"]["plan_id"]
    r = cli("reschedule", pid, "--session", "1", "--clinic", only_mondays)
    assert r.exit_code == 3 and "Cannot move infusion 1" in r.stderr and "no free slot for infusion 1" in r.stderr
    doc = run_json(cli, "reschedule", pid, "--session", "1", "--clinic", only_mondays)
    assert doc["status"] == "infeasible" and doc["data"]["explanation"]
    assert doc["data"]["suggestions"] and doc["data"]["suggestions"][0]["change"] == "new_series"
    assert run_json(cli, "show", pid)["data"]["revision"] == 1  # unchanged


def test_cancel_frees_the_chair_for_the_next_patient(cli, tmp_path: Path) -> None:
    one = write_clinic(tmp_path / "one.toml", chairs=1, max_starts_per_slot=1)
    a = book(cli, one, "A")
    b = book(cli, one, "B")
    assert {s["start"] for s in sessions(a).values()}.isdisjoint({s["start"] for s in sessions(b).values()})
    doc = run_json(cli, "cancel", a["plan_id"])
    assert len(doc["data"]["cancelled"]) == 7 and doc["data"]["revision"] == 2
    c = book(cli, one, "C")
    assert [s["start"] for s in sessions(c).values()] == [s["start"] for s in sessions(a).values()]


def test_revision_and_sequence_rise_with_each_change(cli, clinic_file: Path, tmp_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    ics = tmp_path / "p.ics"

    def exported() -> dict[str, tuple[int, str]]:
        assert cli("export", pid, "--ics", ics, "--force", "--clinic", clinic_file).exit_code == 0
        cal = Calendar.from_ical(ics.read_bytes())
        return {str(e["UID"]): (int(e["SEQUENCE"]), str(e["STATUS"])) for e in cal.walk("VEVENT")}

    first = exported()
    assert {seq for seq, _ in first.values()} == {1}
    run_json(cli, "reschedule", pid, "--session", "4", "--clinic", clinic_file)
    second = exported()
    assert second.keys() == first.keys() and {seq for seq, _ in second.values()} == {2}
    run_json(cli, "cancel", pid, "--session", "6")
    third = exported()
    assert third[f"{pid}-infusion-6@ketaplan"] == (3, "CANCELLED")
    assert third[f"{pid}-infusion-5@ketaplan"] == (3, "CONFIRMED")
    history = run_json(cli, "show", pid)["data"]["history"]
    assert [h["revision"] for h in history] == [1, 2, 3]
    assert "rescheduled: infusion 4" in history[1]["change"] and "cancelled infusion 6" in history[2]["change"]


def test_plans_lists_rows_with_status(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = book(cli, clinic_file, "Anna Smith")
    book(cli, clinic_file, "Bea Jones", "2027-02-02")
    rows = run_json(cli, "plans")["data"]["plans"]
    assert len(rows) == 2 and {r["status"] for r in rows} == {"active"}
    assert [r["plan_id"] for r in run_json(cli, "plans", "--patient", "smith")["data"]["plans"]] == [a["plan_id"]]
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-04T12:00:00")
    row = next(r for r in run_json(cli, "plans")["data"]["plans"] if r["plan_id"] == a["plan_id"])
    assert (row["done"], row["left"]) == (3, 4)  # consultation, infusions 1 and 2 are behind us
    run_json(cli, "cancel", a["plan_id"])
    row = next(r for r in run_json(cli, "plans")["data"]["plans"] if r["plan_id"] == a["plan_id"])
    assert row["status"] == "ended" and row["left"] == 0


def test_past_sessions_stay(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = book(cli, clinic_file, "Jane")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-04T12:00:00")
    r = cli("reschedule", plan["plan_id"], "--session", "2", "--clinic", clinic_file)
    assert r.exit_code == 2 and "already in the past" in r.stderr
    doc = run_json(cli, "cancel", plan["plan_id"])
    assert {c["number"] for c in doc["data"]["cancelled"] if c["kind"] == "infusion"} == {3, 4, 5, 6}


@pytest.mark.parametrize(
    "args, words",
    [
        (["reschedule", "KP-NOPE", "--session", "1"], "no plan 'KP-NOPE'"),
        (["reschedule", "{pid}", "--session", "9"], "infusion 9 does not exist"),
        (["reschedule", "{pid}", "--session", "1", "--kind", "booster"], "has no maintenance"),
        (["cancel", "{pid}", "--session", "0"], "infusion 0 does not exist"),
        (["show", "KP-NOPE"], "no plan"),
        (["export", "{pid}"], "nothing to write"),
        (["reschedule", "{pid}", "--session", "1", "--from", "2026-01-01"], "in the past"),
    ],
)
def test_bad_lifecycle_input_is_exit_2(cli, clinic_file: Path, args: list[str], words: str) -> None:
    plan = book(cli, clinic_file, "Jane")
    args = [a.replace("{pid}", plan["plan_id"]) for a in args]
    extra = ["--clinic", str(clinic_file)] if args[0] in ("reschedule",) else []
    r = cli(*args, *extra)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cancelled_session_cannot_be_cancelled_again(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    assert cli("cancel", plan["plan_id"], "--session", "6").exit_code == 0
    r = cli("cancel", plan["plan_id"], "--session", "6")
    assert r.exit_code == 2 and "is cancelled" in r.stderr


def test_stale_revision_is_refused(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    assert run_json(cli, "cancel", pid, "--session", "6", "--revision", "1")["status"] == "ok"
    r = cli("reschedule", pid, "--session", "4", "--revision", "1", "--clinic", clinic_file)
    assert r.exit_code == 2 and "changed while you worked on it" in r.stderr
    assert run_json(cli, "show", pid)["data"]["revision"] == 2


@pytest.mark.slow
def test_two_processes_rescheduling_the_same_plan(cli, clinic_file: Path, ledger_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    args = [
        sys.executable,
        "-m",
        "ketaplan",
        "reschedule",
        plan["plan_id"],
        "--session",
        "4",
        "--revision",
        "1",
        "--clinic",
        str(clinic_file),
        "--ledger",
        str(ledger_path),
        "--json",
    ]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    docs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert sorted(d["status"] for d in docs) == ["error", "ok"]
    refused = next(d for d in docs if d["status"] == "error")
    assert "changed while you worked on it" in refused["errors"][0]["message"] and refused["exit_code"] == 2
    data = run_json(cli, "show", plan["plan_id"])["data"]
    assert data["revision"] == 2 and len(data["history"]) == 2
    assert_all_rules_hold(ledger_path, clinic_file, plan["plan_id"])


CRASHER = textwrap.dedent(
    """
    import sys
    from datetime import date, timedelta
    from pathlib import Path
    from ketaplan.store.booking import plan_and_book
    from ketaplan.formats.clinic_file import load_clinic
    from ketaplan.store.ledger import Ledger
    from ketaplan.core.model import Patient, Request
    clinic = load_clinic(Path(sys.argv[1]))
    ledger = Ledger(Path(sys.argv[2]))
    marker = Path(sys.argv[3])
    for i in range(10_000):
        first = date(2027, 1, 4) + timedelta(days=7 * (i % 50))
        req = Request(Patient(f"P{i}"), first, first + timedelta(days=20))
        plan_and_book(clinic, req, ledger, dry_run=False, before_commit=lambda p: marker.touch())
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4, 0.8])
def test_sigkill_while_booking_leaves_whole_plans_only(tmp_path: Path, delay: float) -> None:
    clinic_file = write_clinic(tmp_path / "c.toml", chairs=50, max_starts_per_slot=50)
    ledger_file, marker = tmp_path / "l.sqlite3", tmp_path / "in-transaction"
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(clinic_file), str(ledger_file), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(ledger_file) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = db.execute(
            "SELECT p.plan_id, COUNT(s.plan_id) FROM plans p LEFT JOIN sessions s USING (plan_id) GROUP BY p.plan_id"
        ).fetchall()
        orphans = db.execute(
            "SELECT COUNT(*) FROM sessions WHERE plan_id NOT IN (SELECT plan_id FROM plans)"
        ).fetchone()[0]
    assert orphans == 0
    assert all(n == 7 for _, n in counts), counts  # each plan whole: consultation + 6 infusions


def test_availability_picture_and_numbers(cli, tmp_path: Path) -> None:
    clinic_file = write_clinic(
        tmp_path / "one.toml", chairs=1, hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    before = run_json(cli, "availability", "--from", "2027-02-01", "--days", "7", "--clinic", clinic_file)["data"]
    plan = book(cli, clinic_file, "Jane")
    hour = sessions(plan)[1]["start"][11:13] + ":00"
    after = run_json(cli, "availability", "--from", "2027-02-01", "--days", "7", "--clinic", clinic_file)["data"]
    mon_before, mon_after = before["days"][0], after["days"][0]
    assert mon_before["date"] == "2027-02-01" and mon_before["free"][hour] == 1 and mon_after["free"][hour] == 0
    assert mon_after["infusion_starts"] < mon_before["infusion_starts"]
    sunday = after["days"][6]
    assert sunday["closed"] == "closed on Sundays" and sunday["infusion_starts"] == 0
    r = cli("availability", "--from", "2027-02-01", "--days", "7", "--clinic", clinic_file)
    assert r.exit_code == 0 and "Free chairs per hour" in r.stdout and "×" in r.stdout
