"""`ketaplan boosters PLAN_ID N`: maintenance boosters for a patient whose series is done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan, Session

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("boosters")
@options.with_exports
def boosters(
    plan_id: str = options.PLAN_ID,
    count: int = typer.Argument(..., help="How many boosters to add (1-12)."),
    revision: int | None = options.REVISION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the boosters that would be booked; book nothing."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    no_send: bool = options.NO_SEND,
    attach_plan: bool = options.ATTACH_PLAN,
    exports: options.ExportOptions | None = None,
) -> Added:
    """Add boosters to a finished series, spaced from the last attended session by the
    protocol's maintenance rule."""
    from ketaplan.app.changes import boosters_in_ledger
    from ketaplan.cli.exports import writer
    from ketaplan.core.errors import InputError
    from ketaplan.core.span import MAX_BOOSTERS

    if not 1 <= count <= MAX_BOOSTERS:
        raise InputError(f"must be from 1 to {MAX_BOOSTERS}", field="N")
    the_ledger = common.existing_ledger(ledger)
    plan, _ = common.load_plan(the_ledger, plan_id)
    the_clinic = common.plan_clinic(plan, clinic)
    files = writer(the_clinic, None if dry_run else exports, common.protected(the_clinic, the_ledger))
    plan, added = boosters_in_ledger(
        the_ledger,
        the_clinic,
        plan_id,
        count=count,
        now=common.now(the_clinic.zone),
        expected=revision,
        dry_run=dry_run,
        author=common.author(by, reason),
    )
    if not dry_run:
        files.after_commit(plan)
        sending.after_commit(the_ledger, the_clinic, no_send=no_send, attach_plan=attach_plan)
    return Added(plan, added, the_clinic, files.written, dry_run)


@result
class Added(NamedTuple):
    plan: Plan
    added: list[Session]
    clinic: Clinic
    written: list[Path]
    dry_run: bool
    command: str = "boosters"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        added = [
            {"kind": s.kind, "number": s.number, "start": s.start.isoformat(), "chair": s.chair} for s in self.added
        ]
        files = [str(p) for p in self.written]
        return {**plan_json(self.plan), "added": added, "dry_run": self.dry_run, "files": files}

    def show(self, console: Console) -> None:
        from ketaplan.cli import render

        console.print(render.plan_table(self.plan, self.clinic))
        for path in self.written:
            console.print(f"wrote {path}")
        if self.dry_run:
            console.print("[yellow]dry run: nothing booked[/]")
        else:
            console.print(
                f"booked {len(self.added)} booster{'' if len(self.added) == 1 else 's'}; "
                f"{self.plan.plan_id} is at revision {self.plan.revision}"
            )
