"""Conflicts and repairs against the ledger: which booked sessions the clinic as it stands
no longer admits (`conflicts`), and moving them, every affected plan together in one
transaction (`repair`). The rules and the search are core.repair's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import NamedTuple

from ketaplan.app.delivery import queue_change
from ketaplan.app.repair_solving import solve_repair
from ketaplan.app.solving import Budget
from ketaplan.app.views import as_it_stands
from ketaplan.core import repair
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import short
from ketaplan.core.model import HELD_STATUSES, UNNAMED, Author, Booking, Plan, Session
from ketaplan.core.reschedule import new_series
from ketaplan.core.suggestion import Suggestion
from ketaplan.core.times import local
from ketaplan.store.ledger import Ledger, LedgerTx


class Conflict(NamedTuple):
    plan: Plan
    session: Session
    rule: str
    reason: str


class Found(NamedTuple):
    """The conflicts in a stretch of days, and what a repair needs to move them."""

    clinic: Clinic  # as it stands
    conflicts: list[Conflict]
    affected: list[repair.Affected]
    others: list[Booking]  # everyone else's bookings
    span: tuple[datetime, datetime]


def find_conflicts(tx: LedgerTx, clinic: Clinic, now: datetime, first: date | None, last: date | None) -> Found:
    """Every booked session from now on (within first..last, local days) that a named check
    refuses, each plan checked against everyone else's bookings."""
    clinic = as_it_stands(tx, clinic)
    zone = clinic.zone
    since = now if first is None else max(now, datetime.combine(first, datetime.min.time(), zone))
    loaded = [tx.load_plan(pid) for pid in tx.upcoming_plan_ids(clinic.name, since, 10**9)]
    if not loaded:
        return Found(clinic, [], [], [], (now, now))
    starts = [s.start for p, _ in loaded for s in p.active] + [now]
    ends = [s.end for p, _ in loaded for s in p.active]
    # Wide enough for every place a repair may move a session to (boosters included).
    reach = timedelta(days=clinic.protocol.window_days[1] + clinic.protocol.maintenance_every_days + 31)
    span = (min(starts) - timedelta(days=1), max(ends) + reach)
    everyone = tx.bookings(clinic.name, *span, zone)
    # First come, first kept: each plan is checked against the sessions of the plans booked
    # before it that keep their place, so of two sessions that clash (fewer chairs now,
    # fewer starts per slot) only the later booked one is in conflict.
    loaded.sort(key=lambda pr: (pr[0].history[0].at if pr[0].history else "", pr[0].plan_id))
    checked = {p.plan_id for p, _ in loaded}
    kept = Availability(clinic, [b for b in everyone if b.plan_id not in checked], span=span)
    places = set(clinic.chairs) | set(clinic.rooms)  # a session on a chair no longer there keeps none
    conflicts: list[Conflict] = []
    affected: list[repair.Affected] = []
    for plan, request in loaded:
        found = repair.problems(clinic, plan, request, kept, now)
        must = {repair.key(p.session) for p in found}
        kept.occupancy.add_all(
            Booking(s.start, s.end, s.resource, s.kind, plan.plan_id)
            for s in plan.sessions
            if s.status in HELD_STATUSES and repair.key(s) not in must and s.resource in places
        )
        # A plan with a conflict in first..last is repaired whole (all its conflicts move).
        if any(_within(local(p.session.start, zone).date(), first, last) for p in found):
            conflicts += [Conflict(plan, p.session, p.rule, p.reason) for p in found]
            affected.append(repair.Affected(plan, request, must))
    mine = {a.plan.plan_id for a in affected}
    others = [b for b in everyone if b.plan_id not in mine]
    conflicts.sort(key=lambda c: (c.session.start, c.plan.plan_id))
    return Found(clinic, conflicts, affected, others, span)


def _within(day: date, first: date | None, last: date | None) -> bool:
    return (first is None or day >= first) and (last is None or day <= last)


def count_conflicts(ledger: Ledger, clinic: Clinic, now: datetime) -> int:
    """How many sessions from now on are in conflict (what `day`, `clinic check` and
    `close` mention)."""
    if not ledger.exists():
        return 0
    with ledger.read() as tx:
        found = find_conflicts(tx, clinic, now, None, None).conflicts
    return len({(c.plan.plan_id, c.session.kind, c.session.number) for c in found})


class Left(NamedTuple):
    """A patient the repair could not place, with options checked to work."""

    plan: Plan
    sessions: list[Session]
    why: str
    suggestions: list[Suggestion]


class Repaired(NamedTuple):
    conflicts: list[Conflict]
    moved: list[tuple[Plan, list[tuple[Session, Session]]]]  # each plan as repaired (committed)
    left: list[Left]
    proven: bool
    dry_run: bool


def repair_in_ledger(
    ledger: Ledger,
    clinic: Clinic,
    now: datetime,
    *,
    first: date | None = None,
    last: date | None = None,
    dry_run: bool = False,
    optimize: Budget | None = None,
    author: Author = UNNAMED,
    say: Callable[[str], None] = lambda text: None,
) -> Repaired:
    """Move every conflicting session of every affected plan, together, in one transaction
    (nothing when dry_run). Each plan's history records what moved and why. `optimize`:
    `repair --optimize`'s solver and time (app.repair_solving), which works on a snapshot
    of the ledger without its write lock, so the desks book on meanwhile."""
    solved: tuple[set[tuple[str, int]], repair.Choice] | None = None
    if optimize is not None:
        from ketaplan.solver import require

        require(optimize.solver)
        with ledger.read() as tx:
            found = find_conflicts(tx, clinic, now, first, last)
            if not found.affected:
                return Repaired([], [], [], True, dry_run)
            args = (found.clinic, found.others, found.span, found.affected, now)
            choice = solve_repair(*args, repair.choose(*args), optimize, say)
            solved = ({(a.plan.plan_id, a.plan.revision) for a in found.affected}, choice)
    with ledger.read() if dry_run else ledger.write() as tx:
        found = find_conflicts(tx, clinic, now, first, last)
        if not found.affected:
            return Repaired([], [], [], True, dry_run)
        standing = found.clinic
        args = (standing, found.others, found.span, found.affected, now)
        if solved is not None and _still_holds(solved, found, now):
            choice = solved[1]
        else:
            if solved is not None:
                say("other desks changed the ledger during the solve: repairing with the standard search")
            choice = repair.choose(*args)
        moved: list[tuple[Plan, list[tuple[Session, Session]]]] = []
        left: list[Left] = []
        reasons = _reasons(found.conflicts)
        turnover = timedelta(minutes=standing.turnover_minutes)
        for a in found.affected:
            c = choice.repairs.get(a.plan.plan_id)
            if c is None:
                left.append(Left(a.plan, [s for s in a.plan.sessions if repair.key(s) in a.must], "", []))
                continue
            plan = c.plan
            if not dry_run:
                what = ", ".join(f"{b.label} {_when(b, standing)} -> {_when(x, standing)}" for b, x in c.moved)
                why = author.reason or reasons[a.plan.plan_id]
                plan = tx.update_plan(
                    plan, a.plan.revision, f"repaired: {what}", now, turnover, author._replace(reason=why)
                )
                queue_change(tx, clinic, a.plan, plan, now)
            moved.append((plan, c.moved))
        if left:  # their options are checked against everyone as repaired
            final = [p for p, _ in moved] + [x.plan for x in left]
            taken = found.others + [
                Booking(s.start, s.end, s.resource, s.kind, p.plan_id) for p in final for s in p.active
            ]
            left = [_left(standing, x, found, taken, now) for x in left]
    return Repaired(found.conflicts, moved, left, choice.proven, dry_run)


def _still_holds(solved: tuple[set[tuple[str, int]], repair.Choice], found: Found, now: datetime) -> bool:
    """The snapshot's answer, under the write lock: the same plans to repair, unchanged,
    and every rule kept against what other desks booked meanwhile."""
    plans, choice = solved
    if plans != {(a.plan.plan_id, a.plan.revision) for a in found.affected}:
        return False
    return repair.all_rules_kept(found.clinic, found.others, found.span, found.affected, choice.repairs, now)


def _reasons(conflicts: list[Conflict]) -> dict[str, str]:
    """Why each plan moved, for its history: the rules its sessions broke."""
    out: dict[str, list[str]] = defaultdict(list)
    for c in conflicts:
        text = f"{c.session.label}: {c.reason}"
        if text not in out[c.plan.plan_id]:
            out[c.plan.plan_id].append(text)
    return {pid: "; ".join(texts)[:500] for pid, texts in out.items()}


def _when(s: Session, clinic: Clinic) -> str:
    ls = s.start.astimezone(clinic.zone)
    return f"{short(ls.date())} {ls:%H:%M} {s.resource or ''}".rstrip()


def _left(clinic: Clinic, x: Left, found: Found, taken: list[Booking], now: datetime) -> Left:
    """Why a plan could not be repaired, and a new series from tomorrow on, checked against
    everyone's bookings as repaired (its own left out)."""
    p = clinic.protocol
    latest = x.plan.first_day + timedelta(days=p.window_days[1] - 1)
    why = (
        f"no way to move {', '.join(s.label for s in x.sessions)} that keeps {p.min_days_apart}-{p.max_days_apart} "
        f"days between infusions within the longest window (until {short(latest)}), even moving its other "
        "sessions still to come"
    )
    avail = Availability(clinic, [b for b in taken if b.plan_id != x.plan.plan_id], span=found.span)
    # From the first session it cannot keep (tomorrow at the soonest): the days before stay.
    first = min(s.start for s in x.sessions).astimezone(clinic.zone).date()
    since = max(first, now.astimezone(clinic.zone).date() + timedelta(days=1))
    request = next(a.request for a in found.affected if a.plan.plan_id == x.plan.plan_id)
    request = request._replace(not_before_at=clinic.earliest_booking(now))  # the offer keeps the notice
    return x._replace(why=why, suggestions=new_series(clinic, x.plan, request, avail, since))
