"""Changing a booked series in the ledger: each change one transaction, refused when the
plan changed since the coordinator looked at it (optimistic concurrency on `revision`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from ketaplan.app.delivery import queue_change
from ketaplan.app.views import ledger_view
from ketaplan.core.attendance import mark
from ketaplan.core.availability import Availability
from ketaplan.core.boosters import add_boosters, anchor
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import short
from ketaplan.core.errors import InputError, LedgerError
from ketaplan.core.model import UNNAMED, Author, Plan, Request, Session, Status
from ketaplan.core.move import move_to
from ketaplan.core.planner import PlanCheckFailed, broken_rules
from ketaplan.core.reschedule import Rescheduled, find_session, reschedule
from ketaplan.core.span import planning_span, series_span
from ketaplan.core.times import local
from ketaplan.store.ledger import Ledger, LedgerTx


def current_revision(ledger: Ledger, plan_id: str) -> int:
    with ledger.read() as tx:
        return tx.load_plan(plan_id)[0].revision


def _load_for_change(tx: LedgerTx, plan_id: str, expected: int) -> tuple[Plan, Request]:
    plan, request = tx.load_plan(plan_id)
    if plan.revision != expected:
        raise LedgerError(
            f"plan {plan.plan_id} changed while you worked on it (revision {expected} is now {plan.revision}); "
            "look at it again (`ketaplan show`) and redo your change",
            field="PLAN_ID",
        )
    return plan, request


def reschedule_in_ledger(
    ledger: Ledger,
    clinic: Clinic,
    plan_id: str,
    *,
    kind: str,
    number: int,
    from_day: date,
    now: datetime,
    expected: int | None = None,
    dry_run: bool = False,
    to: MoveTo | None = None,
    author: Author = UNNAMED,
    allow_gap: int | None = None,
) -> Rescheduled:
    """Move one session: to the best slot from `from_day` on, or where `to` says (a day,
    and a time and place or the best left there); `dry_run` answers what would move and
    changes nothing."""
    expected = expected if expected is not None else current_revision(ledger, plan_id)
    with ledger.read() if dry_run else ledger.write() as tx:
        plan, request = _load_for_change(tx, plan_id, expected)
        same_clinic(plan, clinic)
        span = series_span(clinic, plan.first_day, max(from_day, to.day) if to else from_day)
        avail = ledger_view(tx, clinic, span, without=plan.plan_id)
        try:
            if to is not None:
                result = move_to(clinic, plan, request, avail, kind=kind, number=number, day=to.day, at=to.at,
                                 place=to.place, now=now, allow_gap=allow_gap)  # fmt: skip
            else:
                result = reschedule(clinic, plan, request, avail, kind=kind, number=number, from_day=from_day,
                                    now=now, allow_gap=allow_gap)  # fmt: skip
        except PlanCheckFailed:
            refuse_if_broken_already(clinic, plan, request, avail)
            raise
        what = ", ".join(f"{b.label} {_when(b, clinic)} -> {_when(a, clinic)}" for b, a in result.moved)
        if result.request is not None:  # a longer gap allowed: kept with the plan, its rules see it
            what += "; " + "; ".join(f"a {d}-day gap allowed before infusion {n}" for n, d in result.request.gaps)
            if not dry_run:
                tx.record_gaps(plan.plan_id, result.request.gaps)
        updated = (
            result.plan
            if dry_run
            else tx.update_plan(result.plan, expected, f"rescheduled: {what}", now, _turnover(clinic), author)
        )
        if not dry_run:
            queue_change(tx, clinic, plan, updated, now)
    return result._replace(plan=updated)


class MoveTo(NamedTuple):
    """Where the coordinator moves a session: a day, and a time and a place (None: the
    session's own clock time; the best place left free then)."""

    day: date
    at: time | None = None
    place: str | None = None


def refuse_if_broken_already(clinic: Clinic, plan: Plan, request: Request, avail: Availability) -> None:
    """A change that fails the final check because the plan as booked already breaks a
    rule (the clinic file changed since, or a row was edited by hand) is not a bug: say
    which rule, so the coordinator can act. A plan that keeps every rule: the bug stands."""
    already = broken_rules(clinic, plan, request, avail)
    if already:
        first = already[0].problems[0] if already[0].problems else ("series", already[0].detail)
        more = sum(len(r.problems) or 1 for r in already) - 1
        raise InputError(
            f"plan {plan.plan_id} as booked no longer fits the clinic as it stands ({already[0].rule}: "
            f"{first[0]}: {first[1]}{f'; and {more} more' if more else ''}); `ketaplan conflicts` lists what "
            "the clinic (its file, closures) no longer admits, and `ketaplan repair` moves it, every rule kept",
            field="PLAN_ID",
        )


def _turnover(clinic: Clinic) -> timedelta:
    return timedelta(minutes=clinic.turnover_minutes)


def same_clinic(plan: Plan, clinic: Clinic) -> None:
    """Plans are changed with their own clinic's rules, never another's."""
    if plan.clinic != clinic.name:
        raise InputError(
            f"plan {plan.plan_id} belongs to {plan.clinic!r}; give --clinic with that clinic's file", field="--clinic"
        )


def _when(s: Session, clinic: Clinic) -> str:
    t = local(s.start, clinic.zone)
    return f"{short(t.date())} {t:%H:%M}"


def cancel_in_ledger(
    ledger: Ledger,
    plan_id: str,
    *,
    kind: str | None,
    number: int | None,
    now: datetime,
    expected: int | None = None,
    dry_run: bool = False,
    author: Author = UNNAMED,
    clinic: Clinic | None = None,
) -> tuple[Plan, list[Session]]:
    """Cancel one session, or every session still to come; frees their chairs. `dry_run`
    as for reschedule_in_ledger; `clinic`: the plan's, whose [smtp]/[caldav] are told."""
    expected = expected if expected is not None else current_revision(ledger, plan_id)
    with ledger.read() if dry_run else ledger.write() as tx:
        plan, _ = _load_for_change(tx, plan_id, expected)
        if number is not None:
            targets = [find_session(plan, kind or "infusion", number)]
        else:
            targets = [s for s in plan.sessions if s.active and s.start.astimezone(UTC) > now.astimezone(UTC)]
            if not targets:
                raise InputError(f"plan {plan.plan_id} has no sessions still to come", field="PLAN_ID")
        keys = {(s.kind, s.number) for s in targets}
        sessions = tuple(s._replace(status="cancelled") if (s.kind, s.number) in keys else s for s in plan.sessions)
        what = targets[0].label if number is not None else f"the rest of the series ({len(targets)} sessions)"
        changed = plan._replace(sessions=sessions)
        updated = changed if dry_run else tx.update_plan(changed, expected, f"cancelled {what}", now, author=author)
        if not dry_run:
            queue_change(tx, clinic, plan, updated, now)
    return updated, targets


def mark_in_ledger(
    ledger: Ledger,
    plan_id: str,
    *,
    kind: str,
    number: int,
    status: Status,
    now: datetime,
    expected: int | None = None,
    author: Author = UNNAMED,
    clinic: Clinic | None = None,
) -> tuple[Plan, Session]:
    """Record that a session was attended or missed, as a new revision with its time
    (`clinic`: the plan's, whose [smtp]/[caldav] are told of a no-show)."""
    expected = expected if expected is not None else current_revision(ledger, plan_id)
    with ledger.write() as tx:
        plan, _ = _load_for_change(tx, plan_id, expected)
        changed, session = mark(plan, kind, number, status, now)
        before = next(s for s in plan.sessions if s.kind == kind and s.number == number)
        other = tx.taken_by(plan.plan_id, kind, number) if not before.active and session.active else None
        if other is not None:  # undoing a no-show once put two patients in one chair
            where = "room" if kind == "consultation" else "chair"
            raise InputError(
                f"{session.label} was marked a no-show and its {where} ({before.resource}) is now held by "
                f"{other}; it cannot be marked attended there. Record the visit with that plan changed first, "
                f"or leave {session.label} a no-show",
                field="session",
            )
        what = "attended" if status == "attended" else "a no-show"
        updated = tx.update_plan(changed, expected, f"{session.label} marked {what}", now, author=author)
        queue_change(tx, clinic, plan, updated, now)
    return updated, session._replace(status=status)


def boosters_in_ledger(
    ledger: Ledger,
    clinic: Clinic,
    plan_id: str,
    *,
    count: int,
    now: datetime,
    expected: int | None = None,
    dry_run: bool = False,
    author: Author = UNNAMED,
) -> tuple[Plan, list[Session]]:
    """Add boosters to a series that is done (core.boosters), as one new revision."""
    expected = expected if expected is not None else current_revision(ledger, plan_id)
    with ledger.read() if dry_run else ledger.write() as tx:
        plan, request = _load_for_change(tx, plan_id, expected)
        same_clinic(plan, clinic)
        last_day = local(anchor(plan, now, clinic.zone).start, clinic.zone).date()
        avail = ledger_view(tx, clinic, planning_span(clinic, last_day, last_day, count), without=plan.plan_id)
        try:
            changed, added = add_boosters(clinic, plan, request, avail, count, now)
        except PlanCheckFailed:
            refuse_if_broken_already(clinic, plan, request, avail)
            raise
        what = ", ".join(f"{s.label} {_when(s, clinic)}" for s in added)
        updated = (
            changed
            if dry_run
            else tx.update_plan(changed, expected, f"boosters added: {what}", now, _turnover(clinic), author)
        )
        if not dry_run:
            queue_change(tx, clinic, plan, updated, now)
    return updated, added
