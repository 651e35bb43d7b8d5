"""`ketaplan batch`: CSV and JSON Lines in, one envelope per row out, idempotent, resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import booked_rows, query, write_clinic

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")

CSV = """request_id,patient,patient_id,start,weeks,days
r1,Jane Roe,M1,2027-02-01,3,
r2,"O'Brien, Siobhán",M2,2027-02-01,3,"mon,wed,fri"
r3,Bad Date,M3,2027-02-30,3,
r4,Holiday,M4,2026-12-21,2,"mon,wed,fri"
"""


def envelopes(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.fixture
def clinic_file(tmp_path: Path) -> Path:
    return write_clinic(
        tmp_path / "clinic.toml",
        chairs=3,
        closures={"holidays": "US", "dates": ["2026-12-24", "2026-12-31/2027-01-02"]},
        hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    )


def test_csv_rows_in_order_with_line_numbers_and_partial_exit(
    cli, tmp_path: Path, clinic_file: Path, ledger_path: Path
) -> None:
    f = tmp_path / "in.csv"
    f.write_text(CSV, encoding="utf-8")
    r = cli("batch", f, "--clinic", clinic_file)
    assert r.exit_code == 3  # some not planned
    docs = envelopes(r.stdout)
    assert [d["data"]["line"] for d in docs] == [2, 3, 4, 5]
    assert [d["data"]["request_id"] for d in docs] == ["r1", "r2", "r3", "r4"]
    assert [d["status"] for d in docs] == ["ok", "ok", "error", "infeasible"]
    assert [d["exit_code"] for d in docs] == [0, 0, 2, 3]
    assert docs[1]["data"]["patient"]["name"] == "O'Brien, Siobhán"
    assert docs[2]["errors"][0]["field"] == "start" and "not a real date" in docs[2]["errors"][0]["message"]
    assert docs[3]["data"]["explanation"][0].startswith("only 4 open days")
    assert all(d["command"] == "batch" and d["ketaplan"] == 1 for d in docs)
    assert booked_rows(ledger_path) == 14


def test_json_lines_and_stdin(cli, clinic_file: Path, ledger_path: Path) -> None:
    lines = [
        {
            "request_id": "a",
            "patient": "Zoë",
            "start": "2027-02-01",
            "weeks": 2,
            "days": ["mon", "wed", "fri"],
            "maintenance": 1,
        },
        {"request_id": "b", "patient": "Bo", "start": "2027-02-02", "consultation": False},
        {"request_id": "c", "patient": "Cy", "start": "2027-02-03", "colour": "red"},
        "not an object",
    ]
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else str(x) for x in lines) + "\n"
    r = cli("batch", "-", "--clinic", clinic_file, input=text)
    docs = envelopes(r.stdout)
    assert [d["status"] for d in docs] == ["ok", "ok", "error", "error"]
    assert len([s for s in docs[0]["data"]["sessions"] if s["kind"] == "maintenance"]) == 1
    assert not [s for s in docs[1]["data"]["sessions"] if s["kind"] == "consultation"]
    assert docs[2]["errors"][0]["field"] == "colour"
    assert "not JSON" in docs[3]["errors"][0]["message"] and docs[3]["data"]["line"] == 4
    assert r.exit_code == 3


def test_rerun_books_nothing_twice(cli, tmp_path: Path, clinic_file: Path, ledger_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text(CSV.replace("r1,", ",", 1), encoding="utf-8")  # the first row has no request_id
    first = envelopes(cli("batch", f, "--clinic", clinic_file).stdout)
    rows = booked_rows(ledger_path)
    second = envelopes(cli("batch", f, "--clinic", clinic_file).stdout)
    assert booked_rows(ledger_path) == rows
    assert [d["status"] for d in first] == ["ok", "ok", "error", "infeasible"]
    for a, b in zip(first, second, strict=False):
        if a["status"] == "ok":
            assert b["data"]["existing"] is True and b["data"]["plan_id"] == a["data"]["plan_id"]
            assert a["data"]["existing"] is False


def test_request_id_reused_for_a_different_request_is_refused(
    cli, tmp_path: Path, clinic_file: Path, ledger_path: Path
) -> None:
    """Same id, same fields: the existing plan (in whichever format, CSV then JSON Lines).
    Same id, other fields: that row is refused naming the changed fields, not their values,
    and nothing more is booked -- within one file too."""
    f = tmp_path / "in.csv"
    f.write_text(
        'request_id,patient,start,weeks,maintenance,days\nr1,Jane Roe,2027-02-01,3,,"Mon, Wed,fri"\n', encoding="utf-8"
    )
    first = envelopes(cli("batch", f, "--clinic", clinic_file).stdout)[0]
    rows = booked_rows(ledger_path)
    same = json.dumps(
        {
            "request_id": "r1",
            "patient": "Jane Roe",
            "start": "2027-02-01",
            "weeks": 3,
            "maintenance": 0,
            "days": ["mon", "wed", "fri"],
        }
    )
    moved = json.dumps(
        {"request_id": "r1", "patient": "Jane Roe", "start": "2027-02-08", "weeks": 2, "days": "mon,wed,fri"}
    )
    new = json.dumps({"request_id": "r2", "patient": "Max Doe", "start": "2027-02-08"})
    twice = json.dumps({"request_id": "r2", "patient": "Max Doe", "start": "2027-02-09"})
    r = cli("batch", "-", "--clinic", clinic_file, input="\n".join([same, moved, new, twice]) + "\n")
    docs = envelopes(r.stdout)
    assert [d["status"] for d in docs] == ["ok", "error", "ok", "error"]
    assert docs[0]["data"]["existing"] is True and docs[0]["data"]["plan_id"] == first["data"]["plan_id"]
    err = docs[1]["errors"][0]
    assert (
        err["field"] == "request_id"
        and "(start, weeks)" in err["message"]
        and first["data"]["plan_id"] in err["message"]
    )
    assert "2027-02-08" not in err["message"] and "Jane" not in err["message"]
    assert (
        "(start)" in docs[3]["errors"][0]["message"] and docs[2]["data"]["plan_id"] in docs[3]["errors"][0]["message"]
    )
    assert r.exit_code == 3
    assert booked_rows(ledger_path) == rows + 7  # only r2


def test_dry_run_books_nothing(cli, tmp_path: Path, clinic_file: Path, ledger_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text(CSV, encoding="utf-8")
    docs = envelopes(cli("batch", f, "--clinic", clinic_file, "--dry-run").stdout)
    assert docs[0]["status"] == "ok" and docs[0]["data"]["sessions"][0]["status"] == "planned"
    assert booked_rows(ledger_path) == 0


def test_later_requests_see_earlier_ones(cli, tmp_path: Path) -> None:
    one = write_clinic(tmp_path / "one.toml", chairs=1, max_starts_per_slot=1)
    f = tmp_path / "in.csv"
    f.write_text("patient,start\n" + "".join(f"P{i},2027-02-01\n" for i in range(4)), encoding="utf-8")
    docs = envelopes(cli("batch", f, "--clinic", one).stdout)
    starts = [s["start"] for d in docs for s in d["data"]["sessions"] if s["kind"] == "infusion"]
    assert len(starts) == 24 and len(set(starts)) == 24


def test_files_named_by_plan_id(cli, tmp_path: Path, clinic_file: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text(CSV, encoding="utf-8")
    out = tmp_path / "out"  # made by batch, private: it will hold patient files
    docs = envelopes(cli("batch", f, "--clinic", clinic_file, "--out", out, "--ics", "--pdf").stdout)
    assert out.is_dir() and (out.stat().st_mode & 0o777) == 0o700
    ids = [d["data"]["plan_id"] for d in docs if d["status"] == "ok"]
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{i}.ics" for i in ids] + [f"{i}.pdf" for i in ids])
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in out.iterdir())
    assert docs[0]["data"]["files"] == [str(out / f"{ids[0]}.ics"), str(out / f"{ids[0]}.pdf")]


def test_out_folder_is_not_made_for_an_unusable_file_or_a_dry_run(
    cli, tmp_path: Path, clinic_file: Path, ledger_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("patient,colour\nJane,red\n", encoding="utf-8")
    r = cli("batch", bad, "--clinic", clinic_file, "--out", tmp_path / "a", "--ics")
    assert r.exit_code == 2 and not (tmp_path / "a").exists()
    good = tmp_path / "in.csv"
    good.write_text(CSV, encoding="utf-8")
    cli("batch", good, "--clinic", clinic_file, "--out", tmp_path / "b", "--ics", "--dry-run")
    assert not (tmp_path / "b").exists()
    (tmp_path / "c").write_text("a file, not a folder")
    r = cli("batch", good, "--clinic", clinic_file, "--out", tmp_path / "c", "--ics")
    assert r.exit_code == 2 and "c is not a folder" in r.stderr and booked_rows(ledger_path) == 0


BAD_FILES = [
    (b"", "empty"),
    (b"\n\n", "empty"),
    (b"patient,start\nJane,2027-02-01\nJ\xe9r\xf4me,2027-02-01\n", "line 3 is not UTF-8"),
    (b"name,begin\nJane,2027-02-01\n", "unknown columns 'name', 'begin'"),
    (b"patient,start,colour\nJane,2027-02-01,red\n", "unknown columns 'colour'"),
    (b"patient\nJane\n", "the header lacks start"),
    (b"patient,start\nJane,2027-02-01\n" + b"x" * (11 << 20) + b"\n", "line 3 is longer than 1 MiB"),
]


@pytest.mark.parametrize("content, words", BAD_FILES, ids=[w for _, w in BAD_FILES])
def test_unusable_files_are_exit_2_and_book_nothing(
    cli, tmp_path: Path, clinic_file: Path, ledger_path: Path, content: bytes, words: str
) -> None:
    f = tmp_path / "in.csv"
    f.write_bytes(content)
    r = cli("batch", f, "--clinic", clinic_file)
    assert r.exit_code == 2 and words in r.stderr, r.stderr
    assert r.stdout == "" and booked_rows(ledger_path) == 0


def test_stdout_is_pure_json_lines_and_progress_goes_to_a_terminal_stderr(tmp_path: Path, clinic_file: Path) -> None:
    import pty

    f = tmp_path / "in.csv"
    f.write_text("patient,start\n" + "".join(f"P{i},2027-02-0{1 + i % 5}\n" for i in range(30)), encoding="utf-8")
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "KETAPLAN_LEDGER": str(tmp_path / "l.sqlite3")}
    out_file = (tmp_path / "stdout.jsonl").open("wb")  # a file, not a pipe: no deadlock while we read the pty
    proc = subprocess.Popen(
        [sys.executable, "-m", "ketaplan", "batch", str(f), "--clinic", str(clinic_file)],
        stdout=out_file,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    proc.wait(timeout=120)
    os.close(master)
    out_file.close()
    stdout = (tmp_path / "stdout.jsonl").read_bytes()
    docs = [json.loads(line) for line in stdout.decode().splitlines()]  # every line is JSON
    assert len(docs) == 30 and proc.returncode == 0
    assert b"planning" in terminal  # the progress bar drew on the terminal
    assert b"planned" in terminal and b"batch" in terminal  # and the summary table


KILLABLE = 2000


@pytest.mark.slow
def test_killed_halfway_then_rerun_completes(tmp_path: Path, ledger_path: Path | str) -> None:
    clinic_file = write_clinic(
        tmp_path / "c.toml",
        chairs=40,
        max_starts_per_slot=40,
        hours={d: ["07:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    f = tmp_path / "in.csv"
    f.write_text(
        "request_id,patient,start\n" + "".join(f"q{i},P{i},2027-0{2 + i % 6}-0{1 + i % 9}\n" for i in range(KILLABLE)),
        encoding="utf-8",
    )
    ledger = ledger_path
    args = [sys.executable, "-m", "ketaplan", "batch", str(f), "--clinic", str(clinic_file), "--ledger", str(ledger)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first group is committed
    assert first
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ((done,),) = query(ledger, "SELECT COUNT(*) FROM plans")
    counts = {n for (n,) in query(ledger, "SELECT COUNT(*) FROM sessions GROUP BY plan_id")}
    assert 0 < done < KILLABLE and counts == {7}  # whole plans only
    rerun = subprocess.run(args, capture_output=True, text=True)
    docs = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert rerun.returncode == 0 and len(docs) == KILLABLE
    assert sum(d["data"]["existing"] for d in docs) == done
    assert query(ledger, "SELECT COUNT(*) FROM plans") == [(KILLABLE,)]
    assert {n for (n,) in query(ledger, "SELECT COUNT(*) FROM sessions GROUP BY plan_id")} == {7}


def test_the_same_patient_twice_in_a_batch_is_that_rows_error(cli, tmp_path: Path, clinic_file: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "request_id,patient,patient_id,start\n"
        "a,Ann,MRN-1,2027-02-01\nb,Ann B.,MRN-1,2027-02-03\nc,Bea,MRN-2,2027-02-01\n"
    )
    for extra in (["--dry-run"], []):
        r = cli("batch", rows, "--clinic", clinic_file, *extra)
        docs = envelopes(r.stdout)
        assert [d["status"] for d in docs] == ["ok", "error", "ok"], (extra, docs)
        assert (
            docs[1]["errors"][0]["field"] == "patient_id"
            and docs[0]["data"]["plan_id"] in docs[1]["errors"][0]["message"]
        )
    r = cli("batch", rows, "--clinic", clinic_file, "--allow-overlap")
    assert [d["status"] for d in envelopes(r.stdout)] == ["ok", "ok", "ok"]


def test_a_slow_group_lets_go_of_the_lock_early(cli, clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group commits once it has held the write lock GROUP_SECONDS (here: after each row),
    so a desk waiting to book waits about that long, not for a whole group of 200."""
    from ketaplan.app import batch
    from ketaplan.store.tx import BatchTx

    commits: list[int] = []
    commit = BatchTx.commit

    def counted(tx: BatchTx) -> None:
        commits.append(1)
        commit(tx)

    monkeypatch.setattr(BatchTx, "commit", counted)
    monkeypatch.setattr(batch, "GROUP_SECONDS", 0.0)
    rows = "".join(f"P{i},2027-0{1 + i % 3}-0{1 + i % 7}\n" for i in range(5))
    r = cli("batch", "-", "--clinic", clinic_file, input="patient,start\n" + rows)
    assert [json.loads(x)["status"] for x in r.stdout.splitlines()].count("ok") == 5, r.stdout
    assert len(commits) == 5  # one row a group: every row committed on its own


def test_a_batch_records_who_ran_it(cli, clinic_file: Path) -> None:
    r = cli("batch", "-", "--clinic", clinic_file, "--by", "Night script", input="patient,start\nA,2027-02-01\n")
    pid = json.loads(r.stdout)["data"]["plan_id"]
    history = json.loads(cli("show", pid, "--json").stdout)["data"]["history"]
    assert [(h["change"], h["by"]) for h in history] == [("booked", "Night script")]


CONTACTS = """request_id,patient,start,weeks,email,phone
c1,Jane Roe,2027-02-01,3,jane@example.org,(312) 555-0142
c2,Bad Mail,2027-02-01,3,not-an-address,
c3,Bad Phone,2027-02-01,3,,555
c4,No Contact,2027-02-01,3,,
"""


@pytest.mark.parametrize("joint", [False, True], ids=["first-come", "optimize"])
def test_email_and_phone_columns_validated_in_the_clinics_country(
    cli, tmp_path: Path, clinic_file: Path, joint: bool
) -> None:
    f = tmp_path / "in.csv"
    f.write_text(CONTACTS, encoding="utf-8")
    r = cli("batch", f, "--clinic", clinic_file, *(["--optimize"] if joint else []))
    docs = {d["data"]["request_id"]: d for d in envelopes(r.stdout)}
    assert docs["c1"]["status"] == "ok" and docs["c4"]["status"] == "ok"
    assert docs["c1"]["data"]["contact"] == {"email": "jane@example.org", "phone": "+13125550142"}
    assert [e["field"] for e in docs["c2"]["errors"]] == ["email"] and docs["c2"]["status"] == "error"
    assert [e["field"] for e in docs["c3"]["errors"]] == ["phone"]
    assert "not-an-address" not in r.stdout + r.stderr and ",555" not in r.stdout  # errors name the field only
    shown = json.loads(cli("show", docs["c1"]["data"]["plan_id"], "--json").stdout)["data"]
    assert shown["contact"] == {"email": "jane@example.org", "phone": "+13125550142"}


def test_a_batch_with_emails_sends_each_patient_an_invitation(cli, tmp_path: Path, mail_server) -> None:
    clinic = write_clinic(tmp_path / "c.toml", smtp=mail_server.smtp_table(), closures={"holidays": "US"})
    f = tmp_path / "in.csv"
    f.write_text(CONTACTS, encoding="utf-8")
    r = cli("batch", f, "--clinic", clinic)
    assert r.exit_code == 3  # two rows are errors
    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages()] == ["jane@example.org"]
