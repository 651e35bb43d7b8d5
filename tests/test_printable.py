"""Printable plans: read the PDF back as text; the HTML holds the same facts, escaped."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader

from helpers import booked_rows, pdf_text
from ics_fixtures import case
from ketaplan.core.times import local
from ketaplan.formats.html import plan_html
from ketaplan.formats.pdf import plan_pdf


def facts(plan, clinic) -> list[str]:
    out = [clinic.name, plan.plan_id]
    for s in plan.sessions:
        ls, le = local(s.start, clinic.zone), local(s.end, clinic.zone)
        out += [clinic.date_text(ls.date()), f"{ls:%H:%M}–{le:%H:%M}"]
    return out


@pytest.mark.parametrize("copy, pages", [("patient", 1), ("coordinator", 2), ("both", 3)])
def test_pdf_holds_every_session_and_the_unicode_name(copy: str, pages: int) -> None:
    plan, clinic, _ = case("kolkata_details")
    count, text = pdf_text(plan_pdf(plan, clinic, copy=copy))
    assert count == pages
    for fact in facts(plan, clinic):
        assert fact in text, fact
    assert "Zoë Ørsted-Đặng" in text
    assert "nausea" in text and "blurred" in text and "No solid food" in text
    if copy != "patient":
        assert "Blood pressure" in text and "SpO2" in text and "Initials" in text and "☐" in text
    else:
        assert "Blood pressure" not in text


def test_pdf_is_byte_identical_for_the_same_plan() -> None:
    plan, clinic, _ = case("chicago")
    assert plan_pdf(plan, clinic, copy="both") == plan_pdf(plan, clinic, copy="both")


def test_paper_size_from_clinic_or_option() -> None:
    plan, clinic, _ = case("chicago")
    a4 = PdfReader(io.BytesIO(plan_pdf(plan, clinic._replace(paper="A4")))).pages[0].mediabox
    letter = PdfReader(io.BytesIO(plan_pdf(plan, clinic, paper="Letter"))).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)


def test_boosters_are_listed() -> None:
    plan, clinic, _ = case("new_york_spring")
    _, text = pdf_text(plan_pdf(plan, clinic))
    assert "Booster" in text and len(plan.boosters) == 1


def test_html_holds_the_same_facts_and_no_live_markup() -> None:
    plan, clinic, _ = case("kolkata_details")
    evil = plan._replace(patient=plan.patient._replace(name="<b>x</b>"))
    html = plan_html(evil, clinic._replace(name="Clinic <script>alert(1)</script>"), copy="both")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<script>" not in html
    for fact in facts(plan, clinic)[1:]:
        assert fact in html
    assert "@page" in html and "page-break-after" in html and "Blood pressure" in html


def test_schedule_writes_pdf_and_html(cli, tmp_path: Path) -> None:
    pdf, html = tmp_path / "p.pdf", tmp_path / "p.html"
    r = cli(
        "schedule",
        "--patient",
        "Zoë Ørsted-Đặng",
        "--start",
        "2026-12-01",
        "--pdf",
        pdf,
        "--html",
        html,
        "--copy",
        "both",
    )
    assert r.exit_code == 0, r.stderr
    count, text = pdf_text(pdf.read_bytes())
    assert count == 3 and "Zoë Ørsted-Đặng" in text
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600 and stat.S_IMODE(html.stat().st_mode) == 0o600
    assert "Zoë Ørsted-Đặng" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["missing", "readonly", "exists"])
def test_unwritable_targets_are_exit_2_and_book_nothing(cli, tmp_path: Path, ledger_path: Path, where: str) -> None:
    if where == "missing":
        target = tmp_path / "nope" / "p.pdf"
    elif where == "readonly":
        if os.geteuid() == 0:
            target = Path("/proc/ketaplan-test.pdf")  # root may write anywhere but /proc
        else:
            folder = tmp_path / "ro"
            folder.mkdir()
            folder.chmod(0o500)
            target = folder / "p.pdf"
    else:
        target = tmp_path / "p.pdf"
        target.write_bytes(b"keep me")
    r = cli("schedule", "--patient", "Jane", "--start", "2026-12-01", "--pdf", target)
    assert r.exit_code == 2 and "ketaplan: error: --pdf:" in r.stderr, r.stderr
    assert booked_rows(ledger_path) == 0
    if where == "exists":
        assert target.read_bytes() == b"keep me"


def test_reportlab_loads_only_for_a_pdf() -> None:
    import subprocess
    import sys

    code = "import sys; import ketaplan.formats.html, ketaplan.formats.page; print('reportlab' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_every_coordinator_page_carries_the_patient_plan_and_page_count() -> None:
    plan, clinic, _ = case("kolkata_details")
    data = plan_pdf(plan, clinic, copy="coordinator")
    reader = PdfReader(io.BytesIO(data))
    n = len(reader.pages)
    assert n >= 2
    for i, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert plan.patient.name in text and plan.plan_id in text and f"page {i} of {n}" in text, (i, text[:200])


def test_emergency_line_and_date_format_follow_the_clinic() -> None:
    plan, clinic, _ = case("chicago")
    base = clinic._replace(paper="A4", date_format="")
    _, text = pdf_text(plan_pdf(plan, base))
    assert clinic.instructions.emergency in text
    day = plan.first_day
    assert f"{day.day} {day:%b %Y}" in text  # A4: 4 Dec 2026
    letter = base._replace(paper="Letter", instructions=base.instructions._replace(emergency="Call 112 now."))
    _, text = pdf_text(plan_pdf(plan, letter))
    assert f"{day:%b} {day.day}, {day.year}" in text and "Call 112 now." in text  # Letter: Dec 4, 2026
    html = plan_html(plan, letter._replace(date_format="2026-12-04"))
    assert day.isoformat() in html and "Call 112 now." in html


def test_a_long_name_is_shortened_in_the_page_header_never_the_ids() -> None:
    """A ~100-character patient name once printed over the patient id and ran off the page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from ketaplan.core.model import Patient
    from ketaplan.formats.pdf import FONT, fitted

    plan, clinic, _ = case("chicago")
    long = "Maria de los Ángeles " + "Gonzalez-Villanueva " * 4 + "Ørsted"
    plan = plan._replace(patient=Patient(long, "MRN-1001"))
    _, text = pdf_text(plan_pdf(plan, clinic, copy="both"))
    heads = [line for line in text.splitlines() if f"plan {plan.plan_id}" in line and "ID MRN-1001" in line]
    assert heads and all("…" in h for h in heads), heads
    shortened = fitted(f"{long} · ID MRN-1001 · plan {plan.plan_id}", 400)
    assert stringWidth(shortened, FONT, 8) <= 400 and shortened.endswith(f"ID MRN-1001 · plan {plan.plan_id}")
