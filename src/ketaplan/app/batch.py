"""Planning many requests in one process: one in-memory view of availability, bookings
committed in groups, idempotent by request id, resumable after a kill.

Each request is planned against everything booked before it (file order). A group of
plans is booked in one transaction; a plan is never half-booked. Results for a group are
reported only after it commits, so what a script has read is what the ledger holds."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from ketaplan.app.booking import book_plan, plan_one, refuse_overlap
from ketaplan.app.views import ledger_view
from ketaplan.core import admission
from ketaplan.core.availability import Availability
from ketaplan.core.checks import CheckResult
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import parse_near
from ketaplan.core.errors import ExitCode, InputError, KetaplanError, NoPlanError
from ketaplan.core.model import UNNAMED, Author, Patient, Plan, Request
from ketaplan.core.requests import build_request
from ketaplan.core.span import MAX_BOOSTERS, planning_span
from ketaplan.formats.batch_file import Row
from ketaplan.store.ledger import CONFLICT_RETRIES, BatchTx, Ledger, LedgerConflict, new_plan_id
from ketaplan.store.records import Asked

GROUP = 200  # plans per transaction: few fsyncs, short lock holds
#: Seconds a group may hold the write lock: a group of slow rows (suggestions, a crowded
#: calendar) commits early, so a desk waiting to book waits about this long, not a group.
GROUP_SECONDS = 1.0


class Outcome(NamedTuple):
    line: int
    request_id: str | None
    status: str  # ok | infeasible | error
    exit_code: int
    plan: Plan | None = None
    checks: list[CheckResult] = []
    existing: bool = False
    error: KetaplanError | None = None


def request_key(row: Row) -> str | None:
    """The idempotency key: the row's request_id, else a digest of what it asks for."""
    if row.request_id:
        return row.request_id
    if row.fields is None:
        return None
    f = row.fields._asdict()
    f.pop("allow_past", None)
    return "auto-" + hashlib.sha256(json.dumps(f, sort_keys=True, default=str).encode()).hexdigest()[:24]


def asked_fields(row: Row) -> Asked:
    """What a row asks for, as text, to tell a re-run of the same request (same answer)
    from a request_id reused for a different one (refused). Written with the plan."""
    assert row.fields is not None
    out: Asked = {}
    for name, value in row.fields._asdict().items():
        if name in ("allow_past", "request_id"):
            continue
        text = None if value is None else str(value).strip()
        if name == "maintenance" and not text:
            text = "0"  # an empty cell and no column both mean no boosters
        if name in ("days", "unavailable") and text:  # "Mon, Wed" in CSV = ["mon","wed"] in JSON
            text = ",".join(x.strip() for x in text.lower().split(",") if x.strip())
        out[name] = text or None
    return out


def batch_span(clinic: Clinic, starts: Iterable[str], today: date) -> tuple[datetime, datetime]:
    """The stretch of calendar all requests can touch, from their start dates."""
    days = []
    for s in starts:
        try:
            days.append(parse_near(s, today=today, field="start"))
        except InputError:
            pass  # reported on its row
    first, last = (min(days), max(days)) if days else (today, today)
    return planning_span(clinic, first, last + timedelta(days=clinic.protocol.window_days[1] - 1), MAX_BOOSTERS)


class Settings(NamedTuple):
    """What a whole batch run is asked to do (first come or --optimize alike)."""

    clinic: Clinic
    today: date
    span: tuple[datetime, datetime]  # the calendar the file's requests can touch (batch_span)
    dry_run: bool = False
    suggest: bool = False  # suggestions for rows with no plan (slow on big files)
    allow_overlap: bool = False
    now: datetime | None = None  # the run's clock (KETAPLAN_NOW); None: the real one
    author: Author = UNNAMED  # who runs the batch (--by), recorded with each plan


Booked = dict[str, tuple[str, Asked | None]]  # request id -> its plan, the fields it was booked from


class Known(NamedTuple):
    """What a row is admitted against: the run's own plans, the ledger's plans of the
    group's request ids, and the ledger's series of the group's patients."""

    seen: Seen
    booked: Booked
    held: Held | None


def run(settings: Settings, ledger: Ledger, rows: Iterator[Row], emit: Callable[[Outcome], None]) -> dict[str, int]:
    counts = {"ok": 0, "existing": 0, "infeasible": 0, "error": 0}
    with ledger.batch() as tx:
        run = _Run(settings, tx)
        group: list[Row] = []
        for row in rows:
            group.append(row)
            while len(group) >= GROUP:  # a group that ran out of time leaves the rest for the next
                group = group[run.book_group(group, counts, emit) :]
        while group:
            group = group[run.book_group(group, counts, emit) :]
    return counts


class _Run:
    """One batch's state across its groups: the in-memory view of the chairs and the
    requests booked (or, in a dry run, planned) so far."""

    def __init__(self, settings: Settings, tx: BatchTx) -> None:
        self.settings, self.tx = settings, tx
        self.avail: Availability | None = None
        self.seen = Seen()

    def book_group(self, group: list[Row], counts: dict[str, int], emit: Callable[[Outcome], None]) -> int:
        """Plan and book the first rows of `group` in one transaction, as many as GROUP_SECONDS
        allows (one at least); returns how many. Their outcomes are told only after it
        commits; when the database refuses it (another writer took a chair it chose), it
        is planned again on the new state, a few times."""
        s = self.settings
        for attempt in range(CONFLICT_RETRIES + 1):
            # The view is built (or rebuilt, when another writer committed since our last
            # group) only once the write lock is held: whatever it shows stays true until
            # this group commits, so no row is planned on stale chairs.
            if self.tx.begin() or self.avail is None or attempt:
                self.avail = ledger_view(self.tx, s.clinic, s.span)
                if s.dry_run:  # a dry run's plans are in memory only: keep them taken
                    for plan in self.seen.plans():
                        self.avail.book(plan.sessions)
            before = self.seen.copy()
            # What the ledger knows of the group's rows, asked once for all of them (on a
            # server, each question is a round trip)
            keys = [k for k in map(request_key, group) if k is not None]
            known = Known(
                self.seen, self.tx.plans_for_requests(keys), Held(self.tx, group) if not s.allow_overlap else None
            )
            ids = [] if s.dry_run else self.tx.unique_plan_ids(len(group))  # unused plan ids for the group
            outcomes: list[Outcome] = []
            until = time.monotonic() + GROUP_SECONDS
            for row in group:
                outcomes.append(self._one(row, known, ids))
                if time.monotonic() > until:
                    break
            if s.dry_run:
                self.tx.rollback()
                break
            try:
                self.tx.commit()
                break
            except LedgerConflict:
                self.seen = before  # nothing of the group was booked
                if attempt == CONFLICT_RETRIES:
                    raise
        for outcome in outcomes:
            counts["existing" if outcome.existing else outcome.status] += 1
            emit(outcome)
        return len(outcomes)

    def _one(self, row: Row, known: Known, ids: list[str]) -> Outcome:
        s, avail = self.settings, self.avail
        assert avail is not None
        admitted = admit(s, self.tx, avail, row, known)
        if isinstance(admitted, Outcome):
            return admitted
        key, asked, request = admitted
        stamp = (s.now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        plan_id = new_plan_id() if s.dry_run else ids.pop()
        try:
            plan, results = plan_one(s.clinic, request, avail, plan_id, stamp, suggestions=s.suggest)
        except NoPlanError as error:
            return Outcome(row.line, row.request_id, "infeasible", ExitCode.NO_PLAN, error=error)
        plan = plan._replace(contact=row.contact, lang=row.lang)
        if not s.dry_run:
            plan = book_plan(self.tx, s.clinic, plan, request, asked, s.author)
        avail.book(plan.sessions)
        self.seen.add(key, plan, asked)
        return Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=plan, checks=results)


class Admitted(NamedTuple):
    """A row that passed everything but planning: its idempotency key, its fields as
    asked, and the request."""

    key: str
    asked: Asked
    request: Request


def admit(settings: Settings, tx: BatchTx, avail: Availability, row: Row, known: Known) -> Outcome | Admitted:
    """A row's answer when it needs no planning (a bad row, a request booked before, a
    patient with a plan over these days), else the request to plan."""
    clinic = settings.clinic
    if row.error is not None or row.fields is None:
        err = row.error or InputError("unreadable row")
        return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=err)
    key = request_key(row)
    assert key is not None
    asked = asked_fields(row)
    earlier = known.seen.get(key)
    if earlier is not None:
        plan, asked_then = earlier
        if asked_then != asked:
            return _reused(row, plan.plan_id, asked_then, asked)
        return Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=plan, existing=True)
    before = known.booked.get(key)
    if before is not None:
        plan_id, stored = before
        if stored is not None and stored != asked:  # None: booked by a ketaplan that kept no fields
            return _reused(row, plan_id, stored, asked)
        plan, _ = tx.load_plan(plan_id)
        return Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=plan, existing=True)
    try:
        now = settings.now or datetime.now(clinic.zone)  # the minimum notice counts from now
        request = build_request(row.fields, clinic, settings.today, now)._replace(request_id=key)
    except InputError as e:
        return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=e)
    if request.first_day < avail_first(avail) or request.last_day > avail_last(avail):
        return Outcome(
            row.line,
            row.request_id,
            "error",
            ExitCode.INVALID,
            error=InputError("outside the batch's planning span", field="start"),
        )
    if not settings.allow_overlap:
        held, protocol = known.held, clinic.protocol
        try:
            if held is not None and held.knows(request):
                admission.refuse_overlap(request, protocol, held.series)  # the ledger as the group began ...
            else:
                refuse_overlap(tx, clinic, request)
            admission.refuse_overlap(request, protocol, known.seen.series(request.patient))  # ... and this run
        except InputError as e:
            return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=e)
    return Admitted(key, asked, request)


class Held:
    """The series still held by a group's patients, read in one query as the group begins
    (a query a row would be a round trip a row on a server). A row whose patient the
    query did not ask about (its name reads differently once cleaned) asks on its own."""

    def __init__(self, tx: BatchTx, group: list[Row]) -> None:
        fields = [r.fields for r in group if r.fields is not None]
        self.ids = sorted({f.patient_id.strip() for f in fields if f.patient_id and f.patient_id.strip()})
        self.names = sorted({f.patient.strip() for f in fields if f.patient and f.patient.strip()})
        self.series = tx.held_series(self.names, self.ids)

    def knows(self, request: Request) -> bool:
        who = request.patient
        return who.id in self.ids if who.id else who.name in self.names


class Seen:
    """The requests this run has booked (or, in a dry run, planned): by idempotency key,
    and the series each holds by patient, so a row meets only its own patient's."""

    def __init__(self) -> None:
        self._by_key: dict[str, tuple[Plan, Asked]] = {}
        self._by_patient: dict[tuple[str, str], list[admission.HeldSeries]] = {}

    def get(self, key: str) -> tuple[Plan, Asked] | None:
        return self._by_key.get(key)

    def add(self, key: str, plan: Plan, asked: Asked) -> None:
        self._by_key[key] = (plan, asked)
        series = admission.series_of_plan(plan, f"a plan, {plan.plan_id}, earlier in this file")
        if series is None:
            return
        who = plan.patient
        # A request with a patient id meets plans with that id, one without meets plans
        # by exact name whatever their id (admission.same_patient): indexed both ways.
        for index in (("name", who.name), ("id", who.id)) if who.id else (("name", who.name),):
            self._by_patient.setdefault(index, []).append(series)

    def series(self, who: Patient) -> list[admission.HeldSeries]:
        return self._by_patient.get(("id", who.id) if who.id else ("name", who.name), [])

    def plans(self) -> Iterator[Plan]:
        return (plan for plan, _ in self._by_key.values())

    def copy(self) -> Seen:
        out = Seen()
        out._by_key = dict(self._by_key)
        out._by_patient = {k: list(v) for k, v in self._by_patient.items()}
        return out


def _reused(row: Row, plan_id: str, before: Asked, asked: Asked) -> Outcome:
    """A request_id booked before for something else: booking again would double-book the
    patient, answering with the old plan would hide the change. Names fields, not values."""
    changed = ", ".join(name for name in asked if asked.get(name) != before.get(name))
    error = InputError(
        f"{row.request_id!r} was booked as {plan_id} from different values ({changed}); "
        f"use a new request_id, or change {plan_id} with `ketaplan reschedule` or `ketaplan cancel`",
        field="request_id",
    )
    return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=error)


def avail_first(avail: Availability) -> date:
    return avail.span[0].astimezone(avail.zone).date() if avail.span else date.min


def avail_last(avail: Availability) -> date:
    return avail.span[1].astimezone(avail.zone).date() if avail.span else date.max
