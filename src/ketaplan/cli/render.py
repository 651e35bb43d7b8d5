"""Plans as people read them in a terminal: a table, a calendar picture, the checks."""

from __future__ import annotations

from collections.abc import Iterable

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ketaplan.core.checks import CheckResult
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import KIND_LABEL, Plan
from ketaplan.core.status import look
from ketaplan.core.times import local
from ketaplan.formats.page import Cell


def listing(title: str, caption: str | None = None) -> Table:
    """A table that fits 80 columns: a rule under the heading, no vertical borders."""
    from rich import box

    return Table(
        title=title, title_justify="left", caption=caption, caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )


def where(resource: str | None) -> str:
    """A chair or room as a narrow column shows it ("Consult room 1" -> "Room 1")."""
    return (resource or "").replace("Consult room", "Room")


def plan_table(plan: Plan, clinic: Clinic) -> Table:
    title = f"{escape(plan.plan_id)} · {escape(plan.patient.name)}" + (
        f" ({escape(plan.patient.id)})" if plan.patient.id else ""
    )
    t = listing(title, f"times are local to the clinic ({clinic.timezone})")
    for col in ("#", "kind", "day", "date", "time", "where", "status"):
        t.add_column(col, no_wrap=True)
    for s in sorted(plan.sessions, key=lambda s: s.start):
        ls, le = local(s.start, clinic.zone), local(s.end, clinic.zone)
        number = "" if s.kind == "consultation" else f"{s.number}/{s.of}"
        style = "dim strike" if look(s.status).struck else None
        t.add_row(
            number,
            KIND_LABEL.get(s.kind, s.kind),
            f"{ls:%a}",
            ls.date().isoformat(),
            f"{ls:%H:%M}-{le:%H:%M}",
            escape(where(s.resource)),
            look(s.status).word,
            style=style,
        )
    return t


def calendar(plan: Plan, clinic: Clinic) -> Table:
    """Weeks x weekdays over the window (and the consultation): infusion days marked."""
    from ketaplan.formats.page import WEEKDAYS, calendar_weeks

    t = Table(title="Calendar (#n infusion n, C consultation, grey = closed)", title_justify="left", show_lines=False)
    for name in WEEKDAYS:
        t.add_column(name, justify="center", min_width=7)
    for week in calendar_weeks(plan, clinic):
        t.add_row(*(_cell(c) for c in week))
    return t


def _cell(c: Cell) -> Text:
    from ketaplan.formats.i18n import ENGLISH, words
    from ketaplan.formats.page import day_label

    label = day_label(c, words(ENGLISH))
    if c.mark:
        mark = c.mark if c.mark == "C" else f"#{c.mark}"
        return Text(f"{label}\n{mark}", style="bold green" if mark != "C" else "bold cyan")
    if c.closed:
        return Text(f"{label}\n-", style="grey42")
    return Text(label, style="" if c.in_window else "dim")


def check_lines(results: Iterable[CheckResult]) -> list[Text]:
    lines = []
    for r in results:
        mark, style = ("✓", "green") if r.ok else ("✗", "bold red")
        line = Text(f"{mark} ", style=style)
        line.append(f"{r.rule:<13}", style="bold")
        line.append(r.detail)
        lines.append(line)
    return lines
