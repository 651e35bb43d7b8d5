"""`ketaplan reopen ID`: a closure taken back; its days take bookings again."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, run_json, sessions, snapshot, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def test_reopen_takes_a_closure_back(cli, clinic_file: Path) -> None:
    plan = book(cli, clinic_file, "Ann")
    day = sessions(plan)[2]["start"][:10]
    assert run_json(cli, "close", day, "--reason", "snow", "--clinic", clinic_file)["data"]["conflicts"] == 1
    assert run_json(cli, "conflicts", "--clinic", clinic_file)["status"] == "infeasible"
    doc = run_json(cli, "reopen", "1", "--clinic", clinic_file)
    assert doc["status"] == "ok" and doc["data"]["closure"]["reason"] == "snow"
    assert run_json(cli, "conflicts", "--clinic", clinic_file)["status"] == "ok"
    assert run_json(cli, "day", day, "--clinic", clinic_file)["data"]["closed"] is None


def test_reopen_refuses_an_unknown_or_other_clinics_closure(cli, clinic_file: Path, tmp_path: Path,
                                                             ledger_path: Path | str) -> None:  # fmt: skip
    book(cli, clinic_file, "Ann")
    assert cli("close", "2027-02-03", "--reason", "snow", "--clinic", clinic_file).exit_code == 0
    before = snapshot(ledger_path)
    r = cli("reopen", "7", "--clinic", clinic_file)
    assert r.exit_code == 2 and "no closure 7" in r.stderr
    other = write_clinic(tmp_path / "other.toml", name="Other Clinic")
    r = cli("reopen", "1", "--clinic", other)
    assert r.exit_code == 2 and "belongs to 'Test Clinic'" in r.stderr
    assert snapshot(ledger_path) == before
    assert [
        c["id"] for c in run_json(cli, "closures", "--from", "2027-02-01", "--clinic", clinic_file)["data"]["closures"]
    ] == [1]
