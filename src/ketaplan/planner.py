"""Finds the best plan for a request, or says there is none.

Why this is complete: a patient's own sessions fall on different days (spacing >= 1,
consultation >= 1 day before, boosters >= 1 day after), and the clinic's calendar is
fixed while we plan, so whether a session fits on a day does not depend on the patient's
other sessions. A plan therefore exists iff some sequence of open days keeps the
spacing, with a consultation day before the first and a booster chain after the last.
`_best_sequence` searches all such sequences (dynamic programming over days), so when
any valid plan exists, one is returned.

Preferences among valid plans, in order (DESIGN.md): the same clock time for every
infusion; even spacing (smallest largest gap); the earliest last infusion; the lowest
chair. Remaining ties go to earlier days and earlier times, so output is deterministic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Callable

from . import checks
from .availability import Availability, Option
from .clinic import Clinic
from .model import Plan, Request, Session

DayTest = Callable[[date], bool]


class PlanCheckFailed(AssertionError):
    """The planner built a plan its own checks reject: a bug, reported as exit 1."""


def find_plan(
    clinic: Clinic,
    request: Request,
    avail: Availability,
    *,
    plan_id: str = "KP-DRAFT",
    stamp: datetime | None = None,
) -> Plan | None:
    p = clinic.protocol
    window = [request.first_day + timedelta(days=i) for i in range(request.window_length)]
    opts = {d: avail.options(d, "infusion", request) for d in window}
    consult_for = _consultation_finder(clinic, request, avail)
    boosters_for = _booster_finder(clinic, request, avail)

    def first_ok(d: date) -> bool:
        return consult_for(d, None) is not None

    def last_ok(d: date) -> bool:
        return boosters_for(d, None) is not None

    best: tuple[tuple[object, ...], time | None, list[date]] | None = None
    clocks = sorted({o.clock for d in window for o in opts[d]})
    for clock in clocks:
        days = {d for d in window if any(o.clock == clock for o in opts[d])}
        seq = _best_sequence(sorted(days), p.infusions, p.min_days_apart, p.max_days_apart, first_ok, last_ok)
        if seq is not None:
            key = (_max_gap(seq), seq[-1], seq)
            if best is None or key < best[0]:
                best = (key, clock, seq)
    if best is None:
        days = {d for d in window if opts[d]}
        seq = _best_sequence(sorted(days), p.infusions, p.min_days_apart, p.max_days_apart, first_ok, last_ok)
        if seq is None:
            return None
        best = ((), None, seq)
    _, clock, seq = best
    infusions = [_pick(opts[d], clock) for d in seq]
    usual = infusions[0].clock if clock is None else clock
    sessions: list[Session] = []
    if request.consultation:
        c = consult_for(seq[0], usual)
        assert c is not None
        sessions.append(Session("consultation", 1, 1, c.start, c.end, c.resource))
    n = len(infusions)
    sessions += [Session("infusion", i, n, o.start, o.end, o.resource) for i, o in enumerate(infusions, 1)]
    boosters = boosters_for(seq[-1], usual) or []
    sessions += [Session("maintenance", i, len(boosters), o.start, o.end, o.resource) for i, o in enumerate(boosters, 1)]
    plan = Plan(
        plan_id=plan_id,
        patient=request.patient,
        clinic=clinic.name,
        timezone=clinic.timezone,
        first_day=request.first_day,
        last_day=request.last_day,
        sessions=tuple(sessions),
        stamp=stamp,
        request_id=request.request_id,
    )
    verify(plan, clinic, request, avail)
    return plan


def verify(plan: Plan, clinic: Clinic, request: Request, avail: Availability) -> list[checks.CheckResult]:
    """Run every named check on a plan; a failure here is a planner bug."""
    ctx = checks.CheckContext(clinic, request, avail.occupancy, request.consultation, request.maintenance)
    results = checks.run_checks(plan, ctx)
    failed = [r for r in results if not r.ok]
    if failed:
        raise PlanCheckFailed("; ".join(f"{r.rule}: {r.detail}" for r in failed))
    return results


def preference_key(plan: Plan, zone_name: str | None = None) -> tuple[object, ...]:
    """How good a valid plan is; smaller is better (used by tests against brute force)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name or plan.timezone)
    inf = sorted(plan.infusions, key=lambda s: s.start)
    local = [checks.local(s.start, zone) for s in inf]
    days = [t.date() for t in local]
    same = len({t.time() for t in local}) == 1
    return (0 if same else 1, _max_gap(days), days[-1])


def _pick(options: list[Option], clock: time | None) -> Option:
    if clock is not None:
        for o in options:
            if o.clock == clock:
                return o
    return options[0]


def _max_gap(days: list[date]) -> int:
    return max(((b - a).days for a, b in zip(days, days[1:])), default=0)


def _best_sequence(
    days: list[date], n: int, lo: int, hi: int, first_ok: DayTest, last_ok: DayTest
) -> list[date] | None:
    """The n days (ascending, gaps lo..hi) with the smallest largest gap, then the earliest
    last day, then the earliest days; None when no sequence exists."""
    if len(days) < n:
        return None
    day_set = set(days)
    starts = [d for d in days if first_ok(d)]
    for cap in range(lo, hi + 1):
        reach: list[list[date]] = [starts]
        for _ in range(n - 1):
            prev = set(reach[-1])
            reach.append([d for d in days if any(d - timedelta(days=g) in prev for g in range(lo, cap + 1))])
        ends = [d for d in reach[-1] if last_ok(d)]
        if not ends:
            continue
        # Walk back from the earliest end, keeping only days that can still reach it.
        back: list[set[date]] = [set() for _ in range(n)]
        back[-1] = {ends[0]}
        for k in range(n - 2, -1, -1):
            back[k] = {d for d in reach[k] if any(d + timedelta(days=g) in back[k + 1] for g in range(lo, cap + 1))}
        seq = [min(back[0])]
        for k in range(1, n):
            seq.append(min(d for d in back[k] if lo <= (d - seq[-1]).days <= cap))
        assert all(d in day_set for d in seq)
        return seq
    return None


def _consultation_finder(
    clinic: Clinic, request: Request, avail: Availability
) -> Callable[[date, time | None], Option | None]:
    """For a first-infusion day: the consultation (latest allowed day, then the usual clock
    time or the earliest). Always 'found' when the request has no consultation."""
    lo, hi = clinic.protocol.consultation_days_before
    placeholder = Option(datetime.min, datetime.min, "")

    @lru_cache(maxsize=None)
    def find(first: date, clock: time | None) -> Option | None:
        if not request.consultation:
            return placeholder
        for before in range(lo, hi + 1):
            day = first - timedelta(days=before)
            if request.not_before is not None and day < request.not_before:
                break
            options = avail.options(day, "consultation", request)
            if options:
                return _pick(options, clock)
        return None

    return find


def _booster_finder(
    clinic: Clinic, request: Request, avail: Availability
) -> Callable[[date, time | None], list[Option] | None]:
    """For a last-infusion day: the booster chain, each as near the target interval as the
    calendar allows (earlier day on a tie); None when the chain cannot be built."""
    p = clinic.protocol
    every, tol = p.maintenance_every_days, p.maintenance_tolerance_days
    offsets = sorted(range(every - tol, every + tol + 1), key=lambda g: (abs(g - every), g))

    @lru_cache(maxsize=None)
    def day_options(day: date) -> tuple[Option, ...]:
        return tuple(avail.options(day, "maintenance", request))

    @lru_cache(maxsize=None)
    def chain(prev: date, left: int) -> tuple[date, ...] | None:
        if left == 0:
            return ()
        for g in offsets:
            day = prev + timedelta(days=g)
            if day_options(day):
                rest = chain(day, left - 1)
                if rest is not None:
                    return (day, *rest)
        return None

    def find(last: date, clock: time | None) -> list[Option] | None:
        days = chain(last, request.maintenance)
        if days is None:
            return None
        return [_pick(list(day_options(d)), clock) for d in days]

    return find
