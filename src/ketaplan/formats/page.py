"""The printable plan's page model: what is on the page, once, for both the HTML (formats.html)
and the PDF (formats.pdf) renderers, which only lay it out.

Patient copy: clinic header, patient, plan id and window, every session (weekday, date,
arrival, start-end), a calendar of the window, preparation, side effects to report and
whom to call. Coordinator copy adds a vitals log and a checklist per infusion."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, INFUSION_KINDS, KIND_LABEL, Plan
from ketaplan.core.times import local

SIDE_EFFECTS = (
    "nausea or vomiting",
    "dizziness or feeling faint",
    "blurred or double vision",
    "raised blood pressure (headache, chest pain, pounding heartbeat)",
    "confusion, distressing thoughts or hallucinations that last after you leave",
)
VITALS_COLUMNS = ("", "Blood pressure", "Heart rate", "SpO2", "Notes", "Initials")
VITALS_ROWS = ("Before", "During", "After")
CHECKLIST = ("Consent confirmed", "Fasting confirmed", "Escort confirmed", "Discharged")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Row(NamedTuple):
    number: str
    kind: str
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


def day_label(cell: Cell) -> str:
    """'Dec 1' on the first of a month and on marked days, else just the day number."""
    return f"{cell.day:%b} {cell.day.day}" if cell.day.day == 1 or cell.mark else str(cell.day.day)


def page(plan: Plan, clinic: Clinic, coordinator: bool) -> Page:
    zone = clinic.zone
    ins = clinic.instructions
    ordered = sorted(plan.sessions, key=lambda s: s.start)
    rows = []
    for s in ordered:
        ls, le = local(s.start, zone), local(s.end, zone)
        arrive = local(clinic.arrive_by(s.start), zone)
        number = "" if s.kind == "consultation" else f"{s.number} of {s.of}"
        rows.append(
            Row(
                number,
                KIND_LABEL.get(s.kind, s.kind).capitalize(),
                f"{ls:%a}",
                clinic.date_text(ls.date()),
                f"{arrive:%H:%M}",
                f"{ls:%H:%M}–{le:%H:%M}",
                s.status,
            )
        )
    weeks = calendar_weeks(plan, clinic)
    facts = [
        ("Patient", plan.patient.name + (f" (ID {plan.patient.id})" if plan.patient.id else "")),
        ("Plan", f"{plan.plan_id}, revision {plan.revision}"),
        ("Treatment window", f"{clinic.date_text(plan.first_day, True)} – {clinic.date_text(plan.last_day, True)}"),
    ]
    contact = " · ".join(x for x in (clinic.address, clinic.phone, clinic.email) if x)
    vitals = []
    if coordinator:
        for s in ordered:
            if s.kind in INFUSION_KINDS and s.active:
                ls = local(s.start, zone)
                when = f"{clinic.date_text(ls.date(), True)}, {ls:%H:%M}"
                vitals.append(f"{KIND_LABEL[s.kind].capitalize()} {s.number} of {s.of} — {when}")
    return Page(
        clinic=clinic.name,
        contact=contact,
        title="Treatment plan — coordinator copy" if coordinator else "Your treatment plan",
        facts=facts,
        rows=rows,
        weeks=weeks,
        preparation=[
            ins.fasting,
            ins.escort,
            f"Please arrive {ins.arrive_minutes_early} minutes before each appointment.",
        ],
        call_us=f"Call us on {clinic.phone or 'the clinic number'} if you notice any of these after a session:",
        vitals=vitals,
        zone_note=f"All times are local clinic time ({clinic.timezone}).",
        emergency=ins.emergency,
        running_head=" · ".join(
            x for x in (plan.patient.name, plan.patient.id and f"ID {plan.patient.id}", f"plan {plan.plan_id}") if x
        ),
    )


def copies(copy: str) -> list[bool]:
    """Which copies to print, as 'is coordinator' flags, in order."""
    return {"patient": [False], "coordinator": [True], "both": [False, True]}[copy]
