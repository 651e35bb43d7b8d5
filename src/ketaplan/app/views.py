"""What the planner sees of the ledger: the clinic as it stands (its file and the closures
recorded in the ledger) and free chairs over a stretch of time, with one plan's own
sessions left out when that plan is being changed. Every use case that plans against the
ledger asks here (booking, batches, changes, audits, conflicts, repairs)."""

from __future__ import annotations

from datetime import datetime

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.closures import standing
from ketaplan.store.closure_rows import closures
from ketaplan.store.tx import LedgerTx


def as_it_stands(tx: LedgerTx | None, clinic: Clinic) -> Clinic:
    """The clinic file with the ledger's closures put in (read in the caller's transaction,
    so a writer sees exactly the closures its booking is checked against)."""
    if clinic.ledger_closures is not None:
        return clinic
    return standing(clinic, closures(tx, clinic.name) if tx is not None else ())


def ledger_view(
    tx: LedgerTx | None, clinic: Clinic, span: tuple[datetime, datetime], *, without: str | None = None
) -> Availability:
    """Availability over `span` from the clinic as it stands and the ledger's bookings
    (none when there is no ledger yet); `without` leaves out that plan's own sessions."""
    clinic = as_it_stands(tx, clinic)
    if tx is None:
        return Availability(clinic, span=span)
    bookings = tx.bookings(clinic.name, *span, clinic.zone)
    if without is not None:
        bookings = [b for b in bookings if b.plan_id != without]
    return Availability(clinic, bookings, span=span)
