"""Recording closures in the ledger (`close`), listing them with the clinic file's and the
public holidays (`closures`), and taking one back (`reopen`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from ketaplan.app.repair import Repaired, count_conflicts, find_conflicts, repair_in_ledger
from ketaplan.app.views import as_it_stands
from ketaplan.core.clinic import Clinic
from ketaplan.core.errors import InputError
from ketaplan.core.model import UNNAMED, Author, Closure
from ketaplan.store.closure_rows import add_closure, closures, remove_closure
from ketaplan.store.ledger import Ledger


class Closed(NamedTuple):
    closure: Closure
    conflicts: int  # sessions from now on the clinic no longer admits, this closure's and others'
    repaired: Repaired | None  # close --repair


def close_in_ledger(
    ledger: Ledger, clinic: Clinic, closure: Closure, now: datetime, *, repair: bool = False, author: Author = UNNAMED
) -> Closed:
    """Record the closure under the write lock (no booking slips onto the day meanwhile);
    with `repair`, then move everyone it affects, in a transaction of its own."""
    with ledger.write() as tx:
        recorded = add_closure(tx, clinic.name, closure._replace(author=author.name), now)
        found = find_conflicts(tx, clinic, now, None, None)
    repaired = repair_in_ledger(ledger, clinic, now, author=author) if repair and found.conflicts else None
    left = (
        count_conflicts(ledger, clinic, now)
        if repaired is not None
        else len({(c.plan.plan_id, c.session.kind, c.session.number) for c in found.conflicts})
    )
    return Closed(recorded, left, repaired)


class Listed(NamedTuple):
    first: date
    last: date
    reason: str
    source: str  # "clinic file" | "public holiday" | "ledger"
    hours: tuple[int, int] | None = None
    chair: str | None = None
    id: int | None = None
    author: str | None = None


def list_closures(ledger: Ledger | None, clinic: Clinic, first: date, last: date) -> list[Listed]:
    """The clinic file's closures, its public holidays and the ledger's closures that touch
    first..last, by first day."""
    out = [
        Listed(c.first, c.last, c.reason, "clinic file")
        for c in clinic.file_closures
        if c.first <= last and c.last >= first
    ]
    if clinic.holidays:
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            name = clinic.holiday_name(day)
            if name:
                out.append(Listed(day, day, name, "public holiday"))
    if ledger is not None and ledger.exists():
        with ledger.read() as tx:
            recorded = closures(tx, clinic.name)
        out += [
            Listed(c.first, c.last, c.reason, "ledger", c.hours, c.chair, c.id, c.author)
            for c in recorded
            if c.first <= last and c.last >= first
        ]
    return sorted(out, key=lambda x: (x.first, x.last, x.source, x.id or 0))


def reopen_in_ledger(ledger: Ledger, clinic: Clinic, closure_id: int) -> Closure:
    """Take back one recorded closure; the days or chair are open again at once."""
    with ledger.write() as tx:
        removed = remove_closure(tx, closure_id)
        if removed is None:
            raise InputError(f"no closure {closure_id} in this ledger (see `ketaplan closures`)", field="ID")
        owner, closure = removed
        if owner != clinic.name:
            raise InputError(f"closure {closure_id} belongs to {owner!r}, not {clinic.name!r}", field="ID")
    return closure


def standing_clinic(ledger: Ledger, clinic: Clinic) -> Clinic:
    """The clinic with the ledger's closures (for commands that only read)."""
    if not ledger.exists():
        return as_it_stands(None, clinic)
    with ledger.read() as tx:
        return as_it_stands(tx, clinic)
