"""`ketaplan export`: the same UIDs again, SEQUENCE rising with each revision; `show` history."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar

from helpers import book, run_json

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


def test_revision_and_sequence_rise_with_each_change(cli, clinic_file: Path, tmp_path: Path) -> None:
    plan = book(cli, clinic_file, "Jane")
    pid = plan["plan_id"]
    ics = tmp_path / "p.ics"

    def exported() -> dict[str, tuple[int, str]]:
        assert cli("export", pid, "--ics", ics, "--force", "--clinic", clinic_file).exit_code == 0
        cal = Calendar.from_ical(ics.read_bytes())
        return {str(e["UID"]): (int(str(e["SEQUENCE"])), str(e["STATUS"])) for e in cal.walk("VEVENT")}

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


def test_several_plans_at_once_into_a_folder(cli, clinic_file: Path, tmp_path: Path) -> None:
    """The morning's patients printed at once; one file name for several plans is refused."""
    from helpers import book, run_json

    ids = [book(cli, clinic_file, name)["plan_id"] for name in ("Ann", "Ben")]
    r = cli("export", *ids, "--pdf", tmp_path / "one.pdf", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--out" in r.stderr and not (tmp_path / "one.pdf").exists()
    r = cli("export", ids[0], "KP-NOSUCH22", "--out", tmp_path / "x", "--clinic", clinic_file)
    assert r.exit_code == 2 and not (tmp_path / "x").exists()  # an unknown id: nothing written
    doc = run_json(cli, "export", *ids, "--out", tmp_path / "out", "--clinic", clinic_file)
    assert [p["plan_id"] for p in doc["data"]["plans"]] == ids
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == sorted(
        f"{pid}.{kind}" for pid in ids for kind in ("html", "ics", "pdf")
    )
