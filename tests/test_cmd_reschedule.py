"""`ketaplan reschedule`: move one session, keep every rule; refusals; two desks at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import assert_all_rules_hold, book, run_json, sessions, snapshot, write_clinic
from ketaplan.core import checks
from ketaplan.store.holiday_cache import FROM_PACKAGE

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


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

    clinic = load_clinic(tight, FROM_PACKAGE)
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


def test_dry_run_shows_the_move_and_changes_nothing(cli, clinic_file: Path, ledger_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    before = snapshot(ledger_path)
    doc = run_json(cli, "reschedule", pid, "--session", "3", "--clinic", clinic_file, "--dry-run")
    assert doc["status"] == "ok" and doc["data"]["dry_run"] and doc["data"]["moved"][0]["number"] == 3
    assert doc["data"]["revision"] == 1 and snapshot(ledger_path) == before
    shown = run_json(cli, "show", pid, "--clinic", clinic_file)["data"]
    assert shown["revision"] == 1 and shown["sessions"] == plan["sessions"]


def test_reschedule_refreshes_the_patients_files_in_the_same_step(cli, clinic_file: Path, tmp_path: Path) -> None:
    from icalendar import Calendar

    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    out = tmp_path / "out"
    doc = run_json(cli, "reschedule", pid, "--session", "3", "--clinic", clinic_file, "--out", out)
    assert sorted(p.name for p in out.iterdir()) == [f"{pid}.html", f"{pid}.ics", f"{pid}.pdf"]
    assert doc["data"]["files"] == [str(out / f"{pid}.{k}") for k in ("ics", "pdf", "html")]
    events = {str(e["UID"]): e for e in Calendar.from_ical((out / f"{pid}.ics").read_bytes()).walk("VEVENT")}
    moved = events[f"{pid}-infusion-3@ketaplan"]
    assert (
        int(str(moved["SEQUENCE"])) == 2 and moved.decoded("DTSTART").isoformat() == sessions(doc["data"])[3]["start"]
    )


def test_a_file_that_cannot_be_written_changes_nothing(cli, clinic_file: Path, tmp_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    (tmp_path / "p.ics").write_text("keep")
    r = cli("reschedule", plan["plan_id"], "--session", "3", "--clinic", clinic_file, "--ics", tmp_path / "p.ics")
    assert r.exit_code == 2 and "exists" in r.stderr
    assert run_json(cli, "show", plan["plan_id"], "--clinic", clinic_file)["data"]["revision"] == 1


def test_moving_booster_1_leaves_booster_2_when_its_day_still_keeps_the_rule(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Jane", "2027-02-01", "--maintenance", "2")
    before = sessions(plan, "maintenance")
    doc = run_json(cli, "reschedule", plan["plan_id"], "--session", "1", "--kind", "booster", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    after = sessions(doc["data"], "maintenance")
    assert after[1]["start"] != before[1]["start"] and after[2]["start"] == before[2]["start"]
    assert [m["number"] for m in doc["data"]["moved"]] == [1]
    assert after[1]["start"][11:16] == before[1]["start"][11:16]  # the usual time kept


def test_a_consultation_that_cannot_move_says_why_and_offers_a_runnable_command(cli, tmp_path: Path) -> None:
    # A 14-day window: infusion 1 cannot move later with it (the series would not fit).
    clinic_file = write_clinic(
        tmp_path / "c14.toml",
        chairs=2,
        protocol={"window_days": [14, 14]},
        hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    doc = run_json(cli, "schedule", "--clinic", clinic_file, "--patient", "Jane Roe", "--start", "2027-02-01",
                   "--weeks", "2", "--days", "mon,tue,wed,thu,fri", "--patient-id", "MRN-9")  # fmt: skip
    plan = doc["data"]
    first = min(s["start"][:10] for s in plan["sessions"] if s["kind"] == "infusion")
    assert first == "2027-02-01"  # a Monday: from Saturday Jan 30 on, only the weekend is left
    r = cli("reschedule", plan["plan_id"], "--session", "1", "--kind", "consultation", "--from", "2027-01-30",
            "--clinic", clinic_file)  # fmt: skip
    said = " ".join(r.stderr.split())
    assert r.exit_code == 3, r.stderr
    assert "closed Jan 30, 31" in said and "no consult room" not in said
    command = said.split(": ketaplan cancel", 1)[1]
    assert (
        "--patient 'Jane Roe'" in command
        and "--patient-id MRN-9" in command
        and "--days mon,tue,wed,thu,fri" in command
    )
    assert "--no-consultation" not in command  # it was never held: the new series has one


def test_a_cancelled_infusion_can_be_booked_again(cli, clinic_file: Path, ledger_path: Path) -> None:
    """`reschedule --session 3` on a cancelled infusion once said 'infusion 3 is cancelled'
    and the series kept a 10-day gap while reading '6 of 6'; now it books it again, at a
    day that keeps every rule with its neighbours."""
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    assert run_json(cli, "cancel", pid, "--session", "3")["status"] == "ok"
    doc = run_json(cli, "reschedule", pid, "--session", "3", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    infusions = sessions(doc["data"])
    assert all(s["status"] == "booked" for s in infusions.values()) and len(infusions) == 6
    assert_all_rules_hold(ledger_path, clinic_file, pid)
    r = cli("cancel", pid, "--session", "3")
    assert r.exit_code == 0
    r = cli("cancel", pid, "--session", "3")
    assert r.exit_code == 2 and "cancelled already" in r.stderr


def test_a_move_the_coordinator_chooses(cli, clinic_file: Path, ledger_path: Path, monkeypatch) -> None:
    """`reschedule --to DATE [--at HH:MM] [--chair NAME]`: the same day included, checked
    against every rule; a move that breaks one is refused naming the rule, nothing changed."""
    plan = book(cli, clinic_file, "Jane")
    other = book(cli, clinic_file, "Ann")
    pid = plan["plan_id"]
    third = sessions(plan)[3]
    day = third["start"][:10]
    # same day, later, in the other chair
    chair = "Chair 2" if third["chair"] == "Chair 1" else "Chair 1"
    doc = run_json(cli, "reschedule", pid, "--session", "3", "--to", day, "--at", "14:00", "--chair", chair,
                   "--clinic", clinic_file)  # fmt: skip
    assert doc["status"] == "ok", doc
    moved = sessions(doc["data"])[3]
    assert moved["start"].startswith(f"{day}T14:00") and moved["chair"] == chair
    assert [s for n, s in sessions(doc["data"]).items() if n != 3] == [
        s for n, s in sessions(plan).items() if n != 3
    ]  # nothing else moved
    assert_all_rules_hold(ledger_path, clinic_file, pid)
    before = snapshot(ledger_path)
    # onto Ann's chair and time: the chairs rule, named; nothing changed
    ann = sessions(other)[3]
    r = cli("reschedule", pid, "--session", "3", "--to", ann["start"][:10], "--at", ann["start"][11:16],
            "--chair", ann["chair"], "--clinic", clinic_file, "--json")  # fmt: skip
    doc = json.loads(r.stdout)
    assert r.exit_code == 3 and any(e.startswith("chairs:") for e in doc["data"]["explanation"]), doc
    # a day that breaks the spacing with infusion 2: the spacing rule, named
    r = cli("reschedule", pid, "--session", "3", "--to", sessions(plan)[2]["start"][:10], "--at", "16:00",
            "--clinic", clinic_file, "--json")  # fmt: skip
    doc = json.loads(r.stdout)
    assert r.exit_code == 3 and any(e.startswith("spacing:") for e in doc["data"]["explanation"]), doc
    # outside the opening hours; a chair the clinic does not have; --at without --to
    r = cli("reschedule", pid, "--session", "3", "--to", day, "--at", "18:00", "--clinic", clinic_file, "--json")
    assert r.exit_code == 3 and any(e.startswith("hours:") for e in json.loads(r.stdout)["data"]["explanation"])
    r = cli("reschedule", pid, "--session", "3", "--to", day, "--chair", "Chair 9", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--chair:" in r.stderr
    r = cli("reschedule", pid, "--session", "3", "--at", "14:00", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--at:" in r.stderr
    assert snapshot(ledger_path) == before


def test_moving_infusion_2_after_infusion_1_was_cancelled_and_the_consultation_moved(
    cli, clinic_file: Path, ledger_path: Path
) -> None:
    """Once exit 1: the final check measured the consultation from the cancelled infusion 1
    (the consultation had moved to the day before infusion 2, the cancelled one's day)."""
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    first = sessions(plan)[1]["start"][:10]
    assert (
        run_json(cli, "reschedule", pid, "--session", "1", "--kind", "consultation", "--clinic", clinic_file)["status"]
        == "ok"
    )
    assert run_json(cli, "cancel", pid, "--session", "1")["status"] == "ok"
    # infusion 2 moves to the day after the cancelled infusion 1; the consultation follows it
    doc = run_json(cli, "reschedule", pid, "--session", "2", "--from", first, "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    consult = [s for s in doc["data"]["sessions"] if s["kind"] == "consultation"][0]
    assert consult["start"][:10] < sessions(doc["data"])[2]["start"][:10]
    assert_all_rules_hold(ledger_path, clinic_file, pid)


def _missed_consultation(cli, clinic: Path, monkeypatch) -> str:
    """Jane's consultation (Fri Jan 29, 08:00) was missed; it is Friday 16:30, the clinic
    shut for the weekend, and infusion 1 is on Monday Feb 1."""
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-20T09:00:00")
    plan = book(cli, clinic, "Jane")
    consult = [s for s in plan["sessions"] if s["kind"] == "consultation"][0]
    assert consult["start"].startswith("2027-01-29"), consult
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-29T16:30:00")
    r = cli("no-show", plan["plan_id"], "--session", "1", "--kind", "consultation")
    assert r.exit_code == 0, r.stderr
    return str(plan["plan_id"])


@pytest.mark.parametrize("kind", ["consultation", "infusion"])
def test_a_missed_consultation_and_infusion_1_move_in_one_command(
    cli, clinic_file: Path, ledger_path: Path, monkeypatch, kind: str
) -> None:
    """Moving the missed consultation, when no day before infusion 1 is left, moves
    infusion 1 too; moving infusion 1 books the missed consultation again before it. Once
    the first said 'no consult room free Jan 29' and the second left the consultation
    missed, so it took two commands."""
    pid = _missed_consultation(cli, clinic_file, monkeypatch)
    doc = run_json(cli, "reschedule", pid, "--session", "1", "--kind", kind, "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    consult = [s for s in doc["data"]["sessions"] if s["kind"] == "consultation"][0]
    first = sessions(doc["data"])[1]
    assert consult["status"] == "booked" and "2027-02-01" <= consult["start"][:10] < first["start"][:10]
    assert {m["kind"] for m in doc["data"]["moved"]} >= {"consultation", "infusion"}
    assert_all_rules_hold(ledger_path, clinic_file, pid)


def test_a_day_that_is_over_is_named_too_late_not_full(cli, tmp_path: Path, monkeypatch) -> None:
    """With the window too short for infusion 1 to move, the refusal says Friday is too
    late to book (not 'no consult room free'), and the new series it offers keeps the
    clinic's minimum notice (it once offered a consultation for Friday night)."""
    short_window = write_clinic(
        tmp_path / "c14.toml",
        chairs=2,
        protocol={"window_days": [14, 14]},
        hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-20T09:00:00")
    doc = run_json(cli, "schedule", "--clinic", short_window, "--patient", "Jane", "--start", "2027-02-01",
                   "--weeks", "2")  # fmt: skip
    pid = doc["data"]["plan_id"]
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-29T16:30:00")
    assert cli("no-show", pid, "--session", "1", "--kind", "consultation").exit_code == 0
    r = cli("reschedule", pid, "--session", "1", "--kind", "consultation", "--clinic", short_window, "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 3, doc
    why = " ".join(doc["data"]["explanation"])
    assert "too late to book Jan 29" in why and "no consult room" not in why, why
    (offer,) = doc["data"]["suggestions"]
    assert "--start 2027-02-02" in offer["option"], offer


def test_a_series_near_its_end_is_kept_with_a_longer_gap_the_coordinator_allows(
    cli, clinic_file: Path, ledger_path: Path, monkeypatch
) -> None:
    """Five of six done, infusion 6 missed and the protocol's 7 days gone: once the only
    offer was a whole new series. Now a checked `--allow-gap` offer comes first; run with a
    reason, the gap is recorded with the plan, so `conflicts` and every rule accept it."""
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-20T09:00:00")
    pid = book(cli, clinic_file, "Jane")["plan_id"]  # infusions Feb 1, 3, 5, 8, 10, 12
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-21T09:00:00")
    for n in range(1, 6):
        assert cli("attend", pid, "--session", str(n)).exit_code == 0
    assert cli("attend", pid, "--session", "1", "--kind", "consultation").exit_code == 0
    assert cli("no-show", pid, "--session", "6").exit_code == 0
    r = cli("reschedule", pid, "--session", "6", "--clinic", clinic_file, "--json")
    assert r.exit_code == 3
    offers = json.loads(r.stdout)["data"]["suggestions"]
    assert [o["change"] for o in offers] == ["allow_gap", "new_series"], offers
    command = offers[0]["option"]
    assert command == f"ketaplan reschedule {pid} --session 6 --from 2027-02-21 --allow-gap 12 --reason 'WHY'"
    # without a reason: refused, nothing changed
    before = snapshot(ledger_path)
    r = cli("reschedule", pid, "--session", "6", "--allow-gap", "12", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--allow-gap:" in r.stderr and "reason" in r.stderr
    assert snapshot(ledger_path) == before
    args = command.split()[1:-2]
    doc = run_json(cli, *args, "--reason", "snow week", "--by", "Sam", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    assert sessions(doc["data"])[6]["start"].startswith("2027-02-22")
    assert any("12-day gap is allowed before infusion 6" in n for n in doc["data"]["notes"])
    last = run_json(cli, "show", pid)["data"]["history"][-1]
    assert last["by"] == "Sam" and last["reason"] == "snow week" and "12-day gap" in last["change"], last
    assert cli("conflicts", "--clinic", clinic_file).exit_code == 0
    assert_all_rules_hold(ledger_path, clinic_file, pid)
    # the recorded gap is the plan's own: the rules see it when the plan is read again
    from ketaplan.store.location import ledger_at

    with ledger_at(ledger_path).read() as tx:
        assert tx.load_plan(pid)[1].gaps == ((6, 12),)


def test_a_rule_broken_before_the_change_does_not_block_an_unrelated_move(
    cli, clinic_file: Path, ledger_path: Path, monkeypatch
) -> None:
    """The consultation was held 14 days before infusion 1, then infusion 1 was cancelled:
    infusion 2 now comes 16 days after it. That is history (`conflicts` lists nothing to
    come), so moving infusion 4 must not be refused for it, as once it was (exit 2,
    pointing to a `conflicts` that had nothing to show)."""
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-10T09:00:00")
    pid = book(cli, clinic_file, "Jane")["plan_id"]  # infusions Feb 1, 3, 5, 8, 10, 12
    doc = run_json(cli, "reschedule", pid, "--session", "1", "--kind", "consultation", "--to", "2027-01-18",
                   "--at", "09:00", "--clinic", clinic_file)  # fmt: skip
    assert doc["status"] == "ok", doc
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-18T12:00:00")
    assert cli("attend", pid, "--session", "1", "--kind", "consultation").exit_code == 0
    assert cli("cancel", pid, "--session", "1").exit_code == 0
    assert cli("conflicts", "--clinic", clinic_file).exit_code == 0
    doc = run_json(cli, "reschedule", pid, "--session", "4", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc["data"]
