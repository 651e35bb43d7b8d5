"""`sync`: the clinic's CalDAV calendar brought in line with the ledger. Every active
session of the clinic's plans is an event there; an event of ours that is missing is
made again, one that says something else (edited in the calendar app, or an update that
never arrived) is written over, and one the ledger no longer holds is removed. Events
are ours only with our UID suffix and our mark naming this clinic: nobody else's event
is ever written or removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.store.ledger import Ledger

if TYPE_CHECKING:
    from ketaplan.app.transport import DeskCalendar


class Synced(NamedTuple):
    created: int
    updated: int
    removed: int
    unchanged: int
    error: str | None  # the server's failure, naming it; what was done before it stands
    dry_run: bool

    def as_json(self) -> dict[str, Any]:
        return self._asdict()


def sync(ledger: Ledger, clinic: Clinic, *, dry_run: bool = False, desk: DeskCalendar | None = None) -> Synced:
    from ketaplan.app.transport import DeskCalendar, Undelivered
    from ketaplan.formats.ics_export import DESK_UID, MARK, desk_event, desk_fingerprint, desk_uid

    assert clinic.caldav is not None
    wanted: dict[str, bytes] = {}
    with ledger.read() as tx:
        for plan_id in tx.plan_ids_holding(clinic.name):
            plan, _ = tx.load_plan(plan_id)
            for s in plan.active:
                wanted[desk_uid(plan.plan_id, s)] = desk_event(plan, s, clinic)
    counts = {"created": 0, "updated": 0, "removed": 0, "unchanged": 0}
    try:
        desk = desk or DeskCalendar(clinic.caldav)
        there = desk.ours(MARK, clinic.name, DESK_UID)
        for uid, ics in sorted(wanted.items()):
            if uid in there and there[uid] == desk_fingerprint(ics):
                counts["unchanged"] += 1
                continue
            if not dry_run:
                desk.put(ics)
            counts["updated" if uid in there else "created"] += 1
        for uid in sorted(set(there) - set(wanted)):
            if not dry_run:
                desk.delete(uid)
            counts["removed"] += 1
    except Undelivered as e:
        return Synced(**counts, error=str(e), dry_run=dry_run)
    return Synced(**counts, error=None, dry_run=dry_run)
