"""Render the sample printable plans shown in the README (needs pdftoppm, poppler-utils).

python tools/render_docs.py"""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import demo_clinic
from ketaplan.core.model import BookedSession, Booking, Patient, Request
from ketaplan.core.planner import find_plan
from ketaplan.formats.html import plan_html
from ketaplan.formats.pdf import plan_pdf
from ketaplan.store.holiday_cache import FROM_PACKAGE

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    clinic = demo_clinic(FROM_PACKAGE)
    req = Request(Patient("Zoë Ørsted-Đặng", "MRN-0042"), date(2026, 12, 1), date(2026, 12, 21), boosters=1)
    plan = find_plan(
        clinic,
        req,
        Availability(clinic, span=(datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))),
        plan_id="KP-SAMPLE01",
        stamp=datetime(2026, 11, 25, tzinfo=UTC),
    )
    assert plan is not None
    DOCS.mkdir(exist_ok=True)
    (DOCS / "sample-plan.html").write_text(plan_html(plan, clinic, copy="both"), encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        for copy, pages in (("patient", [1]), ("coordinator", [1, 2])):
            pdf = Path(tmp) / f"{copy}.pdf"
            pdf.write_bytes(plan_pdf(plan, clinic, copy=copy))
            for n in pages:
                out = DOCS / f"{copy}-copy-page{n}"
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "70", "-f", str(n), "-l", str(n), "-singlefile", str(pdf), str(out)],
                    check=True,
                )
                print(f"wrote {out}.png")
        # The patient copy in Spanish (README, "Languages")
        pdf = Path(tmp) / "es.pdf"
        pdf.write_bytes(plan_pdf(plan._replace(lang="es"), clinic, copy="patient"))
        out = DOCS / "patient-copy-es-page1"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)], check=True
        )
        print(f"wrote {out}.png")
        # The day sheet of the day infusion 1 falls on, with a second patient beside her.
        from ketaplan.formats.day_sheet import day_pdf, day_sheet

        other = find_plan(
            clinic,
            req._replace(patient=Patient("Bea Jones", "MRN-0043"), boosters=0),
            Availability(
                clinic,
                [Booking(s.start, s.end, s.resource, s.kind, plan.plan_id) for s in plan.sessions],
                span=(datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)),
            ),
            plan_id="KP-SAMPLE02",
        )
        assert other is not None
        day = plan.infusions[0].start.date()
        rows = [
            BookedSession(p.plan_id, p.patient, s._replace(status="booked"))
            for p in (plan, other)
            for s in p.sessions
            if s.start.astimezone(clinic.zone).date() == day
        ]
        pdf = Path(tmp) / "day.pdf"
        pdf.write_bytes(day_pdf([day_sheet(clinic, day, rows)], clinic.paper))
        out = DOCS / "day-sheet"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)], check=True
        )
        print(f"wrote {out}.png")


if __name__ == "__main__":
    main()
