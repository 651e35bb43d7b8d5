"""Finds the best plan for a request, or says there is none.

Why this is complete: a patient's own sessions fall on different days (spacing >= 1,
consultation >= 1 day before, boosters >= 1 day after), and the clinic's calendar is
fixed while we plan, so whether a session fits on a day does not depend on the patient's
other sessions. A plan therefore exists iff some sequence of open days keeps the
spacing, with a consultation day before the first and a booster chain after the last.
`SequenceSearch` tries all such sequences (dynamic programming over days), so when
any valid plan exists, one is returned. The one exception, a same-day consultation
(`consultation_days_before` from 0), ties only infusion 1 to its consultation: a first
day qualifies when some consultation ends before some infusion time that day, and
infusion 1 then takes such a time (`first_after`).

Preferences among valid plans, in order (README, "How the planner decides"): the same clock time for every
infusion; even spacing (smallest largest gap); the earliest last infusion; the lowest
chair. Remaining ties go to earlier days and earlier times, so output is deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from ketaplan.core import checks
from ketaplan.core.availability import Availability, Option
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, Plan, Request, Session
from ketaplan.core.search import SequenceSearch, day_masks, search_days
from ketaplan.core.times import local


class PlanCheckFailed(AssertionError):
    """The planner built a plan its own checks reject: a bug, reported as exit 1."""


# find_plan and plan_with_checks take the same arguments: the first is the second without
# the check results, for callers that only ask whether a plan exists.
def find_plan(
    clinic: Clinic,
    request: Request,
    avail: Availability,
    *,
    plan_id: str = "KP-DRAFT",
    stamp: datetime | None = None,
) -> Plan | None:
    found = plan_with_checks(clinic, request, avail, plan_id=plan_id, stamp=stamp)
    return None if found is None else found[0]


def plan_with_checks(
    clinic: Clinic,
    request: Request,
    avail: Availability,
    *,
    plan_id: str = "KP-DRAFT",
    stamp: datetime | None = None,
) -> tuple[Plan, list[checks.CheckResult]] | None:
    """The best plan and the results of every named check on it (all passed), or None."""
    p = clinic.protocol
    window = [request.first_day + timedelta(days=i) for i in range(request.window_length)]
    opts = avail.window(window, "infusion", request)
    # Days as bits (bit i = window day i): the sequence search is then a few integer ops.
    # Most requests a full clinic cannot take fail here, on the open days alone: every
    # search below looks at a subset of them.
    open_mask = sum(1 << i for i, d in enumerate(window) if opts[d])
    if SequenceSearch(p.infusions, p.min_days_apart, p.max_days_apart, open_mask, open_mask).best(open_mask) is None:
        return None
    _, by_clock = day_masks(window, opts)
    consult_for = consultation_finder(clinic, request, avail)
    boosters_for = booster_finder(clinic, request, avail)

    # Whether a day can open the series (a consultation before it) or close it (boosters
    # after it) is costly to learn, so it is learnt lazily: search as if every day could,
    # test the days the best sequence uses, rule out those that fail, search again. A
    # day is only ruled out once shown to fail, so the result is the exhaustive one.
    bad_first = bad_last = 0
    tested: set[tuple[str, int]] = set()
    while True:
        best = search_days(
            p.infusions,
            p.min_days_apart,
            p.max_days_apart,
            open_mask & ~bad_first,
            open_mask & ~bad_last,
            by_clock,
            open_mask,
        )
        if best is None:
            return None
        first_i, last_i = best[2][0], best[2][-1]
        retry = False
        if ("first", first_i) not in tested:
            tested.add(("first", first_i))
            if consult_for(window[first_i], None, None) is None:
                bad_first |= 1 << first_i
                retry = True
        if ("last", last_i) not in tested:
            tested.add(("last", last_i))
            if boosters_for(window[last_i], None) is None:
                bad_last |= 1 << last_i
                retry = True
        if not retry:
            break
    clock = best[1]
    seq = [window[i] for i in best[2]]
    infusions = [pick(opts[d], clock) for d in seq]
    usual = infusions[0].clock if clock is None else clock
    sessions: list[Session] = []
    if request.consultation:
        c = consult_for(seq[0], usual, infusions[0].start)
        if c is None:  # only a same-day consultation before a later infusion 1 is left
            c = consult_for(seq[0], usual, None)
            assert c is not None
            later = first_after(opts[seq[0]], c, usual)
            assert later is not None
            infusions[0] = later
        sessions.append(Session("consultation", 1, 1, c.start, c.end, c.resource))
    n = len(infusions)
    sessions += [Session("infusion", i, n, o.start, o.end, o.resource) for i, o in enumerate(infusions, 1)]
    boosters = boosters_for(seq[-1], usual) or []
    sessions += [
        Session("maintenance", i, len(boosters), o.start, o.end, o.resource) for i, o in enumerate(boosters, 1)
    ]
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
    return plan, verify(plan, clinic, request, avail)


def verify(plan: Plan, clinic: Clinic, request: Request, avail: Availability) -> list[checks.CheckResult]:
    """Run every named check on a plan; a failure here is a planner bug. The clinic is the
    one the options came from (avail.clinic: with the ledger's closures)."""
    ctx = checks.CheckContext(avail.clinic, request, avail.occupancy, request.consultation, request.boosters)
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
    clocks = [local(s.start, zone) for s in inf]
    days = [t.date() for t in clocks]
    same = len({t.time() for t in clocks}) == 1
    return (0 if same else 1, _max_gap(days), days[-1])


def pick(options: list[Option], clock: time | None) -> Option:
    if clock is not None:
        for o in options:
            if o.clock == clock:
                return o
    return options[0]


def _max_gap(days: list[date]) -> int:
    return max(((b - a).days for a, b in zip(days, days[1:], strict=False)), default=0)


def consultation_finder(
    clinic: Clinic, request: Request, avail: Availability
) -> Callable[[date, time | None, datetime | None], Option | None]:
    """For a first-infusion day: the consultation (latest allowed day, then the usual clock
    time or the earliest). Always 'found' when the request has no consultation. On the
    same day (`consultation_days_before` from 0) it must end before infusion 1 starts: by
    `at` when infusion 1's time is known, else before some infusion time that day."""
    lo, hi = clinic.protocol.consultation_days_before
    placeholder = Option(datetime.min, datetime.min, "", time(0))

    @cache
    def find(first: date, clock: time | None, at: datetime | None = None) -> Option | None:
        if not request.consultation:
            return placeholder
        for before in range(lo, hi + 1):
            day = first - timedelta(days=before)
            if request.not_before is not None and day < request.not_before:
                break
            options = avail.options(day, "consultation", request)
            if before == 0 and options:
                options = _before_infusion(options, at, avail.options(day, "infusion", request))
            if options:
                return pick(options, clock)
        return None

    return find


def _before_infusion(consults: list[Option], at: datetime | None, infusions: list[Option]) -> list[Option]:
    """Same-day consultations that end by `at` (else by the day's last infusion time), the
    latest first: the patient waits least between the two."""
    ends_by = at or max((o.start for o in infusions), default=None)
    if ends_by is None:
        return []
    fit = [o for o in consults if o.end.astimezone(UTC) <= ends_by.astimezone(UTC)]
    return sorted(fit, key=lambda o: o.start, reverse=True)


def first_after(options: list[Option], consult: Option, clock: time | None) -> Option | None:
    """Infusion 1 on its consultation's day: at `clock` if that starts after the
    consultation ends, else the earliest that does."""
    after = [o for o in options if o.start.astimezone(UTC) >= consult.end.astimezone(UTC)]
    return pick(after, clock) if after else None


def booster_finder(
    clinic: Clinic, request: Request, avail: Availability
) -> Callable[[date, time | None], list[Option] | None]:
    """For a last-infusion day: the booster chain, each as near the target interval as the
    calendar allows (earlier day on a tie); None when the chain cannot be built."""
    p = clinic.protocol
    every, tol = p.maintenance_every_days, p.maintenance_tolerance_days
    offsets = sorted(range(every - tol, every + tol + 1), key=lambda g: (abs(g - every), g))

    @cache
    def day_options(day: date) -> tuple[Option, ...]:
        return tuple(avail.options(day, "maintenance", request))

    @cache
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
        days = chain(last, request.boosters)
        if days is None:
            return None
        return [pick(list(day_options(d)), clock) for d in days]

    return find


def broken_rules(
    clinic: Clinic, plan: Plan, request: Request | None, avail: Availability, *, only: tuple[str, ...] = ()
) -> list[checks.CheckResult]:
    """The rules a series (booked, or changed) breaks, checked whole, past sessions
    included, as the planner checks a new one; `only` limits it to those rules."""
    req = (
        request._replace(first_day=plan.first_day, last_day=plan.last_day, not_before=None, not_before_at=None)
        if request
        else None
    )
    boosters = sum(1 for s in plan.active if s.kind == BOOSTER)
    consultation = plan.consultation is not None and plan.consultation.active
    ctx = checks.CheckContext(avail.clinic, req, avail.occupancy, consultation, boosters)  # as it stands
    return [r for r in checks.run_checks(plan, ctx) if not r.ok and r.rule != "count" and (not only or r.rule in only)]


def verify_change(
    clinic: Clinic,
    plan: Plan,
    request: Request | None,
    avail: Availability,
    *,
    only: tuple[str, ...] = (),
    before: Plan | None = None,
    now: datetime | None = None,
) -> None:
    """A changed series must keep every rule (broken_rules); a failure is a bug. With
    `before` (the plan as it was) and `now`: a problem it had already, word for word, on a
    session that has begun is history, not the change's (a held consultation whose
    infusion 1 was cancelled since). A problem to come still fails: `conflicts` lists it."""
    failed = broken_rules(clinic, plan, request, avail, only=only)
    if failed and before is not None and now is not None:
        begun = {s.label for s in before.sessions if s.start <= now}
        old = broken_rules(clinic, before, request, avail, only=only)
        had = {(r.rule, p) for r in old for p in r.problems if p[0] in begun}
        failed = [r for r in failed if not r.problems or any((r.rule, p) not in had for p in r.problems)]
    if failed:
        raise PlanCheckFailed("; ".join(f"{r.rule}: {r.detail}" for r in failed))
