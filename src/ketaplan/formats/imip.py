"""Emails to the patient: iMIP invitations and cancellations (RFC 6047) and reminders.

Text and HTML in the patient's wording, and for invitations a text/calendar part whose
METHOD the mail client acts on (REQUEST adds or updates the events, CANCEL removes
them), with the export's UIDs and SEQUENCE. Headers go through the standard library's
`email` package, which refuses a line break in a header value: a hostile name cannot add
a header. Subjects say neither the treatment nor the clinic's name (a lock screen shows
them) unless the clinic opts in (`[privacy] mention_treatment`)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan, Session
from ketaplan.core.times import local
from ketaplan.formats.i18n import Words, words
from ketaplan.formats.ics_export import Invite, look_kind, plan_to_ics, summary


def _subject(w: Words, change: str) -> str:
    if change == "cancel":
        return w("Appointment cancelled")
    return w("Your appointment times have changed") if change == "changed" else w("Your appointment times")


def invitation(
    plan: Plan,
    clinic: Clinic,
    *,
    sender: str,
    to: str,
    kind: str,
    change: str,
    sessions: Sequence[Session],
    now: datetime,
    pdf: bytes | None = None,
) -> EmailMessage:
    """`kind` "request" (the sessions to keep; `change` "booked" or "changed") or
    "cancel" (the sessions cancelled)."""
    w = words(plan.lang, clinic)
    method = "CANCEL" if kind == "cancel" else "REQUEST"
    subject = _subject(w, "cancel" if kind == "cancel" else change)
    if kind == "cancel":
        intro = w("These appointments are cancelled (or were missed); your calendar will remove them:")
    elif change == "changed":
        intro = w("Your appointment times have changed. Your appointments now:")
    else:
        intro = w("Your appointments are booked:")
    lines = [_line(plan, s, clinic, w) for s in sorted(sessions, key=lambda s: s.start)]
    after = [] if kind == "cancel" else _before_you_come(clinic, w)
    msg = _message(plan, clinic, sender=sender, to=to, subject=subject, now=now)
    _bodies(msg, plan, intro, lines, after, clinic, w)
    name, address = parseaddr(sender)
    ics = plan_to_ics(plan, clinic, method=method, only=sessions, invite=Invite(address, to, name))
    msg.add_alternative(ics.decode(), subtype="calendar", params={"method": method})
    if pdf is not None:
        msg.make_mixed()
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{plan.plan_id}.pdf")
    return msg


def reminder(plan: Plan, s: Session, clinic: Clinic, *, sender: str, to: str, now: datetime) -> EmailMessage:
    w = words(plan.lang, clinic)
    start = local(s.start, clinic.zone)
    what = look_kind(s, w) if clinic.privacy.mention_treatment else w("appointment")
    when = w.long_date(clinic, start.date(), weekday=True)
    subject = w("Reminder: {what} on {date} at {time}", what=what, date=when, time=w.clock(start))
    msg = _message(plan, clinic, sender=sender, to=to, subject=subject, now=now)
    intro = w("A reminder of your appointment:")
    after = _before_you_come(clinic, w) if s.kind != "consultation" else _questions(clinic, w)
    _bodies(msg, plan, intro, [_line(plan, s, clinic, w)], after, clinic, w)
    return msg


def reminder_text(plan: Plan, s: Session, clinic: Clinic) -> str:
    """A reminder short enough for a text message: when, and whom to call. The treatment
    and the clinic's name only when the clinic mentions the treatment ([privacy])."""
    w = words(plan.lang, clinic)
    what = look_kind(s, w) if clinic.privacy.mention_treatment else w("appointment")
    when = _when(s, clinic, w)
    call = " " + w("Questions or changes: call {phone}.", phone=clinic.phone) if clinic.phone else ""
    if clinic.privacy.mention_treatment:
        return w("Reminder: your {what} at {clinic} is on {when}.", what=what, clinic=clinic.name, when=when) + call
    return w("Reminder: your {what} is on {when}.", what=what, when=when) + call


def _message(plan: Plan, clinic: Clinic, *, sender: str, to: str, subject: str, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    name = " ".join(plan.patient.name.split())  # one line, whatever the ledger holds
    local_part, _, domain = to.rpartition("@")
    msg["To"] = Address(display_name=name, username=local_part, domain=domain)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def _line(plan: Plan, s: Session, clinic: Clinic, w: Words) -> str:
    return f"{_when(s, clinic, w)}: {summary(plan, s, clinic, False, w)}"


def _when(s: Session, clinic: Clinic, w: Words) -> str:
    """ "Tue 1 Dec 2026 at 08:00 (please arrive at 07:45)": the arrival only when earlier."""
    start = local(s.start, clinic.zone)
    arrive = local(clinic.arrive_by(s.start), clinic.zone)
    day = w.long_date(clinic, start.date(), weekday=True)
    if arrive == start:
        return w("{date} at {time}", date=day, time=w.clock(start))
    return w("{date} at {time} (please arrive at {arrive})", date=day, time=w.clock(start), arrive=w.clock(arrive))


def _questions(clinic: Clinic, w: Words) -> list[str]:
    return [w("Questions or changes: call {phone}.", phone=clinic.phone)] if clinic.phone else []


def _before_you_come(clinic: Clinic, w: Words) -> list[str]:
    ins, _ = w.instructions(clinic)
    return [w("Before you come: {fasting}", fasting=ins.fasting), ins.escort, *_questions(clinic, w)]


def _bodies(
    msg: EmailMessage, plan: Plan, intro: str, lines: list[str], after: list[str], clinic: Clinic, w: Words
) -> None:
    name = " ".join(plan.patient.name.split())
    where = [clinic.address] if clinic.address and clinic.privacy.location else []
    # Signed with the clinic's name only when it may say what it treats (the sender shows who)
    sign = [clinic.name] if clinic.privacy.mention_treatment else []
    dear = w("Dear {name},", name=name)
    parts = [[dear], [intro, *(f"  {x}" for x in lines)], after, [*sign, *where]]
    text = "\n\n".join("\n".join(part) for part in parts if part)
    msg.set_content(text + "\n")
    e = html.escape
    page = (
        f"<p>{e(dear)}</p><p>{e(intro)}</p><ul>{''.join(f'<li>{e(x)}</li>' for x in lines)}</ul>"
        + "".join(f"<p>{e(x)}</p>" for x in after)
        + f"<p>{'<br>'.join(e(x) for x in [*sign, *where])}</p>"
    )
    msg.add_alternative(f"<!DOCTYPE html><html><body>{page}</body></html>\n", subtype="html")
