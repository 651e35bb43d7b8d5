"""Bookings that persist: an embedded SQLite file, one row per session.

A plan is written in one transaction, all sessions or none. Writers take SQLite's write
lock (BEGIN IMMEDIATE) *before* reading availability, so two coordinators planning at
the same moment are serialised and never put two patients in one chair."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time as time_mod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.core.errors import LedgerError
from ketaplan.core.model import Booking, Patient, Plan, Request, Session

SCHEMA_VERSION = 3  # 2: history indexed by plan; 3: application_id and the meta table
#: PRAGMA application_id of a ketaplan ledger ("KTPL"): how a file is known to be ours.
APPLICATION_ID = 0x4B54504C
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
DROP INDEX IF EXISTS sessions_booked_by_start;
CREATE INDEX IF NOT EXISTS sessions_held_by_start
    ON sessions (clinic, start_utc) WHERE status IN ('booked', 'attended');
CREATE TABLE IF NOT EXISTS history (
    plan_id  TEXT NOT NULL REFERENCES plans(plan_id),
    revision INTEGER NOT NULL,
    at_utc   TEXT NOT NULL,
    action   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_plan ON history (plan_id, revision);
CREATE INDEX IF NOT EXISTS plans_by_patient_id ON plans (patient_id, first_day);
CREATE INDEX IF NOT EXISTS plans_by_patient_name ON plans (patient_name, first_day);
CREATE INDEX IF NOT EXISTS plans_by_clinic ON plans (clinic, last_day);
"""
_META = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('application', 'ketaplan ledger');
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
    """One ledger file. A file is used only when it is positively ours (see `identify`);
    anything else is refused with exit 2 and left exactly as it was."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return os.path.lexists(self.path)

    def _connect(self, *, write: bool) -> sqlite3.Connection:
        try:
            if not self.exists():
                if not write:
                    raise LedgerError(f"no ledger at {self.path}; nothing has been booked there yet", field="--ledger")
                _create(self.path)
            mode = os.stat(self.path).st_mode
            if not stat.S_ISREG(mode):
                raise LedgerError(f"{self.path} is not a file", field="--ledger")
            if mode & 0o077 and self.path not in _warned:
                _warned.add(self.path)
                warn(
                    f"the ledger {self.path} can be read by other users of this machine (mode {mode & 0o777:o}); "
                    f"it holds patient names: chmod 600 {self.path}"
                )
            with open(self.path, "rb") as f:
                if f.read(16) != b"SQLite format 3\0":  # empty, text, another format: not ours
                    raise _not_ours(self.path)
            if write and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
                raise LedgerError(  # SQLite needs the folder too, for its journal files
                    f"the ledger at {self.path} is read-only here (the file or its folder cannot be written); "
                    "nothing was changed",
                    field="--ledger",
                )
            conn = _open(self.path, write=write)
            try:
                identify(conn, self.path)
                if write:
                    _upgrade(conn, self.path)
                    conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()  # a refused or broken file: let go of it at once
                raise
        except sqlite3.DatabaseError as e:
            raise _ledger_error(self.path, e) from None
        except OSError as e:
            raise LedgerError(f"cannot open the ledger at {self.path}: {e.strerror}", field="--ledger") from None
        return conn

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        """One write transaction, holding the write lock from the first read to commit."""
        conn = self._connect(write=True)
        try:
            with _translated(self.path):
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
        conn = self._connect(write=True)
        try:
            with _translated(self.path):
                yield BatchTx(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        """A read-only connection: works on a read-only file or mount, changes nothing."""
        conn = self._connect(write=False)
        try:
            with _translated(self.path):
                yield LedgerTx(conn)
        finally:
            conn.close()


_warned: set[Path] = set()


def warn(text: str) -> None:
    """A notice for the person running the command (stderr; set by the CLI)."""
    _notice(text)


def _no_notice(text: str) -> None:
    pass


_notice: Callable[[str], None] = _no_notice


def on_notice(notice: Callable[[str], None]) -> None:
    global _notice
    _notice = notice


def identify(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a file that is not a ketaplan ledger. Ours: the application_id pragma says so
    (schema 3 on), or, for ledgers made before it, schema 1-2 with exactly our tables."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:  # its tables may mean what this version cannot know
            raise LedgerError(
                f"the ledger at {path} was made by a newer ketaplan (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade ketaplan to use it",
                field="--ledger",
            )
        return
    if app_id == 0 and version in (1, 2) and _has_our_tables(conn):
        return  # made by ketaplan before the application id; upgraded on the next write
    raise _not_ours(path)


def _not_ours(path: Path) -> LedgerError:
    return LedgerError(
        f"{path} is not a ketaplan ledger (another program's file, or empty); it was left unchanged. "
        "Give --ledger a new path or an existing ketaplan ledger",
        field="--ledger",
    )


_OUR_TABLES = {
    "plans": [
        "plan_id",
        "request_id",
        "clinic",
        "timezone",
        "patient_name",
        "patient_id",
        "first_day",
        "last_day",
        "revision",
        "stamp_utc",
        "request",
    ],
    "sessions": ["plan_id", "kind", "number", "of_n", "clinic", "start_utc", "end_utc", "resource", "status"],
    "history": ["plan_id", "revision", "at_utc", "action"],
}


def _has_our_tables(conn: sqlite3.Connection) -> bool:
    for table, columns in _OUR_TABLES.items():
        found = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        if found != columns:
            return False
    return True


def _create(path: Path) -> None:
    """A new ledger, made whole beside `path` and linked into place: never a half-made
    file under the ledger's name, 0600 whatever the umask, and no overwrite of a file
    another process created meanwhile (link fails if the name exists; then that one is used)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{new_plan_id()[3:]}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits away; patient data: owner only
        os.close(fd)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # a property of the file, kept from here on
            conn.executescript(
                f"BEGIN; {_SCHEMA} {_META} PRAGMA application_id={APPLICATION_ID}; "
                f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another coordinator's ketaplan made it first: use theirs
        except OSError:  # a file system without hard links: rename, unless one appeared
            if not os.path.lexists(path):
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with suppress(FileNotFoundError):
                os.unlink(leftover)


def _open(path: Path, *, write: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    if write:
        return conn
    try:
        conn.execute("PRAGMA user_version").fetchone()  # readers share the WAL index as usual
        return conn
    except sqlite3.OperationalError:
        conn.close()
    # A WAL ledger needs its -shm file even to be read, and on a read-only file, folder or
    # mount it cannot be made: read the file as it stands there, where nobody can write.
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Bring an older ledger of ours to this schema, in place (identify() said it is ours)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return

    def upgrade() -> None:  # every statement is idempotent: two desks upgrading at once is fine
        conn.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} {_META} PRAGMA application_id={APPLICATION_ID}; "
            f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        )

    _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
    _retry_locked(upgrade)


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """SQLite's errors about the file (corrupt, read-only, full disk) as one clear line."""
    try:
        yield
    except sqlite3.DatabaseError as e:
        raise _ledger_error(path, e) from None


def _ledger_error(path: Path, e: sqlite3.DatabaseError) -> LedgerError:
    text = str(e)
    if "readonly" in text or "read-only" in text:
        return LedgerError(f"the ledger at {path} is read-only here; nothing was changed", field="--ledger")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return LedgerError(f"the ledger at {path} is damaged ({text}); restore it from a backup", field="--ledger")
    return LedgerError(f"cannot use the ledger at {path}: {text}", field="--ledger")


class LedgerTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def bookings(self, clinic: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Booking]:
        """Booked sessions of this clinic that overlap [start, end) (a day of slack each side)."""
        rows = self.conn.execute(
            "SELECT start_utc, end_utc, resource, kind, plan_id FROM sessions "
            "WHERE clinic = ? AND status IN ('booked', 'attended') AND start_utc >= ? AND start_utc < ?",
            (clinic, utc_text(start - timedelta(days=1)), utc_text(end + timedelta(days=1))),
        )
        return [
            Booking(from_utc_text(s, zone), from_utc_text(e, zone), res, kind, pid) for s, e, res, kind, pid in rows
        ]

    def other_clinics(self, clinic: str, most: int = 3) -> list[str]:
        """Clinics with booked sessions here, when `clinic` has none (else []). Bookings
        belong to a clinic by name: a renamed clinic would not see its own. Index seeks only."""
        held = "SELECT 1 FROM sessions WHERE clinic = ? AND status IN ('booked', 'attended') LIMIT 1"
        if self.conn.execute(held, (clinic,)).fetchone():
            return []
        names: list[str] = []
        after = ""
        while len(names) < most:
            row = self.conn.execute(
                "SELECT MIN(clinic) FROM sessions WHERE status IN ('booked', 'attended') AND clinic > ?", (after,)
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

    def plan_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT plan_id FROM plans ORDER BY first_day, plan_id")]

    def upcoming_plan_ids(self, clinic: str, now: datetime, most: int) -> list[str]:
        """The plans with sessions still to come, soonest first: a walk along the start-time
        index that stops after `most` plans (a page of `plans` reads a few hundred rows)."""
        found: dict[str, None] = {}
        rows = self.conn.execute(
            "SELECT plan_id FROM sessions WHERE clinic = ? AND status IN ('booked', 'attended') "
            "AND start_utc > ? ORDER BY start_utc, plan_id",
            (clinic, utc_text(now)),
        )
        for (plan_id,) in rows:
            found.setdefault(plan_id)
            if len(found) >= most:
                break
        return list(found)

    def recent_plan_ids(self, clinic: str, skip: set[str], most: int) -> list[str]:
        """Plans by their window's last day, latest first, leaving out `skip`."""
        found: list[str] = []
        for (plan_id,) in self.conn.execute(
            "SELECT plan_id FROM plans WHERE clinic = ? ORDER BY last_day DESC, plan_id", (clinic,)
        ):
            if plan_id not in skip:
                found.append(plan_id)
                if len(found) >= most:
                    break
        return found

    def overlapping_plan(self, name: str, patient_id: str | None, first: date, last: date) -> str | None:
        """A plan of this patient with a session still held whose window overlaps [first, last]."""
        who, value = ("patient_id", patient_id) if patient_id else ("patient_name", name)  # a column name, never input
        row = self.conn.execute(
            f"SELECT p.plan_id FROM plans p WHERE p.{who} = ? AND p.first_day <= ? AND p.last_day >= ? "
            "AND EXISTS (SELECT 1 FROM sessions s WHERE s.plan_id = p.plan_id AND s.status IN ('booked', 'attended')) "
            "ORDER BY p.first_day LIMIT 1",
            (value, last.isoformat(), first.isoformat()),
        ).fetchone()
        return row[0] if row else None

    def day_sessions(self, clinic: str, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
        """Every session of this clinic starting in [start, end), with its patient, for the
        day sheet: (plan_id, name, patient id, kind, number, of, start_utc, end_utc, resource, status)."""
        return self.conn.execute(
            "SELECT s.plan_id, p.patient_name, p.patient_id, s.kind, s.number, s.of_n, s.start_utc, s.end_utc, "
            "s.resource, s.status FROM sessions s JOIN plans p USING (plan_id) "
            "WHERE s.clinic = ? AND s.start_utc >= ? AND s.start_utc < ? ORDER BY s.start_utc, s.resource",
            (clinic, utc_text(start), utc_text(end)),
        ).fetchall()

    def revision_of(self, plan_id: str) -> int | None:
        row = self.conn.execute("SELECT revision FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
        return int(row[0]) if row else None

    def count_plans(self, clinic: str) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM plans WHERE clinic = ?", (clinic,)).fetchone()[0])

    def plan_summaries(
        self,
        now: datetime,
        *,
        clinic: str | None = None,
        patient: str | None = None,
        since: date | None = None,
        until: date | None = None,
        ids: list[str] | None = None,
    ) -> list[PlanSummary]:
        """One row per plan, counted in SQL (a ledger of thousands of plans answers at once):
        `since`/`until` keep plans whose window overlaps them; `patient` matches name or id."""
        sql = (
            "SELECT p.plan_id, p.patient_name, p.patient_id, p.clinic, p.timezone, p.first_day, p.last_day, "
            "p.revision, "
            "MIN(CASE WHEN s.kind = 'infusion' AND s.status != 'cancelled' THEN s.start_utc END), "
            "MAX(CASE WHEN s.kind = 'infusion' AND s.status != 'cancelled' THEN s.start_utc END), "
            "MIN(CASE WHEN s.status = 'booked' AND s.start_utc > :now THEN s.start_utc END), "
            "SUM(s.status = 'attended'), SUM(s.status = 'no_show'), SUM(s.status = 'cancelled'), "
            "SUM(s.status = 'booked' AND s.start_utc > :now), SUM(s.status = 'booked' AND s.start_utc <= :now), "
            "MAX(s.start_utc) "
            "FROM plans p JOIN sessions s USING (plan_id) WHERE 1 = 1"
        )
        args: dict[str, Any] = {"now": utc_text(now)}
        if clinic is not None:
            sql += " AND p.clinic = :clinic"
            args["clinic"] = clinic
        if ids is not None:  # named placeholders only: the ids are bound, never spliced in
            sql += f" AND p.plan_id IN ({', '.join(f':id{i}' for i in range(len(ids)))})"
            args.update({f"id{i}": pid for i, pid in enumerate(ids)})
        if patient:
            sql += " AND (p.patient_name LIKE :patient OR p.patient_id LIKE :patient)"
            args["patient"] = f"%{patient}%"
        if since:
            sql += " AND p.last_day >= :since"
            args["since"] = since.isoformat()
        if until:
            sql += " AND p.first_day <= :until"
            args["until"] = until.isoformat()
        sql += " GROUP BY p.plan_id"
        return [PlanSummary(*row) for row in self.conn.execute(sql, args)]


class PlanSummary(NamedTuple):
    plan_id: str
    patient: str
    patient_id: str | None
    clinic: str
    timezone: str
    first_day: str
    last_day: str
    revision: int
    first_infusion_utc: str | None
    last_infusion_utc: str | None
    next_session_utc: str | None
    attended: int
    missed: int
    cancelled: int
    left: int  # booked, still to come
    to_mark: int  # booked, begun, neither attended nor a no-show yet
    last_session_utc: str

    @property
    def status(self) -> str:
        """active (sessions to come), to_mark, completed, cancelled, or ended (missed or
        cancelled sessions, nothing left)."""
        if self.left:
            return "active"
        if self.to_mark:
            return "to_mark"
        if not self.attended:
            return "cancelled"
        return "ended" if self.missed or self.cancelled else "completed"


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
