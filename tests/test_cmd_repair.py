"""`ketaplan repair`: every conflicting session of every affected plan moved together, in
one transaction; the patients' files written again (same UIDs, higher SEQUENCE)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import book, run_json, sessions, snapshot

pytestmark = pytest.mark.usefixtures("backend")


def test_dry_run_shows_the_moves_and_changes_nothing(cli, clinic_file: Path, ledger_path: Path | str) -> None:
    ann = book(cli, clinic_file, "Ann")
    day = sessions(ann)[2]["start"][:10]
    assert cli("close", day, "--reason", "snow", "--clinic", clinic_file).exit_code == 0
    before = snapshot(ledger_path)
    doc = run_json(cli, "repair", "--dry-run", "--clinic", clinic_file)
    assert doc["data"]["dry_run"] and doc["data"]["proven"] and doc["data"]["moved"]
    assert doc["data"]["moved"][0]["sessions"][0]["from"]["start"][:10] == day
    assert snapshot(ledger_path) == before
    r = cli("repair", "--dry-run", "--clinic", clinic_file)
    assert "would move infusion 2" in r.stdout and "dry run: nothing changed" in r.stdout


def test_files_follow_with_the_same_uids_and_a_higher_sequence(cli, clinic_file: Path, tmp_path: Path) -> None:
    ann = book(cli, clinic_file, "Ann")
    pid = ann["plan_id"]
    out = tmp_path / "out"
    assert cli("export", pid, "--out", out, "--clinic", clinic_file).exit_code == 0
    before = (out / f"{pid}.ics").read_text()
    assert cli("close", sessions(ann)[4]["start"][:10], "--reason", "snow", "--clinic", clinic_file).exit_code == 0
    r = cli("repair", "--out", out, "--clinic", clinic_file)
    assert r.exit_code == 2 and "--force" in r.stderr  # the old files stay unless told
    assert run_json(cli, "conflicts", "--clinic", clinic_file)["status"] == "ok"  # the repair itself stands
    assert cli("export", pid, "--out", out, "--force", "--clinic", clinic_file).exit_code == 0
    after = (out / f"{pid}.ics").read_text()
    assert re.findall(r"UID:(\S+)", after) == re.findall(r"UID:(\S+)", before)
    assert max(map(int, re.findall(r"SEQUENCE:(\d+)", after))) > max(map(int, re.findall(r"SEQUENCE:(\d+)", before)))


def test_repair_writes_each_moved_plans_files_into_out(cli, clinic_file: Path, tmp_path: Path) -> None:
    plans = [book(cli, clinic_file, name) for name in ("Ann", "Ben")]
    assert cli("close", sessions(plans[0])[3]["start"][:10], "--reason", "snow", "--clinic", clinic_file).exit_code == 0
    doc = run_json(cli, "repair", "--out", tmp_path / "out", "--by", "Desk 2", "--clinic", clinic_file)
    moved = {m["plan_id"] for m in doc["data"]["moved"]}
    assert {Path(f).name for f in doc["data"]["files"]} == {f"{p}.{k}" for p in moved for k in ("ics", "pdf", "html")}
    history = run_json(cli, "show", next(iter(moved)))["data"]["history"]
    assert history[-1]["by"] == "Desk 2" and "the clinic is closed that day: snow" in history[-1]["reason"]


def test_a_single_file_option_is_refused(cli, clinic_file: Path, tmp_path: Path, ledger_path: Path | str) -> None:
    ann = book(cli, clinic_file, "Ann")
    assert cli("close", sessions(ann)[2]["start"][:10], "--reason", "snow", "--clinic", clinic_file).exit_code == 0
    before = snapshot(ledger_path)
    r = cli("repair", "--ics", tmp_path / "a.ics", "--clinic", clinic_file)
    assert r.exit_code == 2 and "--out DIR" in r.stderr and snapshot(ledger_path) == before


def test_a_patient_who_cannot_be_placed_is_named_with_a_checked_option(cli, clinic_file: Path) -> None:
    """Ten days closed in the middle of a series: no move keeps 2-7 days between infusions."""
    ann = book(cli, clinic_file, "Ann")
    first, third = sessions(ann)[1]["start"][:10], sessions(ann)[3]["start"][:10]
    r = cli("close", third, "--until", "2027-02-16", "--reason", "flood", "--clinic", clinic_file)
    assert r.exit_code == 0 and first < third
    doc = run_json(cli, "repair", "--clinic", clinic_file)
    assert doc["status"] == "partial" and doc["exit_code"] == 3 and not doc["data"]["moved"]
    (left,) = doc["data"]["not_placed"]
    assert left["plan_id"] == ann["plan_id"] and "2-7 days between infusions" in left["why"]
    (option,) = left["suggestions"]
    assert option["option"].startswith(f"ketaplan cancel {ann['plan_id']}; ketaplan schedule --patient Ann")
    assert option["window"]["first_day"] >= "2027-02-17"  # after the flood: the option was planned
    r = cli("repair", "--clinic", clinic_file)
    assert r.exit_code == 3 and "cannot be placed" in r.stdout
