"""`ketaplan clinic init | show | check`: the clinic file."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, config, options
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import WEEKDAYS
from ketaplan.formats import page
from ketaplan.formats.clinic_file import demo_text
from ketaplan.store.files import write_private

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="Write, show and check the clinic file.", no_args_is_help=True)


@app.command("init")
def init(
    file: Path | None = typer.Argument(None, help="Where to write it. Default: clinic.toml in the user config dir."),
    force: bool = typer.Option(False, "--force", help="Replace a file that exists."),
) -> Written:
    """Write a commented clinic file to edit (a copy of the demo clinic)."""
    path = file or config.user_config_dir() / "clinic.toml"
    if file is None:
        path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, demo_text().encode("utf-8"), force=force, field="FILE")
    return Written(path)


class Written(NamedTuple):
    path: Path
    command: str = "clinic init"

    def data(self) -> dict[str, Any]:
        return {"file": str(self.path)}

    def show(self, console: Console) -> None:
        console.print(f"wrote {self.path}; edit it, then run `ketaplan clinic check {self.path}`")


@app.command("show")
def show(
    clinic: Path | None = options.CLINIC,
    days: int = typer.Option(90, "--days", help="How far ahead to list closures."),
    json_out: bool = options.JSON,
) -> ClinicShown:
    """Show the weekly hours, chairs, protocol and upcoming closures."""
    c = common.load_clinic(clinic)
    return ClinicShown(c, common.today(c.zone), days)


class ClinicShown(NamedTuple):
    clinic: Clinic
    start: date
    days: int
    command: str = "clinic show"

    def data(self) -> dict[str, Any]:
        from ketaplan.core.clinic import upcoming_closures
        from ketaplan.core.times import hm

        c = self.clinic
        return {
            "name": c.name,
            "timezone": c.timezone,
            "chairs": list(c.chairs),
            "consult_rooms": c.consult_rooms,
            "hours": {
                wd: [f"{hm(o)}-{hm(cl)}" for o, cl in spans] for wd, spans in zip(WEEKDAYS, c.hours, strict=True)
            },
            "protocol": c.protocol._asdict(),
            "closures": [{"date": d.isoformat(), "reason": r} for d, r in upcoming_closures(c, self.start, self.days)],
            "source": c.source,
        }

    def show(self, console: Console) -> None:
        _show(self.clinic, self.start, self.days, console)


def _show(c: Clinic, start: date, days: int, console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ketaplan.core.clinic import upcoming_closures
    from ketaplan.core.times import hm

    console.print(f"[bold]{escape(c.name)}[/] ({escape(c.timezone)}) · {escape(c.address)} · {escape(c.phone)}")
    console.print(f"source: {escape(c.source)}")
    console.print(
        f"chairs: {escape(', '.join(c.chairs))} · consult rooms: {c.consult_rooms} · slot {c.slot_minutes} min · "
        f"turnover {c.turnover_minutes} min · at most {c.starts_per_slot} starts per slot"
    )
    grid = Table(title="Weekly hours (# = open)", title_justify="left")
    grid.add_column("day")
    hours = range(6, 22)
    for h in hours:
        grid.add_column(f"{h:02d}", justify="center")
    grid.add_column("hours")
    for wd, spans in zip(page.WEEKDAYS, c.hours, strict=True):
        cells = [
            "#"
            if any(o <= h * 60 and h * 60 + 60 <= cl for o, cl in spans)
            else ("+" if any(o < h * 60 + 60 and cl > h * 60 for o, cl in spans) else ".")
            for h in hours
        ]
        grid.add_row(wd, *cells, ", ".join(f"{hm(o)}-{hm(cl)}" for o, cl in spans) or "closed")
    console.print(grid)
    p = c.protocol
    console.print(
        f"protocol: {p.infusions} infusions of {p.session_minutes} min, "
        f"{p.min_days_apart}-{p.max_days_apart} days apart, "
        f"window {p.window_days[0]}-{p.window_days[1]} days; consultation "
        + (
            f"{p.consultation_minutes} min, {p.consultation_days_before[0]}-{p.consultation_days_before[1]} days before"
            if p.consultation
            else "off"
        )
        + f"; boosters every {p.maintenance_every_days}+-{p.maintenance_tolerance_days} days"
    )
    closures = upcoming_closures(c, start, days)
    console.print(
        f"closures in the next {days} days (from {start}):" if closures else f"no closures in the next {days} days"
    )
    for day, reason in closures:
        console.print(f"  {day:%a} {day}  {escape(reason)}")
    if c.busy is not None:
        first = datetime(start.year, start.month, start.day, tzinfo=c.zone)
        ahead = c.busy.between(first, first + timedelta(days=days))
        console.print(f"busy_ics ({escape(str(c.busy_ics))}): {len(ahead)} bookings from another system in that period")


@app.command("check")
def check(
    file: Path | None = typer.Argument(None, help="Clinic file (default: as for schedule)."),
    json_out: bool = options.JSON,
) -> ClinicChecked:
    """Validate a clinic file: exit 0 when it is usable, 2 with the key at fault."""
    c = common.load_clinic(file)
    if c.busy is not None:  # expand a year of its busy_ics now, so broken recurrences show here
        start = datetime.now(c.zone)
        c.busy.between(start, start + timedelta(days=365))
    return ClinicChecked(c)


class ClinicChecked(NamedTuple):
    clinic: Clinic
    command: str = "clinic check"

    def data(self) -> dict[str, Any]:
        c = self.clinic
        return {"file": c.source, "name": c.name, "chairs": len(c.chairs), "timezone": c.timezone}

    def show(self, console: Console) -> None:
        c = self.clinic
        console.print(f"ok: {c.source}: {c.name}, {len(c.chairs)} chairs, {c.timezone}")
