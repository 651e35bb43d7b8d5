"""`ketaplan conflicts`: booked sessions the clinic as it stands (its file, the ledger's
closures) no longer admits, with the rule each breaks; exit 3 while there is any."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book, run_json, sessions, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def test_none_is_exit_0(cli, clinic_file: Path) -> None:
    book(cli, clinic_file, "Ann")
    r = cli("conflicts", "--clinic", clinic_file)
    assert r.exit_code == 0 and "no conflicts" in r.stdout


def test_fewer_chairs_in_the_clinic_file_is_a_conflict_not_a_crash(cli, tmp_path: Path) -> None:
    """A chair taken out of the clinic file: the sessions booked in it are conflicts (only
    those: a session on a remaining chair keeps its place), a change to such a plan is
    refused in one line that points to repair (it once exited 1), and repair moves them."""
    two = write_clinic(tmp_path / "two.toml", chairs=2)
    ann, ben = book(cli, two, "Ann"), book(cli, two, "Ben")
    on_two = ann if sessions(ann)[1]["chair"] == "Chair 2" else ben
    one = write_clinic(tmp_path / "one.toml", chairs=1)
    doc = run_json(cli, "conflicts", "--clinic", one)
    assert doc["status"] == "infeasible" and doc["exit_code"] == 3
    assert {c["plan_id"] for c in doc["data"]["conflicts"]} == {on_two["plan_id"]}
    assert "'Chair 2' is not a chair of this clinic" in doc["data"]["conflicts"][0]["reason"]
    r = cli("reschedule", on_two["plan_id"], "--session", "3", "--dry-run", "--clinic", one)
    assert r.exit_code == 2 and "ketaplan repair" in r.stderr and "Traceback" not in r.stderr
    assert run_json(cli, "clinic", "check", one)["data"]["conflicts"] == 6
    done = run_json(cli, "repair", "--clinic", one)
    assert done["status"] == "ok" and all(
        s["to"]["chair"] == "Chair 1" for m in done["data"]["moved"] for s in m["sessions"]
    )
    assert run_json(cli, "conflicts", "--clinic", one)["status"] == "ok"


def test_a_longer_turnover_moves_only_the_later_booked(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    short = write_clinic(tmp_path / "short.toml", chairs=1, turnover_minutes=0, max_starts_per_slot=1)
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", "2026-11-25T09:00:00")
    ann = book(cli, short, "Ann")
    monkeypatch.setenv("KETAPLAN_NOW", "2026-11-25T09:05:00")
    ben = book(cli, short, "Ben")
    assert sessions(ann)[1]["end"] == sessions(ben)[1]["start"]  # back to back
    longer = write_clinic(tmp_path / "long.toml", chairs=1, turnover_minutes=30, max_starts_per_slot=1)
    found = run_json(cli, "conflicts", "--clinic", longer)["data"]["conflicts"]
    assert {c["plan_id"] for c in found} == {ben["plan_id"]} and {c["rule"] for c in found} == {"chairs"}


def test_from_and_to_choose_the_days(cli, clinic_file: Path) -> None:
    ann = book(cli, clinic_file, "Ann")
    days = [s["start"][:10] for s in sessions(ann).values()]
    for day in (days[1], days[4]):
        assert cli("close", day, "--reason", "works", "--clinic", clinic_file).exit_code == 0
    doc = run_json(cli, "conflicts", "--from", days[3], "--clinic", clinic_file)
    assert [c["start"][:10] for c in doc["data"]["conflicts"]] == [days[4]]
    r = cli("conflicts", "--from", days[3], "--to", days[0], "--clinic", clinic_file)
    assert r.exit_code == 2 and "--to" in r.stderr
