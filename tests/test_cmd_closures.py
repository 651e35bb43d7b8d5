"""`ketaplan closures`: the clinic file's closures (with their labels), public holidays and
the ledger's closures, each with its reason; the ledger's with an id."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_json, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def test_lists_the_file_holidays_and_the_ledger(cli, tmp_path: Path) -> None:
    clinic = tmp_path / "c.toml"
    write_clinic(clinic, closures={})
    text = clinic.read_text(encoding="utf-8").replace(
        "[closures]",
        '[closures]\nholidays = "US"\n'
        'dates = ["2026-12-24", {dates = "2026-12-28/2026-12-29", label = "Staff training"}]',
    )
    clinic.write_text(text, encoding="utf-8")
    assert cli("close", "2026-12-30", "--chair", "Chair 2", "--reason", "new pump", "--clinic", clinic).exit_code == 0
    doc = run_json(cli, "closures", "--from", "2026-12-20", "--to", "2026-12-31", "--clinic", clinic)
    got = [
        (c["source"], c["first_day"], c["last_day"], c["reason"], c["chair"], c["id"]) for c in doc["data"]["closures"]
    ]
    assert got == [
        ("clinic file", "2026-12-24", "2026-12-24", "clinic closure", None, None),
        ("public holiday", "2026-12-25", "2026-12-25", "Christmas Day", None, None),
        ("clinic file", "2026-12-28", "2026-12-29", "Staff training", None, None),
        ("ledger", "2026-12-30", "2026-12-30", "new pump", "Chair 2", 1),
    ]
    r = cli("closures", "--from", "2026-12-20", "--to", "2026-12-31", "--clinic", clinic)
    assert "Staff training" in r.stdout and "new pump" in r.stdout
    day = run_json(cli, "day", "2026-12-28", "--clinic", clinic)["data"]
    assert day["closed"] == "Staff training"  # a labelled closure prints its label, not "clinic closure"


def test_a_reversed_range_is_refused(cli, clinic_file: Path) -> None:
    r = cli("closures", "--from", "2027-01-10", "--to", "2027-01-01", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--to" in r.stderr
    assert run_json(cli, "closures", "--clinic", clinic_file)["data"]["closures"] == []


def test_a_labelled_closure_must_say_its_dates(cli, tmp_path: Path) -> None:
    clinic = tmp_path / "c.toml"
    write_clinic(clinic)
    clinic.write_text(clinic.read_text() + '\n[closures]\ndates = [{label = "x"}]\n', encoding="utf-8")
    r = cli("clinic", "check", clinic)
    assert r.exit_code == 2 and "closures.dates" in r.stderr
