"""Nothing double-booked, nothing lost: parallel writers on one ledger, foreign and broken
ledgers, hostile input. Each test here was seen failing against the bug it names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import capacity_violations, write_clinic


def ketaplan(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ketaplan", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_parallel_batches_and_schedules_never_overbook(tmp_path: Path, round_: int) -> None:
    """Batch runs and schedule runs started together on one 2-chair ledger: afterwards no
    chair, start slot or consult room holds more than it can (read from the file itself)."""
    clinic = write_clinic(tmp_path / "c.toml", chairs=2, max_starts_per_slot=2, consult_rooms=1)
    ledger = tmp_path / "l.sqlite3"
    common = ["--clinic", clinic, "--ledger", ledger]
    procs = []
    for i in range(4):
        rows = tmp_path / f"rows{i}.csv"
        rows.write_text(f"request_id,patient,start\nb{i}-1,B{i},2027-02-01\nb{i}-2,C{i},2027-02-01\n", encoding="utf-8")
        procs.append(ketaplan("batch", rows, *common))
        procs.append(
            ketaplan("schedule", "--patient", f"S{i}", "--start", "2027-02-01", "--weeks", "3", "--json", *common)
        )
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode in (0, 3) for p in procs), [e for _, e in outs]
    assert not any("Traceback" in e for _, e in outs)
    booked = sum(1 for out, _ in outs for line in out.splitlines() if json.loads(line)["status"] == "ok")
    assert booked >= 2  # something was booked, so there was something to race over
    assert capacity_violations(ledger, chairs=2, starts_per_slot=2, rooms=1, turnover_minutes=15) == []


def error_line(stderr: str) -> str:
    """The one error line (a notice such as the demo clinic's may stand before it)."""
    errors = [line for line in stderr.splitlines() if line.startswith("ketaplan: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def digest(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mode


def schedule_args(ledger: Path) -> list[object]:
    return ["schedule", "--patient", "Jane Roe", "--start", "2027-02-01", "--ledger", ledger]


def make_foreign(path: Path, kind: str) -> None:
    import sqlite3

    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("name,phone\nAnn,555\n")
    else:
        with sqlite3.connect(path) as db:
            if kind == "contacts":
                db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
                db.execute("INSERT INTO contacts VALUES ('Ann', '555')")
            else:  # another program's database that happens to have a `plans` table
                db.execute("CREATE TABLE plans (id INTEGER PRIMARY KEY, title TEXT)")
        db.close()
    path.chmod(0o644)


@pytest.mark.parametrize("kind", ["contacts", "plans_table", "empty", "text"])
def test_a_file_that_is_not_a_ketaplan_ledger_is_refused_and_left_alone(cli, tmp_path: Path, kind: str) -> None:
    (tmp_path / "x").mkdir()
    path = tmp_path / "x" / "contacts.db"
    make_foreign(path, kind)
    before = digest(path)
    for args in (schedule_args(path), ["plans", "--ledger", path], ["show", "KP-XXXXXXXX", "--ledger", path]):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.stderr)
        assert error_line(r.stderr).startswith("ketaplan: error: --ledger:") and "is not a ketaplan ledger" in r.stderr
    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["contacts.db"]  # no -wal, -shm or temp files


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o277])
def test_a_new_ledger_is_0600_whatever_the_umask(cli, tmp_path: Path, umask: int) -> None:
    import os

    old = os.umask(umask)
    try:
        r = cli(*schedule_args(tmp_path / "new" / "l.sqlite3"))
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "new" / "l.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_ledger_others_can_read_gets_a_warning(cli, tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    assert cli(*schedule_args(path)).exit_code == 0
    path.chmod(0o644)
    r = cli("plans", "--ledger", path)
    assert r.exit_code == 0 and "can be read by other users" in r.stderr and "chmod 600" in r.stderr


def test_a_damaged_ledger_is_exit_2_not_a_crash(cli, tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    for i in range(8):  # enough plans for several pages
        assert cli("schedule", "--patient", f"P{i}", "--start", "2027-02-01", "--ledger", path).exit_code in (0, 3)
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096 * 2 : 4096 * 3] = b"\xff" * 4096  # a page of garbage inside the file
    path.write_bytes(bytes(data))
    for args in (["plans", "--ledger", path], schedule_args(path)):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert error_line(r.stderr).startswith("ketaplan: error: --ledger:") and "Traceback" not in r.stderr


def read_only(tmp_path: Path, *args: object) -> subprocess.CompletedProcess[str]:
    """Run ketaplan with tmp_path read-only: a read-only bind mount when root (root writes
    through file modes), else the folder and its files made read-only."""
    import os
    import shlex
    import shutil

    command = [sys.executable, "-m", "ketaplan", *map(str, args)]
    if os.geteuid() == 0:
        if not shutil.which("unshare"):
            pytest.skip("needs unshare (util-linux) to make a read-only mount as root")
        where = shlex.quote(str(tmp_path))
        script = f"mount --bind -o ro {where} {where} && exec {shlex.join(command)}"
        return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    for p in (*tmp_path.iterdir(), tmp_path):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        for p in (tmp_path, *tmp_path.iterdir()):
            p.chmod(0o755 if p.is_dir() else 0o644)


def test_reading_works_on_a_read_only_ledger_and_writing_says_so(cli, tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    doc = json.loads(cli(*schedule_args(path), "--json").stdout)
    pid = doc["data"]["plan_id"]
    r = read_only(tmp_path, "plans", "--ledger", path, "--json")
    assert r.returncode == 0, r.stderr
    assert [p["plan_id"] for p in json.loads(r.stdout)["data"]["plans"]] == [pid]
    r = read_only(tmp_path, "show", pid, "--ledger", path)
    assert r.returncode == 0 and pid in r.stdout, r.stderr
    for args in (schedule_args(path), ["cancel", pid, "--ledger", path]):
        r = read_only(tmp_path, *args)
        assert r.returncode == 2, r.stderr
        assert "--ledger:" in r.stderr and "read-only" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("start", ["9999-12-25", "9999-12-31", "0001-01-01", "2200-01-05"])
def test_absurd_start_dates_are_exit_2_naming_the_field(cli, ledger_path: Path, start: str) -> None:
    r = cli("schedule", "--patient", "Jane", "--start", start, "--allow-past")
    assert r.exit_code == 2, r.stderr
    assert error_line(r.stderr).startswith("ketaplan: error: --start:")
    assert not ledger_path.exists()


def test_an_absurd_batch_row_is_that_rows_error_only(cli, tmp_path: Path, ledger_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start\nAnn,2026-12-07\nBen,9999-12-31\nCy,2026-12-08\n", encoding="utf-8")
    r = cli("batch", rows)
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.exit_code == 3 and [d["status"] for d in docs] == ["ok", "error", "ok"]
    assert docs[1]["errors"][0]["field"] == "start"


@pytest.mark.parametrize(
    "line",
    [
        '{"patient": "Ann", "start": "2026-12-07", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"patient": "Ann", "start": 2026' + "1" * 5000 + "}",
    ],
    ids=["deep-nesting", "5000-digit-number"],
)
def test_hostile_json_lines_are_row_errors(cli, tmp_path: Path, line: str) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"patient": "Ann", "start": "2026-12-07"}\n' + line + "\n", encoding="utf-8")
    r = cli("batch", rows)
    assert "Traceback" not in r.stderr and r.exit_code == 3, r.stderr
    docs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [d["status"] for d in docs] == ["ok", "error"]  # only that row fails
    assert docs[1]["errors"][0]["field"] == "line 2" and "not JSON" in docs[1]["errors"][0]["message"]


@pytest.mark.parametrize("key", ["name", "email", "address", "phone"])
def test_clinic_text_with_line_breaks_is_refused_by_clinic_check(cli, tmp_path: Path, key: str) -> None:
    clinic = write_clinic(tmp_path / "c.toml", **{key: "Lakeside\r\nX-INJECTED:1"})
    r = cli("clinic", "check", clinic)
    assert r.exit_code == 2 and error_line(r.stderr).startswith(f"ketaplan: error: {key}:"), r.stderr


HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
EVENT = (
    "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20261201T150000Z\r\nDTEND:20261201T160000Z\r\n{extra}END:VEVENT\r\n"
)
TZ_SECONDLY = (
    "BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
    "RRULE:FREQ=SECONDLY\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)
HOSTILE = {
    "secondly": HEAD + EVENT.format(uid="a", extra="RRULE:FREQ=SECONDLY\r\n") + "END:VCALENDAR\r\n",
    "minutely": HEAD + EVENT.format(uid="a", extra="RRULE:FREQ=MINUTELY\r\n") + "END:VCALENDAR\r\n",
    "count-1e9": HEAD + EVENT.format(uid="a", extra="RRULE:FREQ=DAILY;COUNT=1000000000\r\n") + "END:VCALENDAR\r\n",
    "bysecond": HEAD
    + EVENT.format(uid="a", extra="RRULE:FREQ=DAILY;BYSECOND=" + ",".join(map(str, range(60))) + "\r\n")
    + "END:VCALENDAR\r\n",
    "tz-secondly": HEAD
    + TZ_SECONDLY
    + EVENT.format(uid="a", extra="").replace("DTSTART:", "DTSTART;TZID=Evil:").replace("150000Z", "150000")
    + "END:VCALENDAR\r\n",
    "50k-events": HEAD + "".join(EVENT.format(uid=i, extra="") for i in range(50_000)) + "END:VCALENDAR\r\n",
    "deep-nesting": HEAD + "BEGIN:X-A\r\n" * 100_000 + "END:X-A\r\n" * 100_000 + "END:VCALENDAR\r\n",
}


def timed(*args: object, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    import time

    began = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "ketaplan", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    return r, time.monotonic() - began


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_calendars_finish_in_seconds(tmp_path: Path, name: str) -> None:
    ics = tmp_path / "busy.ics"
    ics.write_text(HOSTILE[name], encoding="utf-8")
    clinic = write_clinic(tmp_path / "c.toml")
    clinic.write_text(clinic.read_text().replace("[hours]", '[closures]\nbusy_ics = "busy.ics"\n\n[hours]'))
    ledger = tmp_path / "l.sqlite3"
    for args in (
        ["check", ics, "--clinic", write_clinic(tmp_path / "plain.toml"), "--ledger", ledger],
        ["clinic", "check", clinic],
        ["schedule", "--patient", "Ann", "--start", "2026-12-07", "--clinic", clinic, "--ledger", ledger],
    ):
        r, took = timed(*args)
        assert took < 10, (args[0], took)
        assert r.returncode in (0, 2, 3) and "Traceback" not in r.stderr, r.stderr[-500:]
        if name != "count-1e9":  # a daily rule with a huge COUNT is legal: only its span is expanded
            assert r.returncode == 2, (args[0], r.stdout[-300:], r.stderr[-300:])


@pytest.mark.slow
def test_an_absurd_closure_range_is_refused_with_its_key(tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path / "c.toml", closures={"dates": ["0001-01-01/9999-12-31"]})
    for args in (
        ["clinic", "check", clinic],
        ["schedule", "--patient", "Ann", "--start", "2026-12-07", "--clinic", clinic],
    ):
        r, took = timed(*args, "--json") if args[0] == "schedule" else timed(*args)
        # Refused before any day of it is expanded: the old code spent 4 s (here) to 37 s on it.
        assert took < 3 and r.returncode == 2, (took, r.stderr)
        assert "closures.dates" in r.stderr + r.stdout


@pytest.mark.parametrize("option", ["--ics", "--pdf", "--html", "--out", "--ledger", "--clinic"])
def test_a_path_option_does_not_swallow_the_next_option(
    cli, tmp_path: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    monkeypatch.chdir(tmp_path)
    r = cli("schedule", "--patient", "Ann", "--start", "2026-12-07", option, "--dry-run")
    assert r.exit_code == 2 and "looks like an option" in r.stderr, r.stderr
    assert not (tmp_path / "--dry-run").exists() and not ledger_path.exists()


@pytest.mark.parametrize("option", ["--days", "--earliest", "--latest", "--unavailable", "--end"])
def test_an_empty_restriction_is_refused(cli, ledger_path: Path, option: str) -> None:
    r = cli("schedule", "--patient", "Ann", "--start", "2026-12-07", option, "")
    assert r.exit_code == 2 and error_line(r.stderr).startswith(f"ketaplan: error: {option}:"), r.stderr
    assert not ledger_path.exists()


def test_latest_may_be_midnight(cli) -> None:
    r = cli("schedule", "--patient", "Ann", "--start", "2026-12-07", "--latest", "24:00", "--dry-run")
    assert r.exit_code == 0, r.stderr


def test_a_dangling_symlink_at_an_output_path_is_not_replaced(cli, tmp_path: Path, ledger_path: Path) -> None:
    link = tmp_path / "p.ics"
    link.symlink_to(tmp_path / "nowhere")
    r = cli("schedule", "--patient", "Ann", "--start", "2026-12-07", "--ics", link)
    assert r.exit_code == 2 and "exists" in r.stderr and link.is_symlink()
    assert not (tmp_path / "nowhere").exists() and not ledger_path.exists()


def test_a_hundred_thousand_unknown_columns_make_one_short_line(cli, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start," + ",".join(f"c{i}" for i in range(100_000)) + "\nAnn,2026-12-07\n")
    r = cli("batch", rows)
    assert r.exit_code == 2 and len(error_line(r.stderr)) < 400 and "99,995 more" in r.stderr, r.stderr[:500]


def test_mixed_line_endings_get_a_plain_message(cli, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_bytes(b"patient,start\r\nAnn,2026-12-07\rBen,2026-12-08\n")
    r = cli("batch", rows)
    assert r.exit_code == 2 and "carriage return" in r.stderr and "universal-newline" not in r.stderr, r.stderr
