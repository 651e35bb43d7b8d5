"""`ketaplan conflicts`: booked sessions from now on that the clinic as it stands no longer
admits, with the rule each breaks, grouped by day; exit 3 while there is any."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.clinic import Clinic

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.repair import Conflict

app = typer.Typer()


@app.command("conflicts")
def conflicts(
    start: str | None = typer.Option(None, "--from", help="First day (default: today)."),
    end: str | None = typer.Option(None, "--to", help="Last day (default: every day to come)."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> ConflictsShown:
    """List booked sessions the clinic no longer admits (closures, chairs, hours, rules); exit 3 if any."""
    from ketaplan.app.repair import find_conflicts

    the_clinic = common.load_clinic(clinic)
    first, last = common.day_range(start, end, the_clinic.zone)
    the_ledger = common.open_ledger(ledger)
    found: list[Conflict] = []
    if the_ledger.exists():
        with the_ledger.read() as tx:
            found = find_conflicts(tx, the_clinic, common.now(the_clinic.zone), first, last).conflicts
    zone = the_clinic.zone
    found = [
        c
        for c in found
        if (first is None or c.session.start.astimezone(zone).date() >= first)
        and (last is None or c.session.start.astimezone(zone).date() <= last)
    ]
    return ConflictsShown(found, the_clinic)


def conflict_json(c: Conflict) -> dict[str, Any]:
    s = c.session
    return {
        "plan_id": c.plan.plan_id,
        "patient": {"name": c.plan.patient.name, "id": c.plan.patient.id},
        "kind": s.kind,
        "number": s.number,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "chair": s.resource,
        "rule": c.rule,
        "reason": c.reason,
    }


@result
class ConflictsShown(NamedTuple):
    found: list[Conflict]
    clinic: Clinic
    command: str = "conflicts"

    @property
    def status(self) -> str:
        return "infeasible" if self.found else "ok"

    def data(self) -> dict[str, Any]:
        return {
            "conflicts": [conflict_json(c) for c in self.found],
            "plans": len({c.plan.plan_id for c in self.found}),
        }

    def show(self, console: Console) -> None:
        from rich.markup import escape

        if not self.found:
            console.print("no conflicts: every booked session to come keeps every rule")
            return
        day = None
        for c in self.found:
            ls = c.session.start.astimezone(self.clinic.zone)
            if ls.date() != day:
                day = ls.date()
                console.print(f"[bold]{self.clinic.date_text(day, weekday=True)}[/]")
            console.print(
                f"  {ls:%H:%M} {escape(c.session.resource or '')}  {c.plan.plan_id} {escape(c.plan.patient.name)}  "
                f"{c.session.label}  {c.rule}: {escape(c.reason)}",
                soft_wrap=True,
            )
        plans = len({c.plan.plan_id for c in self.found})
        n = len({(c.plan.plan_id, c.session.kind, c.session.number) for c in self.found})
        console.print(
            f"[yellow]{n} session{'s' if n != 1 else ''} of {plans} "
            f"plan{'s' if plans != 1 else ''} in conflict[/]; `ketaplan repair --dry-run` shows how they would move",
            soft_wrap=True,
        )
