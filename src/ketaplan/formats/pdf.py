"""The printable plan as PDF (reportlab Platypus) with the bundled DejaVu Sans, so every
name and symbol renders. Invariant mode: the same plan gives byte-identical output."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan
from ketaplan.formats.page import CHECKLIST, VITALS_COLUMNS, VITALS_ROWS, Page, cell_text, copies, day_label, page

DATA = Path(__file__).parent.parent / "data"
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, str(DATA / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(DATA / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
        _registered = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5)
    return {
        "body": base,
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=16, leading=20),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=10.5, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=11),
        "strong": ParagraphStyle("strong", parent=base, fontName=BOLD, spaceBefore=3),
    }


GRID: list[tuple[object, ...]] = [
    ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTSIZE", (0, 0), (-1, -1), 9),
]
HEAD: list[tuple[object, ...]] = [
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
    ("FONTNAME", (0, 0), (-1, 0), BOLD),
]


def _story(p: Page, st: dict[str, ParagraphStyle], width: float) -> list:
    def para(text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text), st[style])

    story: list = [para(p.clinic, "h1"), para(p.contact, "small"), para(p.title, "h2")]
    facts = Table([[para(k, "cell"), para(v, "cell")] for k, v in p.facts], colWidths=[35 * mm, width - 35 * mm])
    facts.setStyle(TableStyle(GRID + [("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee"))]))
    w = p.words
    story += [facts, para(w("Appointments"), "h2")]
    rows = [["#", w("What"), w("Day"), w("Date"), w("Arrive by"), w("Time")]]
    rows += [[r.number, r.what, r.weekday, r.day, r.arrive, r.time] for r in p.rows]
    table = Table(rows, colWidths=[18 * mm, 42 * mm, 14 * mm, 32 * mm, 22 * mm, width - 128 * mm], repeatRows=1)
    table.setStyle(TableStyle(GRID + HEAD))
    story += [table, para(p.zone_note, "small"), para(w("Calendar"), "h2")]
    cal = [list(w.weekdays())]
    styles = list(GRID + HEAD)
    for y, week in enumerate(p.weeks, start=1):
        line = []
        for x, c in enumerate(week):
            label = day_label(c, w)
            if c.mark:
                line.append(f"{label}\n{cell_text(c, w)}")
                styles += [
                    ("BACKGROUND", (x, y), (x, y), colors.HexColor("#d6e6f5" if c.mark == "C" else "#d7ecd9")),
                    ("FONTNAME", (x, y), (x, y), BOLD),
                ]
            elif c.closed:
                line.append(f"{label}\n{cell_text(c, w)}")
                styles += [
                    ("BACKGROUND", (x, y), (x, y), colors.HexColor("#dddddd")),
                    ("TEXTCOLOR", (x, y), (x, y), colors.HexColor("#777777")),
                ]
            else:
                line.append(label)
                if not c.in_window:
                    styles.append(("TEXTCOLOR", (x, y), (x, y), colors.HexColor("#aaaaaa")))
        cal.append(line)
    calendar = Table(cal, colWidths=[width / 7] * 7, rowHeights=[None] + [26] * len(p.weeks))
    calendar.setStyle(TableStyle(styles))
    story += [calendar, para(w("Before each infusion"), "h2")]
    story += [para(f"• {x}") for x in p.preparation]
    story += [para(w("Side effects to report"), "h2"), para(p.call_us)]
    story += [para(f"• {x}") for x in p.side_effects]
    story += [para(p.emergency, "strong")]
    story += [Spacer(1, 4), para(f"{p.clinic} — {p.contact}", "small")]
    for i, heading in enumerate(p.vitals):
        if i == 0:
            story.append(PageBreak())
        vit = Table(
            [list(VITALS_COLUMNS)] + [[row] + [""] * (len(VITALS_COLUMNS) - 1) for row in VITALS_ROWS],
            colWidths=[18 * mm, 32 * mm, 24 * mm, 18 * mm, width - 120 * mm, 28 * mm],
            rowHeights=[None, 18, 18, 18],
        )
        vit.setStyle(TableStyle(GRID + HEAD + [("FONTNAME", (0, 1), (0, -1), BOLD)]))
        checks = para("    ".join(f"☐ {x}" for x in CHECKLIST))
        story.append(KeepTogether([para(heading, "h2"), vit, Spacer(1, 3), checks]))
    return story


def render_pdf(pages: list[Page], paper: str, title: str) -> bytes:
    def story(st: dict[str, ParagraphStyle], width: float) -> list:
        out: list = []
        for i, p in enumerate(pages):
            if i:
                out.append(PageBreak())
            out += _story(p, st, width)
        return out

    if not pages:
        return document(story, paper, title)
    w = pages[0].words  # the first copy's language (a patient copy's, when both are printed)
    return document(story, paper, title, head=pages[0].running_head, numbering=w("page {n} of {of}"))


def fitted(head: str, room: float) -> str:
    """The running head within `room` points: a long patient name (its first part) is
    shortened with an ellipsis, so the id and plan id stay whole and nothing runs off."""
    name, sep, rest = head.partition(" · ")
    while stringWidth(head, FONT, 8) > room and name:
        name = name[:-1]
        head = f"{name.rstrip()}…{sep}{rest}"
    return head


def _numbered(head: str | None, numbering: str) -> type:
    """A canvas that writes `head` and "page n of m" at the top of every page: the page
    count is known only at the end, so each page is kept and drawn when the file is saved."""
    from reportlab.pdfgen.canvas import Canvas

    class Numbered(Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, object]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for n, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                width, height = self._pagesize
                self.setFont(FONT, 8)
                self.setFillColor(colors.HexColor("#444444"))
                number = numbering.format(n=n, of=len(self._pages))
                if head:
                    room = width - 30 * mm - stringWidth(number, FONT, 8) - 6 * mm
                    self.drawString(15 * mm, height - 9 * mm, fitted(head, room))
                self.drawRightString(width - 15 * mm, height - 9 * mm, number)
                super().showPage()
            super().save()

    return Numbered


def document(
    story: Callable[[dict[str, ParagraphStyle], float], list],
    paper: str,
    title: str,
    head: str | None = None,
    numbering: str = "page {n} of {of}",
) -> bytes:
    """A PDF of the flowables `story(styles, frame width)` makes: our font, margins and
    invariant mode (the same content gives the same bytes); every page carries `head` and
    "page n of m", so a loose page is matched to its plan."""
    _fonts()
    size = A4 if paper == "A4" else LETTER
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="ketaplan",
        invariant=1,
    )
    doc.build(story(_styles(), doc.width), canvasmaker=_numbered(head, numbering))
    return out.getvalue()


def plan_pdf(plan: Plan, clinic: Clinic, *, copy: str = "patient", paper: str | None = None) -> bytes:
    return render_pdf(
        [page(plan, clinic, c) for c in copies(copy)], paper or clinic.paper, f"{plan.plan_id} — {clinic.name}"
    )
