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

The whole file is one transaction, holding the ledger's write lock while it solves
(`--time-limit`): what was planned against is what is booked."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from ketaplan.app.batch import Admitted, Held, Known, Outcome, Seen, Settings, admit, request_key
from ketaplan.app.booking import book_plan, refuse_overlap
from ketaplan.core import admission, days, joint
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.errors import ExitCode, InputError
from ketaplan.core.model import Booking, Plan, Request, Session
from ketaplan.core.planner import PlanCheckFailed, plan_with_checks, verify
from ketaplan.core.protocol import Protocol
from ketaplan.formats.batch_file import Row
from ketaplan.store.ledger import BatchTx, Ledger, new_plan_id

MAX_ROUNDS = 50  # solves with a forbidden combination added, before giving up on chairs
FINAL_SECONDS = 0.03  # time kept back per request for placing and planning the answer
#: Seconds the ties (priority, then line) get once the count is proven (`--tie-limit`).
TIE_LIMIT = 5.0


class _Budget(NamedTuple):
    deadline: float  # time.monotonic() the whole run ends by (--time-limit)
    ties: float  # seconds for the ties once the count is proven, within the deadline
    solver: str = "highs"  # for the day model and its capacity models (solver.SOLVERS)


class Summary(NamedTuple):
    """What the solver says of its answer: requests planned, the most any answer could
    plan (`bound`), whether that is proven, and how long it took."""

    candidates: int  # requests that have a plan alone
    planned: int
    bound: int
    proven: bool
    seconds: float
    settled: float | None = None  # seconds until the count was proven (the rest went to ties)
    ties_proven: bool = False  # the whole objective (count, priority, line) proven optimal
    displaced: int = 0  # planned on the snapshot, no longer fitting what other desks booked meanwhile


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
        witness, summary = _solve(
            clinic, avail, [chains[i] for i in order], first_come, _Budget(deadline, tie_limit, solver), gap, log, say
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
            base, finals = _as_it_is_now(tx, settings, all_rows, admitted, finals, base, answers, stamp, say)
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
                plan, results = finals[i]._replace(contact=row.contact), verify(finals[i], clinic, request, others)
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
) -> tuple[list[Booking], dict[int, Plan]]:
    """The answer, checked against the ledger as it is under the write lock. When another
    desk wrote while the solver ran: a request booked meanwhile is answered as booked, a
    patient given a series meanwhile is refused as first come would, and each plan that
    now clashes is planned again, first come, around everything booked (never an
    overbooking: what is booked is checked against the ledger as it is now)."""
    clinic, span = settings.clinic, settings.span
    now_base = tx.bookings(clinic.name, *span, clinic.zone)
    if Counter(now_base) == Counter(base):
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
        f"another desk booked while the solver ran: {replanned} plans made again around it"
        + (f", {lost} request{'s' if lost != 1 else ''} no longer fit" if lost else "")
    )
    return now_base, kept


def _solve(
    clinic: Clinic,
    avail: Availability,
    chains: list[list[joint.Element]],
    first_come: dict[int, list[Session]],
    budget: _Budget,
    gap: float,
    log: bool,
    say: Callable[[str], None],
) -> tuple[dict[int, list[Session]], Summary]:
    """Which requests (positions in `chains`) to plan, with sessions that show they all
    fit: the master (core.days) chooses days, the day checks place each day exactly, and
    a day that cannot hold its sessions is cut from the master, until every day can."""
    from ketaplan.solver import solver_class

    Solver = solver_class(budget.solver)  # noqa: N806 - a class
    n = len(chains)
    if n == 0:  # nothing to choose among: no solver needed (nor its import)
        return {}, Summary(0, 0, 0, True, 0.0, 0.0, True)
    started, deadline = time.monotonic(), budget.deadline
    turnover = timedelta(minutes=clinic.turnover_minutes)
    model = days.master(chains, [n - r for r in range(n)], turnover, _packer(clinic, avail, deadline, Solver))
    say(f"model: {len(model.cols)} possible session days, {len(model.program.rows)} rows")
    # The day model stops early enough for its answer to be placed and planned within
    # --time-limit (each chosen request's plan takes the planner some 25 ms)
    reserve = min(1.0 + FINAL_SECONDS * n, 0.4 * (deadline - time.monotonic()))
    solver = Solver(model.program, deadline=deadline - max(reserve, 0.0), gap=gap, log=log)
    # The count first: stop once no answer can plan one request more; ties after.
    solver.stop_within(model.unit - 0.5)
    start = model.start_from(first_come, clinic.zone)
    if start is not None:
        say(f"first come plans {len(first_come)} of them: the solver starts from there")
    places = _Places(clinic, avail, chains, turnover, deadline)
    ranks = {r: n - r for r in range(n)}
    best, count_proven, ties, bound, settled, whole = dict(first_come), False, False, n, 0.0, False
    for _ in range(MAX_ROUNDS):
        if start is not None:
            solver.start(start)  # a whole valid answer: it keeps every cut
        solved = solver.solve()
        if math.isfinite(solved.bound):  # stopped before its first relaxation: none
            bound = min(bound, int(solved.bound + 1e-6) // model.unit)
        chosen = model.chosen(solved.values)
        placed = places.place(chosen, {key: model.cols[key] for keys in chosen.values() for key in keys})
        if placed is None:  # the time ran out in a day check: keep the best placed so far
            say("the time ran out before the day checks were done: keeping the best answer placed")
            break
        answer, cuts = placed  # with cuts: the requests whose days all hold their sessions
        if _value(answer, ranks) > _value(best, ranks):
            best = answer
        if cuts:
            say(f"{len(cuts)} days cannot hold the sessions given them: cut, solving again")
            solver.add(cuts)
        say(f"{time.monotonic() - started:.1f} s: {len(best)} requests planned, at most {bound} possible")
        if not cuts and solved.proven:
            if not ties:
                count_proven, settled = True, time.monotonic() - started
            if ties or gap > 0:
                whole = ties
                break
            say(f"{len(best)} requests planned, no answer plans more ({settled:.1f} s); ties next")
            # The most requests are planned: the ties (priority, line) get a budget of their
            # own, so a proven count does not wait out the whole --time-limit.
            ties, start = True, model.start_from(best, clinic.zone)
            solver.stop_within(0.5)
            solver.deadline = places.deadline = min(deadline, time.monotonic() + budget.ties)
        if time.monotonic() >= solver.deadline:
            break
    if places.guessed:  # a cut may have removed answers: the bound no longer holds
        bound, count_proven = n, False
    proven = count_proven and len(best) >= bound
    proof = "proven" if proven else "not proven"
    say(f"solver: {len(best)} requests planned, at most {bound} possible ({proof})")
    seconds = time.monotonic() - started
    return best, Summary(
        n, len(best), max(bound, len(best)), proven, seconds, settled if proven else None, proven and whole
    )


def _value(answer: dict[int, list[Session]], ranks: dict[int, int]) -> tuple[int, int]:
    return len(answer), sum(ranks[r] for r in answer)


def _packer(
    clinic: Clinic,
    avail: Availability,
    deadline: float,
    Solver: Any,  # noqa: N803 - a class
) -> Callable[[str, list[days.Span]], int]:
    """How many sessions with these places fit at once (`days.master`'s `pack`): a small
    model solved to the end, once per set of places, within the run's time. One not
    proven in time counts every session as fitting: a weaker row, never a wrong one."""

    occ, known = avail.occupancy, {}

    def pack(pool: str, spans: list[days.Span]) -> int:
        key = (pool, tuple(spans))
        if key not in known:
            resources, wait = (clinic.rooms, timedelta(0)) if pool == "rooms" else (clinic.chairs, occ.turnover)
            program = days.pack_program(
                spans,
                lambda t: joint.free_at(occ, resources, wait, t),
                None if pool == "rooms" else clinic.starts_per_slot,
            )
            solved = Solver(program, deadline=deadline, gap=0.0, log=False).solve()
            known[key] = round(solved.bound) if solved.proven else len(spans)
        return known[key]

    return pack


class _Places:
    """The day checks: the master's sessions of a day (or of days whose sessions could
    overlap) placed exactly, times and named chairs, with everything booked before."""

    def __init__(
        self,
        clinic: Clinic,
        avail: Availability,
        chains: list[list[joint.Element]],
        turnover: timedelta,
        deadline: float,
    ) -> None:
        self.clinic, self.avail, self.chains, self.turnover, self.deadline = clinic, avail, chains, turnover, deadline
        self.known: dict[tuple[days.Key, ...], list[Session] | int] = {}  # placed, or how many fit
        # A day given up on (no chairs found in time) was cut as if it held one session
        # fewer: that may cut off an answer, so the count is no longer proven.
        self.guessed = False

    def place(
        self, chosen: dict[int, list[days.Key]], cols: dict[days.Key, int]
    ) -> tuple[dict[int, list[Session]], list[joint.Row]] | None:
        """Sessions for every chosen request, or the cuts for the days that cannot hold
        theirs; None when the time ran out before a day was settled."""
        placed: dict[days.Key, Session] = {}
        cuts: list[joint.Row] = []
        for group in days.day_groups(chosen, self.chains, self.turnover):
            group = sorted(group)  # one order for one set: what is remembered is in it
            found = self._group(group)
            if found is None:
                return None
            if isinstance(found, int):
                cuts.append(joint.Row([cols[k] for k in group], [1.0] * len(group), 0.0, float(found)))
            else:
                placed.update(zip(group, found, strict=True))
        # Without the requests on a day that cannot hold its sessions, the rest is a whole
        # answer (fewer sessions never unsettle a day that holds them): kept when it is
        # the best so far, for a solve that has no time for another round.
        whole = {r: keys for r, keys in chosen.items() if all(k in placed for k in keys)}
        return {r: [placed[k] for k in keys] for r, keys in whole.items()}, cuts

    def _group(self, group: list[days.Key]) -> list[Session] | int | None:
        from ketaplan.solver.highs import Solver

        key = tuple(group)
        if key not in self.known:
            one_day = [[self.chains[r][j]._replace(gap=None, days={d: self.chains[r][j].days[d]})] for r, j, d in group]
            order = days.same_day_order(group, self.chains)
            model = joint.build(self.clinic, one_day, [1] * len(group), self.avail, order)
            solver = Solver(model.program(), deadline=self.deadline, gap=0.0, log=False)
            result: list[Session] | int | None = None
            for _ in range(MAX_ROUNDS):
                solved = solver.solve()
                chosen = joint.witness(model, solved.values)
                sessions, unassignable = joint.assign_resources(self.clinic, chosen, self.avail)
                if unassignable:
                    solver.forbid([model.column(v) for v in unassignable])
                    continue
                if len(sessions) == len(group):
                    result = [sessions[k][0] for k in range(len(group))]
                elif solved.proven:
                    result = len(sessions)
                break
            if result is None and time.monotonic() >= self.deadline:
                return None  # out of time, not out of chairs: no cut, nothing learned
            if result is None:  # no chairs found within the rounds: leave one out
                result, self.guessed = len(group) - 1, True
            self.known[key] = result
        return self.known[key]


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
