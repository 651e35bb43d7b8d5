"""The shared ledger on a real PostgreSQL server: the database itself refuses a double
booking, a refused booking is planned again, and desks racing on one ledger never put two
patients in one chair or slot. (Everything else runs on both back ends: see `backend`.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from helpers import capacity_violations, make_clinic, query, request, write_clinic
from ketaplan.app.booking import plan_and_book
from ketaplan.store.credentials import masked, scrubbed
from ketaplan.store.pg_ledger import PostgresLedger

FIRST = date(2027, 2, 1)


def _session_row(plan_id: str, number: int, start: str, end: str, held_until: str, chair: str) -> tuple:
    return (plan_id, "infusion", number, 6, "Test Clinic", start, end, chair, "booked", held_until)


def _intruder(conn, sessions: list[tuple]) -> None:
    """Another program's booking, written without ketaplan (no lock, no planning)."""
    conn.execute(
        "INSERT INTO plans VALUES ('KP-INTRUDER', NULL, 'Test Clinic', 'America/Chicago', 'X', NULL, "
        "'2027-02-01', '2027-02-21', 1, '2027-01-01T00:00:00Z', '{}')"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO sessions (plan_id, kind, number, of_n, clinic, start_utc, end_utc, resource, status, "
            "held_until_utc) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            sessions,
        )


def _same_chairs(planned) -> list[tuple]:
    """Another program's rows holding the very chairs and times of `planned`'s infusions."""
    from ketaplan.store.records import utc_text

    return [
        _session_row(
            "KP-INTRUDER",
            s.number,
            utc_text(s.start),
            utc_text(s.end),
            utc_text(s.end + timedelta(minutes=15)),
            s.resource,
        )
        for s in planned.sessions
        if s.kind == "infusion"
    ]


def _wait_for_a_blocked_commit(pg_url: str) -> None:
    """Until ketaplan's commit waits on the intruder's uncommitted rows (a lock not granted)."""
    import psycopg

    deadline = time.monotonic() + 20
    with psycopg.connect(pg_url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute("SELECT COUNT(*) FROM pg_locks WHERE NOT granted").fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.01)
    pytest.fail("ketaplan's commit never waited on the other transaction")


def test_the_database_refuses_a_double_booked_chair_turnover_included(pg_url: str) -> None:
    import psycopg

    from ketaplan.store.records import utc_text

    clinic = make_clinic()  # 15 min turnover
    plan, _ = plan_and_book(clinic, request(FIRST, FIRST + timedelta(days=20)), PostgresLedger(pg_url), dry_run=False)
    first = next(s for s in plan.sessions if s.kind == "infusion")

    def try_at(minutes_after_end: int) -> None:
        start = first.end + timedelta(minutes=minutes_after_end)
        end = start + timedelta(minutes=90)
        row = _session_row(
            "KP-INTRUDER", 1, utc_text(start), utc_text(end), utc_text(end + timedelta(minutes=15)), str(first.resource)
        )
        with psycopg.connect(pg_url) as conn:  # one transaction, committed on leaving
            _intruder(conn, [row])

    with pytest.raises(psycopg.errors.ExclusionViolation):
        try_at(-30)  # overlaps the session itself
    with pytest.raises(psycopg.errors.ExclusionViolation):
        try_at(10)  # after its end, inside its 15 minutes of turnover
    try_at(15)  # at the end of turnover: free
    assert query(pg_url, "SELECT COUNT(*) FROM sessions WHERE plan_id = 'KP-INTRUDER'") == [(1,)]


def test_a_booking_the_database_refuses_is_planned_again(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another program holds (uncommitted) the very chairs ketaplan is about to book. The
    database makes ketaplan's commit wait, then refuses it (23P01); ketaplan plans again
    on what is there now and books other chairs."""
    import psycopg

    clinic = make_clinic(chairs=2, max_starts_per_slot=2)
    ledger = PostgresLedger(pg_url)
    req = request(FIRST, FIRST + timedelta(days=20))
    with ledger.write():
        pass  # the tables
    planned, _ = plan_and_book(clinic, req, ledger, dry_run=True)
    rows = _same_chairs(planned)
    attempts = []
    real_write = PostgresLedger.write

    def counting_write(self):
        attempts.append(1)
        return real_write(self)

    monkeypatch.setattr(PostgresLedger, "write", counting_write)
    intruder = psycopg.connect(pg_url)  # a transaction left open
    _intruder(intruder, rows)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(plan=plan_and_book(clinic, req, ledger, dry_run=False)[0]))
    worker.start()
    _wait_for_a_blocked_commit(pg_url)
    intruder.commit()
    intruder.close()
    worker.join(timeout=60)
    plan = result["plan"]
    assert len(attempts) == 2  # refused once, then planned again and booked
    mine = {(s.resource, s.start) for s in plan.sessions if s.kind == "infusion"}
    assert mine.isdisjoint({(s.resource, s.start) for s in planned.sessions if s.kind == "infusion"})
    assert capacity_violations(pg_url, chairs=2, starts_per_slot=2, rooms=1, turnover_minutes=15) == []


@pytest.mark.slow
def test_desks_racing_on_one_ledger_never_overbook(tmp_path: Path, pg_url: str) -> None:
    """Several processes, as if on several desks: `schedule` and `batch` at once on a
    small clinic (2 chairs, 1 start per slot); then every session is read back with SQL."""
    clinic = write_clinic(tmp_path / "c.toml", chairs=2, max_starts_per_slot=1)
    base = [sys.executable, "-m", "ketaplan"]
    common = ["--clinic", str(clinic), "--ledger", pg_url]
    procs = []
    for desk in range(2):
        rows = tmp_path / f"desk{desk}.csv"
        rows.write_text(
            "patient,start\n" + "".join(f"B{desk}-{i},2027-02-0{1 + i % 5}\n" for i in range(25)), encoding="utf-8"
        )
        procs.append(subprocess.Popen([*base, "batch", str(rows), *common], stdout=subprocess.PIPE, text=True))
    for i in range(4):
        args = ["schedule", "--patient", f"S{i}", "--start", "2027-02-01", "--weeks", "3", "--json", *common]
        procs.append(subprocess.Popen([*base, *args], stdout=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert capacity_violations(pg_url, chairs=2, starts_per_slot=1, rooms=1, turnover_minutes=15) == []
    assert all(p.returncode in (0, 3) for p in procs), [p.returncode for p in procs]
    booked = sum(json.loads(line)["status"] == "ok" for out in outs for line in out.splitlines())
    assert booked >= 10  # enough plans that a race had something to race for
    sizes = {n for (n,) in query(pg_url, "SELECT COUNT(*) FROM sessions GROUP BY plan_id")}
    assert sizes == {7} and query(pg_url, "SELECT COUNT(*) FROM plans") == [(booked,)]


#: Every form libpq takes a password in, each with the secret "S3cr/t@x" or a part of it
PASSWORD_FORMS = [
    "postgresql://desk:SECRET@db.example:5432/clinic",
    "POSTGRESQL://desk:SECRET@db.example/clinic",  # the scheme in capitals
    "postgres://desk:Sl/ashSECRET@db.example/clinic",  # an unescaped slash
    "postgresql://desk:p@ssSECRET@db.example/clinic",  # an unescaped @
    "postgresql://desk:%53ECRET@db.example/clinic",  # percent-escaped
    "postgresql://desk@db.example:5432/clinic?password=SECRET",
    "postgresql://desk@db.example/clinic?sslmode=require&PASSWORD=SECRET&connect_timeout=3",
    "postgresql://desk@db.example/clinic?sslpassword=SECRET",
    "host=db.example password=SECRET dbname=clinic",
    "host=db.example password = 'SE CRET' dbname=clinic",
]


def test_masked_urls() -> None:
    assert masked("postgresql://desk:pw@db.example:5432/clinic") == "postgresql://desk:***@db.example:5432/clinic"
    assert masked("postgresql://desk@db.example/clinic") == "postgresql://desk@db.example/clinic"
    assert masked("postgresql:///clinic?host=/run/pg") == "postgresql:///clinic?host=/run/pg"
    for form in PASSWORD_FORMS:
        shown = masked(form)
        assert "SECRET" not in shown and "CRET" not in shown and "***" in shown, (form, shown)
        said = scrubbed(f"connection to {form} failed; {form.upper()}", form)
        assert "SECRET" not in said.replace("***", ""), (form, said)


@pytest.mark.parametrize("form", PASSWORD_FORMS)
def test_no_password_form_is_ever_printed(cli, form: str, pg_server) -> None:
    """Through the CLI, human and --json, on errors (a database that is not there, a host
    that is not there) and on `ledger info`: the secret never shows."""
    base = pg_server.new_database()
    url = form.replace("db.example:5432", "db.example").replace("db.example", "127.0.0.1:1")  # nothing listens
    for args in (["ledger", "info", "--ledger", url], ["plans", "--ledger", url]):
        for extra in ([], ["--json"]):
            r = cli(*args, *extra)
            assert r.exit_code == 2, r.stdout + r.stderr
            assert "SECRET" not in r.stdout + r.stderr and "CRET" not in r.stdout + r.stderr, r.stdout + r.stderr
    if form.lower().startswith("postgres"):  # a reachable server, a password it ignores (trust)
        good = base.split("?")[0].replace("postgres@", "postgres:S3CRET@") if "?" not in form else base
        r = cli("ledger", "info", "--ledger", good + ("&" if "?" in good else "?") + "password=SECRET")
        assert "SECRET" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_a_batch_group_the_database_refuses_is_planned_again(tmp_path: Path, pg_url: str) -> None:
    """As above, for `batch`: the whole group is refused at commit, planned again on what
    is there now, and booked; every row is answered once, after its group committed."""
    import psycopg

    from ketaplan.app import batch
    from ketaplan.core.model import Patient
    from ketaplan.formats.batch_file import rows as read_rows

    clinic = make_clinic(chairs=2, max_starts_per_slot=2)
    ledger = PostgresLedger(pg_url)
    req = request(FIRST, FIRST + timedelta(days=20), patient=Patient("P0"))
    with ledger.write():
        pass
    planned, _ = plan_and_book(clinic, req, ledger, dry_run=True)  # what the batch's first row will choose
    rows = _same_chairs(planned)
    file = tmp_path / "rows.csv"
    file.write_text("patient,start,weeks\nP0,2027-02-01,3\nP1,2027-02-01,3\n", encoding="utf-8")
    intruder = psycopg.connect(pg_url)
    _intruder(intruder, rows)
    told: list = []
    span = batch.batch_span(clinic, ["2027-02-01"], FIRST - timedelta(days=30))
    stream = file.open("rb")
    lines = read_rows(stream, str(file), "csv", allow_past=False)
    worker = threading.Thread(
        target=lambda: batch.run(batch.Settings(clinic, FIRST - timedelta(days=30), span), ledger, lines, told.append)
    )
    worker.start()
    _wait_for_a_blocked_commit(pg_url)
    intruder.commit()
    intruder.close()
    worker.join(timeout=60)
    stream.close()
    assert [o.status for o in told] == ["ok", "ok"], told
    assert capacity_violations(pg_url, chairs=2, starts_per_slot=2, rooms=1, turnover_minutes=15) == []
    assert query(pg_url, "SELECT COUNT(*) FROM plans") == [(3,)]  # the intruder and both rows


def test_placeholders_are_read_as_tokens() -> None:
    """SQLite's `?` and `:name` become psycopg's; quoted text and `::` casts do not."""
    from ketaplan.store.pg_ledger import _pg

    assert _pg("SELECT a FROM t WHERE b = ? AND c = :name") == "SELECT a FROM t WHERE b = %s AND c = %(name)s"
    assert _pg("SELECT '?', ':x', 'it''s ?' WHERE a LIKE '50%' AND b = ?") == (
        "SELECT '?', ':x', 'it''s ?' WHERE a LIKE '50%%' AND b = %s"
    )
    assert _pg("SELECT x::timestamptz, y % 2 FROM t WHERE z = :z_1") == (
        "SELECT x::timestamptz, y %% 2 FROM t WHERE z = %(z_1)s"
    )


def test_a_refused_write_is_one_line(cli, pg_server, tmp_path: Path) -> None:
    """A SELECT-only role: the write is refused in one clean line, with or without --json;
    psycopg's pipeline warning ("error ignored terminating <psycopg.Pipeline [BAD]>") once
    printed a second stderr line."""
    import psycopg

    url = pg_server.new_database()
    clinic = write_clinic(tmp_path / "c.toml")
    args = ["schedule", "--clinic", clinic, "--patient", "A", "--start", "2027-02-01"]
    assert cli(*args, "--ledger", url).exit_code == 0  # the ledger exists
    db = url.split("@/")[1].split("?")[0]
    pg_server.admin("DO $$ BEGIN CREATE ROLE reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    reader = pg_server.url_of(db, user="reader")
    for extra in ([], ["--json"]):
        r = subprocess.run(
            [sys.executable, "-m", "ketaplan", *map(str, args), "--patient", "B", "--ledger", reader, *extra],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "KETAPLAN_TODAY": "2026-11-25"},
        )
        assert r.returncode == 2, r.stdout + r.stderr
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == (0 if extra else 1) and "Pipeline" not in r.stderr, r.stderr
        if extra:
            assert json.loads(r.stdout)["status"] == "error"


@pytest.mark.slow
def test_a_silent_server_is_an_error_within_the_connect_timeout(cli) -> None:
    """A server that accepts the connection and never answers (a host gone quiet): the desk
    is told within the connect timeout (5 s), not left waiting (it took 10.2 s before)."""
    import socket

    from ketaplan.store.pg_ledger import CONNECT_TIMEOUT

    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(8)  # the kernel completes the handshake; nobody ever speaks
    port = quiet.getsockname()[1]
    try:
        started = time.monotonic()
        r = cli("plans", "--ledger", f"postgresql://desk:pw@127.0.0.1:{port}/clinic")  # sslmode prefer: two tries
        took = time.monotonic() - started
    finally:
        quiet.close()
    assert r.exit_code == 2 and "cannot reach the ledger" in r.stderr and "pw" not in r.stderr, r.stderr
    assert took < CONNECT_TIMEOUT * 2 + 1, took
