"""Words a coordinator tripped on: wrong plurals, a help text the renderer ate, a typo
with no hint, a kind word JSON uses that --kind refused, a filter that found nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import book, run_json

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


def test_a_mistyped_command_gets_a_did_you_mean(cli) -> None:
    r = cli("schedul", "--patient", "A")
    assert r.exit_code == 2 and "did you mean 'schedule'?" in r.stderr, r.stderr
    r = cli("xyzzy")
    assert r.exit_code == 2 and "did you mean" not in r.stderr


def test_batch_help_names_the_extra_it_needs(cli) -> None:
    r = cli("batch", "--help")
    assert "(needs the solver: the optimize extra)" in " ".join(r.stdout.split()), r.stdout


def test_kind_takes_the_word_json_uses(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`day --json` says kind "maintenance"; --kind once took only "booster"."""
    plan = book(cli, clinic_file, "Jane", "2027-02-01", "--maintenance", "1")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-02T09:00:00")
    for word in ("booster", "maintenance"):
        doc = run_json(cli, "reschedule", plan["plan_id"], "--session", "1", "--kind", word, "--dry-run",
                       "--clinic", clinic_file)  # fmt: skip
        assert doc["status"] in ("ok", "infeasible"), doc
    r = cli("reschedule", plan["plan_id"], "--session", "1", "--kind", "boost", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--kind:" in r.stderr


def test_plans_to_mark_finds_a_past_session_left_unmarked(cli, clinic_file: Path, monkeypatch) -> None:
    """A plan with infusion 1 past and unmarked and five still to come reads as active,
    but `--status to_mark` must find it (it once found 0)."""
    plan = book(cli, clinic_file, "Jane")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-03T12:00:00")
    doc = run_json(cli, "plans", "--status", "to_mark", "--clinic", clinic_file)
    assert [p["plan_id"] for p in doc["data"]["plans"]] == [plan["plan_id"]], doc


def test_one_booster_is_one_booster(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = book(cli, clinic_file, "Jane")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-22T12:00:00")
    for n in range(1, 7):
        assert run_json(cli, "attend", plan["plan_id"], "--session", str(n))["status"] == "ok"
    r = cli("boosters", plan["plan_id"], "1", "--clinic", clinic_file)
    assert r.exit_code == 0 and "booked 1 booster;" in " ".join(r.stdout.split()), r.stdout
    assert json.loads(cli("show", plan["plan_id"], "--json").stdout)["data"]["revision"] == 8


def test_a_missed_consultation_frees_its_room_not_a_chair(cli, clinic_file: Path, monkeypatch) -> None:
    plan = book(cli, clinic_file, "Ann")
    consult = next(s for s in plan["sessions"] if s["kind"] == "consultation")
    monkeypatch.setenv("KETAPLAN_NOW", consult["end"][:16])
    r = cli("no-show", plan["plan_id"], "--session", "1", "--kind", "consultation")
    assert r.exit_code == 0 and "its room is free again" in r.stdout and "chair" not in r.stdout.split("\n")[0]
