"""The printable plan: what is on the page, once, for both the HTML and the PDF.

Patient copy: clinic header, patient, plan id and window, every session (weekday, date,
arrival, start-end), a calendar of the window, preparation, side effects to report and
whom to call. Coordinator copy adds a vitals log and a checklist per infusion."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import NamedTuple

from ketaplan.core.checks import local
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan

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
KIND = {"consultation": "Consultation", "infusion": "Infusion", "maintenance": "Booster"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Row(NamedTuple):
    number: str
    kind: str
    weekday: str
    day: str
    arrive: str
    time: str
    status: str


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


def page(plan: Plan, clinic: Clinic, coordinator: bool) -> Page:
    zone = clinic.zone
    ins = clinic.instructions
    ordered = sorted(plan.sessions, key=lambda s: s.start)
    rows = []
    for s in ordered:
        ls, le = local(s.start, zone), local(s.end, zone)
        arrive = ls - timedelta(minutes=ins.arrive_minutes_early)
        number = "" if s.kind == "consultation" else f"{s.number} of {s.of}"
        rows.append(
            Row(
                number,
                KIND.get(s.kind, s.kind),
                f"{ls:%a}",
                f"{ls:%d %b %Y}",
                f"{arrive:%H:%M}",
                f"{ls:%H:%M}–{le:%H:%M}",
                "cancelled" if s.status == "cancelled" else "",
            )
        )
    marks: dict[date, str] = {}
    for s in ordered:
        if s.status != "cancelled" and s.kind != "maintenance":
            marks[local(s.start, zone).date()] = "C" if s.kind == "consultation" else str(s.number)
    first, last = min([plan.first_day, *marks]), max([plan.last_day, *marks])
    day = first - timedelta(days=first.weekday())
    weeks = []
    while day <= last:
        week = []
        for _ in range(7):
            week.append(
                Cell(
                    day,
                    marks.get(day, ""),
                    clinic.closed_reason(day) is not None,
                    plan.first_day <= day <= plan.last_day,
                )
            )
            day += timedelta(days=1)
        weeks.append(week)
    facts = [
        ("Patient", plan.patient.name + (f" (ID {plan.patient.id})" if plan.patient.id else "")),
        ("Plan", f"{plan.plan_id}, revision {plan.revision}"),
        ("Treatment window", f"{plan.first_day:%a %d %b %Y} – {plan.last_day:%a %d %b %Y}"),
    ]
    contact = " · ".join(x for x in (clinic.address, clinic.phone, clinic.email) if x)
    vitals = []
    if coordinator:
        for s in ordered:
            if s.kind in ("infusion", "maintenance") and s.status != "cancelled":
                ls = local(s.start, zone)
                vitals.append(f"{KIND[s.kind]} {s.number} of {s.of} — {ls:%a %d %b %Y, %H:%M}")
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
    )


def copies(copy: str) -> list[bool]:
    """Which copies to print, as 'is coordinator' flags, in order."""
    return {"patient": [False], "coordinator": [True], "both": [False, True]}[copy]


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
@page { size: %(paper)s; margin: 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #111; }
h1 { font-size: 16pt; margin: 0; } h2 { font-size: 12.5pt; margin: 14px 0 6px; }
.contact { color: #444; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%%; margin-bottom: 8px; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
table.calendar td { height: 34px; width: 14%%; }
td.closed { background: #ddd; color: #777; } td.outside { color: #aaa; }
td.mark { background: #d7ecd9; font-weight: bold; } td.consult { background: #d6e6f5; font-weight: bold; }
.copy { page-break-after: always; break-after: page; } .copy:last-child { page-break-after: auto; }
.vitals { page-break-inside: avoid; break-inside: avoid; }
.cancelled { text-decoration: line-through; color: #777; }
@media screen { body { max-width: 800px; margin: 20px auto; } }
"""


def plan_html(plan: Plan, clinic: Clinic, *, copy: str = "patient", paper: str | None = None) -> str:
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta '
        f'charset="utf-8">\n<title>{escape(plan.plan_id)} — {escape(clinic.name)}</title>',
        f"<style>{_CSS % {'paper': paper or clinic.paper}}</style>\n</head>\n<body>",
    ]
    for coordinator in copies(copy):
        p = page(plan, clinic, coordinator)
        h = [
            f'<section class="copy">\n<h1>{escape(p.clinic)}</h1>\n<div class="contact">{escape(p.contact)}</div>',
            f"<h2>{escape(p.title)}</h2>\n<table>",
        ]
        h += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in p.facts]
        h.append(
            ""
            "</table>\n<h2>Appointments</h2>\n<table>\n"
            "<tr><th>#</th><th>What</th><th>Day</th><th>Date</th><th>Arrive by</th><th>Time</th></tr>"
        )
        for r in p.rows:
            cls = ' class="cancelled"' if r.status else ""
            h.append(
                f"<tr{cls}><td>{escape(r.number)}</td><td>{escape(r.kind)}</td><td>{escape(r.weekday)}</td>"
                f"<td>{escape(r.day)}</td><td>{escape(r.arrive)}</td><td>{escape(r.time)}</td></tr>"
            )
        h.append(
            f'</table>\n<p>{escape(p.zone_note)}</p>\n<h2>Calendar</h2>\n<table class="calendar">\n<tr>'
            + "".join(f"<th>{d}</th>" for d in WEEKDAYS)
            + "</tr>"
        )
        for week in p.weeks:
            h.append("<tr>" + "".join(_html_cell(c) for c in week) + "</tr>")
        h.append(
            "</table>\n<h2>Before each infusion</h2>\n<ul>"
            + "".join(f"<li>{escape(x)}</li>" for x in p.preparation)
            + "</ul>"
        )
        h.append(
            f"<h2>Side effects to report</h2>\n<p>{escape(p.call_us)}</p>\n<ul>"
            + "".join(f"<li>{escape(x)}</li>" for x in SIDE_EFFECTS)
            + "</ul>"
        )
        h.append(f"<p><strong>{escape(p.clinic)}</strong> — {escape(p.contact)}</p>")
        for heading in p.vitals:
            h.append(
                f'<div class="vitals">\n<h2>{escape(heading)}</h2>\n<table>\n<tr>'
                + "".join(f"<th>{escape(c)}</th>" for c in VITALS_COLUMNS)
                + "</tr>"
            )
            h += [
                "<tr><th>" + escape(row) + "</th>" + "<td>&nbsp;</td>" * (len(VITALS_COLUMNS) - 1) + "</tr>"
                for row in VITALS_ROWS
            ]
            h.append("</table>\n<p>" + " &nbsp; ".join(f"☐ {escape(x)}" for x in CHECKLIST) + "</p>\n</div>")
        h.append("</section>")
        parts += h
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def _html_cell(c: Cell) -> str:
    label = f"{c.day:%b} {c.day.day}" if c.day.day == 1 or c.mark else str(c.day.day)
    if c.mark:
        what = "Consultation" if c.mark == "C" else f"Infusion {c.mark}"
        cls = "consult" if c.mark == "C" else "mark"
        return f'<td class="{cls}">{escape(label)}<br>{escape(what)}</td>'
    if c.closed:
        return f'<td class="closed">{escape(label)}<br>closed</td>'
    return f'<td class="{"" if c.in_window else "outside"}">{escape(label)}</td>'


def plan_pdf(plan: Plan, clinic: Clinic, *, copy: str = "patient", paper: str | None = None) -> bytes:
    from ketaplan.formats.pdf import render_pdf  # reportlab and the font load only for a PDF

    return render_pdf(
        [page(plan, clinic, c) for c in copies(copy)], paper or clinic.paper, f"{plan.plan_id} — {clinic.name}"
    )
