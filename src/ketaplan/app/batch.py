"""Planning many requests in one process: one in-memory view of availability, bookings
committed in groups, idempotent by request id, resumable after a kill.

Each request is planned against everything booked before it (file order). A group of
plans is booked in one transaction; a plan is never half-booked. Results for a group are
reported only after it commits, so what a script has read is what the ledger holds."""

from __future__ import annotations

import hashlib
import json
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
from ketaplan.core.model import Patient, Plan, Request
from ketaplan.core.requests import build_request
from ketaplan.core.span import MAX_BOOSTERS, planning_span
from ketaplan.formats.batch_file import Row
from ketaplan.store.ledger import CONFLICT_RETRIES, BatchTx, Ledger, LedgerConflict, new_plan_id

GROUP = 200  # plans per transaction: few fsyncs, short lock holds


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


def asked_fields(row: Row) -> dict[str, str | None]:
    """What a row asks for, as text, to tell a re-run of the same request (same answer)
    from a request_id reused for a different one (refused). Written with the plan."""
    assert row.fields is not None
    out: dict[str, str | None] = {}
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


def run(
    clinic: Clinic,
    ledger: Ledger,
    rows: Iterator[Row],
    *,
    today: date,
    span: tuple[datetime, datetime],
    dry_run: bool,
    emit: Callable[[Outcome], None],
    suggest: bool = False,
    allow_overlap: bool = False,
) -> dict[str, int]:
    counts = {"ok": 0, "existing": 0, "infeasible": 0, "error": 0}
    with ledger.batch() as tx:
        run = _Run(clinic, tx, span, today=today, dry_run=dry_run, suggest=suggest, allow_overlap=allow_overlap)
        group: list[Row] = []
        for row in rows:
            group.append(row)
            if len(group) >= GROUP:
                run.book_group(group, counts, emit)
                group = []
        if group:
            run.book_group(group, counts, emit)
    return counts


class _Run:
    """One batch's state across its groups: the in-memory view of the chairs and the
    requests booked (or, in a dry run, planned) so far."""

    def __init__(
        self,
        clinic: Clinic,
        tx: BatchTx,
        span: tuple[datetime, datetime],
        *,
        today: date,
        dry_run: bool,
        suggest: bool,
        allow_overlap: bool,
    ) -> None:
        self.clinic, self.tx, self.span, self.today = clinic, tx, span, today
        self.dry_run, self.suggest, self.allow_overlap = dry_run, suggest, allow_overlap
        self.avail: Availability | None = None
        self.seen = Seen()
        self.booked: dict[str, tuple[str, dict[str, str | None] | None]] = {}  # request id -> plan, its fields
        self.ids: list[str] = []  # unused plan ids for this group
        self.held: Held | None = None  # the group's patients' plans in the ledger

    def book_group(self, group: list[Row], counts: dict[str, int], emit: Callable[[Outcome], None]) -> None:
        """Plan and book a group in one transaction. Its outcomes are told only after it
        commits; when the database refuses it (another writer took a chair it chose), it
        is planned again on the new state, a few times."""
        for attempt in range(CONFLICT_RETRIES + 1):
            # The view is built (or rebuilt, when another writer committed since our last
            # group) only once the write lock is held: whatever it shows stays true until
            # this group commits, so no row is planned on stale chairs.
            if self.tx.begin() or self.avail is None or attempt:
                self.avail = ledger_view(self.tx, self.clinic, self.span)
                if self.dry_run:  # a dry run's plans are in memory only: keep them taken
                    for plan in self.seen.plans():
                        self.avail.book(plan.sessions)
            before = self.seen.copy()
            # What the ledger knows of the group's rows, asked once for all of them (on a
            # server, each question is a round trip)
            keys = [k for k in map(request_key, group) if k is not None]
            self.booked = self.tx.plans_for_requests(keys)
            self.ids = [] if self.dry_run else self.tx.unique_plan_ids(len(group))
            self.held = Held(self.tx, group) if not self.allow_overlap else None
            outcomes = [self._one(row) for row in group]
            if self.dry_run:
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

    def _one(self, row: Row) -> Outcome:
        assert self.avail is not None
        return _one(
            self.clinic,
            self.tx,
            self.avail,
            row,
            today=self.today,
            dry_run=self.dry_run,
            seen=self.seen,
            booked=self.booked,
            ids=self.ids,
            held=self.held,
            suggest=self.suggest,
            allow_overlap=self.allow_overlap,
        )


class Admitted(NamedTuple):
    """A row that passed everything but planning: its idempotency key, its fields as
    asked, and the request."""

    key: str
    asked: dict[str, str | None]
    request: Request


def admit(
    clinic: Clinic,
    tx: BatchTx,
    avail: Availability,
    row: Row,
    *,
    today: date,
    seen: Seen,
    booked: dict[str, tuple[str, dict[str, str | None] | None]],
    held: Held | None,
    allow_overlap: bool,
) -> Outcome | Admitted:
    """A row's answer when it needs no planning (a bad row, a request booked before, a
    patient with a plan over these days), else the request to plan."""
    if row.error is not None or row.fields is None:
        err = row.error or InputError("unreadable row")
        return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=err)
    key = request_key(row)
    assert key is not None
    asked = asked_fields(row)
    earlier = seen.get(key)
    if earlier is not None:
        plan, asked_then = earlier
        if asked_then != asked:
            return _reused(row, plan.plan_id, asked_then, asked)
        return Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=plan, existing=True)
    before = booked.get(key)
    if before is not None:
        plan_id, stored = before
        if stored is not None and stored != asked:  # None: booked by a ketaplan that kept no fields
            return _reused(row, plan_id, stored, asked)
        plan, _ = tx.load_plan(plan_id)
        return Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=plan, existing=True)
    try:
        request = build_request(row.fields, clinic, today)._replace(request_id=key)
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
    if not allow_overlap:
        try:
            if held is not None and held.knows(request):
                admission.refuse_overlap(request, clinic.protocol, held.series)  # the ledger as the group began ...
            else:
                refuse_overlap(tx, clinic, request)
            admission.refuse_overlap(request, clinic.protocol, seen.series(request.patient))  # ... and this run
        except InputError as e:
            return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=e)
    return Admitted(key, asked, request)


def _one(
    clinic: Clinic,
    tx: BatchTx,
    avail: Availability,
    row: Row,
    *,
    today: date,
    dry_run: bool,
    seen: Seen,
    booked: dict[str, tuple[str, dict[str, str | None] | None]],
    ids: list[str],
    held: Held | None,
    suggest: bool,
    allow_overlap: bool,
) -> Outcome:
    admitted = admit(
        clinic, tx, avail, row, today=today, seen=seen, booked=booked, held=held, allow_overlap=allow_overlap
    )
    if isinstance(admitted, Outcome):
        return admitted
    key, asked, request = admitted
    stamp = datetime.now(UTC).replace(microsecond=0)
    try:
        plan, results = plan_one(
            clinic, request, avail, new_plan_id() if dry_run else ids.pop(), stamp, suggestions=suggest
        )
    except NoPlanError as error:
        return Outcome(row.line, row.request_id, "infeasible", ExitCode.NO_PLAN, error=error)
    if not dry_run:
        plan = book_plan(tx, clinic, plan, request, asked)
    avail.book(plan.sessions)
    seen.add(key, plan, asked)
    return Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=plan, checks=results)


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
        self._by_key: dict[str, tuple[Plan, dict[str, str | None]]] = {}
        self._by_patient: dict[tuple[str, str], list[admission.HeldSeries]] = {}

    def get(self, key: str) -> tuple[Plan, dict[str, str | None]] | None:
        return self._by_key.get(key)

    def add(self, key: str, plan: Plan, asked: dict[str, str | None]) -> None:
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


def _reused(row: Row, plan_id: str, before: dict[str, str | None], asked: dict[str, str | None]) -> Outcome:
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
