"""`repair --optimize` on the engine of `batch --optimize` (app.solving): the repair's day
model (core.repair_days) solved by the chosen solver from the standard search's answer,
each day's moved sessions placed exactly around the sessions staying that day, a day
that cannot hold them cut, until every day holds. Each moved plan then takes the places
the standard search prefers on the days chosen (own clock time and chair first), and the
named checks have the last word."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ketaplan.app.solving import MAX_ROUNDS, Budget, packer, place_day
from ketaplan.core import days, joint, repair, repair_days
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.joint import Row
from ketaplan.core.model import Booking, Plan, Session
from ketaplan.core.times import local

STEPS = 50_000  # each moved plan's search for its preferred places on the chosen days


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
    fixed = [_booking(a.plan, s) for a in affected for s in a.plan.active if not _to_come(s, now)]
    avail = Availability(clinic, base + fixed, span=span)
    chains = [repair_days.links(clinic, a, avail, now) for a in affected]
    model = repair_days.master(clinic, chains, packer(clinic, avail, deadline, Solver))
    say(f"model: {len(affected)} plans, {len(model.cols)} columns, {len(model.program.rows)} rows")

    def progress(objective: float, bound: float) -> None:
        kept = int(objective // model.unit_plan) if objective > 0 else 0
        most = f", at most {int(bound // model.unit_plan)}" if math.isfinite(bound) else ""
        say(f"{time.monotonic() - started:.1f} s: an answer keeping {kept} patients{most}")

    reserve = min(1.0 + 0.05 * len(affected), 0.3 * (deadline - time.monotonic()))
    solver = Solver(model.program, deadline=deadline - max(reserve, 0.0), gap=0.0, log=False, progress=progress)
    start = _start(model, affected, first, zone)
    plans = [a.plan for a in affected]
    checker = _DayChecks(clinic, Availability(clinic, base + fixed, span=span), model, plans, deadline)
    best, proven = first, False
    for _ in range(MAX_ROUNDS):
        if start is not None:
            solver.start(start)
        solved = solver.solve()
        kept, going = model.answer(solved.values)
        placed = checker.place(solved.values, going)
        if placed is None:
            say("the time ran out before the day checks were done: keeping the best answer placed")
            break
        if isinstance(placed, list):
            say(f"{len(placed)} days cannot hold the sessions moved to them: cut, solving again")
            solver.add(placed)
        else:
            found = _choice(clinic, base, span, affected, model, kept, placed, now)
            if found is None:  # the named checks refuse it: a bug in the model
                say("the solver's answer breaks a rule: keeping the standard search's")
                break
            if repair._value(found) <= repair._value(best.repairs):
                best = repair.Choice(found, False)
            if solved.proven:
                proven = not checker.guessed
                break
        if time.monotonic() >= solver.deadline:
            break
    kept_n = sum(1 for c in best.repairs.values() if c is not None)
    say(f"solver: {kept_n} of {len(affected)} patients kept ({'proven' if proven else 'not proven'})")
    return best._replace(proven=proven)


def _to_come(s: Session, now: datetime) -> bool:
    return s.status in ("booked", "planned") and s.start.astimezone(UTC) > now.astimezone(UTC)


def _booking(plan: Plan, s: Session) -> Booking:
    return Booking(s.start, s.end, s.resource, s.kind, plan.plan_id)


def _start(
    model: repair_days.Model, affected: list[repair.Affected], first: repair.Choice, zone: ZoneInfo
) -> list[float] | None:
    """The columns of the standard search's answer; None when one of its days is not the model's."""
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
    return model.values_of(moved, kept)


class _DayChecks:
    """The sessions moved to each day placed exactly, with that day's staying sessions
    pinned to their chairs; each check remembered for the next round."""

    def __init__(
        self, clinic: Clinic, avail: Availability, model: repair_days.Model, plans: list[Plan], deadline: float
    ) -> None:
        self.clinic, self.avail, self.model, self.plans, self.deadline = clinic, avail, model, plans, deadline
        self.turnover = timedelta(minutes=clinic.turnover_minutes)
        self.elements = [[link.element for link in chain] for chain in model.chains]
        self.known: dict[tuple[object, ...], list[Session] | int] = {}
        self.packed: dict[tuple[object, ...], int | None] = {}
        self.guessed = False  # a day given up on (no chairs in time) was cut as if one fewer fit

    def place(
        self, values: list[float], going: dict[tuple[int, int], date]
    ) -> dict[tuple[int, int], Session] | list[Row] | None:
        """Each moved link's session, or the cuts for the days that cannot hold theirs;
        None when the time ran out first."""
        m = self.model
        staying = [
            (r, j) for (r, j, d), c in m.cols.items()
            if d is None and values[c] > 0.5 and not m.chains[r][j].fixed
        ]  # fmt: skip
        chosen: dict[int, list[days.Key]] = {}
        for (r, j), d in going.items():
            chosen.setdefault(r, []).append((r, j, d))
        placed: dict[tuple[int, int], Session] = {}
        cuts: list[Row] = []
        for group in days.day_groups(chosen, self.elements, self.turnover):
            group = sorted(group)
            spans = [s for r, j, d in group for s in days.spans_of(self.elements[r][j], d, self.turnover)]
            lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
            pinned = sorted(
                (r, j) for r, j in staying
                if (sp := repair_days.stay_span(m.chains[r][j], self.turnover))[0] < hi and lo < sp[1]
            )  # fmt: skip
            found = self._group(group, pinned)
            if found is None:
                return None
            if isinstance(found, int):
                go = [m.cols[k] for k in group]
                cuts.append(repair_days.cut(go, [m.cols[(r, j, None)] for r, j in pinned], found))
                cuts += self._day_cuts({d for _, _, d in group}, staying)
            else:
                placed.update({(r, j): s for (r, j, _), s in zip(group, found, strict=True)})
        return cuts or placed

    def _day_cuts(self, on: set[date], staying: list[tuple[int, int]]) -> list[Row]:
        """For days that could not hold the sessions moved to them: the capacity rows of the
        master (core.days) over every column of those days, worked out again around the
        sessions staying then (pinned, a row holds only while they all stay). The answer's
        own combination is one cut; these keep the solver from the next like it."""
        m, wait = self.model, self.turnover
        classes: dict[str, dict[frozenset[days.Span], list[int]]] = {}
        for (r, j, d), c in m.cols.items():
            if d in on:
                e = self.elements[r][j]
                classes.setdefault(days.pool_of(e), {}).setdefault(frozenset(days.spans_of(e, d, wait)), []).append(c)
        every = [sp for by in classes.values() for places in by for sp in places]
        if not every:
            return []
        lo, hi = min(a for a, _ in every), max(b for _, b in every)
        pinned = sorted(
            (r, j) for r, j in staying if (sp := repair_days.stay_span(m.chains[r][j], wait))[0] < hi and lo < sp[1]
        )
        stays = [m.cols[(r, j, None)] for r, j in pinned]
        held = [_booking(self.plans[r], m.chains[r][j].session) for r, j in pinned]
        occ = self.avail.occupancy
        rows: list[Row] = []
        occ.add_all(held)
        try:
            for pool, by_places in sorted(classes.items()):
                for places in by_places:
                    members = [c for other, cs in by_places.items() if other <= places for c in cs]
                    most = self._pack(pool, sorted(places), tuple(pinned))
                    if most is not None and len(members) > most:
                        rows.append(repair_days.cut(members, stays, most))
        finally:
            for b in held:
                occ.remove(b)
        return rows

    def _pack(self, pool: str, spans: list[days.Span], pinned: tuple[tuple[int, int], ...]) -> int | None:
        """How many sessions with these places fit at once around the bookings and the
        pinned sessions (in the occupancy now); None if not proven in time."""
        from ketaplan.solver.highs import Solver

        key = (pool, tuple(spans), pinned)
        if key not in self.packed:
            occ, clinic = self.avail.occupancy, self.clinic
            resources, wait = (clinic.rooms, timedelta(0)) if pool == "rooms" else (clinic.chairs, occ.turnover)
            program = days.pack_program(
                spans,
                lambda t: joint.free_at(occ, resources, wait, t),
                None if pool == "rooms" else clinic.starts_per_slot,
            )
            solved = Solver(program, deadline=self.deadline, gap=0.0, log=False).solve()
            self.packed[key] = round(solved.bound) if solved.proven else None
        return self.packed[key]

    def _group(self, group: list[days.Key], pinned: list[tuple[int, int]]) -> list[Session] | int | None:
        key = (tuple(group), tuple(pinned))
        if key not in self.known:
            chains = self.model.chains
            held = [_booking(self.plans[r], chains[r][j].session) for r, j in pinned]
            one_day = [[self.elements[r][j]._replace(gap=None, days={d: self.elements[r][j].days[d]})]
                       for r, j, d in group]  # fmt: skip
            order = days.same_day_order(group, self.elements)
            occ = self.avail.occupancy
            occ.add_all(held)  # staying on its chair: the day check places around it
            try:
                found = place_day(self.clinic, self.avail, one_day, order, self.deadline)
            finally:
                for b in held:
                    occ.remove(b)
            if found is None:
                return None
            self.known[key], guessed = found
            self.guessed |= guessed
        return self.known[key]


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
            final[a.plan.plan_id] = repair._kept(a)
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
        out[a.plan.plan_id] = c
        final[a.plan.plan_id] = c.plan
    if not repair._all_rules_kept(clinic, base, span, affected, out, now):
        return None
    return out
