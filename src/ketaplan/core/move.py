"""A move the coordinator chooses: one session to a given day (the same day included), at a
given time and in a given chair or room, or the best left free there. Nothing else moves;
every named check is run on the series as it would be, and a move that breaks a rule is
refused naming the rule (core.reschedule finds a slot itself instead)."""

from __future__ import annotations

from datetime import date, datetime, time

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.errors import InputError, NoPlanError
from ketaplan.core.model import CONSULTATION, Plan, Request
from ketaplan.core.planner import broken_rules
from ketaplan.core.reschedule import Rescheduled, allowance_used, find_session, has_gap_before
from ketaplan.core.times import local


def move_to(
    clinic: Clinic,
    plan: Plan,
    request: Request,
    avail: Availability,
    *,
    kind: str,
    number: int,
    day: date,
    at: time | None,
    place: str | None,
    now: datetime,
    allow_gap: int | None = None,
) -> Rescheduled:
    """`avail` holds everyone else's bookings (not this plan's). `at`: the local start
    (default: the session's own clock time); `place`: a chair (a room for a consultation)."""
    zone = clinic.zone
    target = find_session(plan, kind, number, rebook=True)
    clock = at or local(target.start, zone).time()
    start = datetime.combine(day, clock, tzinfo=zone)
    end = start + (target.end - target.start)
    pool = clinic.rooms if kind == CONSULTATION else clinic.chairs
    if place is not None and place not in pool:
        what = "consult rooms" if kind == CONSULTATION else "chairs"
        raise InputError(f"{place!r} is not one of the clinic's {what}: {', '.join(pool)}", field="--chair")
    earliest = clinic.earliest_booking(now)
    if start < earliest:
        raise InputError(
            f"{start:%a %Y-%m-%d %H:%M} is sooner than the clinic's minimum notice allows "
            f"(not before {local(earliest, zone):%a %Y-%m-%d %H:%M})",
            field="--at" if at else "--to",
        )
    resource = place or avail.free_resource(kind, start, end) or target.resource or pool[0]
    moved = target._replace(start=start, end=end, resource=resource, status="booked")
    sessions = tuple(moved if s is target else s for s in plan.sessions)
    infusion_days = [local(s.start, zone).date() for s in sessions if s.kind == "infusion" and s.active]
    changed = plan._replace(sessions=sessions, last_day=max([plan.last_day, *infusion_days]))
    allowed = request.with_gap(number, allow_gap) if allow_gap and kind == "infusion" else request
    if allow_gap and not has_gap_before(plan, target):
        raise InputError(f"{target.label} has no infusion before it, so no gap to allow", field="allow_gap")
    failed = broken_rules(clinic, changed, allowed, avail)
    if failed:
        where = f"{local(start, zone):%a %Y-%m-%d %H:%M} in {resource}"
        raise NoPlanError(
            f"{target.label} cannot move to {where}",
            explanation=[f"{r.rule}: {r.detail}" for r in failed],
            suggestions=[],
        )
    notes = []
    if changed.last_day != plan.last_day:
        notes.append(f"the window now ends {changed.last_day} (was {plan.last_day})")
    recorded = allowance_used(clinic, changed, request, allowed, avail)
    if recorded is not None:
        notes.append(f"a {allow_gap}-day gap is allowed before infusion {number} (recorded)")
    return Rescheduled(changed, [(target, moved)], notes, recorded)
