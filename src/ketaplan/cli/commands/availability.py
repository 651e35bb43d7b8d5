"""`ketaplan availability`: free chair capacity as a picture, days x hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.dates import parse_near
from ketaplan.core.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()
SHADES = " ░▒▓█"  # share of chairs free in that hour: (none) a quarter .. all


@app.command("availability")
def availability(
    from_: str | None = typer.Option(None, "--from", help="First day to show (default: today)."),
    days: int = typer.Option(14, "--days", help="How many days to show (1-92)."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Capacity:
    """Show free chairs per day and hour, closures marked, and how many infusions could start."""
    from ketaplan.app.views import as_it_stands
    from ketaplan.core.capacity import capacity

    if not 1 <= days <= 92:
        raise InputError("must be from 1 to 92", field="--days")
    the_clinic = common.load_clinic(clinic)
    first = (
        parse_near(from_, today=common.today(the_clinic.zone), field="--from")
        if from_
        else common.today(the_clinic.zone)
    )
    start = datetime(first.year, first.month, first.day, tzinfo=the_clinic.zone)
    span = (start - timedelta(days=1), start + timedelta(days=days + 1))
    the_ledger = common.open_ledger(ledger)
    bookings = []
    standing = as_it_stands(None, the_clinic)
    if the_ledger.exists():
        with the_ledger.read() as tx:
            bookings = tx.bookings(the_clinic.name, *span, the_clinic.zone)
            standing = as_it_stands(tx, the_clinic)  # closures recorded with `close`
    report = capacity(standing, bookings, first, days, span)
    return Capacity(report, len(the_clinic.chairs))


@result
class Capacity(NamedTuple):
    report: dict[str, Any]
    chairs: int
    command: str = "availability"

    def data(self) -> dict[str, Any]:
        return self.report

    def show(self, console: Console) -> None:
        _picture(self.report, self.chairs, console)


LEGEND = (
    "chairs free in the hour: █ all · ▓ three quarters · ▒ half · ░ a quarter or fewer · 0 none\n"
    "blank: outside opening hours · × closed all day · starts: infusions that could still start"
)


def _picture(report: dict[str, Any], chairs: int, console: Console) -> None:
    """Days down, hours across, a character per hour: fits 80 columns for a clinic open
    up to 20 hours a day. Why a day is closed is said under the table, not in a column."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    hours = report["hours"]
    t = Table(
        title=f"Free chairs per hour ({chairs} chairs)", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0)
    )
    t.add_column("day", no_wrap=True, min_width=11)
    for h in hours:
        t.add_column(h[:2], justify="center", no_wrap=True, min_width=3)
    t.add_column("starts", justify="right", no_wrap=True, min_width=7)
    closed_days = []
    for d in report["days"]:
        label = datetime.fromisoformat(d["date"]).strftime("%a %d %b")
        if d["closed"]:
            closed_days.append(f"× {label}: {escape(d['closed'])}")
            t.add_row(label, *["[grey42]×[/]"] * len(hours), "0")
            continue
        cells = []
        for h in hours:
            free = d["free"].get(h)
            if free is None:
                cells.append("")
            else:
                shade = SHADES[max(1, min(len(SHADES) - 1, round(free / chairs * (len(SHADES) - 1))))] if chairs else ""
                cells.append(f"[green]{shade}[/]" if free else "[red]0[/]")
        t.add_row(label, *cells, str(d["infusion_starts"]))
    console.print(t)
    for line in closed_days:
        console.print(line)
    console.print(LEGEND, style="dim")
