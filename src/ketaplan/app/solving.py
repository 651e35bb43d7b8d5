"""The search of `batch --optimize` (app.optimize): the day model (core.days) solved by
the chosen solver, each answer's days placed exactly (core.joint: times, then named
chairs), a day that cannot hold its sessions cut from the day model, until every day
holds; the count first, then the ties within their own budget."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ketaplan.core import days, joint
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Session

ASSIGN_STEPS = 20_000  # a day check's search for named chairs for the count model's answer
MAX_ROUNDS = 50  # solves of the day model with cuts added, before keeping the best answer placed
FINAL_SECONDS = 0.03  # time kept back per request for placing and planning the answer
#: Seconds the ties (priority, then line) get once the count is proven (`--tie-limit`).
TIE_LIMIT = 5.0


class Budget(NamedTuple):
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


def solve(
    clinic: Clinic,
    avail: Availability,
    chains: list[list[joint.Element]],
    first_come: dict[int, list[Session]],
    budget: Budget,
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
    model = days.master(chains, [n - r for r in range(n)], turnover, packer(clinic, avail, deadline, Solver))
    say(f"model: {len(model.cols)} possible session days, {len(model.program.rows)} rows")
    # The day model stops early enough for its answer to be placed and planned within
    # --time-limit (each chosen request's plan takes the planner some 25 ms)
    reserve = min(1.0 + FINAL_SECONDS * n, 0.4 * (deadline - time.monotonic()))

    last: list[tuple[int, int | None]] = []

    def progress(objective: float, bound: float) -> None:  # during a long solve: a line when it moves
        now = (int(objective + 1e-6) // model.unit, int(bound + 1e-6) // model.unit if math.isfinite(bound) else None)
        if last and last[-1] == now:
            return
        last.append(now)
        most = f", at most {now[1]}" if now[1] is not None else ""
        say(f"{time.monotonic() - started:.1f} s: an answer planning {now[0]}{most}")

    solver = Solver(model.program, deadline=deadline - max(reserve, 0.0), gap=gap, log=log, progress=progress)
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


def packer(
    clinic: Clinic,
    avail: Availability,
    deadline: float,
    Solver: Any,  # noqa: N803 - a class
    named: bool = False,
) -> Callable[[str, list[days.Span]], int]:
    """How many sessions with these places fit at once (`days.master`'s `pack`): a small
    model solved to the end, once per set of places, within the run's time. One not
    proven in time counts every session as fitting: a weaker row, never a wrong one.
    `named`: on named chairs (core.chairs; tighter around bookings held on chairs)."""

    occ, known = avail.occupancy, {}

    def pack(pool: str, spans: list[days.Span]) -> int:
        key = (pool, tuple(spans))
        if key not in known:
            resources, wait = (clinic.rooms, timedelta(0)) if pool == "rooms" else (clinic.chairs, occ.turnover)
            if named:
                from ketaplan.core import chairs

                program = chairs.pack_program(clinic, avail, pool, spans)
            else:
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
        key = tuple(group)
        if key not in self.known:
            one_day = [[self.chains[r][j]._replace(gap=None, days={d: self.chains[r][j].days[d]})] for r, j, d in group]
            found = place_day(self.clinic, self.avail, one_day, days.same_day_order(group, self.chains), self.deadline)
            if found is None:
                return None  # out of time, not out of chairs: no cut, nothing learned
            self.guessed |= found.guessed
            self.known[key] = found.sessions if found.sessions is not None else found.fit
        return self.known[key]


class DayFit(NamedTuple):
    """A day check's answer: every session placed (in the elements' order), or None; how
    many fit at most; whether that is a guess (no chairs found within the rounds, one
    left out); with `prefer`, the most sessions that can keep their preferred start (None
    when not proven)."""

    sessions: list[Session] | None
    fit: int
    guessed: bool = False
    preferred: int | None = None


def place_day(
    clinic: Clinic,
    avail: Availability,
    one_day: list[list[joint.Element]],
    order: list[tuple[int, int]],
    deadline: float,
    prefer: list[tuple[datetime, str] | None] | None = None,
) -> DayFit | None:
    """One day check: these sessions (each an element with the one day's places) placed
    exactly, times and named chairs, around `avail`'s bookings; `prefer` (UTC start and
    chair or room, per element): as many as can keep that place, once all that can are
    placed. None when the time ran out first. The count model (chairs interchangeable)
    first; when its answer has no chair assignment, the model of named chairs."""
    from ketaplan.solver.highs import Solver

    model = joint.build(clinic, one_day, [1] * len(one_day), avail, order)
    program, weight = model.program(), 1
    if prefer is not None:  # one session more always outweighs every preferred start
        weight = sum(1 for p in prefer if p is not None) + 1
        starts = [p[0] if p else None for p in prefer]
        bonus = [1.0 if starts[v.request] == v.start else 0.0 for v in model.vars]
        program = program._replace(cost=[float(weight)] * model.n_requests + bonus)
    solved = Solver(program, deadline=deadline, gap=0.0, log=False).solve()
    # Few steps: past them the model of named chairs settles it faster than more would.
    sessions, unassignable = joint.assign_resources(clinic, joint.witness(model, solved.values), avail, ASSIGN_STEPS)
    if unassignable:
        return _on_named_chairs(clinic, avail, [e[0] for e in one_day], order, deadline, prefer)
    if len(sessions) == len(one_day):
        # Its preferred count is of starts only: at most the places kept, a bound on them.
        preferred = round(solved.objective) - weight * len(one_day) if solved.proven and prefer else None
        return DayFit([sessions[k][0] for k in range(len(one_day))], len(one_day), False, preferred)
    if solved.proven:
        return DayFit(None, len(sessions))
    if time.monotonic() >= deadline:
        return None
    return DayFit(None, len(one_day) - 1, True)


def _on_named_chairs(
    clinic: Clinic,
    avail: Availability,
    one_day: list[joint.Element],
    order: list[tuple[int, int]],
    deadline: float,
    prefer: list[tuple[datetime, str] | None] | None,
) -> DayFit | None:
    from ketaplan.core import chairs
    from ketaplan.solver.highs import Solver

    model = chairs.build(clinic, one_day, avail, order, prefer)
    solved = Solver(model.program, deadline=deadline, gap=0.0, log=False).solve()
    placed = model.sessions(solved.values, one_day)
    if len(placed) == len(one_day):
        kept = round(solved.objective) - model.weight * len(one_day) if solved.proven and prefer else None
        return DayFit([placed[k] for k in range(len(one_day))], len(one_day), False, kept)
    if solved.proven:
        return DayFit(None, len(placed))
    if time.monotonic() >= deadline:
        return None
    return DayFit(None, len(one_day) - 1, True)
