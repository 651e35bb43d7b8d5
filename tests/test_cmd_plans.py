"""`ketaplan plans`: a row per plan of this clinic, upcoming first, with what is done, left
and still to mark; filters and a limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, run_json, write_clinic

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


def plans(cli, clinic: Path, *args: str) -> list[dict]:
    return run_json(cli, "plans", "--clinic", clinic, *args)["data"]["plans"]


def test_plans_lists_rows_with_status(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = book(cli, clinic_file, "Anna Smith")
    book(cli, clinic_file, "Bea Jones", "2027-02-02")
    rows = plans(cli, clinic_file)
    assert len(rows) == 2 and {r["status"] for r in rows} == {"active"}
    assert [r["plan_id"] for r in plans(cli, clinic_file, "--patient", "smith")] == [a["plan_id"]]
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-04T12:00:00")
    row = next(r for r in plans(cli, clinic_file) if r["plan_id"] == a["plan_id"])
    # consultation, infusions 1 and 2 are behind us, but nobody marked them: never "done"
    assert (row["done"], row["to_mark"], row["left"]) == (0, 3, 4)
    for n in (1, 2):
        run_json(cli, "attend", a["plan_id"], "--session", str(n))
    run_json(cli, "attend", a["plan_id"], "--session", "1", "--kind", "consultation")
    run_json(cli, "cancel", a["plan_id"])
    row = next(r for r in plans(cli, clinic_file) if r["plan_id"] == a["plan_id"])
    assert row["status"] == "ended" and (row["done"], row["left"], row["cancelled"]) == (3, 0, 4)


def test_a_fully_cancelled_plan_says_cancelled(cli, clinic_file: Path) -> None:
    a = book(cli, clinic_file, "Anna")
    run_json(cli, "cancel", a["plan_id"])
    assert plans(cli, clinic_file)[0]["status"] == "cancelled"


def test_only_this_clinics_plans_unless_all(cli, clinic_file: Path, tmp_path: Path) -> None:
    other = write_clinic(tmp_path / "other.toml", name="Other Clinic")
    book(cli, clinic_file, "Anna")
    book(cli, other, "Bea")
    assert [r["patient"]["name"] for r in plans(cli, clinic_file)] == ["Anna"]
    assert [r["patient"]["name"] for r in plans(cli, other)] == ["Bea"]
    assert sorted(r["clinic"] for r in plans(cli, other, "--all")) == ["Other Clinic", "Test Clinic"]


def test_upcoming_first_then_filters_and_limit(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    late = book(cli, clinic_file, "Late", "2027-03-01")
    early = book(cli, clinic_file, "Early", "2027-02-01")
    past = book(cli, clinic_file, "Past", "2026-12-01")
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-10T12:00:00")
    rows = plans(cli, clinic_file)
    assert [r["plan_id"] for r in rows] == [early["plan_id"], late["plan_id"], past["plan_id"]]
    assert rows[0]["next_session"].startswith("2027-01-") or rows[0]["next_session"].startswith("2027-02-")
    assert rows[2]["next_session"] is None and rows[2]["status"] == "to_mark"
    assert [r["plan_id"] for r in plans(cli, clinic_file, "--status", "to_mark")] == [past["plan_id"]]
    assert [r["plan_id"] for r in plans(cli, clinic_file, "--from", "2027-02-25")] == [late["plan_id"]]
    assert [r["plan_id"] for r in plans(cli, clinic_file, "--to", "2026-12-31")] == [past["plan_id"]]
    doc = run_json(cli, "plans", "--clinic", clinic_file, "--limit", "1")["data"]
    assert len(doc["plans"]) == 1 and doc["total"] == 3
    r = cli("plans", "--clinic", clinic_file, "--status", "done")
    assert r.exit_code == 2 and "--status:" in r.stderr


def test_the_table_says_plan_not_plans_for_one(cli, clinic_file: Path) -> None:
    book(cli, clinic_file, "Anna")
    r = cli("plans", "--clinic", clinic_file)
    assert r.exit_code == 0 and r.stdout.split("\n")[0].strip() == "1 plan" and "1 plans" not in r.stdout


def test_the_quick_page_and_the_filtered_list_agree(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default page is read along indexes; any filter counts every plan in SQL. Both
    must give the same rows in the same order."""
    for i, start in enumerate(["2026-12-01", "2027-02-01", "2027-02-01", "2027-01-04", "2026-12-07", "2027-03-01"]):
        book(cli, clinic_file, f"P{i}", start)
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-10T12:00:00")
    quick = plans(cli, clinic_file)
    counted = plans(cli, clinic_file, "--status", "active,to_mark,completed,ended,cancelled")
    assert quick == counted and len(quick) == 6
    assert plans(cli, clinic_file, "--limit", "4") == counted[:4]
