"""A clinic whose `consultation_days_before` starts at 0: the consultation may fall on
infusion 1's day, and then it ends before infusion 1 begins, in the planner, the
`consultation` rule, moves and `batch --optimize` (tests/test_optimize.py) alike."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from helpers import assert_all_rules_hold, make_clinic, run_json, sessions, write_clinic
from ketaplan.core import checks
from ketaplan.core.availability import Availability
from ketaplan.core.model import Patient, Plan, Request, Session
from ketaplan.core.planner import find_plan

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SAME_DAY: dict[str, Any] = {
    "chairs": 1,
    "slot_minutes": 60,
    "hours": {d: ["08:00-12:00"] for d in WEEKDAYS},
    "protocol": {"infusions": 2, "min_days_apart": 1, "max_days_apart": 3, "window_days": [3, 5],
                 "session_minutes": 60, "consultation": True, "consultation_minutes": 60,
                 "consultation_days_before": [0, 2]},
}  # fmt: skip
MONDAY = date(2027, 6, 7)


def test_the_consultation_comes_first_on_infusion_1s_day() -> None:
    """Nothing before Monday (the weekend is closed, nothing sooner may be booked): the
    consultation takes Monday 08:00 and infusion 1 the first time after it, 09:00."""
    clinic = make_clinic(**SAME_DAY)
    req = Request(Patient("P"), MONDAY, MONDAY + timedelta(days=4), consultation=True, not_before=MONDAY)
    plan = find_plan(clinic, req, Availability(clinic))
    assert plan is not None
    consult, first = plan.consultation, min(plan.infusions, key=lambda s: s.start)
    assert consult is not None
    assert (consult.start.time(), first.start.time()) == (time(8), time(9))
    assert consult.start.date() == first.start.date() == MONDAY


def test_the_rule_names_a_consultation_that_ends_after_infusion_1_starts() -> None:
    clinic = make_clinic(**SAME_DAY)
    zone = clinic.zone

    def at(h: int) -> datetime:
        return datetime.combine(MONDAY, time(h), tzinfo=zone)

    sessions_ = (
        Session("consultation", 1, 1, at(9), at(10), "Consult room 1"),
        Session("infusion", 1, 2, at(8), at(9), "Chair 1"),
        Session("infusion", 2, 2, at(8) + timedelta(days=1), at(9) + timedelta(days=1), "Chair 1"),
    )
    plan = Plan("KP-X", Patient("P"), clinic.name, clinic.timezone, MONDAY, MONDAY + timedelta(days=4), sessions_)
    ctx = checks.CheckContext(clinic, None, Availability(clinic).occupancy)
    result = checks.CHECKS["consultation"](plan, ctx)
    assert not result.ok
    assert result.problems == (("consultation", "ends 10:00, after infusion 1 starts (08:00) that day"),)
    # One hour earlier, and the same day is allowed
    ok = plan._replace(sessions=(sessions_[0]._replace(start=at(7), end=at(8)), *sessions_[1:]))
    assert checks.CHECKS["consultation"](ok, ctx).ok


def test_the_clinic_file_takes_0_and_refuses_less(cli, tmp_path: Path) -> None:
    good = write_clinic(tmp_path / "good.toml", **SAME_DAY)
    assert cli("clinic", "check", good).exit_code == 0
    bad = write_clinic(tmp_path / "bad.toml", protocol={**SAME_DAY["protocol"], "consultation_days_before": [-1, 2]})
    result = cli("clinic", "check", bad)
    assert result.exit_code == 2 and "consultation_days_before" in result.stderr


def test_a_move_keeps_the_same_day_consultation_first(cli, tmp_path: Path, ledger_path: Path) -> None:
    """Booked through the CLI: a same-day consultation, and a chosen move that would put it
    after infusion 1 is refused by the rule; moving infusion 1 keeps it before."""
    clinic = write_clinic(tmp_path / "c.toml", **SAME_DAY)
    doc = run_json(
        cli, "schedule", "--clinic", clinic, "--patient", "Pat", "--start", "2027-02-01", "--end", "2027-02-05"
    )
    assert doc["status"] == "ok", doc
    data = doc["data"]
    consult, first = sessions(data, "consultation")[1], sessions(data)[1]
    assert consult["start"][:10] == first["start"][:10] and consult["end"] <= first["start"]
    day = consult["start"][:10]
    refused = run_json(
        cli, "reschedule", data["plan_id"], "--kind", "consultation", "--session", "1", "--to", day, "--at", "11:00",
        "--clinic", clinic,
    )  # fmt: skip
    assert refused["exit_code"] == 3, refused["errors"]
    assert "consultation" in " ".join(refused["data"]["explanation"])
    moved = run_json(cli, "reschedule", data["plan_id"], "--session", "1", "--from", "2027-02-02", "--clinic", clinic)
    assert moved["status"] == "ok", moved
    after = moved["data"]["plan"] if "plan" in moved["data"] else moved["data"]
    consult, first = sessions(after, "consultation")[1], sessions(after)[1]
    assert consult["end"] <= first["start"] and first["start"][:10] == "2027-02-02"
    assert_all_rules_hold(ledger_path, clinic, data["plan_id"])
