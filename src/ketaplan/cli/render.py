"""Plans as people read them in a terminal: a table, a calendar picture, the checks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ketaplan.core.checks import CheckResult, local
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan

KIND = {"consultation": "consultation", "infusion": "infusion", "maintenance": "booster"}


def plan_table(plan: Plan, clinic: Clinic) -> Table:
    title = f"{escape(plan.plan_id)} · {escape(plan.patient.name)}" + (
        f" ({escape(plan.patient.id)})" if plan.patient.id else ""
    )
    t = Table(
        title=title,
        title_justify="left",
        caption=f"times are local to the clinic ({clinic.timezone})",
        caption_justify="left",
    )
    for col in ("#", "kind", "day", "date", "time", "chair / room", "status"):
        t.add_column(col)
    for s in sorted(plan.sessions, key=lambda s: s.start):
        ls, le = local(s.start, clinic.zone), local(s.end, clinic.zone)
        number = "" if s.kind == "consultation" else f"{s.number}/{s.of}"
        style = "dim strike" if s.status == "cancelled" else None
        t.add_row(
            number,
            KIND.get(s.kind, s.kind),
            f"{ls:%a}",
            ls.date().isoformat(),
            f"{ls:%H:%M}-{le:%H:%M}",
            escape(s.resource or ""),
            s.status,
            style=style,
        )
    return t


def calendar(plan: Plan, clinic: Clinic) -> Table:
    """Weeks x weekdays over the window (and the consultation): infusion days marked."""
    zone = clinic.zone
    marks: dict[date, str] = {}
    for s in plan.sessions:
        if s.status == "cancelled" or s.kind == "maintenance":
            continue
        marks[local(s.start, zone).date()] = "C" if s.kind == "consultation" else f"#{s.number}"
    first = min([plan.first_day, *marks])
    last = max([plan.last_day, *marks])
    t = Table(title="Calendar (#n infusion n, C consultation, grey = closed)", title_justify="left", show_lines=False)
    for name in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        t.add_column(name, justify="center", min_width=7)
    day = first - timedelta(days=first.weekday())
    while day <= last:
        row = []
        for _ in range(7):
            row.append(_cell(day, marks.get(day), clinic, plan.first_day <= day <= plan.last_day))
            day += timedelta(days=1)
        t.add_row(*row)
    return t


def _cell(day: date, mark: str | None, clinic: Clinic, in_window: bool) -> Text:
    label = f"{day:%b} {day.day}" if day.day == 1 or mark else f"{day.day}"
    if mark:
        return Text(f"{label}\n{mark}", style="bold green" if mark != "C" else "bold cyan")
    if clinic.closed_reason(day):
        return Text(f"{label}\n-", style="grey42")
    return Text(label, style="" if in_window else "dim")


def check_lines(results: Iterable[CheckResult]) -> list[Text]:
    lines = []
    for r in results:
        mark, style = ("✓", "green") if r.ok else ("✗", "bold red")
        line = Text(f"{mark} ", style=style)
        line.append(f"{r.rule:<13}", style="bold")
        line.append(r.detail)
        lines.append(line)
    return lines
