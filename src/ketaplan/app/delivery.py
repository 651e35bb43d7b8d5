"""Messages that keep the patient's and the clinic's calendars in step with the ledger.

`queue_change` runs inside the transaction of every change that alters a patient's
calendar, so a committed change always has its messages queued, and a change that is
rolled back has none. `deliver` runs after the commit: what a server does not take stays
in the outbox with the reason, and the booking stands. Messages are rendered when sent,
from the plan as it is then: an invitation always carries the latest times."""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan, Session
from ketaplan.store import outbox_rows
from ketaplan.store.ledger import Ledger, LedgerTx
from ketaplan.store.outbox_rows import Message

if TYPE_CHECKING:
    from ketaplan.app.transport import DeskCalendar, Mailer


def queue_change(tx: LedgerTx, clinic: Clinic | None, before: Plan | None, after: Plan, now: datetime) -> int:
    """Queue what this change calls for (in its transaction): for a patient with an email
    address, an invitation when sessions to keep were booked or changed, and a
    cancellation for sessions cancelled or missed; with [caldav], an update of the plan's
    events in the clinic calendar when any session was booked, moved, cancelled or missed."""
    if clinic is None or not (clinic.smtp or clinic.caldav) or not outbox_rows.ready(tx):
        return 0
    queued = 0
    if clinic.smtp is not None:
        contact = tx.contact_of(after.plan_id)
        if contact is not None and contact.email:
            was = {(s.kind, s.number): s for s in before.sessions} if before else {}
            dropped = [s for s in after.sessions if not s.active and _was_active(was.get((s.kind, s.number)))]
            kept = [
                s for s in after.sessions if s.active and s.start > now and _differs(was.get((s.kind, s.number)), s)
            ]
            if kept:
                detail = {"change": "changed" if before else "booked"}
                queued += outbox_rows.queue(tx, clinic.name, after.plan_id, "email", "request", json.dumps(detail), now)
            if dropped:
                keys = [[s.kind, s.number] for s in dropped]
                queued += outbox_rows.queue(
                    tx, clinic.name, after.plan_id, "email", "cancel", json.dumps({"sessions": keys}), now
                )
    if clinic.caldav is not None:
        # the clinic calendar holds every active session, past ones too: one "event"
        # message brings all of the plan's events in line when it is sent
        was = {(s.kind, s.number): s for s in before.sessions} if before else {}
        if any(_moved(was.get((s.kind, s.number)), s) for s in after.sessions):
            queued += outbox_rows.queue(tx, clinic.name, after.plan_id, "caldav", "event", "{}", now)
    return queued


def _moved(old: Session | None, new: Session) -> bool:
    if old is None:
        return new.active
    return (old.start, old.end, old.resource, old.active) != (new.start, new.end, new.resource, new.active)


def _was_active(s: Session | None) -> bool:
    return s is None or s.active


def _differs(old: Session | None, new: Session) -> bool:
    return old is None or (old.start, old.end, old.resource, old.active) != (new.start, new.end, new.resource, True)


class Delivered(NamedTuple):
    sent: int
    pending: int  # left in the outbox (this clinic's)
    errors: tuple[str, ...]  # one per server that failed, naming it and why

    def as_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "pending": self.pending, "errors": list(self.errors)}


def deliver(
    ledger: Ledger, clinic: Clinic, now: datetime, *, ids: Collection[int] | None = None, attach_plan: bool = False
) -> Delivered:
    """Claim the clinic's unsent messages (or those `ids`), hand each to its server, and
    record each as sent the moment the server took it (store.outbox_rows: never lost, at
    most one duplicate when a sender dies between the two)."""
    from ketaplan.app.transport import DeskCalendar, Mailer, Undelivered  # smtplib, ssl: only to send

    me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    with ledger.write() as tx:
        claimed = outbox_rows.claim(tx, clinic.name, me, now, _dead, ids)
    sent, errors = 0, dict[str, str]()
    down: dict[str, str] = {}  # a channel whose server cannot be reached: the rest wait
    mailer = Mailer(clinic.smtp) if clinic.smtp is not None else None
    desk: DeskCalendar | None = None
    try:
        for m in claimed:
            try:
                if m.channel in down:
                    raise Undelivered(down[m.channel])
                if m.channel == "caldav" and desk is None:
                    if clinic.caldav is None:
                        raise Undelivered("[caldav] is not in the clinic file any more")
                    desk = DeskCalendar(clinic.caldav)
                did = _deliver_one(ledger, clinic, m, mailer, desk, now, attach_plan)
            except Undelivered as e:
                errors.setdefault(m.channel, str(e))
                if "recipient was refused" not in str(e):
                    down[m.channel] = str(e)
                with ledger.write() as tx:
                    outbox_rows.mark_failed(tx, m.id, me, str(e))
                continue
            with ledger.write() as tx:
                outbox_rows.mark_sent(tx, m.id, me, now)
            sent += did
    finally:
        if mailer is not None:
            mailer.__exit__(None, None, None)
    with ledger.read() as tx:
        pending = len(outbox_rows.unsent(tx, clinic.name))
    return Delivered(sent, pending, tuple(errors.values()))


def _deliver_one(
    ledger: Ledger,
    clinic: Clinic,
    m: Message,
    mailer: Mailer | None,
    desk: DeskCalendar | None,
    now: datetime,
    attach_plan: bool,
) -> int:
    """1 when something went out, 0 when the message has nothing left to say (the
    sessions it was about changed again, or the address was removed)."""
    from ketaplan.formats import ics_export

    with ledger.read() as tx:
        plan, _ = tx.load_plan(m.plan_id)
        contact = tx.contact_of(m.plan_id)
    detail = json.loads(m.detail)
    if m.channel == "caldav":
        assert desk is not None
        for s in plan.sessions:  # idempotent: PUT by UID, and a DELETE of what is not there is fine
            if s.active:
                desk.put(ics_export.desk_event(plan, s, clinic))
            else:
                desk.delete(ics_export.desk_uid(plan.plan_id, s))
        return 1
    if mailer is None:
        from ketaplan.app.transport import Undelivered

        raise Undelivered("[smtp] is not in the clinic file any more")
    if contact is None or not contact.email:
        return 0
    msg = email_for(plan, clinic, m.kind, detail, contact.email, now, attach_plan)
    if msg is None:
        return 0
    mailer.send(msg)
    return 1


def email_for(
    plan: Plan, clinic: Clinic, kind: str, detail: dict[str, Any], to: str, now: datetime, attach_plan: bool = False
) -> Any:
    """The email a message stands for, as the plan is now; None when nothing is left to say."""
    from ketaplan.formats import imip

    assert clinic.smtp is not None
    sender = clinic.smtp.sender
    if kind == "reminder":
        s = next((x for x in plan.active if [x.kind, x.number] == detail["session"]), None)
        if s is None or s.start.isoformat() != detail["start"]:
            return None  # moved or cancelled since: a reminder for that time would mislead
        return imip.reminder(plan, s, clinic, sender=sender, to=to, now=now)
    if kind == "cancel":
        keys = [tuple(k) for k in detail["sessions"]]
        sessions = [s for s in plan.sessions if (s.kind, s.number) in keys and not s.active]
        change = "cancel"
    else:
        sessions = list(plan.active)
        change = str(detail.get("change", "changed"))
    if not sessions:
        return None
    pdf = None
    if kind == "request" and attach_plan:
        from ketaplan.formats.pdf import plan_pdf

        pdf = plan_pdf(plan, clinic, copy="patient")
    return imip.invitation(plan, clinic, sender=sender, to=to, kind=kind, change=change, sessions=sessions,
                           now=now, pdf=pdf)  # fmt: skip


def _dead(claim: str) -> bool:
    """A claim made on this host by a process that is gone (killed mid-send)."""
    host, _, rest = claim.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
