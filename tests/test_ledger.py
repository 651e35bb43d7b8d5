from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import make_clinic, query, request, write_clinic
from ketaplan.app.booking import plan_and_book
from ketaplan.core import checks
from ketaplan.core.availability import Availability
from ketaplan.core.span import planning_span
from ketaplan.store.ledger import Ledger, LedgerTx
from ketaplan.store.location import ledger_at
from ketaplan.store.sqlite_ledger import SqliteLedger

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")

FIRST = date(2027, 2, 1)


@pytest.fixture
def ledger(ledger_path: Path | str) -> Ledger:
    """This test's ledger, on the back end under test."""
    return ledger_at(ledger_path)


def all_plans(ledger: Ledger):
    with ledger.read() as tx:
        ids = [r[0] for r in tx.db.execute("SELECT plan_id FROM plans ORDER BY first_day, plan_id")]
        return [tx.load_plan(pid) for pid in ids]


def assert_no_overbooking(ledger: Ledger, clinic) -> None:
    """Every booked plan keeps every rule against all the other bookings."""
    plans = all_plans(ledger)
    for plan, req in plans:
        with ledger.read() as tx:
            start, end = planning_span(clinic, req.first_day, req.last_day, req.boosters)
            others = [b for b in tx.bookings(clinic.name, start, end, clinic.zone) if b.plan_id != plan.plan_id]
        ctx = checks.CheckContext(clinic, None, Availability(clinic, others).occupancy, req.consultation, req.boosters)
        bad = [r for r in checks.run_checks(plan, ctx) if not r.ok and r.rule in ("chairs", "starts", "consultation")]
        assert not bad, [r.detail for r in bad]


def test_plan_round_trips_through_the_ledger(ledger: Ledger) -> None:
    clinic = make_clinic()
    plan, _ = plan_and_book(clinic, request(FIRST, FIRST + timedelta(days=20), boosters=1), ledger, dry_run=False)
    ((loaded, req),) = all_plans(ledger)
    assert loaded.plan_id == plan.plan_id and loaded.sessions == plan.sessions
    assert req.boosters == 1 and req.first_day == FIRST
    if isinstance(ledger, SqliteLedger):
        assert (ledger.path.stat().st_mode & 0o777) == 0o600


def test_booking_is_all_or_nothing(ledger: Ledger, ledger_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = make_clinic()
    add_plan = LedgerTx.add_plan

    def fail(tx, *args, **kwargs):  # every row written, then the disk fills before the commit
        add_plan(tx, *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(LedgerTx, "add_plan", fail)
    with pytest.raises(OSError):
        plan_and_book(clinic, request(FIRST, FIRST + timedelta(days=20)), ledger, dry_run=False)
    assert query(ledger_path, "SELECT COUNT(*) FROM sessions") in ([], [(0,)])
    assert query(ledger_path, "SELECT COUNT(*) FROM plans") in ([], [(0,)])


@pytest.mark.sqlite_only
def test_bookings_query_uses_the_index(ledger: Ledger) -> None:
    with ledger.write():
        pass  # a new, empty ledger
    with ledger.read() as tx:
        plan = tx.db.execute(
            "EXPLAIN QUERY PLAN SELECT start_utc, end_utc, resource, kind, plan_id FROM sessions "
            "WHERE clinic = ? AND status IN ('booked', 'attended') AND start_utc >= ? AND start_utc < ?",
            ("x", "a", "b"),
        ).fetchall()
    assert "sessions_held_by_start" in str(plan)


def query_plans(conn: sqlite3.Connection, run) -> list[str]:
    """EXPLAIN QUERY PLAN of every SELECT `run()` sends, as SQLite received it (values bound)."""
    sent: list[str] = []
    conn.set_trace_callback(sent.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    selects = [q for q in sent if q.lstrip().upper().startswith("SELECT")]
    assert selects, sent
    return [str(conn.execute("EXPLAIN QUERY PLAN " + q).fetchall()) for q in selects]


def test_other_clinics_are_found_by_index_seeks(ledger: Ledger) -> None:
    for name in ("B Clinic", "A Clinic", "C Clinic", "D Clinic"):
        plan_and_book(
            make_clinic(name=name),
            request(FIRST, FIRST + timedelta(days=20)),
            ledger,
            dry_run=False,
            allow_overlap=True,
        )
    with ledger.read() as tx:
        assert tx.other_clinics("A Clinic") == []
        assert tx.other_clinics("E Clinic") == ["A Clinic", "B Clinic", "C Clinic"]
        if isinstance(ledger, SqliteLedger):
            for plan in query_plans(tx.db.conn, lambda: tx.other_clinics("E Clinic")):  # type: ignore[attr-defined]
                assert "sessions_held_by_start" in plan, plan


@pytest.mark.sqlite_only
def test_loading_a_plan_reads_its_history_by_index(ledger: Ledger) -> None:
    """Without it, loading each plan scanned all history: `plans` on 5,000 plans took 1.5 s
    instead of 0.9 s, and grew with the square of the ledger."""
    booked, _ = plan_and_book(make_clinic(), request(FIRST, FIRST + timedelta(days=20)), ledger, dry_run=False)
    with ledger.read() as tx:
        plans = query_plans(tx.db.conn, lambda: tx.load_plan(booked.plan_id))  # type: ignore[attr-defined]  # SQLite's
    history = [p for p in plans if "history" in p.lower()]
    assert history and all("history_by_plan" in p and "TEMP B-TREE" not in p for p in history), plans
    assert not any("SCAN history" in p or "SCAN sessions" in p for p in plans), plans


@pytest.mark.sqlite_only
def test_a_version_1_ledger_is_upgraded_in_place(ledger: SqliteLedger) -> None:
    clinic = make_clinic()
    plan, _ = plan_and_book(clinic, request(FIRST, FIRST + timedelta(days=20)), ledger, dry_run=False)
    with sqlite3.connect(ledger.path) as db:  # as ketaplan's first schema left it
        db.execute("ALTER TABLE sessions DROP COLUMN held_until_utc")
        db.execute("ALTER TABLE history DROP COLUMN author")
        db.execute("ALTER TABLE history DROP COLUMN reason")
        db.execute("DROP INDEX history_by_plan")
        db.execute("DROP TABLE closures")
        db.execute("DROP TABLE meta")
        db.execute("PRAGMA application_id = 0")
        db.execute("PRAGMA user_version = 1")
    ((loaded, _),) = all_plans(SqliteLedger(ledger.path))  # read as it is: reading changes nothing
    assert loaded.sessions == plan.sessions and [h.action for h in loaded.history] == ["booked"]
    with sqlite3.connect(ledger.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    plan_and_book(clinic, request(FIRST, FIRST + timedelta(days=20)), ledger, dry_run=False, allow_overlap=True)
    with sqlite3.connect(ledger.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 8
        held = db.execute(
            "SELECT COUNT(*) FROM sessions WHERE plan_id = ? AND held_until_utc = end_utc", (plan.plan_id,)
        ).fetchone()[0]
        assert held == 7  # the plan booked before: turnover unknown, held to its end
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x4B54504C
        assert db.execute("SELECT value FROM meta WHERE key = 'application'").fetchone() == ("ketaplan ledger",)
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'history_by_plan'").fetchone()
    assert (ledger.path.stat().st_mode & 0o777) == 0o600


def test_a_ledger_from_a_newer_ketaplan_is_refused(cli, ledger: Ledger, ledger_path: Path | str) -> None:
    with ledger.write():
        pass  # creates it
    if isinstance(ledger_path, Path):
        with sqlite3.connect(ledger_path) as db:
            db.execute("PRAGMA user_version = 99")
    else:
        import psycopg

        with psycopg.connect(ledger_path, autocommit=True) as db:
            db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    for args in (["schedule", "--patient", "Jane Roe", "--start", "2027-02-01"], ["plans"]):
        r = cli(*args)
        assert r.exit_code == 2 and "--ledger:" in r.stderr and "newer ketaplan (schema 99" in r.stderr
    assert query(ledger_path, "SELECT COUNT(*) FROM sessions") == [(0,)]


WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import date, timedelta
    from pathlib import Path
    from ketaplan.app.booking import plan_and_book
    from ketaplan.formats.clinic_file import load_clinic
    from ketaplan.store.holiday_cache import FROM_PACKAGE
    from ketaplan.store.location import ledger_at
    from ketaplan.store.tx import LedgerTx
    from ketaplan.core.model import Patient, Request
    clinic = load_clinic(Path(sys.argv[1]), FROM_PACKAGE)
    first = date(2027, 2, 1)
    req = Request(Patient(sys.argv[3]), first, first + timedelta(days=20))
    # Hold the transaction open a while: a second writer must wait, then see this plan.
    ledger = ledger_at(sys.argv[2])
    add_plan = LedgerTx.add_plan
    LedgerTx.add_plan = lambda tx, *a, **k: (add_plan(tx, *a, **k), time.sleep(0.4))[0]
    plan, _ = plan_and_book(clinic, req, ledger, dry_run=False)
    print(plan.plan_id)
    """
)


@pytest.mark.slow
def test_two_processes_booking_at_once_never_overbook(tmp_path: Path, ledger_path: Path | str) -> None:
    clinic_file = write_clinic(tmp_path / "c.toml", chairs=1, max_starts_per_slot=1)
    ledger_file = ledger_path
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(clinic_file), str(ledger_file), f"P{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    ledger = ledger_at(ledger_file)
    assert len(all_plans(ledger)) == 3
    assert_no_overbooking(ledger, make_clinic(chairs=1, max_starts_per_slot=1))


@pytest.mark.slow
def test_two_schedule_commands_at_once(tmp_path: Path, ledger_path: Path | str) -> None:
    clinic_file = write_clinic(tmp_path / "c.toml", chairs=1, max_starts_per_slot=1)
    ledger_file = ledger_path
    env_args = [
        "--clinic",
        str(clinic_file),
        "--ledger",
        str(ledger_file),
        "--start",
        "2027-02-01",
        "--weeks",
        "3",
        "--json",
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ketaplan", "schedule", "--patient", f"P{i}", *env_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    docs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert [d["status"] for d in docs] == ["ok", "ok"], docs
    assert_no_overbooking(ledger_at(ledger_file), make_clinic(chairs=1, max_starts_per_slot=1))


CRASHER = textwrap.dedent(
    """
    import sys
    from datetime import date, timedelta
    from pathlib import Path
    from ketaplan.app.booking import plan_and_book
    from ketaplan.formats.clinic_file import load_clinic
    from ketaplan.store.holiday_cache import FROM_PACKAGE
    from ketaplan.store.location import ledger_at
    from ketaplan.store.tx import LedgerTx
    from ketaplan.core.model import Patient, Request
    clinic = load_clinic(Path(sys.argv[1]), FROM_PACKAGE)
    ledger = ledger_at(sys.argv[2])
    marker = Path(sys.argv[3])
    add_plan = LedgerTx.add_plan
    LedgerTx.add_plan = lambda tx, *a, **k: (add_plan(tx, *a, **k), marker.touch())[0]  # inside the transaction
    for i in range(10_000):
        first = date(2027, 1, 4) + timedelta(days=7 * (i % 50))
        req = Request(Patient(f"P{i}"), first, first + timedelta(days=20))
        plan_and_book(clinic, req, ledger, dry_run=False)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4, 0.8])
def test_sigkill_while_booking_leaves_whole_plans_only(tmp_path: Path, ledger_path: Path | str, delay: float) -> None:
    clinic_file = write_clinic(tmp_path / "c.toml", chairs=50, max_starts_per_slot=50)
    ledger_file, marker = ledger_path, tmp_path / "in-transaction"
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(clinic_file), str(ledger_file), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert marker.exists(), "the booking process never reached a transaction"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if isinstance(ledger_file, Path):
        with sqlite3.connect(ledger_file) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = query(
        ledger_file,
        "SELECT p.plan_id, COUNT(s.plan_id) FROM plans p LEFT JOIN sessions s USING (plan_id) GROUP BY p.plan_id",
    )
    orphans = query(ledger_file, "SELECT COUNT(*) FROM sessions WHERE plan_id NOT IN (SELECT plan_id FROM plans)")
    assert orphans in ([], [(0,)])
    assert all(n == 7 for _, n in counts), counts  # each plan whole: consultation + 6 infusions


def test_both_back_ends_hold_the_one_declared_schema(ledger: Ledger, ledger_path: Path | str) -> None:
    """records.TABLES declares every table and column (the copy and its check use it);
    each back end's DDL must create exactly those, in that order. PostgreSQL adds one
    column of its own: `held`, the range its exclusion constraint reads."""
    from ketaplan.store.records import TABLES

    with ledger.write():
        pass  # a new, empty ledger
    found: dict[str, tuple[str, ...]] = {}
    for table in TABLES:
        if isinstance(ledger_path, str):
            rows = query(
                ledger_path,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
            found[table] = tuple(r[0] for r in rows if r[0] != "held")
        else:
            found[table] = tuple(r[1] for r in query(ledger_path, f"PRAGMA table_info({table})"))
    assert found == TABLES


def _hold_the_write_lock(ledger_path: Path | str):
    """Another client holding the ledger's write lock and sitting on it (a laptop asleep
    mid-batch; `BEGIN; UPDATE meta ...` in psql): returns a function that lets go."""
    conn: Any
    if isinstance(ledger_path, str):
        import psycopg

        conn = psycopg.connect(ledger_path)  # not autocommit: the UPDATE opens a transaction
        conn.execute("UPDATE meta SET value = value WHERE key = 'writes'")
    else:
        conn = sqlite3.connect(ledger_path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")

    def release() -> None:
        conn.rollback() if isinstance(ledger_path, str) else conn.execute("ROLLBACK")
        conn.close()

    return release


def test_a_paused_desk_gets_a_clear_answer_within_the_wait_limit(
    cli, ledger_path: Path | str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk waiting for a lock that another holds forever is answered, on both back ends,
    with the same clear line once the wait limit passes (PostgreSQL once waited forever)."""
    clinic = write_clinic(tmp_path / "c.toml")

    def schedule(patient: str):
        return cli("schedule", "--clinic", clinic, "--patient", patient, "--start", "2027-02-01", "--json")

    assert schedule("P").exit_code == 0  # the ledger exists
    monkeypatch.setenv("KETAPLAN_LOCK_WAIT", "2")
    release = _hold_the_write_lock(ledger_path)
    try:
        started = time.monotonic()
        r = schedule("Q")
        took = time.monotonic() - started
    finally:
        release()
    doc = json.loads(r.stdout)
    assert r.exit_code == 2 and doc["status"] == "error", r.stdout
    assert "is busy: another desk has held it for over 2 s" in doc["errors"][0]["message"]
    assert 1.5 < took < 10, took
    assert schedule("Q").exit_code == 0  # once let go, the desk books


def test_a_schema_4_ledger_is_read_as_it_is_and_upgraded_by_the_next_change(
    cli, ledger_path: Path | str, tmp_path: Path
) -> None:
    """Schema 5 adds who made each change and why. A schema-4 ledger (the last release's)
    is read without them, copied as it is, and upgraded in place by its next write; older
    changes have no author (both back ends)."""
    clinic = write_clinic(tmp_path / "c.toml")
    doc = json.loads(cli("schedule", "--clinic", clinic, "--patient", "A", "--start", "2027-02-01", "--json").stdout)
    pid = doc["data"]["plan_id"]
    if isinstance(ledger_path, str):
        import psycopg

        with psycopg.connect(ledger_path, autocommit=True) as conn:  # as the last release left it
            conn.execute("ALTER TABLE history DROP COLUMN author, DROP COLUMN reason")
            conn.execute("DROP TABLE closures")
            conn.execute("DROP TABLE contacts")
            conn.execute("DROP TABLE outbox")
            conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    else:
        with sqlite3.connect(ledger_path) as db:
            db.execute("ALTER TABLE history DROP COLUMN author")
            db.execute("ALTER TABLE history DROP COLUMN reason")
            db.execute("DROP TABLE closures")
            db.execute("DROP TABLE contacts")
            db.execute("DROP TABLE outbox")
            db.execute("PRAGMA user_version = 4")
    shown = json.loads(cli("show", pid, "--json").stdout)["data"]  # read as it is
    assert [(h["change"], h["by"], h["reason"]) for h in shown["history"]] == [("booked", None, None)]
    r = cli("cancel", pid, "--session", "6", "--by", "Desk 2", "--reason", "patient moved away", "--json")
    assert r.exit_code == 0, r.stdout
    shown = json.loads(cli("show", pid, "--json").stdout)["data"]
    assert [(h["by"], h["reason"]) for h in shown["history"]] == [(None, None), ("Desk 2", "patient moved away")]
    assert json.loads(cli("ledger", "info", "--json").stdout)["data"]["schema"] == 8
