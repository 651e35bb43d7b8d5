"""The ledger's queries, written once for every back end (store.sql.Db runs them)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.core.admission import HeldSeries
from ketaplan.core.errors import LedgerError
from ketaplan.core.model import (
    CONSULTATION,
    UNNAMED,
    Author,
    BookedSession,
    Booking,
    Change,
    Contact,
    Patient,
    Plan,
    Request,
    Session,
)
from ketaplan.store.records import (
    HELD_SQL,
    TABLE_SINCE,
    check_status,
    columns_of,
    damaged,
    from_utc_text,
    new_plan_id,
    request_from_json,
    request_to_json,
    utc_text,
)
from ketaplan.store.sql import Db


class LedgerTx:
    """What ketaplan asks of a ledger, in SQL both back ends run (see store.sql.Db)."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._schema: int | None = None

    @property
    def schema(self) -> int:
        """The ledger's schema version (asked once a transaction)."""
        if self._schema is None:
            self._schema = self.db.schema_version()
        return self._schema

    def bookings(self, clinic: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Booking]:
        """Booked sessions of this clinic that overlap [start, end) (a day of slack each side)."""
        rows = self.db.execute(
            "SELECT start_utc, end_utc, resource, kind, plan_id FROM sessions "
            f"WHERE clinic = ? AND status IN {HELD_SQL} AND start_utc >= ? AND start_utc < ?",
            (clinic, utc_text(start - timedelta(days=1)), utc_text(end + timedelta(days=1))),
        )
        return [
            Booking(from_utc_text(s, zone), from_utc_text(e, zone), res, kind, pid) for s, e, res, kind, pid in rows
        ]

    def other_clinics(self, clinic: str, most: int = 3) -> list[str]:
        """Clinics with booked sessions here, when `clinic` has none (else []). Bookings
        belong to a clinic by name: a renamed clinic would not see its own. Index seeks only."""
        held = f"SELECT 1 FROM sessions WHERE clinic = ? AND status IN {HELD_SQL} LIMIT 1"
        if self.db.execute(held, (clinic,)).fetchone():
            return []
        names: list[str] = []
        after = ""
        while len(names) < most:
            row = self.db.execute(
                f"SELECT MIN(clinic) FROM sessions WHERE status IN {HELD_SQL} AND clinic > ?", (after,)
            ).fetchone()
            if row[0] is None:
                break
            names.append(after := row[0])
        return names

    def unique_plan_id(self) -> str:
        while True:
            pid = new_plan_id()
            if not self.db.execute("SELECT 1 FROM plans WHERE plan_id = ?", (pid,)).fetchone():
                return pid

    def unique_plan_ids(self, n: int) -> list[str]:
        """`n` new plan ids, checked against the ledger in one query (a batch group)."""
        ids: list[str] = []
        while len(ids) < n:
            fresh = list({new_plan_id() for _ in range(n - len(ids))} - set(ids))
            marks = ", ".join("?" for _ in fresh)
            taken = {r[0] for r in self.db.execute(f"SELECT plan_id FROM plans WHERE plan_id IN ({marks})", fresh)}
            ids += [pid for pid in fresh if pid not in taken]
        return ids

    def plans_for_requests(self, request_ids: list[str]) -> dict[str, tuple[str, dict[str, str | None] | None]]:
        """The plans booked for these batch request ids, with the row fields each was booked
        from; in a query per 500 ids (a batch group asks once, not once a row)."""
        found: dict[str, tuple[str, dict[str, str | None] | None]] = {}
        for i in range(0, len(request_ids), 500):
            chunk = request_ids[i : i + 500]
            marks = ", ".join("?" for _ in chunk)  # placeholders only: the ids are bound
            for rid, plan_id, text in self.db.execute(
                f"SELECT request_id, plan_id, request FROM plans WHERE request_id IN ({marks})", chunk
            ):
                found[rid] = (plan_id, json.loads(text).get("asked"))
        return found

    def add_plan(
        self,
        plan: Plan,
        request: Request,
        turnover: timedelta,
        action: str = "booked",
        asked: dict[str, str | None] | None = None,
        author: Author = UNNAMED,
    ) -> None:
        stamp = plan.stamp or datetime.now(UTC)
        self.db.execute(
            "INSERT INTO plans (plan_id, request_id, clinic, timezone, patient_name, patient_id, first_day, "
            "last_day, revision, stamp_utc, request) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
                request_to_json(request, asked, plan.lang),
            ),
        )
        self._write_sessions(plan, turnover)
        self._history(plan.plan_id, plan.revision, stamp, action, author)
        if plan.contact is not None:
            self.set_contact(plan.plan_id, plan.contact)

    def set_contact(self, plan_id: str, contact: Contact) -> None:
        """The patient's email and phone for this plan (None: not known), replacing any."""
        self.db.execute("DELETE FROM contacts WHERE plan_id = ?", (plan_id,))
        if contact.email or contact.phone:
            self.db.execute(
                "INSERT INTO contacts (plan_id, email, phone) VALUES (?, ?, ?)", (plan_id, contact.email, contact.phone)
            )

    def contact_of(self, plan_id: str) -> Contact | None:
        if self.schema < TABLE_SINCE["contacts"]:
            return None  # a ledger not yet upgraded holds none
        row = self.db.execute("SELECT email, phone FROM contacts WHERE plan_id = ?", (plan_id,)).fetchone()
        return Contact(row[0], row[1]) if row else None

    def _history(self, plan_id: str, revision: int, at: datetime, action: str, author: Author) -> None:
        self.db.execute(
            "INSERT INTO history (plan_id, revision, at_utc, action, author, reason) VALUES (?,?,?,?,?,?)",
            (plan_id, revision, utc_text(at), action, author.name, author.reason),
        )

    def _write_sessions(self, plan: Plan, turnover: timedelta | None) -> None:
        """Insert or update every session of the plan. `held_until_utc` is the end plus the
        clinic's turnover: the chair is not free before it (PostgreSQL's exclusion
        constraint reads it); a consult room needs none. With no turnover given (marking
        attendance moves nothing), a session keeps the value it has."""
        rows = [
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
                None if turnover is None else utc_text(s.end if s.kind == CONSULTATION else s.end + turnover),
            )
            for s in plan.sessions
        ]
        # One statement for the whole plan: on a server that is one message, not one a session.
        values = ", ".join("(?,?,?,?,?,?,?,?,?,?)" for _ in rows)
        self.db.execute(
            "INSERT INTO sessions (plan_id, kind, number, of_n, clinic, start_utc, end_utc, resource, status, "
            f"held_until_utc) VALUES {values} ON CONFLICT (plan_id, kind, number) DO UPDATE SET "
            "of_n = excluded.of_n, clinic = excluded.clinic, start_utc = excluded.start_utc, "
            "end_utc = excluded.end_utc, resource = excluded.resource, status = excluded.status, "
            "held_until_utc = COALESCE(excluded.held_until_utc, sessions.held_until_utc)",
            [value for row in rows for value in row],
        )

    def update_plan(
        self,
        plan: Plan,
        expected_revision: int,
        action: str,
        at: datetime,
        turnover: timedelta | None = None,
        author: Author = UNNAMED,
    ) -> Plan:
        """Write a changed plan as the next revision made `at` (the command's clock, which
        a test or a re-run may set), refusing if someone changed it first. Read, then
        written, in one write transaction: no other writer can come between."""
        stamp = at.astimezone(UTC).replace(microsecond=0)
        new_revision = expected_revision + 1
        if self.db.one("SELECT revision FROM plans WHERE plan_id = ?", (plan.plan_id,)) != expected_revision:
            raise LedgerError(
                f"plan {plan.plan_id} was changed by someone else (now beyond revision {expected_revision}); "
                "show it again and redo your change",
                field="PLAN_ID",
            )
        self.db.execute(
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
        updated = plan._replace(revision=new_revision, stamp=stamp)
        self._write_sessions(updated, turnover)
        self._history(plan.plan_id, new_revision, stamp, action, author)
        return updated

    def record_gaps(self, plan_id: str, gaps: tuple[tuple[int, int], ...]) -> None:
        """Keep the longer gaps the coordinator allowed with the plan's request (its other
        fields, a batch row's own among them, unchanged)."""
        text = self.db.one("SELECT request FROM plans WHERE plan_id = ?", (plan_id,))
        doc = json.loads(str(text))
        doc["gaps"] = {str(n): days for n, days in gaps}
        self.db.execute("UPDATE plans SET request = ? WHERE plan_id = ?", (json.dumps(doc, sort_keys=True), plan_id))

    def load_plan(self, plan_id: str) -> tuple[Plan, Request]:
        row = self.db.execute(
            "SELECT plan_id, request_id, clinic, timezone, patient_name, patient_id, first_day, "
            "last_day, revision, stamp_utc, request FROM plans WHERE plan_id = ?",
            (plan_id.strip().upper(),),
        ).fetchone()
        if row is None:
            raise LedgerError(f"no plan {plan_id!r} in this ledger (see `ketaplan plans`)", field="PLAN_ID")
        pid, rid, clinic, tz, name, patient_id, first, last, revision, stamp, req = row
        zone = ZoneInfo(tz)
        sessions = tuple(
            _session(pid, (kind, number, of_n, s, e, res, status), zone)
            for kind, number, of_n, s, e, res, status in self.db.execute(
                "SELECT kind, number, of_n, start_utc, end_utc, resource, status FROM sessions "
                "WHERE plan_id = ? ORDER BY start_utc, kind",
                (pid,),
            )
        )
        columns = columns_of("history", self.schema)  # a ledger not yet upgraded: no authors
        history = tuple(
            Change(r, at, action, author, reason)
            for _, r, at, action, author, reason in self.db.execute(
                f"SELECT {columns} FROM history WHERE plan_id = ? ORDER BY revision", (pid,)
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
            self.contact_of(pid),
            json.loads(req).get("lang"),
        )
        return plan, request_from_json(req, patient, rid)

    def set_lang(self, plan_id: str, lang: str | None) -> None:
        """The language of the patient's papers, kept with the request (None: the clinic's)."""
        row = self.db.execute("SELECT request FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
        doc = json.loads(row[0])
        doc.pop("lang", None)
        if lang:
            doc["lang"] = lang
        self.db.execute("UPDATE plans SET request = ? WHERE plan_id = ?", (json.dumps(doc, sort_keys=True), plan_id))

    def upcoming_plan_ids(self, clinic: str, now: datetime, most: int) -> list[str]:
        """The plans with sessions still to come, soonest first: a walk along the start-time
        index that stops after `most` plans (a page of `plans` reads a few hundred rows)."""
        found: dict[str, None] = {}
        rows = self.db.execute(
            f"SELECT plan_id FROM sessions WHERE clinic = ? AND status IN {HELD_SQL} "
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
        for (plan_id,) in self.db.execute(
            "SELECT plan_id FROM plans WHERE clinic = ? ORDER BY last_day DESC, plan_id", (clinic,)
        ):
            if plan_id not in skip:
                found.append(plan_id)
                if len(found) >= most:
                    break
        return found

    def held_series(self, names: list[str], ids: list[str]) -> list[HeldSeries]:
        """Every plan still holding a session whose patient has one of these names or ids,
        with the days it holds (core.admission decides which of them a request meets); one
        query for a whole batch group."""
        if not names and not ids:
            return []
        where = []
        if ids:
            where.append(f"p.patient_id IN ({', '.join('?' for _ in ids)})")
        if names:
            where.append(f"p.patient_name IN ({', '.join('?' for _ in names)})")
        found = []
        for plan_id, name, patient_id, first, last, tz, lo, hi in self.db.execute(
            "SELECT p.plan_id, p.patient_name, p.patient_id, p.first_day, p.last_day, p.timezone, "
            f"MIN(s.start_utc), MAX(s.start_utc) FROM plans p JOIN sessions s ON s.plan_id = p.plan_id "
            f"AND s.status IN {HELD_SQL} WHERE ({' OR '.join(where)}) GROUP BY p.plan_id",
            [*ids, *names],
        ):
            zone = ZoneInfo(tz)
            first_day = min(date.fromisoformat(first), from_utc_text(lo, zone).date())
            last_day = max(date.fromisoformat(last), from_utc_text(hi, zone).date())
            found.append(HeldSeries(f"an active plan, {plan_id}", name, patient_id, first_day, last_day))
        return found

    def day_sessions(self, clinic: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[BookedSession]:
        """Every session of this clinic starting in [start, end), with its patient (the day
        sheet), its times in `zone`."""
        phone = "c.phone" if self.schema >= TABLE_SINCE["contacts"] else "NULL"
        joined = " LEFT JOIN contacts c USING (plan_id)" if phone != "NULL" else ""
        rows = self.db.execute(
            "SELECT s.plan_id, p.patient_name, p.patient_id, s.kind, s.number, s.of_n, s.start_utc, s.end_utc, "
            f"s.resource, s.status, {phone} FROM sessions s JOIN plans p USING (plan_id){joined} "
            "WHERE s.clinic = ? AND s.start_utc >= ? AND s.start_utc < ? ORDER BY s.start_utc, s.resource",
            (clinic, utc_text(start), utc_text(end)),
        )
        return [
            BookedSession(
                plan_id,
                Patient(name, patient_id),
                _session(plan_id, (kind, number, of, s, e, resource, status), zone),
                phone,
            )
            for plan_id, name, patient_id, kind, number, of, s, e, resource, status, phone in rows
        ]

    def taken_by(self, plan_id: str, kind: str, number: int) -> str | None:
        """Another plan holding this session's chair or room over its time (its own held
        time, turnover included, against theirs): a session that stopped holding its
        place (a no-show) may have lost it to someone else meanwhile."""
        row = self.db.execute(
            "SELECT o.plan_id FROM sessions s JOIN sessions o ON o.clinic = s.clinic AND o.resource = s.resource "
            f"AND o.plan_id != s.plan_id AND o.status IN {HELD_SQL} AND o.start_utc < COALESCE(s.held_until_utc, "
            "s.end_utc) AND COALESCE(o.held_until_utc, o.end_utc) > s.start_utc "
            "WHERE s.plan_id = ? AND s.kind = ? AND s.number = ? LIMIT 1",
            (plan_id, kind, number),
        ).fetchone()
        return str(row[0]) if row else None

    def revision_of(self, plan_id: str) -> int | None:
        row = self.db.execute("SELECT revision FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
        return int(row[0]) if row else None

    def plan_ids_holding(self, clinic: str) -> list[str]:
        """Every plan of the clinic with a session booked or attended, in id order."""
        rows = self.db.execute(
            f"SELECT DISTINCT plan_id FROM sessions WHERE clinic = ? AND status IN {HELD_SQL} ORDER BY plan_id",
            (clinic,),
        )
        return [str(r[0]) for r in rows]

    def count_plans(self, clinic: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM plans WHERE clinic = ?", (clinic,)).fetchone()[0])

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
            # CASE, not SUM(condition): PostgreSQL sums no booleans
            "SUM(CASE WHEN s.status = 'attended' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN s.status = 'no_show' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN s.status = 'cancelled' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN s.status = 'booked' AND s.start_utc > :now THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN s.status = 'booked' AND s.start_utc <= :now THEN 1 ELSE 0 END), "
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
            sql += " AND (LOWER(p.patient_name) LIKE :patient OR LOWER(p.patient_id) LIKE :patient)"
            args["patient"] = f"%{patient.lower()}%"  # both back ends: case-insensitive
        if since:
            sql += " AND p.last_day >= :since"
            args["since"] = since.isoformat()
        if until:
            sql += " AND p.first_day <= :until"
            args["until"] = until.isoformat()
        sql += " GROUP BY p.plan_id"
        return [PlanSummary(*row) for row in self.db.execute(sql, args)]


def _session(plan_id: str, row: tuple[Any, ...], zone: ZoneInfo) -> Session:
    """A session row (kind, number, of, start, end, resource, status) as a Session; a row
    changed by hand (a time or status ketaplan never writes) is named, never a traceback."""
    kind, number, of, start, end, resource, status = row
    where = f"{plan_id} {kind} {number}"
    if kind not in KINDS:
        damaged(where, f"its kind {str(kind)[:20]!r} is not one ketaplan writes")
    if not (isinstance(number, int) and isinstance(of, int) and 1 <= number <= of <= 1000):
        damaged(where, f"it is numbered {number} of {of}")
    begins, ends = from_utc_text(start, zone, where), from_utc_text(end, zone, where)
    return Session(kind, number, of, begins, ends, resource, check_status(status, where))


#: The kinds a plan's session rows hold.
KINDS = frozenset({"consultation", "infusion", "maintenance"})


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

    def begin(self) -> bool:
        return self.db.begin_write()

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()
