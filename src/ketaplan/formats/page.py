"""The printable plan's page model: what is on the page, once, for both the HTML (formats.html)
and the PDF (formats.pdf) renderers, which only lay it out.

Patient copy: clinic header, patient, plan id and window, every session (weekday, date,
arrival, start-end), a calendar of the window, preparation, side effects to report and
whom to call, in the plan's language (formats.i18n). Coordinator copy, in English, adds
a vitals log and a checklist per infusion."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, CONSULTATION, INFUSION_KINDS, KIND_LABEL, Plan
from ketaplan.core.status import look
from ketaplan.core.times import local
from ketaplan.formats.i18n import ENGLISH, Words, words

SIDE_EFFECTS = (
    "nausea or vomiting",
    "dizziness or feeling faint",
    "blurred or double vision",
    "raised blood pressure (headache, chest pain, pounding heartbeat)",
    "confusion, distressing thoughts or hallucinations that last after you leave",
)
# The coordinator's sheets: English, whatever the plan's language
VITALS_COLUMNS = ("", "Blood pressure", "Heart rate", "SpO2", "Notes", "Initials")
VITALS_ROWS = ("Before", "During", "After")
CHECKLIST = ("Consent confirmed", "Fasting confirmed", "Escort confirmed", "Discharged")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # the terminal's (English)


class Row(NamedTuple):
    number: str
    what: str  # "Infusion", "Infusion (attended)", "Infusión (cancelada)"
    weekday: str
    day: str
    arrive: str
    time: str
    status: str  # the session's status (core.status says how it reads)


class Cell(NamedTuple):
    day: date
    mark: str  # "" | "C" | "1".."6" | "B1"
    closed: bool
    in_window: bool


class Page(NamedTuple):
    """Everything a copy shows, as plain text; renderers only lay it out."""

    clinic: str
    contact: str
    title: str
    facts: list[tuple[str, str]]
    rows: list[Row]
    weeks: list[list[Cell]]
    preparation: list[str]
    call_us: str
    vitals: list[str]  # one heading per infusion (coordinator copy), else empty
    zone_note: str
    emergency: str  # the clinic's emergency line, under the side effects
    running_head: str  # on every printed page: patient, id, plan (a loose vitals sheet is matched by it)
    words: Words  # the copy's language: headings, calendar labels (renderers ask it)
    side_effects: list[str]
    missing: list[str]  # clinic texts with no translation into this copy's language (printed as given)


def calendar_weeks(plan: Plan, clinic: Clinic) -> list[list[Cell]]:
    """Monday-first weeks over the window (and the consultation when it lies before it),
    infusion and consultation days marked. The PDF, the HTML and the terminal draw this."""
    zone = clinic.zone
    marks: dict[date, str] = {}
    for s in plan.sessions:
        if s.active and s.kind != BOOSTER:
            marks[local(s.start, zone).date()] = "C" if s.kind == "consultation" else str(s.number)
    first, last = min([plan.first_day, *marks]), max([plan.last_day, *marks])
    day = first - timedelta(days=first.weekday())
    weeks = []
    while day <= last:
        week = []
        for _ in range(7):
            closed = clinic.closed_reason(day) is not None
            week.append(Cell(day, marks.get(day, ""), closed, plan.first_day <= day <= plan.last_day))
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


def day_label(cell: Cell, w: Words) -> str:
    """'Dec 1' on the first of a month and on marked days, else just the day number."""
    return w.day_month(cell.day) if cell.day.day == 1 or cell.mark else str(cell.day.day)


def cell_text(cell: Cell, w: Words) -> str:
    """What a marked or closed calendar day says under its date ("" for other days)."""
    if cell.mark == "C":
        return w("Consultation")
    if cell.mark:
        return w("Infusion {n}", n=cell.mark)
    return w("closed") if cell.closed else ""


def kind_word(kind: str, w: Words) -> str:
    if kind == CONSULTATION:
        return w("Consultation")
    if kind == BOOSTER:
        return w("Booster")
    return w("Infusion") if kind in INFUSION_KINDS else KIND_LABEL.get(kind, kind).capitalize()


def status_note(status: str, w: Words) -> str:
    """'attended', 'missed', 'cancelled' after a printed session ("" while it is to come)."""
    note = look(status).note
    return {"attended": w("attended"), "missed": w("missed"), "cancelled": w("cancelled")}.get(note, note)


def page(plan: Plan, clinic: Clinic, coordinator: bool) -> Page:
    zone = clinic.zone
    w = words(ENGLISH if coordinator else plan.lang, clinic)
    ins, missing = w.instructions(clinic)
    ordered = sorted(plan.sessions, key=lambda s: s.start)
    rows = []
    for s in ordered:
        ls, le = local(s.start, zone), local(s.end, zone)
        arrive = local(clinic.arrive_by(s.start), zone)
        number = "" if s.kind == "consultation" else w("{n} of {of}", n=s.number, of=s.of)
        note = status_note(s.status, w)
        what = kind_word(s.kind, w) + (f" ({note})" if note else "")
        rows.append(
            Row(number, what, w.weekday(ls.date()), w.short_date(clinic, ls.date()), w.clock(arrive),
                f"{w.clock(ls)}–{w.clock(le)}", s.status)
        )  # fmt: skip
    weeks = calendar_weeks(plan, clinic)
    window = f"{w.long_date(clinic, plan.first_day, True)} – {w.long_date(clinic, plan.last_day, True)}"
    facts = [
        (w("Patient"), plan.patient.name + (f" ({w('ID {id}', id=plan.patient.id)})" if plan.patient.id else "")),
        (w("Plan"), w("{plan_id}, revision {revision}", plan_id=plan.plan_id, revision=plan.revision)),
        (w("Treatment window"), window),
    ]
    contact = " · ".join(x for x in (clinic.address, clinic.phone, clinic.email) if x)
    vitals = []
    if coordinator:
        for s in ordered:
            if s.kind in INFUSION_KINDS and s.active:
                ls = local(s.start, zone)
                when = f"{clinic.date_text(ls.date(), True)}, {ls:%H:%M}"
                vitals.append(f"{KIND_LABEL[s.kind].capitalize()} {s.number} of {s.of} — {when}")
    phone = clinic.phone or w("the clinic number")
    head = (plan.patient.name, plan.patient.id and w("ID {id}", id=plan.patient.id), w("plan {plan_id}",
            plan_id=plan.plan_id))  # fmt: skip
    return Page(
        clinic=clinic.name,
        contact=contact,
        title="Treatment plan — coordinator copy" if coordinator else w("Your treatment plan"),
        facts=facts,
        rows=rows,
        weeks=weeks,
        preparation=[
            ins.fasting,
            ins.escort,
            w("Please arrive {minutes} minutes before each appointment.", minutes=ins.arrive_minutes_early),
        ],
        call_us=w("Call us on {phone} if you notice any of these after a session:", phone=phone),
        vitals=vitals,
        zone_note=w("All times are local clinic time ({zone}).", zone=clinic.timezone),
        emergency=ins.emergency,
        running_head=" · ".join(x for x in head if x),
        words=w,
        side_effects=[w(x) for x in SIDE_EFFECTS],
        missing=missing,
    )


def copies(copy: str) -> list[bool]:
    """Which copies to print, as 'is coordinator' flags, in order."""
    return {"patient": [False], "coordinator": [True], "both": [False, True]}[copy]
