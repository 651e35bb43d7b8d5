"""When no plan exists: which rules block it, in a coordinator's words, and changes that
would make one (each suggestion is planned before it is offered, so it is known to work)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ketaplan.core import checks
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import short, short_list
from ketaplan.core.errors import NoPlanError
from ketaplan.core.model import Request
from ketaplan.core.planner import find_plan
from ketaplan.core.search import best_sequence
from ketaplan.core.suggestion import Suggestion
from ketaplan.core.times import local

LATER_START_WEEKS = 8


def no_plan_error(clinic: Clinic, request: Request, avail: Availability, *, suggestions: bool = True) -> NoPlanError:
    explanation = explain(clinic, request, avail)
    return NoPlanError(
        "No plan satisfies the rules.",
        explanation=explanation,
        suggestions=suggest(clinic, request, avail) if suggestions else [],
    )


def explain(clinic: Clinic, request: Request, avail: Availability) -> list[str]:
    p = clinic.protocol
    window = [request.first_day + timedelta(days=i) for i in range(request.window_length)]
    closed: list[date] = []
    holidays: list[str] = []
    weekly: set[str] = set()
    patient_off: list[date] = []
    no_fit: list[date] = []
    full: list[date] = []
    open_days: list[date] = []
    for day in window:
        if checks.closure_problem(clinic, day):
            closed.append(day)
            name = clinic.holiday_name(day)
            if name:
                holidays.append(f"{short(day)} {name}")
        elif not clinic.hours[day.weekday()]:
            weekly.add(f"{day:%A}s")
        elif checks.patient_day_problem(request, day):
            patient_off.append(day)
        elif not avail.clinic_slots(day, p.session_minutes):
            no_fit.append(day)
        elif not avail.fits_times(day, p.session_minutes, request):
            no_fit.append(day)
        elif not avail.options(day, "infusion", request):
            full.append(day)
        else:
            open_days.append(day)

    span = f"between {short(window[0])} and {short(window[-1])}"
    why: list[str] = []
    if closed:
        why.append(f"closed {short_list(closed)}" + (f" ({'; '.join(holidays)})" if holidays else ""))
    if weekly:
        why.append("closed on " + " and ".join(sorted(weekly)))
    if patient_off:
        why.append(f"the patient cannot come {short_list(patient_off)}")
    if no_fit:
        why.append(f"no {p.session_minutes}-minute session fits the hours on {short_list(no_fit)}")
    if full:
        why.append(f"every chair is booked on {short_list(full)}")
    lines: list[str] = []
    days = f"{len(open_days)} open day{'' if len(open_days) == 1 else 's'}"
    if len(open_days) < p.infusions:
        lines.append(f"only {days} {span} for {p.infusions} infusions: " + "; ".join(why))
        return lines

    def always(_: date) -> bool:
        return True

    if best_sequence(open_days, p.infusions, p.min_days_apart, p.max_days_apart, always, always) is None:
        lines.append(
            f"the {days} {span} ({short_list(open_days)}) cannot hold "
            f"{p.infusions} infusions {p.min_days_apart}-{p.max_days_apart} days apart"
            + (": " + "; ".join(why) if why else "")
        )
        return lines
    if request.consultation and find_plan(clinic, request._replace(consultation=False, boosters=0), avail):
        lo, hi = p.consultation_days_before
        past = f"; nothing can be booked before {short(request.not_before)}" if request.not_before else ""
        lines.append(f"no consult room is free {lo}-{hi} days before any possible first infusion{past}")
    if request.boosters and find_plan(clinic, request._replace(boosters=0), avail):
        lines.append(
            f"no chain of {request.boosters} boosters every {p.maintenance_every_days}"
            f"+-{p.maintenance_tolerance_days} days fits after any possible last infusion"
        )
    if not lines:
        lines.append("the consultation, infusions and boosters cannot all be placed together")
    return lines


def suggest(clinic: Clinic, request: Request, avail: Availability) -> list[Suggestion]:
    out: list[Suggestion] = []

    def works(r: Request) -> bool:
        return find_plan(clinic, r, avail) is not None

    length = request.window_length
    for k in range(1, LATER_START_WEEKS * 7 + 1):
        r = request._replace(
            first_day=request.first_day + timedelta(days=k), last_day=request.last_day + timedelta(days=k)
        )
        found = find_plan(clinic, r, avail)
        if found is not None:
            # Name the day the series can really start: its first infusion, not a closed day.
            day = min(local(s.start, clinic.zone).date() for s in found.infusions)
            shifted = r._replace(first_day=day, last_day=day + timedelta(days=length - 1))
            r = shifted if works(shifted) else r
            out.append(Suggestion("start", f"start on {r.first_day:%a} {short(r.first_day)} instead", r))
            break
    for longer in range(length + 1, clinic.protocol.window_days[1] + 1):
        r = request._replace(last_day=request.first_day + timedelta(days=longer - 1))
        if works(r):
            out.append(Suggestion("end", f"extend the window to {longer} days, until {short(r.last_day)}", r))
            break
    relaxations: list[tuple[str, bool, dict[str, Any], str]] = [
        ("days", request.days is not None, {"days": None}, "drop the weekday restriction"),
        (
            "times",
            request.earliest is not None or request.latest is not None,
            {"earliest": None, "latest": None},
            "drop the time-of-day restriction",
        ),
        (
            "unavailable",
            bool(request.unavailable),
            {"unavailable": frozenset()},
            "check whether the patient can come on the days marked unavailable",
        ),
        (
            "consultation",
            request.consultation,
            {"consultation": False},
            "book the consultation separately",
        ),
    ]
    for change, applies, fields, message in relaxations:
        if applies:
            r = request._replace(**fields)
            if works(r):
                out.append(Suggestion(change, message, r))
    for fewer in range(request.boosters - 1, -1, -1):
        r = request._replace(boosters=fewer)
        if works(r):
            out.append(Suggestion("maintenance", f"plan {fewer} boosters now, the rest later", r))
            break
    return out
