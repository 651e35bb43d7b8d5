"""Conflicts and their repair (pure: no ledger here).

A *conflict* is a session still to come that the clinic as it stands (its file, the
ledger's closures, busy calendars) no longer admits: a named check fails on it. A series
keeps its first day and may run to the protocol's longest window.

A *repair* moves the sessions of every affected plan so that each keeps every rule, with
the most patients kept, then the fewest sessions moved; the same day (another chair or
time) comes first, then the nearest days. Each plan's repairs are found by moving its
conflicting sessions, then one more of its sessions still to come, then two, ...; plans
are then fitted together (`choose`), searching jointly when taking each plan's first
repair in turn does not already prove the best."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import NamedTuple

from ketaplan.core import checks
from ketaplan.core.availability import Availability, Option
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, CONSULTATION, INFUSION, Booking, Plan, Request, Session
from ketaplan.core.times import local

Key = tuple[str, int]  # (kind, number): a session of a plan


class Problem(NamedTuple):
    session: Session
    rule: str
    reason: str


class Budget:
    """Search steps left; a search that runs out says its answer is not proven."""

    def __init__(self, steps: int) -> None:
        self.left = steps
        self.ran_out = False

    def spend(self) -> bool:
        self.left -= 1
        if self.left < 0:
            self.ran_out = True
        return not self.ran_out


def key(s: Session) -> Key:
    return (s.kind, s.number)


def check_request(clinic: Clinic, plan: Plan, request: Request) -> Request:
    """What a booked series is checked against: its first day, the protocol's longest
    window from there, and the patient's days and times (minimum notice: see `options`)."""
    longest = clinic.protocol.window_days[1] + checks.longer_by(clinic, request)  # allowed gaps lengthen it
    last = plan.first_day + timedelta(days=longest - 1)
    return request._replace(first_day=plan.first_day, last_day=last, not_before=None, not_before_at=None)


def problems(clinic: Clinic, plan: Plan, request: Request, avail: Availability, now: datetime) -> list[Problem]:
    """Every named check on the plan (everyone else's bookings in `avail`), the failures on
    its sessions still to come (`count` aside: a cancelled session is not a conflict)."""
    sessions = {s.label: s for s in plan.active}
    consult = plan.consultation is not None and plan.consultation.active
    boosters = sum(1 for s in plan.active if s.kind == BOOSTER)
    ctx = checks.CheckContext(clinic, check_request(clinic, plan, request), avail.occupancy, consult, boosters)
    found = []
    for result in checks.run_checks(plan, ctx):
        if result.ok or result.rule == "count":
            continue
        for label, reason in result.problems:
            s = sessions.get(label)
            if s is not None and to_come(s, now):
                found.append(Problem(s, result.rule, reason))
    return found


def to_come(s: Session, now: datetime) -> bool:
    """A session a repair may move: booked, and not begun."""
    return s.status in ("booked", "planned") and s.start.astimezone(UTC) > now.astimezone(UTC)


class Candidate(NamedTuple):
    plan: Plan
    moved: list[tuple[Session, Session]]  # (before, after)
    shift: int  # days moved, summed: the nearer the better


def candidates(
    clinic: Clinic, plan: Plan, request: Request, must: set[Key], avail: Availability, now: datetime, budget: Budget
) -> Iterator[Candidate]:
    """The plan's repairs against `avail`, fewest sessions moved first: the conflicting
    ones (`must`), then with one more of those still to come, and so on."""
    movable = sorted((s for s in plan.active if to_come(s, now)), key=lambda s: s.start)
    rest = [s for s in movable if key(s) not in must]
    for extra in range(len(rest) + 1):
        for more in combinations(rest, extra):
            moving = {key(s) for s in more} | must
            yield from _placements(clinic, plan, request, moving, avail, now, budget)
            if budget.ran_out:
                return


def placed_on(
    clinic: Clinic, plan: Plan, request: Request, on: dict[Key, date], avail: Availability, now: datetime,
    budget: Budget,
) -> Candidate | None:  # fmt: skip
    """The plan with these sessions moved to these days (`repair --optimize` chose them),
    each at the place `_placements` prefers: its own clock time and chair first."""
    return next(_placements(clinic, plan, request, set(on), avail, now, budget, on), None)


def _placements(
    clinic: Clinic, plan: Plan, request: Request, moving: set[Key], avail: Availability, now: datetime,
    budget: Budget, on: dict[Key, date] | None = None,
) -> Iterator[Candidate]:  # fmt: skip
    """Every way to place the `moving` sessions that keeps every rule, nearest days first
    (or on the days `on` gives them): a depth-first search, infusions in order, then the
    consultation, then the boosters."""
    zone, p = clinic.zone, clinic.protocol
    req = check_request(clinic, plan, request)
    cutoff = clinic.earliest_booking(now)
    today = now.astimezone(zone).date()
    placing = req._replace(not_before=today, not_before_at=cutoff)  # new times keep the notice
    by_key = {key(s): s for s in plan.sessions}
    chain = sorted((s for s in plan.active if s.kind == INFUSION), key=lambda s: s.number)
    boosters = sorted((s for s in plan.active if s.kind == BOOSTER), key=lambda s: s.number)
    consult = plan.consultation if plan.consultation and plan.consultation.active else None
    order = [key(s) for s in chain + ([consult] if consult else []) + boosters if key(s) in moving]
    days_at: dict[Key, date] = {}  # the days chosen so far, then
    placed: dict[Key, Session] = {}  # the sessions placed on them

    def day_of(k: Key) -> date | None:
        if k in days_at:
            return days_at[k]
        return None if k in moving else local(by_key[k].start, zone).date()

    def days_for(s: Session) -> list[date]:
        if on is not None:
            return [on[key(s)]] if options(s, on[key(s)]) else []
        if s.kind == INFUSION:
            i = chain.index(s)
            prev = day_of(key(chain[i - 1])) if i else None
            nxt = day_of(key(chain[i + 1])) if i + 1 < len(chain) else None
            lo, hi = req.first_day, req.last_day
            if prev:
                longest = req.longest_gap(s.number, p.max_days_apart)  # a gap the coordinator allowed
                lo, hi = max(lo, prev + timedelta(p.min_days_apart)), min(hi, prev + timedelta(longest))
            if nxt:
                longest = req.longest_gap(chain[i + 1].number, p.max_days_apart)
                lo, hi = max(lo, nxt - timedelta(longest)), min(hi, nxt - timedelta(p.min_days_apart))
            held = day_of(key(consult)) if consult and not i else None  # a consultation that stays
            if held:
                lo_c, hi_c = p.consultation_days_before
                lo, hi = max(lo, held + timedelta(lo_c)), min(hi, held + timedelta(hi_c))
        elif s.kind == CONSULTATION:
            first = day_of(key(chain[0])) if chain else None
            if first is None:
                return []
            lo, hi = (first - timedelta(days=n) for n in reversed(p.consultation_days_before))
        else:
            i = boosters.index(s)
            prev = day_of(key(boosters[i - 1])) if i else (day_of(key(chain[-1])) if chain else None)
            if prev is None:
                return []
            every, tol = p.maintenance_every_days, p.maintenance_tolerance_days
            lo, hi = prev + timedelta(every - tol), prev + timedelta(every + tol)
        lo = max(lo, today)
        was = local(s.start, zone).date()
        days = sorted((lo + timedelta(i) for i in range((hi - lo).days + 1)), key=lambda d: (abs((d - was).days), d))
        return [d for d in days if options(s, d)]

    seen: dict[tuple[Key, date], list[Option]] = {}

    def options(s: Session, day: date) -> list[Option]:
        """Free places that day: the session's own clock time first, then the nearest; at each
        time every free chair (or room), its own first, then from the lowest. (Availability
        offers the lowest free one only; plans repaired together may need another.)"""
        found = seen.get((key(s), day))
        if found is None:
            was = local(s.start, zone)
            minute = was.hour * 60 + was.minute
            pool = clinic.rooms if s.kind == CONSULTATION else clinic.chairs
            every = [
                o._replace(resource=r)
                for o in avail.options(day, s.kind, placing)
                for r in pool[pool.index(o.resource) :]
                if r == o.resource or _free(clinic, avail, s.kind, r, o.start, o.end)
            ]
            found = seen[(key(s), day)] = sorted(
                every,
                key=lambda o: (abs(o.clock.hour * 60 + o.clock.minute - minute), o.resource != s.resource, o.start),
            )
        return found

    # Days first (the spacing rules are about days), then places on those days: a day
    # that cannot work is dropped before its many times and chairs are tried.
    def by_days(i: int) -> Iterator[Candidate]:
        if i == len(order):
            yield from by_places(0)
            return
        s = by_key[order[i]]
        for day in days_for(s):
            if not budget.spend():
                return
            days_at[order[i]] = day
            yield from by_days(i + 1)
            if budget.ran_out:
                return
        days_at.pop(order[i], None)

    day_rules = {"window", "spacing", "maintenance", "patient"}
    wrong_days = False  # the days chosen break a rule whatever the places

    def by_places(i: int) -> Iterator[Candidate]:
        nonlocal wrong_days
        if i == 0:
            wrong_days = False
        if i == len(order):
            new = plan._replace(sessions=tuple(placed.get(key(s), s) for s in plan.sessions))
            new = new._replace(last_day=max(new.last_day, *(local(s.start, zone).date() for s in new.infusions)))
            broken = problems(clinic, new, request, avail, now)
            if not broken:
                moved = [(by_key[k], placed[k]) for k in order]
                shift = sum(abs((local(a.start, zone).date() - local(b.start, zone).date()).days) for b, a in moved)
                yield Candidate(new, moved, shift)
            wrong_days = any(b.rule in day_rules for b in broken)
            return
        s = by_key[order[i]]
        for o in options(s, days_at[order[i]]):
            if not budget.spend():
                return
            placed[order[i]] = s._replace(start=o.start, end=o.end, resource=o.resource, status="booked")
            yield from by_places(i + 1)
            if budget.ran_out or wrong_days:
                return
        placed.pop(order[i], None)

    yield from by_days(0)


def _free(clinic: Clinic, avail: Availability, kind: str, resource: str, start: datetime, end: datetime) -> bool:
    if kind == CONSULTATION:
        return checks.room_clash(avail.occupancy, resource, start, end) is None
    return checks.chair_clash(clinic, avail.occupancy, resource, start, end) is None


class Fits:
    """Sessions chosen so far for the plans being repaired, to fit the next one with:
    chairs (turnover), consult rooms and infusion starts per slot (everyone else's are
    in the availability every candidate was found against)."""

    def __init__(self, clinic: Clinic, avail: Availability) -> None:
        self.clinic, self.avail = clinic, avail
        self.turnover = timedelta(minutes=clinic.turnover_minutes)
        self.held: dict[str, list[tuple[datetime, datetime]]] = {}
        self.starts: Counter[datetime] = Counter()

    def admits(self, plan: Plan) -> bool:
        own = Counter(s.start.astimezone(UTC) for s in plan.active if s.kind in (INFUSION, BOOSTER))
        most = self.clinic.starts_per_slot
        for at, n in own.items():
            if self.starts[at] and self.avail.occupancy.starts_at(at) + self.starts[at] + n > most:
                return False
        for s in plan.active:
            gap = timedelta(0) if s.kind == CONSULTATION else self.turnover
            start, end = s.start.astimezone(UTC), s.end.astimezone(UTC)
            for a, b in self.held.get(s.resource or "", ()):
                if a < end + gap and start < b + gap:
                    return False
        return True

    def take(self, plan: Plan) -> None:
        for s in plan.active:
            self.held.setdefault(s.resource or "", []).append((s.start.astimezone(UTC), s.end.astimezone(UTC)))
            if s.kind in (INFUSION, BOOSTER):
                self.starts[s.start.astimezone(UTC)] += 1

    def give_back(self, plan: Plan) -> None:
        """Undo the last `take` of this plan (the joint search is depth-first)."""
        for s in reversed(plan.active):
            self.held[s.resource or ""].pop()
            if s.kind in (INFUSION, BOOSTER):
                self.starts[s.start.astimezone(UTC)] -= 1


class Affected(NamedTuple):
    plan: Plan
    request: Request
    must: set[Key]  # its conflicting sessions


class Choice(NamedTuple):
    repairs: dict[str, Candidate | None]  # plan id -> its repair; None: it cannot be placed
    proven: bool  # the most patients kept, then the fewest moves, was proven


#: Repairs of one plan kept for the joint search, its steps, and the most plans it takes
#: on (`--optimize`: more steps and plans).
CANDIDATES = 5000
STEPS = 200_000
JOINT_PLANS = 12


def _bookings(plans: list[Plan]) -> list[Booking]:
    return [Booking(s.start, s.end, s.resource, s.kind, p.plan_id) for p in plans for s in p.active]


def choose(
    clinic: Clinic,
    base: list[Booking],
    span: tuple[datetime, datetime],
    affected: list[Affected],
    now: datetime,
    steps: int = STEPS,
    joint_plans: int = JOINT_PLANS,
) -> Choice:
    """Repairs for every affected plan (`base`: everyone else's bookings). First each plan
    in turn takes its first repair that fits the others as they stand; when every plan
    then moves no more sessions than it would alone, that is the best there is. Otherwise
    the plans left out go first in a second round, and with up to `joint_plans` plans a
    joint search (most plans kept, then fewest moves) runs within `steps`."""
    budget = Budget(steps)
    alone = Availability(clinic, base, span=span)
    least: dict[str, int | None] = {}
    for a in affected:
        first = next(candidates(clinic, a.plan, a.request, a.must, alone, now, budget), None)
        least[a.plan.plan_id] = None if first is None else len(first.moved)
    greedy = _in_turn(clinic, base, span, affected, now, budget)
    best_there_is = all(
        (found is not None and len(found.moved) == least[pid]) or (found is None and least[pid] is None)
        for pid, found in greedy.items()
    )
    if best_there_is and not budget.ran_out:
        return Choice(greedy, True)
    left = [a for a in affected if greedy[a.plan.plan_id] is None]
    if left:
        again = _in_turn(clinic, base, span, left + [a for a in affected if a not in left], now, budget)
        if value(again) < value(greedy):
            greedy = again
    if len(affected) > joint_plans or budget.ran_out:
        return Choice(greedy, False)
    joint = _joint(clinic, alone, affected, now, budget, greedy)
    if not all_rules_kept(clinic, base, span, affected, joint.repairs, now):
        return Choice(greedy, False)  # the joint search's own fit test let something through: a bug
    return joint


def all_rules_kept(
    clinic: Clinic, base: list[Booking], span: tuple[datetime, datetime], affected: list[Affected],
    repairs: dict[str, Candidate | None], now: datetime,
) -> bool:  # fmt: skip
    """The named checks, not `Fits`, have the last word: every repaired plan against
    everyone as they end up (a plan left unplaced keeps the sessions not in conflict)."""
    final = {a.plan.plan_id: (c.plan if (c := repairs.get(a.plan.plan_id)) else staying(a)) for a in affected}
    avail = Availability(clinic, base + _bookings(list(final.values())), span=span)
    for a in affected:
        if repairs.get(a.plan.plan_id) is None:
            continue
        own = _bookings([final[a.plan.plan_id]])
        for b in own:
            avail.occupancy.remove(b)
        broken = problems(clinic, final[a.plan.plan_id], a.request, avail, now)
        avail.occupancy.add_all(own)
        if broken:
            return False
    return True


def _in_turn(
    clinic: Clinic, base: list[Booking], span: tuple[datetime, datetime], affected: list[Affected], now: datetime,
    budget: Budget,
) -> dict[str, Candidate | None]:  # fmt: skip
    """Each plan in turn takes its first repair that fits the others as they stand."""
    found: dict[str, Candidate | None] = {}
    done: dict[str, Plan] = {}
    for a in affected:
        others = [done.get(b.plan.plan_id) or staying(b) for b in affected if b is not a]
        avail = Availability(clinic, base + _bookings(others), span=span)
        c = next(candidates(clinic, a.plan, a.request, a.must, avail, now, budget), None)
        found[a.plan.plan_id] = c
        done[a.plan.plan_id] = c.plan if c else staying(a)
    return found


def value(choice: dict[str, Candidate | None]) -> tuple[int, int, int]:
    """Most plans kept, then fewest sessions moved, then the nearest days (smaller is better)."""
    kept = [c for c in choice.values() if c is not None]
    return (-len(kept), sum(len(c.moved) for c in kept), sum(c.shift for c in kept))


def staying(a: Affected) -> Plan:
    """A plan not yet repaired, as the others see it: its sessions that will stay."""
    return a.plan._replace(sessions=tuple(s for s in a.plan.sessions if key(s) not in a.must))


def _joint(
    clinic: Clinic, alone: Availability, affected: list[Affected], now: datetime, budget: Budget,
    greedy: dict[str, Candidate | None],
) -> Choice:  # fmt: skip
    """Branch and bound over the plans' repairs: most plans kept, then fewest moves, then
    the nearest days; `greedy` is the first answer to beat."""
    lists = [_Lazy(candidates(clinic, a.plan, a.request, a.must, alone, now, budget)) for a in affected]

    best = (value(greedy), dict(greedy))
    chosen: dict[str, Candidate | None] = {}

    def search(i: int, fits: Fits, lost: int, moves: int) -> None:
        nonlocal best
        if (-(len(affected) - lost), moves, 0) >= best[0] or not budget.spend():
            return  # cannot beat the best (keeping everyone left, moving nothing more)
        if i == len(affected):
            if value(chosen) < best[0]:
                best = (value(chosen), dict(chosen))
            return
        a = affected[i]
        for c in lists[i].each():
            if fits.admits(c.plan):
                fits.take(c.plan)
                chosen[a.plan.plan_id] = c
                search(i + 1, fits, lost, moves + len(c.moved))
                fits.give_back(c.plan)
        stays = staying(a)  # this patient cannot be placed: the series stays as booked (its
        if fits.admits(stays):  # conflicting sessions stay listed by `conflicts`)
            fits.take(stays)
            chosen[a.plan.plan_id] = None
            search(i + 1, fits, lost + 1, moves)
            fits.give_back(stays)
            del chosen[a.plan.plan_id]

    search(0, Fits(clinic, alone), 0, 0)
    return Choice(best[1], not budget.ran_out and not any(x.capped for x in lists))


class _Lazy:
    """A plan's repairs, found as the joint search first asks for them (fewest moves first),
    kept for the next time; at most CANDIDATES."""

    def __init__(self, source: Iterator[Candidate]) -> None:
        self.source: Iterator[Candidate] | None = source
        self.found: list[Candidate] = []
        self.capped = False

    def each(self) -> Iterator[Candidate]:
        i = 0
        while True:
            if i < len(self.found):
                yield self.found[i]
                i += 1
                continue
            if self.source is None:
                return
            if len(self.found) >= CANDIDATES:
                self.capped, self.source = True, None
                return
            c = next(self.source, None)
            if c is None:
                self.source = None
                return
            self.found.append(c)
