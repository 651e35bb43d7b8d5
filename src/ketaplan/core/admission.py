"""Whether a request may be planned at all, before a chair is looked at: the same patient
does not get a second series over days another of her series still holds.

The one rule behind `schedule`, `batch`, `batch --optimize` and their dry runs. The
ledger's side is one query (store.tx.LedgerTx.held_series); this module decides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from ketaplan.core.errors import InputError
from ketaplan.core.model import Patient, Plan, Request
from ketaplan.core.protocol import Protocol


class HeldSeries(NamedTuple):
    """A series of one patient and the days it holds: its window, widened to any session
    it still holds outside it (boosters come weeks after the window)."""

    what: str  # how a message names it: "an active plan, KP-…" or "a request on line 4"
    name: str
    patient_id: str | None
    first_day: date
    last_day: date


def same_patient(patient: Patient, name: str, patient_id: str | None) -> bool:
    """By the clinic's patient id when the request has one, else by exact name."""
    return patient_id == patient.id if patient.id else name == patient.name


def request_days(request: Request, protocol: Protocol) -> tuple[date, date]:
    """The days a request may hold: its window, and past it the latest its boosters can fall."""
    reach = request.boosters * (protocol.maintenance_every_days + protocol.maintenance_tolerance_days)
    return request.first_day, request.last_day + timedelta(days=reach)


def series_of_plan(plan: Plan, what: str) -> HeldSeries | None:
    """The days a plan holds (None when it holds none: every session cancelled or missed)."""
    active = plan.active
    if not active:
        return None
    days = [s.start.date() for s in active]  # sessions are in the clinic's zone
    first, last = min(plan.first_day, *days), max(plan.last_day, *days)
    return HeldSeries(what, plan.patient.name, plan.patient.id, first, last)


def series_of_request(request: Request, protocol: Protocol, what: str) -> HeldSeries:
    first, last = request_days(request, protocol)
    return HeldSeries(what, request.patient.name, request.patient.id, first, last)


def first_overlap(request: Request, protocol: Protocol, held: Iterable[HeldSeries]) -> HeldSeries | None:
    """The earliest series of this patient that holds some of the request's days."""
    first, last = request_days(request, protocol)
    found = [
        s
        for s in held
        if same_patient(request.patient, s.name, s.patient_id) and s.first_day <= last and s.last_day >= first
    ]
    return min(found, key=lambda s: (s.first_day, s.what)) if found else None


def refuse_overlap(request: Request, protocol: Protocol, held: Iterable[HeldSeries]) -> None:
    found = first_overlap(request, protocol, held)
    if found is not None:
        raise InputError(
            f"this patient has {found.what} over these days ({found.first_day} to {found.last_day}); change that one "
            "(`ketaplan reschedule`, `ketaplan cancel`) or allow a second one (--allow-overlap)",
            field="patient_id" if request.patient.id else "patient",
        )
