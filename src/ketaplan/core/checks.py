"""Every scheduling rule, once. The planner (through availability), `check`, reports and
tests all call these; nothing else decides whether a session is allowed.

Each rule has a session-level test (`*_problem`, returning a reason or None) and a
plan-level check (`check_<rule>`) that runs it over a whole plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.core.clinic import Clinic
from ketaplan.core.closures import outage_problem
from ketaplan.core.model import BOOSTER, INFUSION_KINDS, Plan, Request, Session
from ketaplan.core.occupancy import Occupancy
from ketaplan.core.times import hm, local

RULES: dict[str, str] = {
    "count": "the series has the protocol's number of infusions (and consultation, boosters)",
    "window": "every infusion lies inside the chosen window, whose length the protocol allows",
    "spacing": "consecutive infusions are min_days_apart to max_days_apart calendar days apart",
    "hours": "each session lies wholly inside one opening interval of its weekday",
    "grid": "each start falls on the clinic's slot grid",
    "closures": "no session on a closure date, a public holiday, closed hours or a chair out of service",
    "chairs": "a chair holds one session at a time, with turnover between sessions",
    "starts": "at most max_starts_per_slot infusions start in one slot, clinic-wide",
    "consultation": "the consultation comes 1-14 days (protocol) before infusion 1, in a free consult room",
    "patient": "every session is on the patient's allowed days and times",
    "maintenance": "each booster comes maintenance_every_days +- tolerance after the session before it",
}


def _minutes(dt: datetime) -> float:
    return dt.hour * 60 + dt.minute + dt.second / 60


# --- session-level rules -------------------------------------------------------------


def hours_fit_local(clinic: Clinic, ls: datetime, le: datetime) -> bool:
    """The `hours` rule on local start/end: wholly inside one opening interval of the day."""
    day = ls.date()
    s_min = _minutes(ls)
    if le.date() == day:
        e_min = _minutes(le)
    elif le.date() == day + timedelta(days=1) and le.time() == time(0) and not le.fold:
        e_min = 24 * 60  # closing at 24:00; a second 00:00 (Havana's fall-back) is later
    else:
        return False
    return any(o <= s_min and e_min <= c for o, c in clinic.hours[day.weekday()])


def hours_problem(clinic: Clinic, start: datetime, end: datetime) -> str | None:
    ls, le = local(start, clinic.zone), local(end, clinic.zone)
    if hours_fit_local(clinic, ls, le):
        return None
    spans = clinic.hours[ls.weekday()]
    if not spans:
        return f"the clinic is closed on {ls:%A}s"
    if le.date() != ls.date() and (le.time() != time(0) or le.fold):
        return "the session runs past midnight" + (" (the clocks go back that night)" if le.fold else "")
    opening = ", ".join(f"{hm(o)}-{hm(c)}" for o, c in spans)
    return f"{ls:%H:%M}-{le:%H:%M} is not inside the opening hours of {ls:%A} ({opening})"


def grid_fit_local(clinic: Clinic, ls: datetime) -> bool:
    return ls.second == 0 and ls.microsecond == 0 and (ls.hour * 60 + ls.minute) % clinic.slot_minutes == 0


def grid_problem(clinic: Clinic, start: datetime) -> str | None:
    ls = local(start, clinic.zone)
    if grid_fit_local(clinic, ls):
        return None
    return f"{ls:%H:%M} is not on the {clinic.slot_minutes}-minute grid"


def closure_problem(clinic: Clinic, day: date) -> str | None:
    """The day-level half of the `closures` rule (outage_problem is the other)."""
    if day in clinic.closures:
        reason = clinic.closure_reasons.get(day, "clinic closure")
        return "the clinic is closed that day" + ("" if reason == "clinic closure" else f": {reason}")
    holiday = clinic.holiday_name(day)
    return f"public holiday: {holiday}" if holiday else None


def chair_clash(
    clinic: Clinic, occ: Occupancy, chair: str, start: datetime, end: datetime, *, blocks: bool = True
) -> tuple[datetime, datetime] | None:
    """The booking on `chair` too close to [start, end), counting turnover both sides
    (`blocks`: an outage counts too, for placing; the `chairs` rule leaves it to `closures`)."""
    turnover = occ.turnover  # the clinic's turnover_minutes, kept as a timedelta by Occupancy
    return occ.overlap(chair, start - turnover, end + turnover, blocks=blocks)


def chair_problem(clinic: Clinic, occ: Occupancy, chair: str | None, start: datetime, end: datetime) -> str | None:
    if chair is None:
        return "no chair is free at that time"
    if chair not in clinic.chairs:
        return f"{chair!r} is not a chair of this clinic"
    clash = chair_clash(clinic, occ, chair, start, end, blocks=False)
    if clash is None:
        return None
    s, e = (local(t, clinic.zone) for t in clash)
    return f"{chair} is taken {s:%H:%M}-{e:%H:%M} (with {clinic.turnover_minutes} min turnover)"


def starts_full(clinic: Clinic, already: int) -> bool:
    return already >= clinic.starts_per_slot


def starts_problem(clinic: Clinic, already: int) -> str | None:
    if not starts_full(clinic, already):
        return None
    return f"{already} infusions already start in that slot (at most {clinic.starts_per_slot})"


def room_clash(occ: Occupancy, room: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    return occ.overlap(room, start, end)


def room_problem(clinic: Clinic, occ: Occupancy, room: str | None, start: datetime, end: datetime) -> str | None:
    if room is None:
        return "no consult room is free at that time"
    if room not in clinic.rooms:
        return f"{room!r} is not a consult room of this clinic"
    return f"{room} is taken" if room_clash(occ, room, start, end) else None


def patient_day_problem(request: Request, day: date) -> str | None:
    """The day-level half of the `patient` rule: weekdays, unavailable days, the past."""
    if request.days is not None and day.weekday() not in request.days:
        return f"the patient does not come on {day:%A}s"
    if day in request.unavailable:
        return "the patient is unavailable that day"
    if request.not_before is not None and day < request.not_before:
        return f"lies in the past (before {request.not_before})"
    return None


def patient_time_problem(request: Request, ls: datetime, le: datetime) -> str | None:
    """The time-of-day half of the `patient` rule, on local start and end times (cached by
    the patient's times: the minimum notice is checked in patient_problem)."""
    if request.earliest is not None and ls.time() < request.earliest:
        return f"starts before the patient's earliest time {request.earliest:%H:%M}"
    if request.latest is not None and (le.date() != ls.date() or le.time() > request.latest):
        return f"ends after the patient's latest time {request.latest:%H:%M}"
    return None


def patient_problem(request: Request, zone: ZoneInfo, start: datetime, end: datetime) -> str | None:
    ls, le = local(start, zone), local(end, zone)
    return (
        patient_day_problem(request, ls.date())
        or notice_problem(request, ls, zone)
        or patient_time_problem(request, ls, le)
    )


def notice_problem(request: Request, ls: datetime, zone: ZoneInfo) -> str | None:
    """Part of the `patient` rule: nothing starts sooner than the clinic's minimum notice
    from when it was booked (the request carries that moment)."""
    cutoff = request.not_before_at
    if cutoff is not None and ls < cutoff:
        return f"starts sooner than the clinic's minimum notice (not before {local(cutoff, zone):%Y-%m-%d %H:%M})"
    return None


def window_problem(request: Request, day: date) -> str | None:
    if request.first_day <= day <= request.last_day:
        return None
    return f"{day} is outside the window {request.first_day}..{request.last_day}"


def window_length_problem(clinic: Clinic, request: Request) -> str | None:
    lo, hi = clinic.protocol.window_days
    hi += longer_by(clinic, request)
    if lo <= request.window_length <= hi:
        return None
    return f"the window is {request.window_length} days; the protocol allows {lo} to {hi}"


# The day rules below share a shape (a gap in days, its bounds, a reason) but each names
# its own protocol keys; gap_problem is the common part.
def gap_problem(prev: date, day: date, lo: int, hi: int, what: str) -> str | None:
    gap = (day - prev).days
    if lo <= gap <= hi:
        return None
    return f"{gap} days after the {what} (allowed {lo}-{hi})"


def spacing_problem(clinic: Clinic, prev: date, day: date, longest: int | None = None) -> str | None:
    """`longest`: a longer gap the coordinator allowed before this infusion (--allow-gap)."""
    p = clinic.protocol
    return gap_problem(prev, day, p.min_days_apart, max(p.max_days_apart, longest or 0), "infusion before")


def longer_by(clinic: Clinic, request: Request) -> int:
    """Days an allowed longer gap adds to the protocol's longest window."""
    return sum(max(0, days - clinic.protocol.max_days_apart) for _, days in request.gaps)


def consultation_day_problem(clinic: Clinic, consult: date, first_infusion: date) -> str | None:
    lo, hi = clinic.protocol.consultation_days_before
    before = (first_infusion - consult).days
    if lo <= before <= hi:
        return None
    return f"{before} days before infusion 1 (allowed {lo}-{hi})"


def consultation_problem(clinic: Clinic, consult: Session, first_infusion: Session) -> str | None:
    """The consultation's day against infusion 1's, and on the same day (a clinic whose
    `consultation_days_before` starts at 0) it must end before infusion 1 begins."""
    zone = clinic.zone
    day = consultation_day_problem(clinic, local(consult.start, zone).date(), local(first_infusion.start, zone).date())
    if day:
        return day
    if consult.end.astimezone(UTC) > first_infusion.start.astimezone(UTC):
        starts = f"{local(first_infusion.start, zone):%H:%M}"
        return f"ends {local(consult.end, zone):%H:%M}, after infusion 1 starts ({starts}) that day"
    return None


def maintenance_problem(clinic: Clinic, prev: date, day: date) -> str | None:
    p = clinic.protocol
    lo = p.maintenance_every_days - p.maintenance_tolerance_days
    hi = p.maintenance_every_days + p.maintenance_tolerance_days
    return gap_problem(prev, day, lo, hi, "session before")


# --- plan-level checks ---------------------------------------------------------------


class CheckContext(NamedTuple):
    clinic: Clinic
    request: Request | None  # None for a series read from an .ics made elsewhere
    others: Occupancy  # everyone else's bookings
    expect_consultation: bool = True
    expect_boosters: int = 0


class CheckResult(NamedTuple):
    rule: str
    ok: bool
    detail: str
    problems: tuple[tuple[str, str], ...] = ()  # (session label, reason)

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "ok": self.ok,
            "detail": self.detail,
            "problems": [{"session": s, "reason": r} for s, r in self.problems],
        }


def _result(rule: str, problems: list[tuple[str, str]], ok_detail: str) -> CheckResult:
    if problems:
        detail = "; ".join(f"{label}: {reason}" for label, reason in problems)
        return CheckResult(rule, False, detail, tuple(problems))
    return CheckResult(rule, True, ok_detail)


def _each(
    plan: Plan, test: Callable[[Session], str | None], kinds: Collection[str] | None = None
) -> list[tuple[str, str]]:
    out = []
    for s in plan.active:
        if kinds is None or s.kind in kinds:
            reason = test(s)
            if reason:
                out.append((s.label, reason))
    return out


def check_count(plan: Plan, ctx: CheckContext) -> CheckResult:
    p = ctx.clinic.protocol
    problems = []
    n = len([s for s in plan.active if s.kind == "infusion"])
    if n != p.infusions:
        problems.append(("series", f"{n} infusions, the protocol needs {p.infusions}"))
    consults = len([s for s in plan.active if s.kind == "consultation"])
    if consults != (1 if ctx.expect_consultation else 0):
        problems.append(("series", f"{consults} consultations, expected {1 if ctx.expect_consultation else 0}"))
    boosters = len([s for s in plan.active if s.kind == BOOSTER])
    if boosters != ctx.expect_boosters:
        problems.append(("series", f"{boosters} boosters, expected {ctx.expect_boosters}"))
    return _result(
        "count",
        problems,
        f"{n} infusions" + (", 1 consultation" if consults else "") + (f", {boosters} boosters" if boosters else ""),
    )


def check_window(plan: Plan, ctx: CheckContext) -> CheckResult:
    request = ctx.request
    zone = ctx.clinic.zone
    if request is None:
        # A series read from a file: the window starts with its first infusion.
        days = sorted(local(s.start, zone).date() for s in plan.active if s.kind == "infusion")
        if not days:
            return CheckResult("window", True, "no infusions")
        hi = ctx.clinic.protocol.window_days[1]
        last = days[0] + timedelta(days=hi - 1)
        problems = _each(
            plan,
            lambda s: None if local(s.start, zone).date() <= last else f"more than {hi} days after infusion 1",
            ("infusion",),
        )
        return _result("window", problems, f"all infusions within {hi} days of the first ({days[0]}..{last})")
    problems = _each(plan, lambda s: window_problem(request, local(s.start, zone).date()), ("infusion",))
    length = window_length_problem(ctx.clinic, request)
    if length:
        problems.insert(0, ("window", length))
    return _result("window", problems, f"all infusions within {request.first_day}..{request.last_day}")


def check_spacing(plan: Plan, ctx: CheckContext) -> CheckResult:
    zone = ctx.clinic.zone
    infusions = [s for s in sorted(plan.active, key=lambda s: s.start) if s.kind == "infusion"]
    days = [local(s.start, zone).date() for s in infusions]
    p = ctx.clinic.protocol
    problems = []
    for i, (prev, day) in enumerate(zip(days, days[1:], strict=False), start=2):
        number = infusions[i - 1].number
        longest = ctx.request.longest_gap(number, p.max_days_apart) if ctx.request else None
        reason = spacing_problem(ctx.clinic, prev, day, longest)
        if reason:
            problems.append((f"infusion {i}", reason))
    gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    allowed = "".join(f"; {days} allowed before infusion {n}" for n, days in ctx.request.gaps) if ctx.request else ""
    return _result("spacing", problems, f"gaps {gaps} days, allowed {p.min_days_apart}-{p.max_days_apart}{allowed}")


def check_hours(plan: Plan, ctx: CheckContext) -> CheckResult:
    return _result(
        "hours", _each(plan, lambda s: hours_problem(ctx.clinic, s.start, s.end)), "all sessions inside opening hours"
    )


def check_grid(plan: Plan, ctx: CheckContext) -> CheckResult:
    return _result(
        "grid",
        _each(plan, lambda s: grid_problem(ctx.clinic, s.start)),
        f"all starts on the {ctx.clinic.slot_minutes}-minute grid",
    )


def check_closures(plan: Plan, ctx: CheckContext) -> CheckResult:
    clinic = ctx.clinic
    return _result(
        "closures",
        _each(
            plan,
            lambda s: (
                closure_problem(clinic, local(s.start, clinic.zone).date())
                or outage_problem(clinic, s.start, s.end, s.resource)
            ),
        ),
        "no session on a closure, a public holiday or a chair out of service",
    )


def _utc_spans(plan: Plan, pool: Collection[str]) -> list[tuple[Session, datetime, datetime]]:
    """The plan's active sessions of `pool` with their times in UTC: datetimes sharing a
    zone compare by wall clock, wrong across DST."""
    return [(o, o.start.astimezone(UTC), o.end.astimezone(UTC)) for o in plan.active if o.kind in pool]


def _own_clash(
    spans: list[tuple[Session, datetime, datetime]], s: Session, pool: frozenset[str], gap: timedelta
) -> str | None:
    """Another session of this plan on the same chair, closer than turnover (`spans`:
    the plan's sessions of `pool`, from `_utc_spans`)."""
    if s.kind not in pool:
        return None
    start, end = s.start.astimezone(UTC), s.end.astimezone(UTC)
    for other, o_start, o_end in spans:
        if other is not s and other.resource == s.resource and o_start < end + gap and start < o_end + gap:
            return f"overlaps this plan's {other.label}"
    return None


def check_chairs(plan: Plan, ctx: CheckContext) -> CheckResult:
    clinic, chair_kinds = ctx.clinic, frozenset({"infusion", "maintenance"})
    gap = timedelta(minutes=clinic.turnover_minutes)
    spans = _utc_spans(plan, chair_kinds)

    def test(s: Session) -> str | None:
        return chair_problem(clinic, ctx.others, s.resource, s.start, s.end) or _own_clash(spans, s, chair_kinds, gap)

    return _result(
        "chairs",
        _each(plan, test, INFUSION_KINDS),
        f"chairs free, with {clinic.turnover_minutes} min turnover",
    )


def check_starts(plan: Plan, ctx: CheckContext) -> CheckResult:
    # In UTC, not wall clock: 01:30 EDT and 01:30 EST differ.
    own = Counter(start for _, start, _ in _utc_spans(plan, INFUSION_KINDS))

    def test(s: Session) -> str | None:
        at = s.start.astimezone(UTC)
        return starts_problem(ctx.clinic, ctx.others.starts_at(at) + own[at] - 1)  # - 1: not itself

    return _result(
        "starts",
        _each(plan, test, INFUSION_KINDS),
        f"at most {ctx.clinic.starts_per_slot} infusion starts per slot",
    )


def check_consultation(plan: Plan, ctx: CheckContext) -> CheckResult:
    consult = plan.consultation if plan.consultation and plan.consultation.active else None
    if consult is None:
        return CheckResult("consultation", True, "no consultation in this series")
    clinic = ctx.clinic
    # Measured from the first infusion the patient will have: a cancelled one holds no day.
    infusions = sorted((s for s in plan.infusions if s.active), key=lambda s: s.start)
    problems = []
    if infusions:
        reason = consultation_problem(clinic, consult, infusions[0])
        if reason:
            problems.append((consult.label, reason))
    room = room_problem(clinic, ctx.others, consult.resource, consult.start, consult.end)
    if room:
        problems.append((consult.label, room))
    lo, hi = clinic.protocol.consultation_days_before
    return _result("consultation", problems, f"consultation {lo}-{hi} days before infusion 1, room free")


def check_patient(plan: Plan, ctx: CheckContext) -> CheckResult:
    request = ctx.request
    if request is None:
        return CheckResult("patient", True, "no patient restrictions were given")
    zone = ctx.clinic.zone
    return _result(
        "patient",
        _each(plan, lambda s: patient_problem(request, zone, s.start, s.end)),
        "all sessions on the patient's days and times",
    )


def check_maintenance(plan: Plan, ctx: CheckContext) -> CheckResult:
    zone = ctx.clinic.zone
    chain = sorted((s for s in plan.active if s.kind in INFUSION_KINDS), key=lambda s: s.start)
    problems = []
    for prev, s in zip(chain, chain[1:], strict=False):
        if s.kind == BOOSTER:
            reason = maintenance_problem(ctx.clinic, local(prev.start, zone).date(), local(s.start, zone).date())
            if reason:
                problems.append((s.label, reason))
    n = sum(1 for s in chain if s.kind == BOOSTER)
    p = ctx.clinic.protocol
    detail = (
        f"{n} boosters every {p.maintenance_every_days}+-{p.maintenance_tolerance_days} days" if n else "no boosters"
    )
    return _result("maintenance", problems, detail)


CHECKS: dict[str, Callable[[Plan, CheckContext], CheckResult]] = {
    "count": check_count,
    "window": check_window,
    "spacing": check_spacing,
    "hours": check_hours,
    "grid": check_grid,
    "closures": check_closures,
    "chairs": check_chairs,
    "starts": check_starts,
    "consultation": check_consultation,
    "patient": check_patient,
    "maintenance": check_maintenance,
}


def run_checks(plan: Plan, ctx: CheckContext) -> list[CheckResult]:
    return [check(plan, ctx) for check in CHECKS.values()]
