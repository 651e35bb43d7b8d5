"""Plan a request against the ledger and book it: the one path `schedule` and `batch` share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ketaplan.app.delivery import queue_change
from ketaplan.app.views import ledger_view
from ketaplan.core import admission
from ketaplan.core.availability import Availability
from ketaplan.core.checks import CheckResult
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import UNNAMED, Author, Contact, Plan, Request
from ketaplan.core.planner import plan_with_checks
from ketaplan.core.span import planning_span
from ketaplan.store.ledger import CONFLICT_RETRIES, Ledger, LedgerConflict, LedgerTx, new_plan_id
from ketaplan.store.records import Asked


def refuse_overlap(tx: LedgerTx, clinic: Clinic, request: Request) -> None:
    """The same patient must not get a second series over days one of hers still holds
    (core.admission), by mistake: a coordinator re-entering a request, two desks at once."""
    who = request.patient
    held = tx.held_series([] if who.id else [who.name], [who.id] if who.id else [])
    admission.refuse_overlap(request, clinic.protocol, held)


def plan_one(
    clinic: Clinic,
    request: Request,
    avail: Availability,
    plan_id: str,
    stamp: datetime | None = None,
    *,
    suggestions: bool = True,
) -> tuple[Plan, list[CheckResult]]:
    """The plan and its check results, or NoPlanError with the explanation (and, unless
    told not to, suggestions): planning or explaining, for every path that books."""
    found = plan_with_checks(clinic, request, avail, plan_id=plan_id, stamp=stamp)
    if found is None:
        from ketaplan.core.diagnosis import no_plan_error  # only when there is something to explain

        raise no_plan_error(avail.clinic, request, avail, suggestions=suggestions)
    return found


def availability_from(tx: LedgerTx | None, clinic: Clinic, request: Request) -> Availability:
    """What a new request is planned against: the ledger over everything it can touch."""
    return ledger_view(tx, clinic, planning_span(clinic, request.first_day, request.last_day, request.boosters))


def book_plan(
    tx: LedgerTx, clinic: Clinic, plan: Plan, request: Request, asked: Asked | None = None, author: Author = UNNAMED
) -> Plan:
    """Write a planned plan into the transaction, its sessions booked: the one way a new
    plan enters the ledger (schedule, batch, --optimize). `asked`: a batch row's fields."""
    plan = plan._replace(sessions=tuple(s._replace(status="booked") for s in plan.sessions))
    tx.add_plan(plan, request, timedelta(minutes=clinic.turnover_minutes), asked=asked, author=author)
    queue_change(tx, clinic, None, plan, plan.stamp or datetime.now(UTC))  # the invitation, in this transaction
    return plan


def plan_and_book(
    clinic: Clinic,
    request: Request,
    ledger: Ledger,
    *,
    dry_run: bool,
    allow_overlap: bool = False,
    now: datetime | None = None,
    author: Author = UNNAMED,
    contact: Contact | None = None,
    lang: str | None = None,
) -> tuple[Plan, list[CheckResult]]:
    """Plan against the ledger's bookings; unless dry_run, book every session or none.
    Returns the plan as committed: the caller writes the patient's files after this, so
    they describe only what the ledger holds. A patient with a series over these days
    is refused unless `allow_overlap` (core.admission)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)  # the revision's time
    if dry_run:
        if ledger.exists():
            with ledger.read() as tx:
                if not allow_overlap:
                    refuse_overlap(tx, clinic, request)
                avail = availability_from(tx, clinic, request)
        else:
            avail = availability_from(None, clinic, request)
        plan, results = plan_one(clinic, request, avail, new_plan_id(), stamp)
        return plan._replace(contact=contact, lang=lang), results

    def book(tx: LedgerTx) -> tuple[Plan, list[CheckResult]]:
        if not allow_overlap:
            refuse_overlap(tx, clinic, request)
        avail = availability_from(tx, clinic, request)
        plan, results = plan_one(clinic, request, avail, tx.unique_plan_id(), stamp)
        return book_plan(tx, clinic, plan._replace(contact=contact, lang=lang), request, author=author), results

    try:  # planned again on what the other writer left when the database refused a clash
        return ledger.retrying(book)
    except LedgerConflict:
        from ketaplan.core.diagnosis import no_plan_error

        error = no_plan_error(clinic, request, _after_conflict(ledger, clinic, request))
        error.explanation.insert(
            0, f"other desks took the chairs this plan chose, {CONFLICT_RETRIES + 1} times in a row; try again"
        )
        raise error from None


def _after_conflict(ledger: Ledger, clinic: Clinic, request: Request) -> Availability:
    with ledger.read() as tx:
        return availability_from(tx, clinic, request)
