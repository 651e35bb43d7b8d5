"""`repair --optimize`: the day model of `batch --optimize` on booked plans (app.repair_solving),
through the command: its answer against the standard search's, every rule kept after, the
ledger changed by another desk while it solves, and its time limit."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import assert_all_rules_hold, book, run_json

pytest.importorskip("highspy")
pytestmark = pytest.mark.usefixtures("backend")


def crowded(cli, clinic_file: Path, n: int = 6) -> tuple[list[dict], str]:
    """`n` patients starting the same week on the two-chair clinic, and the day that holds
    most of their sessions closed."""
    plans = [book(cli, clinic_file, f"P{i}", f"2027-02-0{1 + i % 3}") for i in range(n)]
    days = [s["start"][:10] for p in plans for s in p["sessions"] if s["kind"] == "infusion"]
    day = max(sorted(set(days)), key=days.count)
    assert cli("close", day, "--reason", "burst pipe", "--clinic", clinic_file).exit_code == 0
    return plans, day


def moves(doc: dict) -> tuple[int, int]:
    """(patients kept, sessions moved) of a repair's answer."""
    data = doc["data"]
    return len(data["moved"]), sum(len(m["sessions"]) for m in data["moved"])


def test_optimize_keeps_as_many_with_no_more_moves_and_proves_it(
    cli, clinic_file: Path, ledger_path: Path | str
) -> None:
    plans, day = crowded(cli, clinic_file)
    standard = run_json(cli, "repair", "--dry-run", "--clinic", clinic_file)
    solved = run_json(cli, "repair", "--optimize", "--dry-run", "--clinic", clinic_file)
    assert solved["data"]["proven"], solved
    kept, moved = moves(solved)
    assert kept >= moves(standard)[0] and (kept > moves(standard)[0] or moved <= moves(standard)[1])
    done = run_json(cli, "repair", "--optimize", "--clinic", clinic_file)
    assert moves(done) == (kept, moved) and not done["data"]["not_placed"]
    assert run_json(cli, "conflicts", "--clinic", clinic_file)["data"]["conflicts"] == []
    for p in plans:
        assert_all_rules_hold(ledger_path, clinic_file, p["plan_id"])
    # No moved session is left on the closed day.
    for m in done["data"]["moved"]:
        assert all(s["to"]["start"][:10] != day for s in m["sessions"])


def test_progress_goes_to_stderr_and_json_stays_quiet(cli, clinic_file: Path) -> None:
    crowded(cli, clinic_file, 3)
    r = cli("repair", "--optimize", "--dry-run", "--clinic", clinic_file)
    assert r.exit_code == 0 and "solver:" in r.stderr and "sessions moved (proven)" in r.stderr, r.stderr
    r = cli("repair", "--optimize", "--dry-run", "--json", "--clinic", clinic_file)
    assert r.exit_code == 0 and "solver:" not in r.stderr


def test_a_change_at_another_desk_during_the_solve_is_never_overbooked(
    cli, clinic_file: Path, ledger_path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the solver works on its snapshot, another desk closes the chair and hour the
    answer moves a session to. Under the write lock the answer no longer holds: the
    standard search repairs against the ledger as it is then, and says so."""
    from datetime import datetime

    from ketaplan.app import repair as app_repair
    from ketaplan.app.closures import close_in_ledger
    from ketaplan.core.model import Closure
    from ketaplan.formats.clinic_file import load_clinic
    from ketaplan.store.holiday_cache import FROM_PACKAGE
    from ketaplan.store.location import ledger_at

    crowded(cli, clinic_file, 4)
    clinic = load_clinic(clinic_file, FROM_PACKAGE)
    solve = app_repair.solve_repair
    taken: list[str] = []

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        choice = solve(*args, **kwargs)
        _, moved = next((pid, c.moved) for pid, c in choice.repairs.items() if c is not None)
        to = moved[0][1].start.astimezone(clinic.zone)
        minutes = to.hour * 60 + to.minute
        hours = (minutes, minutes + 30)
        closure = Closure(to.date(), to.date(), "leak", hours, moved[0][1].resource, None)
        close_in_ledger(ledger_at(str(ledger_path)), clinic, closure, datetime.now(clinic.zone))
        taken.append(to.isoformat())
        return choice

    monkeypatch.setattr(app_repair, "solve_repair", meanwhile)
    r = cli("repair", "--optimize", "--clinic", clinic_file)
    assert taken, "the solver's answer moved nothing: the test proves nothing"
    doc = run_json(cli, "conflicts", "--clinic", clinic_file)
    assert doc["data"]["conflicts"] == [], doc  # the closed hour holds nobody
    assert "other desks changed the ledger during the solve" in r.stderr, r.stderr


def test_the_time_limit_holds_with_a_sub_model_that_would_run_longer(
    cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every capacity sub-model is one HiGHS cannot settle: the run still ends within 2 s
    of --time-limit, with the standard search's answer (not proven)."""
    from ketaplan.core import chairs
    from test_optimize import market_split

    hard: list[int] = []

    def pack_program(*args: object) -> object:
        hard.append(1)
        return market_split()

    monkeypatch.setattr(chairs, "pack_program", pack_program)  # repair's capacity models
    crowded(cli, clinic_file, 6)
    started = time.monotonic()
    doc = run_json(cli, "repair", "--optimize", "--time-limit", "2", "--dry-run", "--clinic", clinic_file)
    took = time.monotonic() - started
    assert hard, "no capacity sub-model was built: the test proves nothing"
    assert took < 4.0, f"--time-limit 2 took {took:.1f} s"
    assert doc["data"]["moved"] and not doc["data"]["proven"]  # the standard search's answer


def test_cp_sat_repairs_as_highs_does(cli, clinic_file: Path) -> None:
    """--solver cpsat for the day model: the same patients kept, the same moves, proven."""
    pytest.importorskip("ortools")
    crowded(cli, clinic_file)
    answers = {}
    for solver in ("highs", "cpsat"):
        doc = run_json(cli, "repair", "--optimize", "--solver", solver, "--dry-run", "--clinic", clinic_file)
        assert doc["data"]["proven"], (solver, doc)
        answers[solver] = moves(doc)
    assert answers["cpsat"] == answers["highs"]
    bad = cli("repair", "--optimize", "--solver", "gurobi", "--clinic", clinic_file)
    assert bad.exit_code == 2 and "--solver" in bad.stderr


def test_a_consultation_that_stays_comes_before_the_infusion_moved_to_its_day(
    cli, tmp_path: Path, ledger_path: Path | str
) -> None:
    """A same-day clinic: the consultation at 10:00 and infusion 1 at 10:30; the chair is
    closed 10:30-11:30. Infusion 1 may not move to the free morning (before its
    consultation): the answer moves the consultation too or takes another day, and is
    proven (it once moved infusion 1 to 08:00, which the named checks refused)."""
    from datetime import date, time

    from helpers import write_clinic
    from ketaplan.app.booking import book_plan
    from ketaplan.core.availability import Availability
    from ketaplan.core.model import Patient, Request
    from ketaplan.core.planner import plan_with_checks
    from ketaplan.formats.clinic_file import load_clinic
    from ketaplan.store.holiday_cache import FROM_PACKAGE
    from ketaplan.store.location import ledger_at

    clinic_file = write_clinic(
        tmp_path / "c.toml", chairs=1, consult_rooms=1, max_starts_per_slot=1, slot_minutes=30,
        turnover_minutes=0, min_notice_hours=0,
        hours={d: ["08:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        protocol={"infusions": 2, "window_days": [2, 3], "min_days_apart": 1, "max_days_apart": 2,
                  "session_minutes": 60, "consultation": True, "consultation_minutes": 30,
                  "consultation_days_before": [0, 0]},
    )  # fmt: skip
    clinic = load_clinic(clinic_file, FROM_PACKAGE)
    asked = Request(Patient("Ann"), date(2027, 2, 1), date(2027, 2, 3))
    late = asked._replace(earliest=time(10, 0))  # how it was booked; the request kept has no time
    plan = plan_with_checks(clinic, late, Availability(clinic, span=SPAN_OF(clinic)), plan_id="KP-ANN")
    assert plan is not None
    with ledger_at(str(ledger_path)).write() as tx:
        book_plan(tx, clinic, plan[0], asked)
    starts = {f"{s.kind} {s.number}": s.start.astimezone(clinic.zone) for s in plan[0].sessions}
    assert (starts["consultation 1"].hour, starts["infusion 1"].hour) == (10, 10)
    assert cli("close", "2027-02-01", "--hours", "10:30-11:30", "--chair", clinic.chairs[0], "--reason", "leak",
               "--clinic", clinic_file).exit_code == 0  # fmt: skip
    r = cli("repair", "--optimize", "--dry-run", "--json", "--clinic", clinic_file)
    doc = json.loads(r.stdout)
    assert doc["data"]["proven"], doc
    moved = {f"{m['from']['kind']} {m['from']['number']}": m["to"] for m in doc["data"]["moved"][0]["sessions"]}
    after = {k: moved.get(k, {"start": starts[k].isoformat()})["start"] for k in ("consultation 1", "infusion 1")}
    if after["consultation 1"][:10] == after["infusion 1"][:10]:
        assert after["consultation 1"] < after["infusion 1"]


def SPAN_OF(clinic):  # noqa: N802 - read as a constant
    from datetime import UTC, datetime

    return (datetime(2027, 1, 25, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
