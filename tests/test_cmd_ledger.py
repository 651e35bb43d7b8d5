"""`ketaplan ledger info | copy`: which ledger, and moving a whole ledger between back ends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import book, query, run_json, snapshot, write_clinic

START = "2027-02-01"


@pytest.mark.usefixtures("backend")
def test_info_says_which_back_end_and_what_it_holds(cli, clinic_file: Path, ledger_path: Path | str) -> None:
    book(cli, clinic_file, "Ann")
    data = run_json(cli, "ledger", "info")["data"]
    assert data["backend"] == ("sqlite" if isinstance(ledger_path, Path) else "postgresql")
    assert data["schema"] == 8 and data["plans"] == 1 and data["history"] == 1
    assert data["sessions_by_status"] == {"booked": 7} and data["clinics"] == ["Test Clinic"]
    human = cli("ledger", "info")
    assert human.exit_code == 0 and "1 plan;" in human.stdout and "7 booked" in human.stdout


def test_info_without_a_ledger_is_exit_2(cli, tmp_path: Path) -> None:
    r = cli("ledger", "info", "--ledger", tmp_path / "none.sqlite3")
    assert r.exit_code == 2 and "no ledger at" in r.stderr


def a_busy_ledger(cli, clinic_file: Path, tmp_path: Path) -> list[str]:
    """Plans in every state a ledger can hold: moved, cancelled, attended, missed, boosters,
    booked from a batch (request ids and the row's fields)."""
    ids = [book(cli, clinic_file, name, START)["plan_id"] for name in ("Ann", "Ben", "Cy")]
    assert cli("reschedule", ids[0], "--session", "3", "--clinic", clinic_file).exit_code == 0
    assert cli("cancel", ids[1], "--session", "6").exit_code == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("request_id,patient,start,maintenance\nr1,Dee,2027-03-01,1\nr2,Eve,2027-03-01,\n", encoding="utf-8")
    batch = cli("batch", rows, "--clinic", clinic_file)
    assert batch.exit_code == 0, batch.stderr
    ids += [json.loads(line)["data"]["plan_id"] for line in batch.stdout.splitlines()]
    return ids


def views(cli, ledger: str | Path, ids: list[str], clinic_file: Path) -> list[dict]:
    """What a coordinator sees of a ledger: the plans table and every plan."""
    seen = [run_json(cli, "plans", "--limit", "0", "--all", "--ledger", ledger, "--clinic", clinic_file)["data"]]
    seen += [run_json(cli, "show", pid, "--ledger", ledger, "--clinic", clinic_file)["data"] for pid in ids]
    return seen


def test_copy_round_trip_sqlite_postgresql_sqlite(
    cli, clinic_file: Path, tmp_path: Path, ledger_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETAPLAN_NOW", "2027-01-20T08:00:00")
    ids = a_busy_ledger(cli, clinic_file, tmp_path)
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-03T23:00:00")
    assert cli("attend", ids[2], "--session", "1").exit_code == 0
    assert cli("no-show", ids[2], "--session", "2").exit_code == 0
    before = views(cli, ledger_path, ids, clinic_file)

    there = run_json(cli, "ledger", "copy", ledger_path, pg_url)
    assert there["status"] == "ok" and there["data"]["rows"]["plans"] == len(ids)
    back_file = tmp_path / "back.sqlite3"
    back = run_json(cli, "ledger", "copy", pg_url, back_file)
    assert back["data"]["rows"] == there["data"]["rows"]

    assert views(cli, pg_url, ids, clinic_file) == before
    assert views(cli, back_file, ids, clinic_file) == before
    assert snapshot(back_file) == snapshot(ledger_path)  # every row, history and revisions included
    assert (back_file.stat().st_mode & 0o777) == 0o600
    # The copy is a working ledger: the next booking sees the copied chairs.
    dee = run_json(cli, "show", ids[3], "--ledger", pg_url)["data"]
    doc = run_json(cli, "schedule", "--patient", "Fay", "--start", "2027-03-01", "--weeks", "3", "--ledger", pg_url)
    taken = {(s["start"], s["chair"]) for s in dee["sessions"]}
    assert doc["status"] == "ok" and not taken & {(s["start"], s["chair"]) for s in doc["data"]["sessions"]}


def test_copy_into_a_ledger_with_plans_is_refused(cli, clinic_file: Path, tmp_path: Path, ledger_path: Path) -> None:
    book(cli, clinic_file, "Ann")
    other = tmp_path / "other.sqlite3"
    book(cli, clinic_file, "Ben", START, "--ledger", str(other))
    before = snapshot(other)
    r = cli("ledger", "copy", ledger_path, other)
    assert r.exit_code == 2 and "TARGET:" in r.stderr and "already holds 1 plan;" in r.stderr
    assert snapshot(other) == before
    same = cli("ledger", "copy", ledger_path, ledger_path)
    assert same.exit_code == 2 and "the same ledger" in same.stderr


def test_a_password_is_never_shown(cli, clinic_file: Path, pg_server) -> None:
    url = pg_server.new_database().replace("postgres@", "postgres:s3cr3t-pw@")  # trust: any password works
    book(cli, clinic_file, "Ann", START, "--ledger", url)
    r = cli("ledger", "info", "--ledger", url)
    assert r.exit_code == 0 and "postgres:***@" in r.stdout and "s3cr3t" not in r.stdout + r.stderr
    wrong = url.replace("/t", "/no_such_db_t")
    r = cli("plans", "--ledger", wrong, "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 2 and "s3cr3t" not in r.stdout + r.stderr and "***" in doc["errors"][0]["message"]


def test_a_url_without_the_extra_says_how_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"  # as if ketaplan[postgres] were not installed
        "from ketaplan.cli import main\n"
        "main(['plans', '--ledger', 'postgresql://desk@db.example/clinic'])"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 2 and "pip install 'ketaplan[postgres]'" in r.stderr and "Traceback" not in r.stderr


def test_an_existing_database_of_another_program_is_refused(cli, clinic_file: Path, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE plans (id int)")
    r = cli("schedule", "--clinic", clinic_file, "--patient", "Ann", "--start", START, "--ledger", pg_url)
    assert r.exit_code == 2 and "not a ketaplan ledger" in r.stderr
    assert query(pg_url, "SELECT COUNT(*) FROM plans") == []  # no ketaplan sessions table made


def test_a_new_database_gets_its_extension_and_tables(cli, pg_server, tmp_path: Path) -> None:
    """A database made from template0 (no btree_gist yet): ketaplan adds what it needs."""
    name = "fresh_from_template0"
    pg_server.admin(f"CREATE DATABASE {name} TEMPLATE template0")
    url = pg_server.url_of(name)
    clinic = write_clinic(tmp_path / "c.toml")
    assert (
        run_json(cli, "schedule", "--clinic", clinic, "--patient", "Ann", "--start", START, "--ledger", url)["status"]
        == "ok"
    )
    assert run_json(cli, "ledger", "info", "--ledger", url)["data"]["schema"] == 8


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "target, words",
    [
        ("mysql://x/y", "mysql: is not a ledger"),
        ("file:zz.db?mode=ro", "file: is not a ledger"),
        ("host=db password=SECRET dbname=c", "looks like a PostgreSQL connection string"),
    ],
)
def test_locations_it_does_not_speak_are_refused(
    cli, clinic_file: Path, ledger_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, words: str
) -> None:
    """`ledger copy SRC mysql://x/y` once made a folder `mysql:`; a `file:` URI left a stray
    file; a key=value string would be a file named after its password."""
    book(cli, clinic_file, "Ann", START)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir() if p.name != "cache")
    r = cli("ledger", "copy", ledger_path, target)
    assert r.exit_code == 2 and words in r.stderr and "SECRET" not in r.stderr, r.stderr
    r = cli("plans", "--ledger", target)
    assert r.exit_code == 2 and words in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == before
