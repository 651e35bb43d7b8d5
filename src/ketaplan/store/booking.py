"""Plan a request against the ledger and book it: the one path `schedule` and `batch` share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ketaplan.core.availability import Availability
from ketaplan.core.checks import CheckResult
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan, Request
from ketaplan.core.planner import plan_with_checks
from ketaplan.store.ledger import Ledger, LedgerTx, new_plan_id


def booking_span(clinic: Clinic, request: Request) -> tuple[datetime, datetime]:
    """The stretch of calendar a plan for `request` can touch: consultation to last booster."""
    p = clinic.protocol
    zone = clinic.zone
    first = request.first_day - timedelta(days=p.consultation_days_before[1] + 1)
    reach = request.maintenance * (p.maintenance_every_days + p.maintenance_tolerance_days)
    last = request.last_day + timedelta(days=reach + 1)
    return (
        datetime(first.year, first.month, first.day, tzinfo=zone),
        datetime(last.year, last.month, last.day, tzinfo=zone),
    )


def plan_one(
    clinic: Clinic, request: Request, avail: Availability, plan_id: str, stamp: datetime
) -> tuple[Plan, list[CheckResult]]:
    """The plan and its check results, or NoPlanError with the explanation and suggestions."""
    found = plan_with_checks(clinic, request, avail, plan_id=plan_id, stamp=stamp)
    if found is None:
        from ketaplan.core.diagnosis import no_plan_error  # only when there is something to explain

        raise no_plan_error(clinic, request, avail)
    return found


def availability_from(tx: LedgerTx | None, clinic: Clinic, request: Request) -> Availability:
    start, end = booking_span(clinic, request)
    if tx is None:
        return Availability(clinic, span=(start, end))
    return Availability(clinic, tx.bookings(clinic.name, start, end, clinic.zone), span=(start, end))


def plan_and_book(
    clinic: Clinic,
    request: Request,
    ledger: Ledger,
    *,
    dry_run: bool,
    before_commit: Callable[[Plan], None] | None = None,
) -> tuple[Plan, list[CheckResult]]:
    """Plan against the ledger's bookings; unless dry_run, book every session or none.

    `before_commit` runs inside the transaction (e.g. writing the .ics): if it fails,
    nothing is booked."""
    stamp = datetime.now(UTC).replace(microsecond=0)
    if dry_run:
        if ledger.path.exists():
            with ledger.read() as tx:
                avail = availability_from(tx, clinic, request)
        else:
            avail = availability_from(None, clinic, request)
        plan, results = plan_one(clinic, request, avail, new_plan_id(), stamp)
        if before_commit:
            before_commit(plan)
        return plan, results
    with ledger.write() as tx:
        avail = availability_from(tx, clinic, request)
        plan, results = plan_one(clinic, request, avail, tx.unique_plan_id(), stamp)
        plan = plan._replace(sessions=tuple(s._replace(status="booked") for s in plan.sessions))
        tx.add_plan(plan, request)
        if before_commit:
            before_commit(plan)
    return plan, results
