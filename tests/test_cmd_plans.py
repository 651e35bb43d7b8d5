"""`ketaplan plans`: a row per plan with what is done and left."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, run_json


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
