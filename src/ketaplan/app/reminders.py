"""Reminders for a day's sessions: an email to each patient with an address (through the
outbox, so it goes once per session and waits when the server is down), and a line per
patient with a phone for a script that drives an SMS gateway (handed over once, recorded
in the outbox too). A session moved after its reminder gets a new one for its new time."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Session
from ketaplan.store import outbox_rows
from ketaplan.store.ledger import Ledger


class TextLine(NamedTuple):
    """One reminder for the SMS gateway; `key` stays the same for the same session and time."""

    key: str
    plan_id: str
    phone: str
    start: datetime
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "plan_id": self.plan_id, "phone": self.phone,
                "start": self.start.isoformat(), "local_time": f"{self.start:%H:%M}", "text": self.text}  # fmt: skip


class Reminders(NamedTuple):
    day: date
    sessions: int  # active sessions still to come that day
    emails: int  # reminder emails queued now
    texts: list[TextLine]  # lines to hand over now
    already: int  # reminders given before (emails and lines)
    unreachable: int  # sessions whose patient has neither email (with [smtp]) nor phone


def _key(channel: str, plan_id: str, s: Session) -> str:
    return f"reminder:{channel}:{plan_id}:{s.kind}:{s.number}:{s.start.isoformat()}"


def queue_reminders(ledger: Ledger, clinic: Clinic, day: date, now: datetime, *, texts: bool) -> Reminders:
    """Queue the day's reminder emails (one transaction), and list the text lines not
    handed over before (`texts`); `handed_over` records those once they are written."""
    from ketaplan.formats.imip import reminder_text

    start = datetime(day.year, day.month, day.day, tzinfo=clinic.zone)
    end = datetime.combine(day + timedelta(days=1), start.timetz())
    count = emails = already = unreachable = 0
    lines: list[TextLine] = []
    with ledger.write() as tx:
        for booked in tx.day_sessions(clinic.name, start, end, clinic.zone):
            s = booked.session
            if not s.active or s.start <= now:
                continue
            count += 1
            contact = tx.contact_of(booked.plan_id)
            email = contact.email if contact and clinic.smtp else None
            phone = contact.phone if contact and texts else None
            if not (email or phone):
                unreachable += 1
            if email:
                detail = json.dumps({"session": [s.kind, s.number], "start": s.start.isoformat()})
                if outbox_rows.queue(tx, clinic.name, booked.plan_id, "email", "reminder", detail, now,
                                     dedupe=_key("email", booked.plan_id, s)):  # fmt: skip
                    emails += 1
                else:
                    already += 1
            if phone:
                key = _key("sms", booked.plan_id, s)
                if outbox_rows.seen(tx, key):
                    already += 1
                else:
                    plan, _ = tx.load_plan(booked.plan_id)  # its language
                    lines.append(TextLine(key, booked.plan_id, phone, s.start, reminder_text(plan, s, clinic)))
    return Reminders(day, count, emails, lines, already, unreachable)


def handed_over(ledger: Ledger, clinic: Clinic, lines: list[TextLine], now: datetime) -> None:
    """Record the lines as given (after they were written: at worst a line is written
    twice when the process dies in between, never lost)."""
    with ledger.write() as tx:
        for line in lines:
            detail = json.dumps({"start": line.start.isoformat()})
            outbox_rows.handed_over(tx, clinic.name, line.plan_id, "sms", "reminder", detail, line.key, now)
