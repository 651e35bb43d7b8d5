"""Boosters for a returning patient: maintenance sessions added to a series that is done.

They are spaced by the protocol's maintenance rule from the last session the patient
attended (or from the last booster already booked), exactly as boosters planned with the
series are; when that rule can no longer be kept (the time for the next booster has
passed), the answer says so rather than stretching the rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import REACH_YEARS, short
from ketaplan.core.errors import InputError, NoPlanError
from ketaplan.core.model import BOOSTER, INFUSION, INFUSION_KINDS, Plan, Request, Session
from ketaplan.core.planner import booster_finder, verify_change
from ketaplan.core.suggestion import Suggestion
from ketaplan.core.times import local


def anchor(plan: Plan, now: datetime, zone: ZoneInfo) -> Session:
    """The session the next booster is spaced from: the latest attended infusion or booster,
    or a booster still to come. Refused while infusions of the series are still to come,
    and for a plan that holds nothing any more."""
    if not any(s.active for s in plan.sessions if s.kind in INFUSION_KINDS):
        raise InputError(f"every session of {plan.plan_id} is cancelled or missed; plan a new series", field="plan")
    after = now.astimezone(UTC)
    upcoming = [s for s in plan.sessions if s.kind == INFUSION and s.status == "booked" and s.start > after]
    if upcoming:
        first = min(upcoming, key=lambda s: s.start)
        raise InputError(
            f"the series is still under way ({first.label} on {short(local(first.start, zone).date())}); "
            "boosters after it are planned with the series (schedule --maintenance) or once it is done",
            field="plan",
        )
    held = [
        s
        for s in plan.sessions
        if s.kind in INFUSION_KINDS and (s.status == "attended" or (s.kind == BOOSTER and s.status == "booked"))
    ]
    if not held:
        raise InputError(
            f"{plan.plan_id} has no attended infusion to space boosters from; record attendance first "
            "(ketaplan attend)",
            field="plan",
        )
    return max(held, key=lambda s: s.start)


def add_boosters(
    clinic: Clinic, plan: Plan, request: Request, avail: Availability, count: int, now: datetime
) -> tuple[Plan, list[Session]]:
    """The plan with `count` boosters added after its anchor, and the new sessions; or
    NoPlanError saying why none fit, with fewer boosters offered when fewer fit."""
    zone = clinic.zone
    last = anchor(plan, now, zone)
    last_day = local(last.start, zone).date()
    tomorrow = local(now, zone).date() + timedelta(days=1)
    req = request._replace(boosters=count, not_before=tomorrow, not_before_at=clinic.earliest_booking(now))
    chain = booster_finder(clinic, req, avail)(last_day, local(last.start, zone).time())
    if chain is None:
        raise _none_fit(clinic, plan, request, avail, count, last, last_day, tomorrow, now)
    horizon = local(now, zone).date() + timedelta(days=REACH_YEARS * 365)
    if local(chain[-1].start, zone).date() > horizon:
        raise InputError(
            f"the boosters would reach past {horizon} ({REACH_YEARS} years ahead); book fewer now and more later",
            field="N",
        )
    done = [s for s in plan.sessions if s.kind == BOOSTER]
    total = len(done) + count
    new = [Session(BOOSTER, len(done) + i, total, o.start, o.end, o.resource, "booked") for i, o in enumerate(chain, 1)]
    sessions = tuple(s._replace(of=total) if s.kind == BOOSTER else s for s in plan.sessions) + tuple(new)
    changed = plan._replace(sessions=sessions)
    verify_change(clinic, changed, None, avail, only=("hours", "grid", "closures", "chairs", "starts", "maintenance"))
    return changed, new


def _none_fit(
    clinic: Clinic,
    plan: Plan,
    request: Request,
    avail: Availability,
    count: int,
    last: Session,
    last_day: date,
    tomorrow: date,
    now: datetime,
) -> NoPlanError:
    p = clinic.protocol
    lo = last_day + timedelta(days=p.maintenance_every_days - p.maintenance_tolerance_days)
    hi = last_day + timedelta(days=p.maintenance_every_days + p.maintenance_tolerance_days)
    if hi < tomorrow:
        why = (
            f"the next booster must come {short(lo)}–{short(hi)} ({p.maintenance_every_days}±"
            f"{p.maintenance_tolerance_days} days after {last.label} on {short(last_day)}), and that time has passed; "
            "a new series starts the treatment again"
        )
    else:
        why = f"no free chair for the boosters {p.maintenance_every_days}±{p.maintenance_tolerance_days} days apart"
    suggestions = []
    for fewer in range(count - 1, 0, -1):
        try:
            add_boosters(clinic, plan, request, avail, fewer, now)
        except NoPlanError:
            continue
        fewer_request = request._replace(boosters=fewer)
        suggestions.append(Suggestion("boosters", f"plan {fewer} now", fewer_request, plan_id=plan.plan_id))
        break
    what = f"{count} booster{'s' if count != 1 else ''}"
    return NoPlanError(f"No room for {what}.", explanation=[why], suggestions=suggestions)
