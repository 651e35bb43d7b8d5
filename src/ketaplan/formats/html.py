"""The printable plan as HTML with print CSS (the page model is formats.page)."""

from __future__ import annotations

from html import escape

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan
from ketaplan.core.status import look
from ketaplan.formats.i18n import Words
from ketaplan.formats.page import CHECKLIST, VITALS_COLUMNS, VITALS_ROWS, Cell, cell_text, copies, day_label, page

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
    pages = [page(plan, clinic, coordinator) for coordinator in copies(copy)]
    parts = [
        f'<!DOCTYPE html>\n<html lang="{pages[0].words.lang}">\n<head>\n<meta '
        f'charset="utf-8">\n<title>{escape(plan.plan_id)} — {escape(clinic.name)}</title>',
        f"<style>{_CSS % {'paper': paper or clinic.paper}}</style>\n</head>\n<body>",
    ]
    for p in pages:
        w = p.words
        h = [
            f'<section class="copy">\n<h1>{escape(p.clinic)}</h1>\n<div class="contact">{escape(p.contact)}</div>',
            f"<h2>{escape(p.title)}</h2>\n<table>",
        ]
        h += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in p.facts]
        columns = ("#", w("What"), w("Day"), w("Date"), w("Arrive by"), w("Time"))
        h.append(
            f"</table>\n<h2>{escape(w('Appointments'))}</h2>\n<table>\n<tr>"
            + "".join(f"<th>{escape(c)}</th>" for c in columns)
            + "</tr>"
        )
        for r in p.rows:
            cls = ' class="cancelled"' if look(r.status).struck else ""
            h.append(
                f"<tr{cls}><td>{escape(r.number)}</td><td>{escape(r.what)}</td><td>{escape(r.weekday)}</td>"
                f"<td>{escape(r.day)}</td><td>{escape(r.arrive)}</td><td>{escape(r.time)}</td></tr>"
            )
        h.append(
            f'</table>\n<p>{escape(p.zone_note)}</p>\n<h2>{escape(w("Calendar"))}</h2>\n<table class="calendar">\n<tr>'
            + "".join(f"<th>{escape(d)}</th>" for d in w.weekdays())
            + "</tr>"
        )
        for week in p.weeks:
            h.append("<tr>" + "".join(_html_cell(c, w) for c in week) + "</tr>")
        h.append(
            f"</table>\n<h2>{escape(w('Before each infusion'))}</h2>\n<ul>"
            + "".join(f"<li>{escape(x)}</li>" for x in p.preparation)
            + "</ul>"
        )
        h.append(
            f"<h2>{escape(w('Side effects to report'))}</h2>\n<p>{escape(p.call_us)}</p>\n<ul>"
            + "".join(f"<li>{escape(x)}</li>" for x in p.side_effects)
            + f"</ul>\n<p><strong>{escape(p.emergency)}</strong></p>"
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


def _html_cell(c: Cell, w: Words) -> str:
    label, what = day_label(c, w), cell_text(c, w)
    if c.mark:
        cls = "consult" if c.mark == "C" else "mark"
        return f'<td class="{cls}">{escape(label)}<br>{escape(what)}</td>'
    if c.closed:
        return f'<td class="closed">{escape(label)}<br>{escape(what)}</td>'
    return f'<td class="{"" if c.in_window else "outside"}">{escape(label)}</td>'
