"""`ketaplan reopen ID`: take back a closure recorded with `close`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.model import Closure

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("reopen")
def reopen(
    closure_id: int = typer.Argument(..., metavar="ID", help="The closure's id (see `ketaplan closures`)."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Reopened:
    """Remove a closure recorded in the ledger: its days or chair take bookings again."""
    from ketaplan.app.closures import reopen_in_ledger

    the_clinic = common.load_clinic(clinic)
    return Reopened(reopen_in_ledger(common.existing_ledger(ledger), the_clinic, closure_id))


@result
class Reopened(NamedTuple):
    closure: Closure
    command: str = "reopen"

    def data(self) -> dict[str, Any]:
        from ketaplan.cli.commands.closures import closure_json

        return {"closure": closure_json(self.closure, "ledger")}

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.core.closures import describe

        console.print(f"removed closure {self.closure.id} ({escape(describe(self.closure))})", soft_wrap=True)
        console.print("sessions moved away from it stay where they are now")
