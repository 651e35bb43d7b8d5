"""`repair --optimize` on the engine of `batch --optimize` (app.solving): the repair's day
model (core.repair_days) solved by the chosen solver from the standard search's answer;
each day's arrivals placed exactly around the sessions staying that day (moving some of
them within the day when they must, which the model is then told costs moves); a day
that cannot hold its sessions cut; until the best answer found is worth what the model
says no answer can beat (proven). Each moved plan then takes the places the standard
search prefers on the days chosen (own clock time and chair first), and the named checks
have the last word."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ketaplan.app.solving import MAX_ROUNDS, Budget, DayFit, packer, place_day
from ketaplan.core import days, repair, repair_days
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.joint import Element, Row
from ketaplan.core.model import CONSULTATION, Booking, Plan, Session
from ketaplan.core.times import local

STEPS = 50_000  # each moved plan's search for its preferred places on the chosen days
#: Seconds for each day check with the sessions staying that day free to move within it
#: (harder models than with them pinned): one not settled then cuts its combination only.
DAY_SECONDS = 2.0


def solve_repair(
    clinic: Clinic,
    base: list[Booking],
    span: tuple[datetime, datetime],
    affected: list[repair.Affected],
    now: datetime,
    first: repair.Choice,
    budget: Budget,
    say: Callable[[str], None] = lambda text: None,
) -> repair.Choice:
    """The repair keeping the most patients, then moving the fewest sessions, then by the
    fewest days; `first` (the standard search's answer) is where the solver starts, and
    what is answered when the solver finds nothing better in time."""
    from ketaplan.solver import solver_class

    Solver = solver_class(budget.solver)  # noqa: N806 - a class
    started, deadline, zone = time.monotonic(), budget.deadline, clinic.zone
    fixed = [_booking(a.plan, s) for a in affected for s in a.plan.active if not repair.to_come(s, now)]
    avail = Availability(clinic, base + fixed, span=span)
    chains = [repair_days.links(clinic, a, avail, now) for a in affected]
    model = repair_days.master(clinic, chains, packer(clinic, avail, deadline, Solver, named=True))
    say(f"model: {len(affected)} plans, {len(model.cols)} session days, {len(model.program.rows)} rows")

    last: list[tuple[int, str]] = []

    def progress(objective: float, bound: float) -> None:  # a line when the count or its bound moves
        # A plan kept outweighs every move: the count is the objective over its weight, rounded up.
        kept = max(0, math.ceil(objective / model.unit_plan - 1e-9))
        most = f", at most {math.ceil(bound / model.unit_plan - 1e-9)}" if math.isfinite(bound) else ""
        if not last or last[-1] != (kept, most):
            last.append((kept, most))
            say(f"{time.monotonic() - started:.1f} s: an answer keeping {kept} patients{most}")

    reserve = min(1.0 + 0.05 * len(affected), 0.3 * (deadline - time.monotonic()))
    solver = Solver(model.program, deadline=deadline - max(reserve, 0.0), gap=0.0, log=False, progress=progress)
    start = _start(model, affected, first, zone)
    plans = [a.plan for a in affected]
    checker = _DayChecks(clinic, Availability(clinic, base + fixed, span=span), model, plans, deadline)
    best, proven, bound, added = first, False, math.inf, set()
    for _ in range(MAX_ROUNDS * 4):
        if start is not None:
            solver.start(start)
        solved = solver.solve()
        bound = min(bound, solved.bound) if math.isfinite(solved.bound) else bound
        kept, on = model.answer(solved.values)
        checked = checker.place(kept, on)
        if checked is None:
            say("the time ran out before the day checks were done: keeping the best answer placed")
            break
        placed, cuts = checked
        if placed is not None:
            found = _choice(clinic, base, span, affected, model, kept, placed, now)
            if found is None:  # the named checks refuse it: a bug in the model
                say("the solver's answer breaks a rule: keeping the standard search's")
                break
            if repair.value(found) <= repair.value(best.repairs):
                best = repair.Choice(found, False)
                start = _start(model, affected, best, zone)
        if _score(model, best.repairs) >= bound - 0.5 and not checker.guessed:
            proven = True
            break
        new = [row for row in cuts if _as_key(row) not in added]
        if not new:  # nothing learned: another solve would answer the same
            break
        within = set(model.within.values())
        moving = sum(1 for row in new if row.cols[0] in within)
        if moving:
            say(f"{moving} days hold their sessions only if some move within them: counted")
        if len(new) > moving:
            say(f"{len(new) - moving} days cannot hold the sessions given them: cut")
        added |= {_as_key(row) for row in new}
        solver.add(new)
        if time.monotonic() >= solver.deadline:
            break
    say(_summary(model, best, bound, proven, len(affected)))
    return best._replace(proven=proven)


def _summary(model: repair_days.Model, best: repair.Choice, bound: float, proven: bool, plans: int) -> str:
    """The answer, and what the model says no answer can beat."""
    kept, moves, _ = repair.value(best.repairs)
    text = f"solver: {-kept} of {plans} patients kept, {moves} sessions moved"
    if proven:
        return text + " (proven)"
    if not math.isfinite(bound):
        return text + " (not proven)"
    most = math.ceil(bound / model.unit_plan - 1e-9)
    if most > -kept:
        return text + f" (not proven: at most {most} could be kept)"
    # The least penalty for `most` kept: moves weigh unit_move each, days moved less in all.
    fewest = max(0, math.floor((most * model.unit_plan - bound) / model.unit_move + 1e-9))
    return text + f" (the most patients proven; not the fewest moves: at least {fewest})"


def _as_key(row: Row) -> tuple[object, ...]:
    return (tuple(row.cols), tuple(row.coefs), row.lower, row.upper)


def _score(model: repair_days.Model, repairs: dict[str, repair.Candidate | None]) -> float:
    """An answer's objective in the model's weights (most kept, fewest moves, fewest days)."""
    kept, moves, shift = repair.value(repairs)
    return -kept * model.unit_plan - moves * model.unit_move - shift


def _booking(plan: Plan, s: Session) -> Booking:
    return Booking(s.start, s.end, s.resource, s.kind, plan.plan_id)


def _start(
    model: repair_days.Model, affected: list[repair.Affected], first: repair.Choice, zone: ZoneInfo
) -> list[float] | None:
    """The columns of an answer; None when one of its days is not the model's."""
    moved: dict[int, dict[int, date]] = {}
    kept: set[int] = set()
    for r, a in enumerate(affected):
        c = first.repairs.get(a.plan.plan_id)
        if c is None:
            continue
        kept.add(r)
        where = {repair.key(before): local(after.start, zone).date() for before, after in c.moved}
        moved[r] = {}
        for j, link in enumerate(model.chains[r]):
            d = where.get(repair.key(link.session))
            if d is not None:
                if (r, j, d) not in model.cols:
                    return None
                moved[r][j] = d
    values = model.values_of(moved, kept, zone)
    for (r, j, d), col in model.cols.items():  # a session moved within its own day
        if values[col] > 0.5 and model.chains[r][j].resident(d, zone) and r in moved and j in moved[r]:
            values[model.within[d]] += 1.0
    return values


class _DayChecks:
    """Each day's arrivals placed exactly: first with the residents pinned to their places,
    then, when they do not fit so, with residents free to move within the day, as few as
    can; each check remembered for the next round."""

    def __init__(
        self, clinic: Clinic, avail: Availability, model: repair_days.Model, plans: list[Plan], deadline: float
    ) -> None:
        self.clinic, self.avail, self.model, self.plans, self.deadline = clinic, avail, model, plans, deadline
        self.turnover = timedelta(minutes=clinic.turnover_minutes)
        self.elements = [[link.element for link in chain] for chain in model.chains]
        self.known: dict[tuple[object, ...], tuple[dict[tuple[int, int], Session] | None, Row | None]] = {}
        self.guessed = False  # a day given up on (no chairs in time) was cut as if one fewer fit

    def place(
        self, kept: set[int], on: dict[tuple[int, int], date]
    ) -> tuple[dict[tuple[int, int], Session] | None, list[Row]] | None:
        """The sessions of the links that move (None if a day cannot hold its sessions),
        and what the days taught (rows for the model); None when the time ran out."""
        m, zone = self.model, self.clinic.zone
        arriving: dict[int, list[days.Key]] = {}
        residents: list[tuple[int, int]] = []
        for (r, j), d in on.items():
            if m.chains[r][j].resident(d, zone):
                residents.append((r, j))
            else:
                arriving.setdefault(r, []).append((r, j, d))
        placed: dict[tuple[int, int], Session] = {}
        rows: list[Row] = []
        whole = True
        for group in days.day_groups(arriving, self.elements, self.turnover):
            group = sorted(group)
            spans = [s for r, j, d in group for s in days.spans_of(self.elements[r][j], d, self.turnover)]
            lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
            on_days = {d for _, _, d in group}
            # Every session staying on these days (or reaching into their hours): the free
            # check may move any of them within its day, where it may meet any other.
            near = sorted(
                (r, j) for r, j in residents
                if repair_days.day_of(m.chains[r][j], zone) in on_days
                or ((sp := repair_days.stay_span(m.chains[r][j], self.turnover))[0] < hi and lo < sp[1])
            )  # fmt: skip
            free = [x for x in near if x[0] in kept]  # a plan not kept holds its places
            held = [x for x in near if x[0] not in kept]
            found = self._group(group, free, held)
            if found is None:
                return None
            sessions, row = found
            if row is not None:
                rows.append(row)
            if sessions is None:
                whole = False
            else:
                placed.update(sessions)
        return (placed if whole else None), rows

    def _group(
        self, group: list[days.Key], free: list[tuple[int, int]], held: list[tuple[int, int]]
    ) -> tuple[dict[tuple[int, int], Session] | None, Row | None] | None:
        key = (tuple(group), tuple(free), tuple(held))
        if key in self.known:
            return self.known[key]
        m, zone = self.model, self.clinic.zone
        chains = m.chains
        arrivals = [self._one_day(r, j, d, set(free + held)) for r, j, d in group]
        order = days.same_day_order(group, self.elements)
        pinned = self._pinned(free + held, lambda: place_day(self.clinic, self.avail, arrivals, order, self.deadline))
        if pinned is None:
            return None
        if pinned.sessions is not None:
            out: tuple[dict[tuple[int, int], Session] | None, Row | None] = (
                {(r, j): s for (r, j, _), s in zip(group, pinned.sessions, strict=True)}, None)  # fmt: skip
            self.known[key] = out
            return out
        # Residents of kept plans free within their day, preferring their own places.
        own = [(r, j, repair_days.day_of(chains[r][j], zone)) for r, j in free]
        keys = group + own
        everyone = [self._one_day(r, j, d, set(held)) for r, j, d in keys]
        order = [
            (a, b) for a, (r, j, d) in enumerate(keys) for b, other in enumerate(keys)
            if other == (r, j + 1, d) and chains[r][j].session.kind == CONSULTATION
        ]  # fmt: skip
        prefer: list[tuple[datetime, str] | None] = [None] * len(arrivals) + [
            (chains[r][j].session.start.astimezone(UTC), chains[r][j].session.resource or "") for r, j, _ in own
        ]
        # Whether they fit at all first (a count: quick), then as few moved as can be
        # found in DAY_SECONDS (a harder model), else any way they fit.
        until = min(self.deadline, time.monotonic() + DAY_SECONDS)
        fit = self._pinned(held, lambda: place_day(self.clinic, self.avail, everyone, order, until))
        if fit is not None and fit.sessions is not None:
            until = min(self.deadline, time.monotonic() + DAY_SECONDS)
            fewest = self._pinned(held, lambda: place_day(self.clinic, self.avail, everyone, order, until, prefer))
            fit = fewest if fewest is not None and fewest.sessions is not None else fit
        if fit is None and time.monotonic() >= self.deadline:
            return None
        if fit is None:  # not settled in its seconds: this combination is cut, a guess
            fit = DayFit(None, len(everyone) - 1, True)
        self.guessed |= fit.guessed
        cols = [m.cols[k] for k in group] + [m.cols[k] for k in own]
        unless = sorted({r for r, _ in held})
        if fit.sessions is None:
            out = (None, repair_days.full(cols, unless, fit.fit))
        else:
            sessions = _own_chairs(self.clinic, self.avail, fit.sessions, [chains[r][j].session for r, j, _ in own],
                                   len(arrivals))  # fmt: skip
            moved = {(r, j): s for (r, j, _), s in zip(group, sessions, strict=False)}
            for (r, j, _), s in zip(own, sessions[len(arrivals) :], strict=True):
                was = chains[r][j].session
                if (s.start, s.resource) != (was.start, was.resource):
                    moved[(r, j)] = s
            # Pinned, they did not fit: at least one moves (more, if the solver proved it).
            least = max(1, len(own) - fit.preferred) if fit.preferred is not None else 1
            day = min(d for _, _, d in group)
            out = (moved, repair_days.moves_within(m.within[day], cols, unless, least))
        self.known[key] = out
        return out

    def _one_day(self, r: int, j: int, d: date, pinned: set[tuple[int, int]]) -> list[Element]:
        """Link j of plan r with the places of day d only: after its consultation, or before
        its infusion 1, when that one is held where it is that day (same-day clinics)."""
        chain, zone = self.model.chains[r], self.clinic.zone
        options = self.elements[r][j].days[d]
        if j and chain[j - 1].session.kind == CONSULTATION and (r, j - 1) in pinned:
            if repair_days.day_of(chain[j - 1], zone) == d:
                options = [o for o in options if o.start >= chain[j - 1].session.end]
        if chain[j].session.kind == CONSULTATION and (r, j + 1) in pinned:
            if repair_days.day_of(chain[j + 1], zone) == d:
                options = [o for o in options if o.end <= chain[j + 1].session.start]
        return [self.elements[r][j]._replace(gap=None, days={d: options} if options else {})]

    def _pinned(self, pinned: list[tuple[int, int]], check: Callable[[], DayFit | None]) -> DayFit | None:
        """`check` with these residents held on their chairs."""
        held = [_booking(self.plans[r], self.model.chains[r][j].session) for r, j in pinned]
        occ = self.avail.occupancy
        occ.add_all(held)
        try:
            return check()
        finally:
            for b in held:
                occ.remove(b)


def _own_chairs(
    clinic: Clinic, avail: Availability, sessions: list[Session], was: list[Session], skip: int
) -> list[Session]:
    """Residents placed at their own time but given another chair get their own back when
    it is free then (the chair is part of the place they keep)."""
    out = list(sessions)
    gap = avail.occupancy.turnover
    for i, before in enumerate(was, start=skip):
        s = out[i]
        if s.start != before.start or s.resource == before.resource or before.resource is None:
            continue
        wait = timedelta(0) if s.kind == "consultation" else gap
        clash = any(
            o.resource == before.resource and o.start < s.end + wait and s.start < o.end + wait
            for k, o in enumerate(out) if k != i
        )  # fmt: skip
        if not clash and avail.occupancy.overlap(before.resource, s.start - wait, s.end + wait) is None:
            out[i] = s._replace(resource=before.resource)
    return out


def _choice(
    clinic: Clinic, base: list[Booking], span: tuple[datetime, datetime], affected: list[repair.Affected],
    model: repair_days.Model, kept: set[int], placed: dict[tuple[int, int], Session], now: datetime,
) -> dict[str, repair.Candidate | None] | None:  # fmt: skip
    """The solver's answer as repairs: each kept plan in turn takes the places the standard
    search prefers on its days, every other plan held where it is (the solver's places
    are free for it then, so one is found); None if the named checks refuse the answer
    (a bug in the model: the standard search's answer stands)."""
    zone = clinic.zone
    days_of: dict[int, dict[repair.Key, date]] = {r: {} for r in kept}
    new: dict[int, dict[repair.Key, Session]] = {r: {} for r in kept}
    for (r, j), s in placed.items():
        k = repair.key(model.chains[r][j].session)
        days_of[r][k], new[r][k] = local(s.start, zone).date(), s
    final: dict[str, Plan] = {}
    for r, a in enumerate(affected):
        if r not in kept:
            final[a.plan.plan_id] = repair.staying(a)
            continue
        moved = new[r]
        final[a.plan.plan_id] = a.plan._replace(sessions=tuple(
            s._replace(start=moved[k].start, end=moved[k].end, resource=moved[k].resource, status="booked")
            if (k := repair.key(s)) in moved else s
            for s in a.plan.sessions
        ))  # fmt: skip
    out: dict[str, repair.Candidate | None] = {}
    for r, a in enumerate(affected):
        if r not in kept:
            out[a.plan.plan_id] = None
            continue
        others = [_booking(p, s) for pid, p in final.items() if pid != a.plan.plan_id for s in p.active]
        avail = Availability(clinic, base + others, span=span)
        c = repair.placed_on(clinic, a.plan, a.request, days_of[r], avail, now, repair.Budget(STEPS))
        if c is None:
            return None
        # A session moved within its day may find its own place free again once all are placed.
        c = c._replace(moved=[(b, x) for b, x in c.moved if (b.start, b.resource) != (x.start, x.resource)])
        out[a.plan.plan_id] = c
        final[a.plan.plan_id] = c.plan
    if not repair.all_rules_kept(clinic, base, span, affected, out, now):
        return None
    return out
