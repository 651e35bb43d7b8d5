"""`ketaplan export PLAN_ID`: the .ics and printable plan of a booked plan, again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.errors import InputError
from ketaplan.core.model import Plan

if TYPE_CHECKING:
    from rich.console import Console

# Every command module opens alike (imports, app, decorator): Typer's shape, not copied logic.
app = typer.Typer()


@app.command("export")
@options.with_exports
def export(
    plan_id: str = options.PLAN_ID,
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    exports: options.ExportOptions | None = None,
) -> Exported:
    """Write a booked plan's .ics (same UIDs, SEQUENCE = revision) and printable plan."""
    from ketaplan.cli.exports import Targets

    if exports is None or not exports.wanted:
        raise InputError("nothing to write; give --ics, --pdf, --html or --out", field="--ics")
    the_ledger = common.existing_ledger(ledger)
    plan, _ = common.load_plan(the_ledger, plan_id)
    the_clinic = common.plan_clinic(plan, clinic)
    targets = Targets.from_options(exports, common.protected(the_clinic, the_ledger))
    targets.check_writable()
    return Exported(plan, targets.write(plan, the_clinic))


@result
class Exported(NamedTuple):
    plan: Plan
    written: list[Path]
    command: str = "export"

    def data(self) -> dict[str, Any]:
        return {"plan_id": self.plan.plan_id, "revision": self.plan.revision, "files": [str(p) for p in self.written]}

    def show(self, console: Console) -> None:
        for path in self.written:
            console.print(f"wrote {path}")
