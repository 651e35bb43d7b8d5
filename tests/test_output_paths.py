"""Output paths that must never be written: the ledger, the clinic file and its busy
calendar, devices and FIFOs, one path given for two files. Each was seen destroying or
hiding data before its fix (`--ics ledger.sqlite3 --force` once exited 0, every plan gone)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helpers import book, booked_rows, write_clinic

EXPORTS = ("--ics", "--pdf", "--html")


def snapshot(path: Path) -> bytes:
    return path.read_bytes()


@pytest.fixture
def setup(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path, str]:
    """A clinic with a busy calendar, a ledger file with one plan."""
    busy = tmp_path / "busy.ics"
    busy.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:b1@x\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20270301T150000Z\r\nDTEND:20270301T160000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    clinic = write_clinic(tmp_path / "clinic.toml", chairs=2, closures={"busy_ics": "busy.ics"})
    ledger = tmp_path / "l.sqlite3"
    monkeypatch.setenv("KETAPLAN_LEDGER", str(ledger))
    plan = book(cli, clinic, "Jane")["plan_id"]
    return clinic, busy, ledger, plan


@pytest.mark.parametrize("option", EXPORTS)
@pytest.mark.parametrize("target", ["ledger", "clinic", "busy", "journal"])
def test_no_export_replaces_what_ketaplan_reads(cli, setup, option: str, target: str) -> None:
    clinic, busy, ledger, plan = setup
    path = {"ledger": ledger, "clinic": clinic, "busy": busy, "journal": Path(f"{ledger}-journal")}[target]
    before = {p: snapshot(p) for p in (ledger, clinic, busy)}
    commands = [
        ["schedule", "--clinic", clinic, "--patient", "Ann", "--start", "2027-02-01", "--weeks", "3"],
        ["export", plan, "--clinic", clinic],
        ["reschedule", plan, "--session", "4", "--from", "2027-02-10", "--clinic", clinic],
        ["cancel", plan, "--session", "6", "--clinic", clinic],
    ]
    for args in commands:
        r = cli(*args, option, path, "--force")
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert "write the file somewhere else" in r.stderr and option in r.stderr
    # through a symbolic link, too
    link = path.parent / "link"
    link.symlink_to(path)
    r = cli("export", plan, "--clinic", clinic, option, link, "--force")
    assert r.exit_code == 2 and "write the file somewhere else" in r.stderr, r.stderr
    assert {p: snapshot(p) for p in (ledger, clinic, busy)} == before
    assert booked_rows(ledger) == 7  # nothing was booked or changed by the refused commands


def test_day_sheet_and_clinic_init_spare_the_ledger(cli, setup) -> None:
    clinic, _, ledger, _ = setup
    before = snapshot(ledger)
    r = cli("day", "2027-02-01", "--clinic", clinic, "--pdf", ledger, "--force")
    assert r.exit_code == 2 and "is the ledger" in r.stderr
    r = cli("clinic", "init", ledger, "--force")
    assert r.exit_code == 2 and "is the ledger" in r.stderr
    assert snapshot(ledger) == before


def test_force_replaces_files_only(cli, setup, tmp_path: Path) -> None:
    clinic, _, _, plan = setup
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = cli("export", plan, "--clinic", clinic, "--ics", fifo, "--force")
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    r = cli("day", "2027-02-01", "--clinic", clinic, "--pdf", "/dev/null", "--force")
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_one_path_for_two_files_is_refused(cli, setup, tmp_path: Path) -> None:
    clinic, _, _, plan = setup
    same = tmp_path / "x"
    r = cli("export", plan, "--clinic", clinic, "--pdf", same, "--ics", same)
    assert r.exit_code == 2 and "given for two files" in r.stderr and not same.exists()


def test_a_dry_run_makes_no_folder(cli, setup, tmp_path: Path) -> None:
    clinic, _, _, plan = setup
    out = tmp_path / "new-folder"
    r = cli("reschedule", plan, "--session", "4", "--from", "2027-02-10", "--clinic", clinic, "--dry-run", "--out", out)
    assert r.exit_code == 0, r.stderr
    assert not out.exists()


PAUSED = """
import os, sys, time
from pathlib import Path
from ketaplan.store import files
from ketaplan.store.sqlite_ledger import SqliteDb
where, marker = sys.argv[1], Path(sys.argv[2])
if where == "transaction":  # pause at the booking's commit, everything else done
    def paused(db):
        marker.touch()
        time.sleep(60)
    SqliteDb.commit = paused
else:  # pause with the patient's file written to its temp name, not yet renamed
    replace = os.replace
    def paused_replace(a, b):
        marker.touch()
        time.sleep(60)
        replace(a, b)
    files.os.replace = paused_replace
from ketaplan.cli import main
main(sys.argv[3:])
"""


def _killed_while(where: str, tmp_path: Path, clinic: Path, ledger: Path, out: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    marker = tmp_path / f"paused-{where}"
    args = [
        "schedule",
        "--clinic",
        clinic,
        "--ledger",
        ledger,
        "--patient",
        "Zoë",
        "--start",
        "2027-02-01",
        "--out",
        out,
    ]
    proc = subprocess.Popen([sys.executable, "-c", PAUSED, where, str(marker), *map(str, args)])
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), "the process never reached the pause"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_a_kill_before_the_commit_leaves_no_patient_file(tmp_path: Path) -> None:
    """Files are written after the commit: killed inside the transaction, the ledger has
    no plan and no file describes one (the .ics once stood at a revision never committed)."""
    clinic, ledger, out = write_clinic(tmp_path / "c.toml"), tmp_path / "l.sqlite3", tmp_path / "out"
    _killed_while("transaction", tmp_path, clinic, ledger, out)
    assert booked_rows(ledger) == 0
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.slow
def test_temp_files_a_killed_write_left_are_removed_by_the_next(cli, tmp_path: Path) -> None:
    """Killed between writing the patient's file and renaming it: the temp file (patient
    data) stays behind; the next write into that folder removes it, and only dead writers'."""
    clinic, ledger, out = write_clinic(tmp_path / "c.toml"), tmp_path / "l.sqlite3", tmp_path / "out"
    _killed_while("write", tmp_path, clinic, ledger, out)
    left = [p.name for p in out.iterdir() if p.name.startswith(".ketaplan-")]
    assert left, "the kill left no temp file: the test proves nothing"
    mine = out / f".ketaplan-{os.getpid()}-x.tmp"  # a live writer's temp file is not touched
    mine.write_text("in progress")
    assert booked_rows(ledger) == 7  # committed before the files: the plan is booked
    r = cli("schedule", "--clinic", clinic, "--ledger", ledger, "--patient", "Ann", "--start", "2027-02-01",
            "--out", out)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [mine.name]


@pytest.mark.sqlite_only
def test_a_half_made_ledger_a_killed_run_left_is_removed(cli, tmp_path: Path) -> None:
    """A new ledger is built beside its name (`.ketaplan-<pid>-<name>.<id>.new`) and linked
    into place; one a killed run left (it may hold a first plan) goes when the next ledger
    is made in that folder; a live process's is left alone."""
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    folder = tmp_path / "ledgers"
    folder.mkdir()
    left = folder / f".ketaplan-{dead.pid}-l.sqlite3.ABCDEFGH.new"
    left.write_bytes(b"SQLite format 3\x00")
    live = folder / f".ketaplan-{os.getpid()}-l.sqlite3.ZZZZZZZZ.new"
    live.write_bytes(b"x")
    r = cli("schedule", "--patient", "A", "--start", "2027-02-01", "--ledger", folder / "l.sqlite3")
    assert r.exit_code == 0, r.stderr
    assert not left.exists() and live.exists()
