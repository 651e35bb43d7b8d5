"""`ketaplan availability`: free chairs as a picture and as numbers."""

from __future__ import annotations

from pathlib import Path

from helpers import book, run_json, sessions, write_clinic


def test_availability_picture_and_numbers(cli, tmp_path: Path) -> None:
    clinic_file = write_clinic(
        tmp_path / "one.toml", chairs=1, hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    before = run_json(cli, "availability", "--from", "2027-02-01", "--days", "7", "--clinic", clinic_file)["data"]
    plan = book(cli, clinic_file, "Jane")
    hour = sessions(plan)[1]["start"][11:13] + ":00"
    after = run_json(cli, "availability", "--from", "2027-02-01", "--days", "7", "--clinic", clinic_file)["data"]
    mon_before, mon_after = before["days"][0], after["days"][0]
    assert mon_before["date"] == "2027-02-01" and mon_before["free"][hour] == 1 and mon_after["free"][hour] == 0
    assert mon_after["infusion_starts"] < mon_before["infusion_starts"]
    sunday = after["days"][6]
    assert sunday["closed"] == "closed on Sundays" and sunday["infusion_starts"] == 0
    r = cli("availability", "--from", "2027-02-01", "--days", "7", "--clinic", clinic_file)
    assert r.exit_code == 0 and "Free chairs per hour" in r.stdout and "×" in r.stdout
