"""Bookings that persist: an embedded SQLite file, one row per session.

A plan is written in one transaction, all sessions or none. Writers take SQLite's write
lock (BEGIN IMMEDIATE) *before* reading availability, so two coordinators planning at
the same moment are serialised and never put two patients in one chair."""

from __future__ import annotations

import json
import os
import sqlite3
import time as time_mod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ketaplan.core.errors import LedgerError
from ketaplan.core.model import Booking, Patient, Plan, Request, Session

SCHEMA_VERSION = 2  # 2: history indexed by plan (loading a plan read all of history)
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone
_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    plan_id      TEXT PRIMARY KEY,
    request_id   TEXT UNIQUE,
    clinic       TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    patient_name TEXT NOT NULL,
    patient_id   TEXT,
    first_day    TEXT NOT NULL,
    last_day     TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    stamp_utc    TEXT NOT NULL,
    request      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    plan_id   TEXT NOT NULL REFERENCES plans(plan_id),
    kind      TEXT NOT NULL,
    number    INTEGER NOT NULL,
    of_n      INTEGER NOT NULL,
    clinic    TEXT NOT NULL,
    start_utc TEXT NOT NULL,
    end_utc   TEXT NOT NULL,
    resource  TEXT,
    status    TEXT NOT NULL,
    PRIMARY KEY (plan_id, kind, number)
);
CREATE INDEX IF NOT EXISTS sessions_booked_by_start
    ON sessions (clinic, start_utc) WHERE status = 'booked';
CREATE TABLE IF NOT EXISTS history (
    plan_id  TEXT NOT NULL REFERENCES plans(plan_id),
    revision INTEGER NOT NULL,
    at_utc   TEXT NOT NULL,
    action   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_plan ON history (plan_id, revision);
"""


BUSY_TIMEOUT = 60.0  # seconds a writer waits for another coordinator's transaction


def _retry_locked(action: Callable[[], object]) -> None:  # noqa: D103
    deadline = time_mod.monotonic() + BUSY_TIMEOUT
    delay = 0.01
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time_mod.monotonic() > deadline:
                raise
            time_mod.sleep(delay)
            delay = min(delay * 2, 0.5)


def utc_text(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_utc_text(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).astimezone(zone)  # 3.11 reads the "Z"; strptime is slow to load


def new_plan_id() -> str:
    # 32 symbols: each random byte maps without bias (256 = 8 x 32); 40 bits per id.
    return "KP-" + "".join(_ID_ALPHABET[b % 32] for b in os.urandom(8))


def request_to_json(r: Request, asked: dict[str, str | None] | None = None) -> str:
    """The request as planned; `asked`: a batch row's own fields (see batch.asked_fields)."""
    return json.dumps(
        {
            **({"asked": asked} if asked is not None else {}),
            "first_day": r.first_day.isoformat(),
            "last_day": r.last_day.isoformat(),
            "days": sorted(r.days) if r.days is not None else None,
            "earliest": r.earliest.isoformat("minutes") if r.earliest else None,
            "latest": r.latest.isoformat("minutes") if r.latest else None,
            "unavailable": sorted(d.isoformat() for d in r.unavailable),
            "consultation": r.consultation,
            "maintenance": r.boosters,
        },
        sort_keys=True,
    )


def request_from_json(text: str, patient: Patient, request_id: str | None) -> Request:
    d = json.loads(text)
    return Request(
        patient=patient,
        first_day=date.fromisoformat(d["first_day"]),
        last_day=date.fromisoformat(d["last_day"]),
        days=frozenset(d["days"]) if d["days"] is not None else None,
        earliest=time.fromisoformat(d["earliest"]) if d["earliest"] else None,
        latest=time.fromisoformat(d["latest"]) if d["latest"] else None,
        unavailable=frozenset(date.fromisoformat(x) for x in d["unavailable"]),
        consultation=d["consultation"],
        boosters=d["maintenance"],
        request_id=request_id,
    )


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        try:
            new = not self.path.exists()
            if new:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # Patient data: the file is private from its first byte.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # its tables may mean what this version cannot know
                conn.close()
                raise LedgerError(
                    f"the ledger at {self.path} was made by a newer ketaplan (schema {version}, this one "
                    f"knows {SCHEMA_VERSION}); upgrade ketaplan to use it",
                    field="--ledger",
                )
            if new or version < SCHEMA_VERSION:
                # WAL is a property of the file, set once. Switching needs a lock SQLite's
                # busy handler does not wait for: two coordinators creating it must retry.
                _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA foreign_keys=ON")
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                _retry_locked(
                    lambda: conn.executescript(
                        f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
                    )
                )
        except (OSError, sqlite3.DatabaseError) as e:
            raise LedgerError(f"cannot open the ledger at {self.path}: {e}", field="--ledger") from None
        return conn

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        """One write transaction, holding the write lock from the first read to commit."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield LedgerTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    # write(), batch() and read() open and close a connection alike; what differs is the
    # transaction each holds (all-or-nothing, group commits, none).
    @contextmanager
    def batch(self) -> Iterator[BatchTx]:
        """A connection for a batch: it commits in groups (see BatchTx)."""
        conn = self._connect()
        try:
            yield BatchTx(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        conn = self._connect()
        try:
            yield LedgerTx(conn)
        finally:
            conn.close()


class LedgerTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def bookings(self, clinic: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Booking]:
        """Booked sessions of this clinic that overlap [start, end) (a day of slack each side)."""
        rows = self.conn.execute(
            "SELECT start_utc, end_utc, resource, kind, plan_id FROM sessions "
            "WHERE clinic = ? AND status = 'booked' AND start_utc >= ? AND start_utc < ?",
            (clinic, utc_text(start - timedelta(days=1)), utc_text(end + timedelta(days=1))),
        )
        return [
            Booking(from_utc_text(s, zone), from_utc_text(e, zone), res, kind, pid) for s, e, res, kind, pid in rows
        ]

    def other_clinics(self, clinic: str, most: int = 3) -> list[str]:
        """Clinics with booked sessions here, when `clinic` has none (else []). Bookings
        belong to a clinic by name: a renamed clinic would not see its own. Index seeks only."""
        held = "SELECT 1 FROM sessions WHERE clinic = ? AND status = 'booked' LIMIT 1"
        if self.conn.execute(held, (clinic,)).fetchone():
            return []
        names: list[str] = []
        after = ""
        while len(names) < most:
            row = self.conn.execute(
                "SELECT MIN(clinic) FROM sessions WHERE status = 'booked' AND clinic > ?", (after,)
            ).fetchone()
            if row[0] is None:
                break
            names.append(after := row[0])
        return names

    def unique_plan_id(self) -> str:
        while True:
            pid = new_plan_id()
            if not self.conn.execute("SELECT 1 FROM plans WHERE plan_id = ?", (pid,)).fetchone():
                return pid

    def plan_for_request(self, request_id: str) -> tuple[str, dict[str, str | None] | None] | None:
        """The plan booked for a batch request id, and the row fields it was booked from."""
        row = self.conn.execute("SELECT plan_id, request FROM plans WHERE request_id = ?", (request_id,)).fetchone()
        return (row[0], json.loads(row[1]).get("asked")) if row else None

    def add_plan(
        self, plan: Plan, request: Request, action: str = "booked", asked: dict[str, str | None] | None = None
    ) -> None:
        stamp = plan.stamp or datetime.now(UTC)
        self.conn.execute(
            "INSERT INTO plans VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                plan.plan_id,
                plan.request_id,
                plan.clinic,
                plan.timezone,
                plan.patient.name,
                plan.patient.id,
                plan.first_day.isoformat(),
                plan.last_day.isoformat(),
                plan.revision,
                utc_text(stamp),
                request_to_json(request, asked),
            ),
        )
        self._write_sessions(plan)
        self.conn.execute(
            "INSERT INTO history VALUES (?,?,?,?)", (plan.plan_id, plan.revision, utc_text(stamp), action)
        )

    def _write_sessions(self, plan: Plan) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO sessions VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    plan.plan_id,
                    s.kind,
                    s.number,
                    s.of,
                    plan.clinic,
                    utc_text(s.start),
                    utc_text(s.end),
                    s.resource,
                    "booked" if s.status == "planned" else s.status,
                )
                for s in plan.sessions
            ],
        )

    def update_plan(self, plan: Plan, expected_revision: int, action: str) -> Plan:
        """Write a changed plan as the next revision, refusing if someone changed it first."""
        stamp = datetime.now(UTC)
        new_revision = expected_revision + 1
        cur = self.conn.execute(
            "UPDATE plans SET revision = ?, stamp_utc = ?, first_day = ?, last_day = ? "
            "WHERE plan_id = ? AND revision = ?",
            (
                new_revision,
                utc_text(stamp),
                plan.first_day.isoformat(),
                plan.last_day.isoformat(),
                plan.plan_id,
                expected_revision,
            ),
        )
        if cur.rowcount != 1:
            raise LedgerError(
                f"plan {plan.plan_id} was changed by someone else (now beyond revision {expected_revision}); "
                "show it again and redo your change",
                field="PLAN_ID",
            )
        updated = plan._replace(revision=new_revision, stamp=stamp)
        self._write_sessions(updated)
        self.conn.execute("INSERT INTO history VALUES (?,?,?,?)", (plan.plan_id, new_revision, utc_text(stamp), action))
        return updated

    def load_plan(self, plan_id: str) -> tuple[Plan, Request]:
        row = self.conn.execute(
            "SELECT plan_id, request_id, clinic, timezone, patient_name, patient_id, first_day, "
            "last_day, revision, stamp_utc, request FROM plans WHERE plan_id = ?",
            (plan_id.strip().upper(),),
        ).fetchone()
        if row is None:
            raise LedgerError(f"no plan {plan_id!r} in this ledger (see `ketaplan plans`)", field="PLAN_ID")
        pid, rid, clinic, tz, name, patient_id, first, last, revision, stamp, req = row
        zone = ZoneInfo(tz)
        sessions = tuple(
            Session(kind, number, of_n, from_utc_text(s, zone), from_utc_text(e, zone), res, status)
            for kind, number, of_n, s, e, res, status in self.conn.execute(
                "SELECT kind, number, of_n, start_utc, end_utc, resource, status FROM sessions "
                "WHERE plan_id = ? ORDER BY start_utc, kind",
                (pid,),
            )
        )
        history = tuple(
            (r, at, action)
            for r, at, action in self.conn.execute(
                "SELECT revision, at_utc, action FROM history WHERE plan_id = ? ORDER BY revision", (pid,)
            )
        )
        patient = Patient(name, patient_id)
        plan = Plan(
            pid,
            patient,
            clinic,
            tz,
            date.fromisoformat(first),
            date.fromisoformat(last),
            sessions,
            revision,
            from_utc_text(stamp, zone),
            rid,
            history,
        )
        return plan, request_from_json(req, patient, rid)

    def plan_rows(self, patient: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
        """One summary row per plan, newest window first."""
        sql = (
            "SELECT p.plan_id, p.patient_name, p.patient_id, p.clinic, p.first_day, p.last_day, p.revision, "
            "SUM(s.kind='infusion' AND s.status='booked'), SUM(s.kind='infusion' AND s.status='cancelled'), "
            "MIN(CASE WHEN s.kind='infusion' AND s.status='booked' THEN s.start_utc END), "
            "MAX(CASE WHEN s.kind='infusion' AND s.status='booked' THEN s.start_utc END), p.timezone "
            "FROM plans p JOIN sessions s USING (plan_id) WHERE 1=1"
        )
        args: list[Any] = []
        if patient:
            sql += " AND (p.patient_name LIKE ? OR p.patient_id LIKE ?)"
            args += [f"%{patient}%", f"%{patient}%"]
        if since:
            sql += " AND p.last_day >= ?"
            args.append(since.isoformat())
        sql += " GROUP BY p.plan_id ORDER BY p.first_day DESC, p.plan_id"
        keys = (
            "plan_id",
            "patient",
            "patient_id",
            "clinic",
            "first_day",
            "last_day",
            "revision",
            "infusions_booked",
            "infusions_cancelled",
            "first_infusion_utc",
            "last_infusion_utc",
            "timezone",
        )
        return [dict(zip(keys, row, strict=False)) for row in self.conn.execute(sql, args)]


class BatchTx(LedgerTx):
    """Group commits: `begin()` takes the write lock and says whether anyone else wrote to
    the ledger since our last commit (then our in-memory availability must be reloaded)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self._seen: int | None = None

    def begin(self) -> bool:
        self.conn.execute("BEGIN IMMEDIATE")
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        changed = self._seen is not None and version != self._seen
        self._seen = version
        return changed

    def commit(self) -> None:
        self.conn.execute("COMMIT")
