"""Changing how to reach a patient (`ketaplan contact`): one transaction, a new revision
whose history says what changed, never the values (the history is shown to every desk)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ketaplan.app.changes import current_revision, same_clinic
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import UNNAMED, Author, Contact, Plan
from ketaplan.store import outbox_rows
from ketaplan.store.ledger import Ledger, LedgerTx


def change_contact(
    ledger: Ledger,
    clinic: Clinic,
    plan_id: str,
    *,
    email: str | None,
    phone: str | None,
    now: datetime,
    author: Author = UNNAMED,
    lang: str | None = None,
) -> Plan:
    """`email`/`phone`: the new value, "" to remove it, None to keep it (validated already);
    `lang`: the language of the patient's papers ("" for the clinic's, None to keep it)."""
    expected = current_revision(ledger, plan_id)
    with ledger.write() as tx:
        plan, _ = tx.load_plan(plan_id)
        same_clinic(plan, clinic)
        old = plan.contact or Contact()
        new = Contact(
            old.email if email is None else (email or None),
            old.phone if phone is None else (phone or None),
        )
        said = [
            f"{what} {'removed' if after is None else 'added' if before is None else 'changed'}"
            for what, before, after in (("email", old.email, new.email), ("phone", old.phone, new.phone))
            if before != after
        ]
        new_lang = plan.lang if lang is None else (lang or None)
        if new_lang != plan.lang:
            said.append(f"language {new_lang or 'the clinic' + chr(39) + 's'}")
            tx.set_lang(plan.plan_id, new_lang)
        if not said:
            return plan
        changed = plan._replace(contact=new, lang=new_lang)
        tx.set_contact(plan.plan_id, new)
        turnover = timedelta(minutes=clinic.turnover_minutes)
        done = tx.update_plan(changed, expected, "contact: " + ", ".join(said), now, turnover, author)
        if new.email and new.email != old.email:
            invite_new_address(tx, clinic, done, now)
        return done


def invite_new_address(tx: LedgerTx, clinic: Clinic, plan: Plan, now: datetime) -> None:
    """A new address has none of the series yet: the invitation with every session to come."""
    if clinic.smtp is None or not outbox_rows.ready(tx) or not any(s.start > now for s in plan.active):
        return
    outbox_rows.queue(tx, clinic.name, plan.plan_id, "email", "request", json.dumps({"change": "booked"}), now)
