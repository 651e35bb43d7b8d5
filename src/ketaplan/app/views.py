"""What the planner sees of the ledger: free chairs over a stretch of time, with one
plan's own sessions left out when that plan is being changed. Every use case that plans
against the ledger asks here (booking, batches, changes, audits)."""

from __future__ import annotations

from datetime import datetime

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.store.tx import LedgerTx


def ledger_view(
    tx: LedgerTx | None, clinic: Clinic, span: tuple[datetime, datetime], *, without: str | None = None
) -> Availability:
    """Availability over `span` from the clinic as it stands and the ledger's bookings
    (none when there is no ledger yet); `without` leaves out that plan's own sessions."""
    if tx is None:
        return Availability(clinic, span=span)
    bookings = tx.bookings(clinic.name, *span, clinic.zone)
    if without is not None:
        bookings = [b for b in bookings if b.plan_id != without]
    return Availability(clinic, bookings, span=span)
