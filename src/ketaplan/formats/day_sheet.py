"""The front desk's day sheet: who sits in which chair (or consult room) at what time on one
day, with each session's status, as a value and as HTML or PDF for the printer.

The sheet holds patient names: it is written like every other patient file (0600, atomic)
and named by the day, never by a patient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any, NamedTuple

from ketaplan.core.clinic import Clinic
from ketaplan.core.closures import describe, outages_on
from ketaplan.core.model import KIND_LABEL, BookedSession
from ketaplan.core.status import look


class DayRow(NamedTuple):
    start: datetime  # local
    end: datetime
    resource: str  # chair or consult room
    patient: str
    patient_id: str | None
    what: str  # "infusion 3 of 6"
    kind: str
    number: int
    of: int
    plan_id: str
    status: str  # booked | attended | no_show | cancelled
    phone: str | None = None


class DaySheet(NamedTuple):
    clinic: str
    timezone: str
    day: date
    rows: list[DayRow]
    day_text: str  # the day as the clinic writes dates, e.g. "Tue Dec 1, 2026"
    closed: str | None = None  # why the clinic is shut all day (closure, holiday, weekday)
    notes: tuple[str, ...] = ()  # closed hours and chairs out of service that day

    @property
    def title(self) -> str:
        return f"Day sheet — {self.day_text}"


def day_sheet(clinic: Clinic, day: date, booked: list[BookedSession]) -> DaySheet:
    """The day's booked sessions by time, then chair or room; cancelled ones left out.
    `clinic` as it stands (the ledger's closures in): a closed day says so, with why."""
    rows = []
    for b in booked:
        s = b.session
        if s.status == "cancelled":
            continue
        label = KIND_LABEL.get(s.kind, s.kind)
        what = label if s.kind == "consultation" else f"{label} {s.number} of {s.of}"
        start, end = s.start.astimezone(clinic.zone), s.end.astimezone(clinic.zone)
        rows.append(
            DayRow(start, end, s.resource or "-", b.patient.name, b.patient.id, what, s.kind, s.number, s.of,
                   b.plan_id, s.status, b.phone)
        )  # fmt: skip
    rows.sort(key=lambda r: (r.start, _resource_order(r.resource)))
    notes = tuple(describe(c) for c in outages_on(clinic, day))
    return DaySheet(
        clinic.name, clinic.timezone, day, rows, clinic.date_text(day, weekday=True), clinic.closed_reason(day), notes
    )


def _resource_order(name: str) -> tuple[int, int, str]:
    """Chairs before rooms, Chair 2 before Chair 10."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (1 if name.startswith("Consult room") else 0, int(digits) if digits else 0, name)


_CSS = """
@page { size: %(paper)s; margin: 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; }
table { border-collapse: collapse; width: 100%%; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; }
th { background: #eee; } .missed { color: #777; text-decoration: line-through; }
"""
COLUMNS = ("Time", "Where", "Patient", "Session", "Plan", "Status", "Arrived")


def cells(r: DayRow) -> list[str]:
    who = r.patient + (f" ({r.patient_id})" if r.patient_id else "") + (f" · {r.phone}" if r.phone else "")
    return [f"{r.start:%H:%M}–{r.end:%H:%M}", r.resource, who, r.what, r.plan_id, look(r.status).word, "☐"]


def warnings(sheet: DaySheet) -> list[str]:
    """What the desk must see first: the clinic closed that day, or hours and chairs out."""
    return ([f"Closed: {sheet.closed}"] if sheet.closed else []) + list(sheet.notes)


def day_html(sheets: Sequence[DaySheet], paper: str) -> str:
    """One day's sheet, or several days', each on a page of its own when printed."""
    title = sheets[0].title if len(sheets) == 1 else f"Day sheets — {sheets[0].day_text} to {sheets[-1].day_text}"
    head = f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>'
    parts = [head, f"<style>{_CSS % {'paper': paper}}</style>\n</head>\n<body>"]
    for i, sheet in enumerate(sheets):
        brk = ' style="break-before: page"' if i else ""
        parts.append(f"<section{brk}>\n<h1>{escape(sheet.clinic)}</h1>\n<h2>{escape(sheet.title)}</h2>")
        parts += [f"<p><strong>{escape(line)}</strong></p>" for line in warnings(sheet)]
        if not sheet.rows:
            parts.append("<p>No sessions booked this day.</p>")
        else:
            parts.append("<table>\n<tr>" + "".join(f"<th>{c}</th>" for c in COLUMNS) + "</tr>")
            for r in sheet.rows:
                cls = ' class="missed"' if look(r.status).struck else ""
                parts.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in cells(r)) + "</tr>")
            parts.append("</table>")
        parts.append(f"<p>Times are local clinic time ({escape(sheet.timezone)}).</p>\n</section>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def day_pdf(sheets: Sequence[DaySheet], paper: str) -> bytes:
    """One day's sheet, or several days', a page (or more) each."""
    from xml.sax.saxutils import escape as xml

    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, Table, TableStyle

    from ketaplan.formats.pdf import GRID, HEAD, document

    def one(sheet: DaySheet, st: dict[str, Any], width: float) -> list[Any]:
        out: list[Any] = [Paragraph(xml(sheet.clinic), st["h1"]), Paragraph(xml(sheet.title), st["h2"])]
        out += [Paragraph(f"<b>{xml(line)}</b>", st["body"]) for line in warnings(sheet)]
        if not sheet.rows:
            return [*out, Paragraph("No sessions booked this day.", st["body"])]
        # The plan id as plain text, which a table cell never wraps (a Paragraph broke it in two).
        data = [list(COLUMNS)] + [
            [c if i == 4 else Paragraph(xml(c), st["cell"]) for i, c in enumerate(cells(r))] for r in sheet.rows
        ]
        fixed = [27 * mm, 22 * mm, 0, 28 * mm, 29 * mm, 17 * mm, 14 * mm]
        fixed[2] = width - sum(fixed)
        table = Table(data, colWidths=fixed, repeatRows=1)
        table.setStyle(TableStyle(GRID + HEAD))
        note = Paragraph(xml(f"Times are local clinic time ({sheet.timezone})."), st["small"])
        return [*out, table, note]

    def story(st: dict[str, Any], width: float) -> list[Any]:
        out: list[Any] = []
        for i, sheet in enumerate(sheets):
            out += ([PageBreak()] if i else []) + one(sheet, st, width)
        return out

    first, last = sheets[0], sheets[-1]
    title = first.title if len(sheets) == 1 else f"Day sheets — {first.day_text} to {last.day_text}"
    return document(story, paper, f"{title} — {first.clinic}", head=f"{first.clinic} · {title}")
