"""`ketaplan close DATE`: record a closure of the clinic, or an outage of one chair, in
the ledger, for every desk sharing it; `--repair` moves everyone it affects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.model import Closure

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.cli.commands.repair import RepairShown

app = typer.Typer()


@app.command("close")
def close(
    day: str = typer.Argument(..., help="The first day closed: YYYY-MM-DD, today, tomorrow, '22 Dec'."),
    until: str | None = typer.Option(None, "--until", help="The last day closed (default: DATE alone)."),
    hours: str | None = typer.Option(None, "--hours", help="Only these hours each day, HH:MM-HH:MM."),
    chair: str | None = typer.Option(None, "--chair", help="Only this chair is out of service."),
    reason: str = typer.Option(..., "--reason", help="Why (printed on the day sheet and in each moved plan)."),
    repair: bool = typer.Option(False, "--repair", help="Then move every session it affects (see `repair`)."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    no_send: bool = options.NO_SEND,
) -> ClosedShown:
    """Close the clinic (or one chair) for a day, some days or some hours; every desk sees it."""
    from ketaplan.app.closures import close_in_ledger
    from ketaplan.cli.commands.repair import RepairShown
    from ketaplan.core.closures import new_closure

    the_clinic = common.load_clinic(clinic)
    now = common.now(the_clinic.zone)
    closure = new_closure(the_clinic, day=day, until=until, hours=hours, chair=chair, reason=reason, today=now.date())
    the_ledger = common.open_ledger(ledger)
    who = common.author(by, reason)  # a plan moved by --repair records the closure's reason
    closed = close_in_ledger(the_ledger, the_clinic, closure, now, repair=repair, author=who)
    if closed.repaired is not None:
        sending.after_commit(the_ledger, the_clinic, no_send=no_send)
    shown = RepairShown(closed.repaired, the_clinic, []) if closed.repaired is not None else None
    return ClosedShown(closed.closure, closed.conflicts, shown)


@result
class ClosedShown(NamedTuple):
    closure: Closure
    conflicts: int
    repaired: RepairShown | None
    command: str = "close"

    @property
    def status(self) -> str:
        return "partial" if self.repaired is not None and self.repaired.status != "ok" else "ok"

    def data(self) -> dict[str, Any]:
        from ketaplan.cli.commands.closures import closure_json

        return {
            "closure": closure_json(self.closure, "ledger"),
            "conflicts": self.conflicts,
            "repair": self.repaired.data() if self.repaired is not None else None,
        }

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.core.closures import describe

        console.print(f"recorded closure {self.closure.id}: {escape(describe(self.closure))}", soft_wrap=True)
        if self.repaired is not None:
            self.repaired.show(console)
        if self.conflicts:
            console.print(
                f"[yellow]{self.conflicts} booked session{'s' if self.conflicts != 1 else ''} now in conflict[/]; "
                "see `ketaplan conflicts`, move them with `ketaplan repair`",
                soft_wrap=True,
            )
