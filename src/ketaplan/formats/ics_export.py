"""A plan as an iCalendar file every calendar app reads alike (README, "Files for the patient: the .ics").

One VEVENT per session, no RRULE; stable UIDs; SEQUENCE = plan revision; DTSTAMP from
the plan; an RRULE-style VTIMEZONE built from zoneinfo; neutral, private text unless
details are asked for; one display alarm per event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from ketaplan import __version__
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, Plan, Session
from ketaplan.core.status import look
from ketaplan.core.times import local
from ketaplan.formats.i18n import ENGLISH, Words, words
from ketaplan.formats.vtimezone import observances

PRODID = f"-//ketaplan//ketaplan {__version__}//EN"


def uid(plan_id: str, s: Session) -> str:
    """Stable across re-exports and revisions, so calendars update instead of duplicating."""
    return f"{plan_id}-{s.kind}-{s.number}@ketaplan"


def summary(plan: Plan, s: Session, clinic: Clinic, details: bool, w: Words | None = None) -> str:
    """An event's title in the plan's language (`w`, else the plan's)."""
    w = w or words(plan.lang, clinic)
    if details:
        who = f" — {plan.patient.name}"
        if s.kind == "consultation":
            return w("Consultation before ketamine infusions") + who
        if s.kind == BOOSTER:
            return w("Ketamine maintenance infusion {n} of {of}", n=s.number, of=s.of) + who
        return w("Ketamine infusion {n} of {of}", n=s.number, of=s.of) + who
    # Neutral ([privacy] calendar_title): a lock screen or a shared calendar shows neither
    # the treatment nor the clinic's name (which may say it).
    title = neutral_title(clinic, w)
    if s.kind == "consultation":
        return title
    if s.kind == BOOSTER:
        return w("{title} (follow-up {n} of {of})", title=title, n=s.number, of=s.of)
    return w("{title} {n} of {of}", title=title, n=s.number, of=s.of)


def neutral_title(clinic: Clinic, w: Words) -> str:
    """[privacy] calendar_title; ketaplan's own default ("Appointment") in the plan's language."""
    title = clinic.privacy.calendar_title
    return w("Appointment") if title == "Appointment" else title


def description(s: Session, clinic: Clinic, w: Words) -> str:
    ins, _ = w.instructions(clinic)
    arrive = local(clinic.arrive_by(s.start), clinic.zone)
    early = round((s.start - arrive).total_seconds() / 60)
    lines = [
        w("Please arrive at {time} ({minutes} minutes early).", time=w.clock(arrive), minutes=early)
        if early
        else w("Please arrive at {time}.", time=w.clock(arrive))
    ]
    if s.kind != "consultation":
        lines += [w("Before you come: {fasting}", fasting=ins.fasting), ins.escort]
    if clinic.phone:
        lines.append(w("Questions or changes: call {phone}.", phone=clinic.phone))
    return "\n".join(lines)


def vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    tz = Timezone()
    tz.add("tzid", zone_name)
    tz.add("x-lic-location", zone_name)
    for ob in observances(zone_name, first_year, last_year):
        part = TimezoneDaylight() if ob.daylight else TimezoneStandard()
        part.add("dtstart", ob.dtstart)
        part.add("tzoffsetfrom", ob.offset_from)
        part.add("tzoffsetto", ob.offset_to)
        if ob.name:
            part.add("tzname", ob.name)
        if ob.rrule:
            part.add("rrule", ob.rrule)
        tz.add_component(part)
    return tz


def plan_to_ics(
    plan: Plan,
    clinic: Clinic,
    *,
    details: bool = False,
    method: str = "PUBLISH",
    only: Iterable[Session] | None = None,
    invite: Invite | None = None,
) -> bytes:
    """The patient's calendar of the plan. An iMIP message (RFC 6047) sets `method`
    (REQUEST: the sessions to keep; CANCEL: those cancelled), `only` those sessions, and
    `invite` (organizer and attendee): the same UIDs and SEQUENCE as the export, so a
    mail client updates the events the patient already has."""
    zone = clinic.zone
    stamp = (plan.stamp or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC)
    sessions = list(plan.sessions if only is None else only)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    w = words(plan.lang, clinic)
    name = w("{clinic} appointments", clinic=clinic.name) if details else neutral_title(clinic, w)
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", clinic.timezone)
    starts = [local(s.start, zone) for s in sessions] or [local(s.start, zone) for s in plan.sessions]
    cal.add_component(vtimezone(clinic.timezone, min(starts).year, max(starts).year))
    organizer = vCalAddress(f"mailto:{invite.organizer if invite else clinic.email}")
    # calendar apps show the organizer's name beside the title: the clinic's name (which
    # may name the treatment) only when asked for; an invitation shows its sender's name
    shown = invite.organizer_name if invite else (clinic.name if details or clinic.privacy.mention_treatment else "")
    if shown:
        organizer.params["cn"] = shown
    for s in sorted(sessions, key=lambda s: (s.start.astimezone(UTC), s.kind)):
        ev = Event()
        ev.add("uid", uid(plan.plan_id, s))
        ev.add("dtstamp", stamp)
        ev.add("sequence", plan.revision)
        ev.add("dtstart", local(s.start, zone))
        ev.add("dtend", local(s.end, zone))
        ev.add("summary", summary(plan, s, clinic, details, w))
        ev.add("description", description(s, clinic, w))
        if clinic.address and clinic.privacy.location:
            ev.add("location", clinic.address)
        ev.add("organizer", organizer)
        if invite is not None:
            attendee = vCalAddress(f"mailto:{invite.attendee}")
            attendee.params.update({"role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION", "rsvp": "FALSE"})
            ev.add("attendee", attendee)
        ev.add("class", "PRIVATE")
        ev.add("transp", "OPAQUE")
        ev.add("status", "CANCELLED" if method == "CANCEL" else look(s.status).ics)
        if s.active and method != "CANCEL":
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -timedelta(hours=clinic.instructions.reminder_hours_before))
            alarm.add("description", w("Reminder: {title}", title=summary(plan, s, clinic, details, w)))
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()


class Invite(NamedTuple):
    organizer: str  # the address the invitation comes from ([smtp] from)
    attendee: str  # the patient's
    organizer_name: str = ""  # the sender's display name, as the clinic wrote it in [smtp] from


#: The clinic calendar's events are the desk's, not the patient's: their own UIDs, and a
#: mark by which `sync` knows its events from everyone else's in a shared calendar.
DESK_UID = "@desk.ketaplan"
MARK = "X-KETAPLAN-CLINIC"


def desk_uid(plan_id: str, s: Session) -> str:
    return f"{plan_id}-{s.kind}-{s.number}{DESK_UID}"


def desk_event(plan: Plan, s: Session, clinic: Clinic) -> bytes:
    """One session in the clinic's CalDAV calendar: the [privacy] title (the kind and
    number only when the clinic mentions the treatment), no patient name, the chair or
    room as the location, the plan id to look it up by."""
    zone = clinic.zone
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    start = local(s.start, zone)
    cal.add_component(vtimezone(clinic.timezone, start.year, start.year))
    ev = Event()
    ev.add("uid", desk_uid(plan.plan_id, s))
    ev.add("dtstamp", (plan.stamp or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC))
    ev.add("sequence", plan.revision)
    ev.add("dtstart", start)
    ev.add("dtend", local(s.end, zone))
    title = clinic.privacy.calendar_title
    if clinic.privacy.mention_treatment:
        title = f"{title}: {look_kind(s)}"
    ev.add("summary", title)
    ev.add("description", f"{plan.plan_id}, {s.label}" if clinic.privacy.mention_treatment else plan.plan_id)
    if s.resource:
        ev.add("location", s.resource)
    ev.add("class", "PRIVATE")
    ev.add("status", "CONFIRMED")
    ev.add(MARK, clinic.name)
    cal.add_component(ev)
    return cal.to_ical()


def fingerprint(event: Any) -> tuple[str, ...]:
    """What a clinic-calendar event says, to tell one edited or stale from the ledger's."""
    times = tuple(event.decoded(k).isoformat() if k in event else "" for k in ("dtstart", "dtend"))
    words = tuple(str(event.get(k, "")) for k in ("summary", "location", "description", "status"))
    return times + words


def desk_fingerprint(ics: bytes) -> tuple[str, ...]:
    return fingerprint(Calendar.from_ical(ics).walk("VEVENT")[0])


def look_kind(s: Session, w: Words | None = None) -> str:
    """The treatment named (only with [privacy] mention_treatment)."""
    w = w or words(ENGLISH)
    if s.kind == "consultation":
        return w("consultation")
    if s.kind == BOOSTER:
        return w("ketamine maintenance {n} of {of}", n=s.number, of=s.of)
    return w("ketamine infusion {n} of {of}", n=s.number, of=s.of)
