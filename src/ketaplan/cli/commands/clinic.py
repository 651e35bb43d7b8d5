"""`ketaplan clinic init | show | check`: the clinic file."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, config, options
from ketaplan.cli.result import result
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
    kept = common.protected(None, common.open_ledger(None))  # never over the ledger
    write_private(path, demo_text().encode("utf-8"), force=force, field="FILE", protected=kept)
    return Written(path)


@result
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
    days: int = typer.Option(90, "--days", help="How far ahead to list closures (1-3660)."),
    json_out: bool = options.JSON,
) -> ClinicShown:
    """Show the weekly hours, chairs, protocol and upcoming closures."""
    if not 1 <= days <= 3660:
        from ketaplan.core.errors import InputError

        raise InputError("must be from 1 to 3660 (ten years)", field="--days")
    c = common.load_clinic(clinic)
    return ClinicShown(c, common.today(c.zone), days)


@result
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

    from ketaplan.core.clinic import upcoming_closures
    from ketaplan.core.times import hm

    console.print(f"[bold]{escape(c.name)}[/] ({escape(c.timezone)})")
    console.print(" · ".join(escape(x) for x in (c.address, c.phone, c.email) if x))
    console.print(f"source: {escape(c.source)}")
    console.print(f"chairs: {escape(', '.join(c.chairs))}; consult rooms: {c.consult_rooms}")
    console.print(
        f"slots every {c.slot_minutes} min; turnover {c.turnover_minutes} min; "
        f"at most {c.starts_per_slot} infusion starts per slot"
    )
    # The week as one line a day: a character per half hour from 06:00 to 22:00 (# open).
    day_from, day_to = 6 * 60, 22 * 60
    ruler = "".join(f"{h:02d}".ljust(4) for h in range(day_from // 60, day_to // 60, 2))
    console.print(f"weekly hours (# open, . closed; a mark per half hour)\n       {ruler}")
    for wd, spans in zip(page.WEEKDAYS, c.hours, strict=True):
        marks = "".join(
            "#" if any(o <= m and m + 30 <= cl for o, cl in spans) else "." for m in range(day_from, day_to, 30)
        )
        times = ", ".join(f"{hm(o)}-{hm(cl)}" for o, cl in spans) or "closed"
        console.print(f"  {wd}  {marks}  {times}")
    p = c.protocol
    lo, hi = p.consultation_days_before
    console.print(
        f"protocol: {p.infusions} infusions of {p.session_minutes} min, {p.min_days_apart}-{p.max_days_apart} "
        f"days apart, in {p.window_days[0]}-{p.window_days[1]} days"
    )
    consult = f"{p.consultation_minutes} min, {lo}-{hi} days before infusion 1" if p.consultation else "none"
    console.print(f"consultation: {consult}")
    console.print(f"boosters: every {p.maintenance_every_days}±{p.maintenance_tolerance_days} days")
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
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> ClinicChecked:
    """Validate a clinic file: exit 0 when it is usable, 2 with the key at fault; say how many
    booked sessions it no longer admits."""
    from ketaplan.app.repair import count_conflicts

    c = common.load_clinic(file)
    if c.busy is not None:  # expand a year of its busy_ics now, so broken recurrences show here
        start = datetime.now(c.zone)
        c.busy.between(start, start + timedelta(days=365))
    return ClinicChecked(c, count_conflicts(common.open_ledger(ledger), c, common.now(c.zone)))


@result
class ClinicChecked(NamedTuple):
    clinic: Clinic
    conflicts: int  # booked sessions from now on this clinic file no longer admits
    command: str = "clinic check"

    def data(self) -> dict[str, Any]:
        c = self.clinic
        return {
            "file": c.source,
            "name": c.name,
            "chairs": len(c.chairs),
            "timezone": c.timezone,
            "conflicts": self.conflicts,
        }

    def show(self, console: Console) -> None:
        c = self.clinic
        console.print(f"ok: {c.source}: {c.name}, {len(c.chairs)} chairs, {c.timezone}")
        if self.conflicts:
            console.print(
                f"[yellow]{self.conflicts} booked session{'s' if self.conflicts != 1 else ''} in the ledger "
                "no longer fit this clinic[/]; see `ketaplan conflicts`, move them with `ketaplan repair`",
                soft_wrap=True,
            )
