"""`ketaplan sync`: the clinic's CalDAV calendar brought in line with the ledger
(app.calendar_sync). Exit 3 when the server failed part-way: run it again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.calendar_sync import Synced

app = typer.Typer()


@app.command("sync")
def sync(
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change in the calendar; change nothing."),
    json_out: bool = options.JSON,
) -> SyncDone:
    """Bring the clinic calendar ([caldav]) in line with the ledger; never touches events ketaplan did not make."""
    from ketaplan.app.calendar_sync import sync as run_sync

    the_clinic = common.load_clinic(clinic)
    if the_clinic.caldav is None:
        raise InputError("the clinic file has no [caldav] table: there is no clinic calendar", field="--clinic")
    return SyncDone(run_sync(common.existing_ledger(ledger), the_clinic, dry_run=dry_run))


@result
class SyncDone(NamedTuple):
    done: Synced
    command: str = "sync"

    @property
    def status(self) -> str:
        return "partial" if self.done.error else "ok"

    def data(self) -> dict[str, Any]:
        return self.done.as_json()

    def show(self, console: Console) -> None:
        d = self.done
        verb = "would be" if d.dry_run else "were"
        console.print(
            f"clinic calendar: {d.created} events {verb} made, {d.updated} corrected, {d.removed} removed; "
            f"{d.unchanged} already right",
            soft_wrap=True,
        )
        if d.error:
            console.print(
                f"[red]stopped: {d.error}[/]; what was done stands, run `ketaplan sync` again", soft_wrap=True
            )
