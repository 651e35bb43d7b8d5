"""`ketaplan boosters PLAN_ID N`: boosters for a patient whose series is done."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helpers import assert_all_rules_hold, book, run_json, sessions, snapshot

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


def finish(cli, plan: dict, monkeypatch: pytest.MonkeyPatch, now: str) -> date:
    """Attend every infusion; returns the last infusion's day."""
    monkeypatch.setenv("KETAPLAN_NOW", now)
    for n in range(1, 7):
        assert run_json(cli, "attend", plan["plan_id"], "--session", str(n))["status"] == "ok"
    return date.fromisoformat(sessions(plan)[6]["start"][:10])


def test_boosters_follow_the_last_attended_infusion_by_the_rule(
    cli, clinic_file: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = book(cli, clinic_file, "Jane")
    last = finish(cli, plan, monkeypatch, "2027-02-22T12:00:00")
    doc = run_json(cli, "boosters", plan["plan_id"], "2", "--clinic", clinic_file)
    assert doc["status"] == "ok", doc
    b = sessions(doc["data"], "maintenance")
    assert sorted(b) == [1, 2] and all(s["status"] == "booked" and s["of"] == 2 for s in b.values())
    d1, d2 = (date.fromisoformat(b[n]["start"][:10]) for n in (1, 2))
    assert 21 <= (d1 - last).days <= 35 and 21 <= (d2 - d1).days <= 35  # 28 +- 7 (protocol)
    assert [a["number"] for a in doc["data"]["added"]] == [1, 2] and doc["data"]["revision"] == 8
    assert_all_rules_hold(ledger_path, clinic_file, plan["plan_id"])
    # one more later: numbered on, spaced from booster 2
    more = run_json(cli, "boosters", plan["plan_id"], "1", "--clinic", clinic_file)["data"]
    b3 = date.fromisoformat(sessions(more, "maintenance")[3]["start"][:10])
    assert 21 <= (b3 - d2).days <= 35 and sessions(more, "maintenance")[1]["of"] == 3


def test_boosters_need_a_finished_attended_series(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = book(cli, clinic_file, "Jane")
    r = cli("boosters", plan["plan_id"], "1", "--clinic", clinic_file)
    assert r.exit_code == 2 and "still under way" in r.stderr
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-22T12:00:00")
    r = cli("boosters", plan["plan_id"], "1", "--clinic", clinic_file)
    assert r.exit_code == 2 and "no attended infusion" in r.stderr


def test_when_the_time_for_a_booster_has_passed_it_says_so(
    cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = book(cli, clinic_file, "Jane")
    finish(cli, plan, monkeypatch, "2027-02-22T12:00:00")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-06-01T12:00:00")  # months later
    r = cli("boosters", plan["plan_id"], "1", "--clinic", clinic_file)
    said = " ".join(r.stderr.split())
    assert r.exit_code == 3 and "has passed" in said and "new series" in said


def test_dry_run_books_nothing(cli, clinic_file: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = book(cli, clinic_file, "Jane")
    finish(cli, plan, monkeypatch, "2027-02-22T12:00:00")
    before = snapshot(ledger_path)
    doc = run_json(cli, "boosters", plan["plan_id"], "2", "--clinic", clinic_file, "--dry-run")
    assert doc["data"]["dry_run"] and len(doc["data"]["added"]) == 2 and snapshot(ledger_path) == before


def test_boosters_stop_ten_years_ahead(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """14 calls of 12 once booked 192 boosters out to 2041: now a call that would reach
    past ten years from today is refused, naming the day."""
    plan = book(cli, clinic_file, "Jane")
    finish(cli, plan, monkeypatch, "2027-02-22T12:00:00")
    refused = None
    for _ in range(15):
        r = cli("boosters", plan["plan_id"], "12", "--clinic", clinic_file)
        if r.exit_code != 0:
            refused = r
            break
    assert refused is not None and refused.exit_code == 2 and "10 years ahead" in refused.stderr, refused
    last = max(s["start"] for s in run_json(cli, "show", plan["plan_id"])["data"]["sessions"])
    assert last[:10] <= "2037-02-22"


def test_no_boosters_for_a_plan_that_holds_nothing(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = book(cli, clinic_file, "Jane")
    assert cli("cancel", plan["plan_id"]).exit_code == 0  # every session still to come
    monkeypatch.setenv("KETAPLAN_NOW", "2027-03-01T12:00:00")
    r = cli("boosters", plan["plan_id"], "1", "--clinic", clinic_file)
    assert r.exit_code == 2 and "cancelled or missed" in r.stderr, r.stderr
