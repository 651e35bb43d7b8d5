"""`batch --optimize`: every row of the file planned together, booking as many requests as
can all be planned at once (README, "Batch planning: --optimize").

1. Each row is admitted as in first-come batch (bad rows, requests booked before, a
   patient already planned over those days are answered without planning).
2. A request with no plan even alone is answered as first-come batch answers it.
3. The others go into one model of days (core.days) that HiGHS solves: the most
   requests first; once no answer can plan more, the time left goes to ties (higher
   `priority`, then earlier lines).
4. Each day's sessions are placed exactly (core.joint on that day: times, then named
   chairs); a day that cannot hold them is cut from the day model, which is solved again.
5. In that order of preference, each chosen request gets the plan the planner would give
   it with every other chosen plan held, so plans keep the planner's preferences (same
   clock time, even spacing, earliest end) and pass every named check; the planner is
   complete, and the solver's own sessions for it are free then, so it always finds one.
6. A request left out that still fits (the solver stopped before proving its answer) is
   planned as first-come would; the others are answered "no plan", naming the rows they
   compete with, with suggestions checked against all the plans made.

Steps 1-6 work on a snapshot of the ledger, without the write lock, so the desks book on
while it solves (`--time-limit` for the whole run, `--tie-limit` for the ties once the
count is proven). Booking takes the lock and checks the answer against the ledger as it
is then: plans that clash with what other desks booked meanwhile are planned again,
first come, so nothing is ever overbooked (`_as_it_is_now`)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from ketaplan.app.batch import Admitted, Held, Known, Outcome, Seen, Settings, admit, request_key
from ketaplan.app.booking import book_plan, refuse_overlap
from ketaplan.app.solving import TIE_LIMIT, Budget, Summary, solve
from ketaplan.app.views import as_it_stands
from ketaplan.core import admission, joint
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.errors import ExitCode, InputError
from ketaplan.core.model import Booking, Plan, Request, Session
from ketaplan.core.planner import PlanCheckFailed, plan_with_checks, verify
from ketaplan.core.protocol import Protocol
from ketaplan.formats.batch_file import Row
from ketaplan.store.ledger import BatchTx, Ledger, new_plan_id


def run(
    settings: Settings,
    ledger: Ledger,
    rows: Iterator[Row],
    emit: Callable[[Outcome], None],
    *,
    time_limit: float,
    gap: float,
    tie_limit: float = TIE_LIMIT,
    solver: str = "highs",
    log: bool = False,
    say: Callable[[str], None] = lambda text: None,
) -> tuple[dict[str, int], Summary]:
    deadline = time.monotonic() + time_limit  # the model's building counts too
    clinic, span, dry_run, suggest, allow_overlap = (
        settings.clinic, settings.span, settings.dry_run, settings.suggest, settings.allow_overlap
    )  # fmt: skip
    all_rows = list(rows)
    with ledger.batch() as tx:
        # 1. A snapshot, read without the write lock: the desks book on while this solves.
        tx.db.begin_read()
        # The clinic as it stands: its file and the closures recorded in the ledger.
        file_clinic, clinic = settings.clinic, as_it_stands(tx, settings.clinic)
        settings = settings._replace(clinic=clinic)
        base = tx.bookings(clinic.name, *span, clinic.zone)
        avail = Availability(clinic, base, span=span)
        booked = tx.plans_for_requests([k for k in map(request_key, all_rows) if k is not None])
        known = Known(Seen(), booked, None if allow_overlap else Held(tx, all_rows))
        answers: dict[int, Outcome] = {}
        followers: dict[int, int] = {}  # a row repeating an earlier row's request
        admitted: dict[int, Admitted] = {}
        for i, row in enumerate(all_rows):
            a = admit(settings, tx, avail, row, known)
            if isinstance(a, Outcome):
                answers[i] = a
                continue
            same = next((j for j, b in admitted.items() if b.key == a.key), None)
            if same is not None:
                if admitted[same].asked != a.asked:
                    answers[i] = _error(
                        row, f"{row.request_id!r} was asked on line {all_rows[same].line} with other values"
                    )
                else:
                    followers[i] = same
                continue
            clash = None if allow_overlap else _same_patient(a.request, clinic.protocol, admitted, all_rows)
            if clash is not None:
                answers[i] = Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=clash)
                continue
            admitted[i] = a
        if tx.db.in_transaction:  # the snapshot is in memory: let go of the database
            tx.rollback()
        chains: dict[int, list[joint.Element]] = {}
        for i, a in admitted.items():
            found = joint.chain(clinic, a.request, avail)
            if found is None:
                answers[i] = _no_plan(clinic, all_rows[i], a.request, avail, suggest, None)
            else:
                chains[i] = found
        order = sorted(chains, key=lambda i: (-all_rows[i].priority, i))  # preference: priority, then line
        say(f"planning {len(order)} requests together (of {len(all_rows)} rows); solver time limit {time_limit:g} s")
        first_come = _first_come(clinic, base, span, [admitted[i].request for i in order])
        witness, summary = solve(
            clinic, avail, [chains[i] for i in order], first_come, Budget(deadline, tie_limit, solver), gap, log, say
        )
        # 2. The plans, still on the snapshot (ids are made unique when booked)
        ids = {i: new_plan_id() for i in order}
        stamp = (settings.now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        chosen = {order[r]: w for r, w in witness.items()}
        finals = _final_plans(clinic, base, span, chosen, admitted, ids, stamp)
        late = _fill_left_out(clinic, base, span, finals, [i for i in order if i not in finals], admitted, ids, stamp)
        finals.update(late)
        if not dry_run:
            # 3. Booked under the write lock, against the ledger as it is now
            tx.begin()
            before = len(finals)
            now_clinic = as_it_stands(tx, file_clinic)  # closures recorded meanwhile count too
            closed = now_clinic.ledger_closures != clinic.ledger_closures
            clinic, settings = now_clinic, settings._replace(clinic=now_clinic)
            base, finals = _as_it_is_now(tx, settings, all_rows, admitted, finals, base, answers, stamp, say, closed)
            summary = summary._replace(displaced=before - len(finals) - sum(i in answers for i in order))
            fresh = iter(tx.unique_plan_ids(len(finals)))
            finals = {i: _renamed(p, next(fresh)) for i, p in finals.items()}
        everything = Availability(clinic, base + _bookings(finals.values()), span=span)
        for i in order:
            if i in answers:  # booked meanwhile, or no longer admitted (_as_it_is_now)
                continue
            row, request = all_rows[i], admitted[i].request
            if i in finals:
                others = Availability(clinic, base + _bookings(p for q, p in finals.items() if q != i), span=span)
                plan, results = (
                    finals[i]._replace(contact=row.contact, lang=row.lang),
                    verify(finals[i], clinic, request, others),
                )
                if not dry_run:
                    plan = book_plan(tx, clinic, plan, request, admitted[i].asked, settings.author)
                answers[i] = Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan, results)
            else:
                answers[i] = _no_plan(clinic, row, request, everything, suggest, _rivals(request, finals, all_rows))
        if not dry_run:
            tx.commit()
    counts = {"ok": 0, "existing": 0, "infeasible": 0, "error": 0}
    for i, row in enumerate(all_rows):
        outcome = answers.get(i)
        if outcome is None:  # a repeated request: the first row's answer
            first = answers[followers[i]]
            outcome = first._replace(line=row.line, request_id=row.request_id, existing=first.plan is not None)
        counts["existing" if outcome.existing else outcome.status] += 1
        emit(outcome)
    planned = sum(1 for i in order if i in finals and answers[i].status == "ok" and not answers[i].existing)
    bound = max(summary.bound - summary.displaced, planned)
    return counts, summary._replace(planned=planned, bound=bound)


def _renamed(plan: Plan, plan_id: str) -> Plan:
    return plan._replace(plan_id=plan_id)


def _as_it_is_now(
    tx: BatchTx,
    settings: Settings,
    all_rows: list[Row],
    admitted: dict[int, Admitted],
    finals: dict[int, Plan],
    base: list[Booking],
    answers: dict[int, Outcome],
    stamp: datetime,
    say: Callable[[str], None],
    closed: bool = False,
) -> tuple[list[Booking], dict[int, Plan]]:
    """The answer, checked against the ledger as it is under the write lock (`closed`: the
    clinic's recorded closures changed meanwhile). When another desk wrote while the
    solver ran: a request booked meanwhile is answered as booked, a
    patient given a series meanwhile is refused as first come would, and each plan that
    now clashes is planned again, first come, around everything booked (never an
    overbooking: what is booked is checked against the ledger as it is now)."""
    clinic, span = settings.clinic, settings.span
    now_base = tx.bookings(clinic.name, *span, clinic.zone)
    if Counter(now_base) == Counter(base) and not closed:
        return base, finals
    booked = tx.plans_for_requests([admitted[i].key for i in finals])
    kept: dict[int, Plan] = {}
    replanned = lost = 0
    for i, plan in finals.items():  # in order of preference
        row, request = all_rows[i], admitted[i].request
        if admitted[i].key in booked:  # another desk ran this request meanwhile
            old, _ = tx.load_plan(booked[admitted[i].key][0])
            answers[i] = Outcome(row.line, row.request_id, "ok", ExitCode.OK, plan=old, existing=True)
            continue
        if not settings.allow_overlap:
            try:
                refuse_overlap(tx, clinic, request)
            except InputError as e:
                answers[i] = Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=e)
                continue
        avail = Availability(clinic, now_base + _bookings(kept.values()), span=span)
        try:
            verify(plan, clinic, request, avail)
            kept[i] = plan
            continue
        except PlanCheckFailed:
            pass
        found = plan_with_checks(clinic, request, avail, plan_id=plan.plan_id, stamp=stamp)
        if found is not None:
            kept[i], replanned = found[0], replanned + 1
        else:
            lost += 1
    say(
        f"another desk {'closed hours or booked' if closed else 'booked'} while the solver ran: "
        f"{replanned} plans made again around it"
        + (f", {lost} request{'s' if lost != 1 else ''} no longer fit" if lost else "")
    )
    return now_base, kept


def _first_come(
    clinic: Clinic, base: list[Booking], span: tuple[datetime, datetime], requests: list[Request]
) -> dict[int, list[Session]]:
    """What first-come planning books, in the same order: a first answer for the solver."""
    avail = Availability(clinic, base, span=span)
    out: dict[int, list[Session]] = {}
    for r, request in enumerate(requests):
        found = plan_with_checks(clinic, request, avail)
        if found is not None:
            avail.book(found[0].sessions)
            out[r] = list(found[0].sessions)
    return out


def _bookings(plans: Iterable[Plan]) -> list[Booking]:
    return [Booking(s.start, s.end, s.resource, s.kind, p.plan_id) for p in plans for s in p.sessions if s.active]


def _final_plans(
    clinic: Clinic,
    base: list[Booking],
    span: tuple[datetime, datetime],
    witness: dict[int, list[Session]],
    admitted: dict[int, Admitted],
    ids: dict[int, str],
    stamp: datetime,
) -> dict[int, Plan]:
    """Step 5: in order of preference (the dict's order), each request's planner plan with
    every other chosen request held (planned already, or the solver's sessions)."""
    finals: dict[int, Plan] = {}
    for i, own in witness.items():
        request = admitted[i].request
        waiting = [
            Booking(s.start, s.end, s.resource, s.kind, ids[q])
            for q, sessions in witness.items()
            if q != i and q not in finals
            for s in sessions
        ]
        avail = Availability(clinic, base + _bookings(finals.values()) + waiting, span=span)
        found = plan_with_checks(clinic, request, avail, plan_id=ids[i], stamp=stamp)
        if found is None:  # cannot be (see the module's step 5); the solver's sessions, checked
            plan = Plan(
                ids[i],
                request.patient,
                clinic.name,
                clinic.timezone,
                request.first_day,
                request.last_day,
                tuple(sorted(own, key=lambda s: s.start)),
                stamp=stamp,
                request_id=request.request_id,
            )
            verify(plan, clinic, request, avail)
        else:
            plan = found[0]
        finals[i] = plan
    return finals


def _fill_left_out(
    clinic: Clinic,
    base: list[Booking],
    span: tuple[datetime, datetime],
    finals: dict[int, Plan],
    left: list[int],
    admitted: dict[int, Admitted],
    ids: dict[int, str],
    stamp: datetime,
) -> dict[int, Plan]:
    """Step 6: a request left out that still fits, planned first-come (only when the
    solver stopped before proving its answer)."""
    late: dict[int, Plan] = {}
    for i in left:
        avail = Availability(clinic, base + _bookings([*finals.values(), *late.values()]), span=span)
        found = plan_with_checks(clinic, admitted[i].request, avail, plan_id=ids[i], stamp=stamp)
        if found is not None:
            late[i] = found[0]
    return late


def _rivals(request: Request, finals: dict[int, Plan], rows: list[Row]) -> list[int]:
    """Lines of the planned rows with infusions on this request's days."""
    out = []
    for i, plan in finals.items():
        for s in plan.infusions:  # sessions are in the clinic's zone
            if request.first_day <= s.start.date() <= request.last_day:
                out.append(rows[i].line)
                break
    return sorted(out)


def _no_plan(
    clinic: Clinic, row: Row, request: Request, avail: Availability, suggest: bool, rivals: list[int] | None
) -> Outcome:
    from ketaplan.core.diagnosis import no_plan_error

    error = no_plan_error(clinic, request, avail, suggestions=suggest)
    if rivals is not None:
        lines = ", ".join(str(n) for n in rivals[:8]) + (" ..." if len(rivals) > 8 else "")
        error.explanation.insert(
            0,
            "left out to plan the most requests of the file together: it competes for the same chairs "
            f"and days with the rows on lines {lines}"
            if rivals
            else "left out to plan the most requests of the file together",
        )
    return Outcome(row.line, row.request_id, "infeasible", ExitCode.NO_PLAN, error=error)


def _error(row: Row, text: str) -> Outcome:
    return Outcome(row.line, row.request_id, "error", ExitCode.INVALID, error=InputError(text, field="request_id"))


def _same_patient(
    request: Request, protocol: Protocol, admitted: dict[int, Admitted], rows: list[Row]
) -> InputError | None:
    """A second request of one patient over the same days, earlier in the file."""
    earlier = (
        admission.series_of_request(a.request, protocol, f"a request on line {rows[j].line}")
        for j, a in admitted.items()
    )
    try:
        admission.refuse_overlap(request, protocol, earlier)
    except InputError as e:
        return e
    return None
