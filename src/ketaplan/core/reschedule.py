"""Moving one session of a booked series, keeping every rule (pure: no ledger here).

A session moves to another day (the patient cannot come on its current one). An
infusion moves to the best free slot from `from_day` on that keeps the spacing to its
neighbours; only when no such slot exists do the later infusions move too, as few as
possible. Sessions in the past stay. The usual clock time is kept where possible. The
window may grow up to the protocol's longest, and the result says so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.core import checks
from ketaplan.core.availability import Availability, Option
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import short, short_list
from ketaplan.core.errors import InputError, NoPlanError
from ketaplan.core.model import BOOSTER, INFUSION_KINDS, Plan, Request, Session
from ketaplan.core.planner import (
    PlanCheckFailed,
    booster_finder,
    broken_rules,
    consultation_finder,
    pick,
    verify_change,
)
from ketaplan.core.search import DayTest, SequenceSearch, day_masks, mask_of, search_days
from ketaplan.core.suggestion import Suggestion
from ketaplan.core.times import local

Moves = tuple[list[tuple[Session, Session]], list[str]]  # (before, after) pairs, notes
OptionsFor = Callable[[date, str], list[Option]]


class Rescheduled(NamedTuple):
    plan: Plan
    moved: list[tuple[Session, Session]]  # (before, after)
    notes: list[str]
    request: Request | None = None  # the request with a newly allowed gap; None: unchanged


def _usual_clock(plan: Plan, zone: ZoneInfo) -> time | None:
    clocks = [local(s.start, zone).time() for s in plan.infusions if s.active]
    return max(set(clocks), key=lambda c: (clocks.count(c), -c.hour * 60 - c.minute)) if clocks else None


def find_session(plan: Plan, kind: str, number: int, *, rebook: bool = False) -> Session:
    """The session a change names, refused when it cannot change: attended, or cancelled
    (unless `rebook`: a move books a cancelled session again, at its new time)."""
    same = [s for s in plan.sessions if s.kind == kind]
    if not same:
        raise InputError(f"plan {plan.plan_id} has no {kind}", field="session")
    match = [s for s in same if s.number == number]
    if not match:
        raise InputError(
            f"{kind} {number} does not exist; the plan has {kind}s 1 to {max(s.number for s in same)}",
            field="session",
        )
    s = match[0]
    if s.status == "cancelled" and not rebook:
        raise InputError(f"{s.label} is cancelled already", field="session")
    if s.status == "attended":
        raise InputError(f"{s.label} was attended on {s.start:%Y-%m-%d %H:%M}; it stays", field="session")
    return s


def missed(s: Session, now: datetime) -> bool:
    """A session to book again: marked a no-show, or past and never marked attended."""
    return s.status == "no_show" or (s.status == "booked" and s.start.astimezone(UTC) <= now.astimezone(UTC))


def reschedule(
    clinic: Clinic,
    plan: Plan,
    request: Request,
    avail: Availability,
    *,
    kind: str,
    number: int,
    from_day: date,
    now: datetime,
    allow_gap: int | None = None,
) -> Rescheduled:
    """`avail` holds everyone else's bookings (not this plan's). `allow_gap`: the gap before
    the moved infusion may be this long (the coordinator's choice, recorded with the plan)."""
    target = find_session(plan, kind, number, rebook=True)  # a cancelled session is booked again
    cutoff = clinic.earliest_booking(now)  # a moved session keeps the clinic's minimum notice too
    allowed = request.with_gap(number, allow_gap) if allow_gap and kind == "infusion" else request
    if allow_gap and not has_gap_before(plan, target):
        raise InputError(f"{target.label} has no infusion before it, so no gap to allow", field="allow_gap")
    found = _attempt(clinic, plan, request, allowed, avail, target, from_day, now)
    if found is None:
        req = request._replace(not_before=from_day, not_before_at=cutoff)
        suggestions = [] if allow_gap or kind != "infusion" else _longer_gap(clinic, plan, request, avail, target,
                                                                             from_day, now)  # fmt: skip
        suggestions += new_series(clinic, plan, req, avail, from_day)  # the notice kept
        raise _no_slot(clinic, plan, request, target, from_day, suggestions, avail, cutoff)
    return found


#: How much longer than the protocol's a gap is offered (`--allow-gap`) when nothing else works.
LONGER_GAP_DAYS = 14


def _longer_gap(
    clinic: Clinic, plan: Plan, request: Request, avail: Availability, target: Session, from_day: date, now: datetime
) -> list[Suggestion]:
    """A series near its end keeps going: the shortest longer gap before the infusion that
    works, checked as offered (the coordinator decides, with a reason)."""
    longest = clinic.protocol.max_days_apart
    if not has_gap_before(plan, target):
        return []
    for gap in range(longest + 1, longest + LONGER_GAP_DAYS + 1):
        allowed = request.with_gap(target.number, gap)
        try:
            found = _attempt(clinic, plan, request, allowed, avail, target, from_day, now)
        except PlanCheckFailed:
            continue  # an offer the final check refuses is not made (the refusal stands)
        if found is not None and found.request is not None:
            new = dict((b.number, a) for b, a in found.moved if b.kind == target.kind)[target.number]
            message = (
                f"allow {gap} days before {target.label} (the protocol's longest is {longest}) and book it "
                f"{short(local(new.start, clinic.zone).date())}"
            )
            req = found.request._replace(not_before=from_day)
            return [Suggestion("allow_gap", message, req, plan_id=plan.plan_id, session=target.number)]
    return []


def has_gap_before(plan: Plan, target: Session) -> bool:
    return target.kind == "infusion" and any(s.active and s.number < target.number for s in plan.infusions)


def _attempt(
    clinic: Clinic,
    plan: Plan,
    request: Request,
    allowed: Request,
    avail: Availability,
    target: Session,
    from_day: date,
    now: datetime,
) -> Rescheduled | None:
    """The move, checked whole; None when no slot keeps every rule (`allowed`: the request
    with a longer gap the coordinator allows, else `request`)."""
    kind, number, zone = target.kind, target.number, clinic.zone
    req = allowed._replace(not_before=from_day, not_before_at=clinic.earliest_booking(now))

    def future_options(day: date, what: str) -> list[Option]:
        return avail.options(day, what, req)  # req.not_before_at: Availability keeps the notice

    if kind == "infusion":
        result = _move_infusions(clinic, plan, req, avail, target, from_day, future_options, now)
    elif kind == "consultation":
        result = _move_consultation(clinic, plan, target, from_day, future_options)
        first = _first_to_come(plan)
        if result is None and first is not None:
            # No day before infusion 1 is left (a missed consultation, say): infusion 1
            # moves too, in one step, and the consultation is booked before it.
            result = _move_infusions(clinic, plan, req, avail, first, from_day, future_options, now, follows=True)
            if result is not None:
                lo, hi = clinic.protocol.consultation_days_before
                result[1].insert(0, f"no day {lo}-{hi} days before infusion 1 was left for the consultation")
    else:
        result = _move_boosters(clinic, plan, req, avail, target, from_day, future_options)
    if result is None:
        return None
    moved, notes = result
    replaced = {(b.kind, b.number): a for b, a in moved}
    sessions = tuple(replaced.get((s.kind, s.number), s) for s in plan.sessions)
    days = [local(s.start, zone).date() for s in sessions if s.kind == "infusion" and s.active]
    new_plan = plan._replace(sessions=sessions, last_day=max([plan.last_day, *days]))
    if new_plan.last_day != plan.last_day:
        notes.append(
            f"the window now ends {short(new_plan.last_day)} (was {short(plan.last_day)}; the "
            f"protocol allows {clinic.protocol.window_days[1]} days)"
        )
    changed = allowance_used(clinic, new_plan, request, allowed, avail)
    if changed is not None:
        notes.append(f"a {dict(changed.gaps)[number]}-day gap is allowed before infusion {number} (recorded)")
    verify_change(clinic, new_plan, changed or request, avail, before=plan, now=now)
    return Rescheduled(new_plan, moved, notes, changed)


def allowance_used(
    clinic: Clinic, plan: Plan, request: Request, allowed: Request, avail: Availability
) -> Request | None:
    """The request with the longer gap the coordinator allowed, when the changed plan needs
    it (for its gap, or the window that gap lengthens); None when the
    protocol's was enough (nothing is recorded then)."""
    if allowed is request:
        return None
    # The named rules decide: the plan needs the allowance when, without it, it breaks them.
    return allowed if broken_rules(clinic, plan, request, avail, only=("spacing", "window")) else None


def _move_infusions(
    clinic: Clinic,
    plan: Plan,
    req: Request,
    avail: Availability,
    target: Session,
    from_day: date,
    future_options: OptionsFor,
    now: datetime,
    *,
    follows: bool = False,
) -> Moves | None:
    """`follows`: the consultation is booked again before the new infusion 1 (it asked to move)."""
    p = clinic.protocol
    zone = clinic.zone
    # A missed infusion (a no-show) is moved like any other; the ones before it stay, and
    # the spacing runs from the last of them, the last infusion the patient had.
    infusions = sorted((s for s in plan.infusions if s.active or s is target), key=lambda s: s.number)
    idx = infusions.index(target)
    past = now.astimezone(UTC)

    def day(s: Session) -> date:
        return local(s.start, zone).date()

    prev = day(infusions[idx - 1]) if idx > 0 else None
    longest = req.longest_gap(target.number, p.max_days_apart)  # more with --allow-gap
    latest_last = plan.first_day + timedelta(days=p.window_days[1] - 1 + checks.longer_by(clinic, req))
    usual = _usual_clock(plan, zone)
    for k in range(len(infusions) - idx):
        segment = infusions[idx : idx + k + 1]
        if any(s.start.astimezone(UTC) <= past for s in segment[1:]):
            break  # a later infusion already happened (or was due): it cannot move
        nxt = day(infusions[idx + k + 1]) if idx + k + 1 < len(infusions) else None
        lo = max(from_day, plan.first_day, prev + timedelta(days=p.min_days_apart) if prev else from_day)
        hi = min(latest_last, nxt - timedelta(days=p.min_days_apart) if nxt else latest_last)
        if lo > hi:
            continue
        days = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
        opts = {d: future_options(d, "infusion") for d in days}
        # The session moves to another day than its own (that is what reschedule asks for).
        first_mask = mask_of(
            days,
            lambda d: d != day(target) and (prev is None or checks.spacing_problem(clinic, prev, d, longest) is None),
        )
        last_mask = mask_of(days, _before(clinic, nxt))
        open_mask, by_clock = day_masks(days, opts)
        n = len(segment)
        # The neighbours that stay, as positions in `days`: their gaps count for even spacing.
        # (A longer gap allowed before the target: first_mask keeps it, the search must not
        # cap it at the protocol's.)
        before = (prev - days[0]).days if prev and longest == p.max_days_apart else None
        after = (nxt - days[0]).days if nxt else None
        search = SequenceSearch(n, p.min_days_apart, p.max_days_apart, first_mask, last_mask, before, after)
        found = search.best(by_clock.get(usual, 0)) if usual else None
        clock = usual
        if found is None:
            best = search_days(
                n, p.min_days_apart, p.max_days_apart, first_mask, last_mask, by_clock, open_mask, before, after
            )
            if best is None:
                continue
            clock, found = best[1], best[2]
        chosen = [pick(opts[days[i]], clock or usual) for i in found]
        moved = [
            (s, s._replace(start=o.start, end=o.end, resource=o.resource, status="booked"))
            for s, o in zip(segment, chosen, strict=False)
        ]
        notes: list[str] = []
        if k:
            others = (
                f"infusion {segment[1].number} had"
                if len(segment) == 2
                else f"infusions {segment[1].number}-{segment[-1].number} had"
            )
            notes.append(f"{others} to move too, to keep {p.min_days_apart}-{p.max_days_apart} days between infusions")
        extra = _fix_ends(clinic, plan, req, avail, moved, clock or usual, now, follows=follows)
        if extra is None:
            continue
        moved += extra[0]
        notes += extra[1]
        return moved, notes
    return None


def _fix_ends(
    clinic: Clinic,
    plan: Plan,
    req: Request,
    avail: Availability,
    moved: list[tuple[Session, Session]],
    clock: time | None,
    now: datetime,
    *,
    follows: bool = False,
) -> Moves | None:
    """Consultation and boosters follow a moved first or last infusion when their rules
    break. A missed consultation (or one that asked to move: `follows`) is booked again
    before a moved infusion 1, so one command moves both."""
    zone = clinic.zone
    new = {(b.kind, b.number): a for b, a in moved}
    infusions = sorted(
        (x for x in (new.get((s.kind, s.number), s) for s in plan.infusions) if x.active),
        key=lambda s: s.start.astimezone(UTC),
    )
    first, last = local(infusions[0].start, zone).date(), local(infusions[-1].start, zone).date()
    out: list[tuple[Session, Session]] = []
    notes: list[str] = []
    consult = plan.consultation
    first_moved = any(b.kind == "infusion" and local(a.start, zone).date() == first for b, a in moved)
    again = (
        consult is not None
        and consult.status != "attended"
        and first_moved
        and (follows or (consult.status != "cancelled" and missed(consult, now)))
    )
    # The consultation answers to infusion 1 only when infusion 1's day changed: a gap left
    # by an older change (infusion 1 cancelled after it was held) is not this move's to fix.
    if consult is not None and (again or (consult.active and first_moved)):
        if again or checks.consultation_problem(clinic, consult, infusions[0]):
            if not again and consult.start.astimezone(UTC) <= now.astimezone(UTC):
                return None  # held already, and now too far from the first infusion
            c = consultation_finder(clinic, req._replace(consultation=True), avail)(first, clock, infusions[0].start)
            if c is None:
                return None
            out.append((consult, consult._replace(start=c.start, end=c.end, resource=c.resource, status="booked")))
            notes.append(
                "the consultation moved with infusion 1" if consult.active else "the consultation is booked again"
            )
    boosters = sorted((s for s in plan.boosters if s.active), key=lambda s: s.number)
    if boosters and checks.maintenance_problem(clinic, last, local(boosters[0].start, zone).date()):
        chain = booster_finder(clinic, req._replace(boosters=len(boosters)), avail)(last, clock)
        if chain is None:
            return None
        out += [
            (b, b._replace(start=o.start, end=o.end, resource=o.resource))
            for b, o in zip(boosters, chain, strict=False)
        ]
        notes.append("the boosters moved with the last infusion")
    return out, notes


def _first_to_come(plan: Plan) -> Session | None:
    """Infusion 1 as the patient will have it: the first infusion not attended nor cancelled,
    when none was attended yet (after that the consultation has done its job)."""
    infusions = sorted((s for s in plan.infusions if s.status != "cancelled"), key=lambda s: s.number)
    if not infusions or any(s.status == "attended" for s in infusions):
        return None
    return infusions[0]


def _move_consultation(
    clinic: Clinic, plan: Plan, target: Session, from_day: date, future_options: OptionsFor
) -> Moves | None:
    lo, hi = clinic.protocol.consultation_days_before
    infusions = sorted((s for s in plan.infusions if s.active), key=lambda s: s.start.astimezone(UTC))
    if not infusions:
        return None
    first = local(infusions[0].start, clinic.zone).date()
    clock = _usual_clock(plan, clinic.zone)
    for before in range(hi, lo - 1, -1):  # earliest allowed day first: a missed consultation is urgent
        day = first - timedelta(days=before)
        if day < from_day or day == local(target.start, clinic.zone).date():
            continue
        options = future_options(day, "consultation")
        if before == 0:  # the same day: over before infusion 1 begins
            options = [o for o in options if o.end.astimezone(UTC) <= infusions[0].start.astimezone(UTC)]
        if options:
            o = pick(options, local(target.start, clinic.zone).time() or clock)
            return [(target, target._replace(start=o.start, end=o.end, resource=o.resource, status="booked"))], []
    return None


# The same arguments as _move_infusions: one mover per kind, called alike by reschedule().
def _move_boosters(
    clinic: Clinic,
    plan: Plan,
    req: Request,
    avail: Availability,
    target: Session,
    from_day: date,
    future_options: OptionsFor,
) -> Moves | None:
    zone = clinic.zone
    chain_sessions = sorted(
        (s for s in plan.sessions if s.kind in INFUSION_KINDS and (s.active or s is target)),
        key=lambda s: s.start.astimezone(UTC),
    )
    idx = chain_sessions.index(target)
    prev_day = local(chain_sessions[idx - 1].start, zone).date()
    rest = [s for s in chain_sessions[idx:] if s.kind == BOOSTER]
    usual = _usual_clock(plan, zone)
    skip = local(target.start, zone).date()
    # The booster alone first: a day the rule allows after the session before it that keeps
    # the next booster within the rule too. Only when none is free do the later ones move.
    p = clinic.protocol
    every, tol = p.maintenance_every_days, p.maintenance_tolerance_days
    nxt = local(rest[1].start, zone).date() if len(rest) > 1 else None
    for gap in sorted(range(every - tol, every + tol + 1), key=lambda g: (abs(g - every), g)):
        day = prev_day + timedelta(days=gap)
        if day == skip or day < from_day or (nxt and checks.maintenance_problem(clinic, day, nxt)):
            continue
        opts = future_options(day, BOOSTER)
        if opts:
            o = pick(opts, usual)
            return [(target, target._replace(start=o.start, end=o.end, resource=o.resource, status="booked"))], []
    req = req._replace(boosters=len(rest), not_before=from_day, unavailable=req.unavailable | {skip})
    finder = booster_finder(clinic, req, avail)
    chain = finder(prev_day, usual)
    if chain is None:
        return None
    return [
        (b, b._replace(start=o.start, end=o.end, resource=o.resource, status="booked"))
        for b, o in zip(rest, chain, strict=False)
    ], (["later boosters moved too"] if len(rest) > 1 else [])


def _before(clinic: Clinic, nxt: date | None) -> DayTest:
    """Days the session before `nxt` may move to, keeping the spacing to it."""
    return lambda d: nxt is None or checks.spacing_problem(clinic, d, nxt) is None


def new_series(clinic: Clinic, plan: Plan, request: Request, avail: Availability, from_day: date) -> list[Suggestion]:
    """The way out when nothing moves: cancel the rest and plan anew (checked to work)."""
    from ketaplan.core.diagnosis import LATER_START_WEEKS
    from ketaplan.core.planner import find_plan

    length = request.window_length
    # A consultation that was never held is part of the new series too.
    consult = plan.consultation
    held = consult is not None and consult.status == "attended"
    for k in range(0, LATER_START_WEEKS * 7):
        first = from_day + timedelta(days=k)
        r = request._replace(
            first_day=first,
            last_day=first + timedelta(days=length - 1),
            not_before=from_day,
            consultation=request.consultation and not held,
            boosters=0,
        )
        found = find_plan(clinic, r, avail)
        if found is not None:
            # Name the day the new series really starts (not a closed day before it).
            start = min(local(s.start, clinic.zone).date() for s in found.infusions)
            r = r._replace(first_day=start, last_day=start + timedelta(days=length - 1))
            if find_plan(clinic, r, avail) is None:  # each suggestion is checked as offered
                continue
            message = f"cancel the rest of {plan.plan_id} and plan a new series from {short(start)}"
            return [Suggestion("new_series", message, r, plan_id=plan.plan_id)]
    return []


def _no_slot(
    clinic: Clinic,
    plan: Plan,
    request: Request,
    target: Session,
    from_day: date,
    suggestions: list[Suggestion],
    avail: Availability,
    cutoff: datetime,
) -> NoPlanError:
    p = clinic.protocol
    latest = plan.first_day + timedelta(days=p.window_days[1] - 1)
    if target.kind == "infusion":
        why = (
            f"no free slot for {target.label} from {short(from_day)} that keeps "
            f"{p.min_days_apart}-{p.max_days_apart} days "
            f"between infusions within the longest window (until {short(latest)}), even moving the later infusions"
        )
    elif target.kind == "consultation":
        why = _consultation_why(clinic, plan, request, from_day, avail, cutoff)
    else:
        every, tolerance = p.maintenance_every_days, p.maintenance_tolerance_days
        why = f"no free slot for {target.label} {every}+-{tolerance} days after the session before it"
    return NoPlanError(f"Cannot move {target.label}.", explanation=[why], suggestions=suggestions)


def _consultation_why(
    clinic: Clinic, plan: Plan, request: Request, from_day: date, avail: Availability, cutoff: datetime
) -> str:
    """Why no day before infusion 1 takes the consultation: closed days, the patient's days,
    a day too late to book (over, or inside the minimum notice), or full rooms, each named
    (not a blanket "no consult room")."""
    lo, hi = clinic.protocol.consultation_days_before
    infusions = [local(s.start, clinic.zone).date() for s in plan.infusions if s.active]
    first = min(infusions) if infusions else plan.first_day
    days = [first - timedelta(days=n) for n in range(hi, lo - 1, -1)]
    days = [d for d in days if d >= from_day]
    head = f"the consultation must come {lo}-{hi} days before infusion 1 ({short(first)})"
    if not days:
        return f"{head}, and those days are before {short(from_day)}"
    closed = [d for d in days if clinic.closed_reason(d)]
    patient = [d for d in days if d not in closed and checks.patient_day_problem(request, d)]
    anytime = request._replace(not_before=None, not_before_at=None)
    late = [
        d for d in days
        if d not in closed and d not in patient and d <= local(cutoff, clinic.zone).date()
        and avail.options(d, "consultation", anytime)
    ]  # fmt: skip
    full = [d for d in days if d not in closed and d not in patient and d not in late]
    soonest = f"{local(cutoff, clinic.zone):%a %H:%M}"
    parts = [f"closed {short_list(closed)}" if closed else "", f"the patient cannot come {short_list(patient)}"
             if patient else "", f"too late to book {short_list(late)} (nothing sooner than {soonest})"
             if late else "", f"no consult room free {short_list(full)}" if full else ""]  # fmt: skip
    return f"{head}: " + "; ".join(x for x in parts if x)
