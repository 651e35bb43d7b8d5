"""`ketaplan cancel PLAN_ID [--session N]`: cancel one session or the rest of the series."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.model import Plan, Session

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("cancel")
@options.with_exports
def cancel(
    plan_id: str = options.PLAN_ID,
    session: int | None = typer.Option(
        None, "--session", help="Cancel only this session (default: every session still to come)."
    ),
    kind: str = options.KIND,
    revision: int | None = options.REVISION,
    dry_run: bool = options.PREVIEW,  # the options a change of a booked plan takes: cli.options
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    no_send: bool = options.NO_SEND,
    attach_plan: bool = options.ATTACH_PLAN,
    exports: options.ExportOptions | None = None,
) -> Cancelled:
    """Cancel one session, or the rest of a series; frees the chairs."""
    from zoneinfo import ZoneInfo

    from ketaplan.app.changes import cancel_in_ledger
    from ketaplan.cli.exports import writer

    the_ledger = common.existing_ledger(ledger)
    plan, _ = common.load_plan(the_ledger, plan_id)
    the_clinic = common.plan_clinic(plan, clinic) if exports and exports.wanted and not dry_run else None
    told = the_clinic or (None if dry_run else sending.plan_clinic_or_none(plan, clinic))  # its [smtp], [caldav]
    files = writer(the_clinic, exports, common.protected(the_clinic, the_ledger)) if the_clinic else None
    plan, cancelled = cancel_in_ledger(
        the_ledger,
        plan_id,
        kind=options.session_kind(kind),
        number=session,
        now=common.now(ZoneInfo(plan.timezone)),
        expected=revision,
        dry_run=dry_run,
        author=common.author(by, reason),
        clinic=told,
    )
    if files is not None and not dry_run:
        files.after_commit(plan)
    if not dry_run:
        sending.after_commit(the_ledger, told, no_send=no_send, attach_plan=attach_plan)
    return Cancelled(plan, cancelled, files.written if files else [], dry_run)


@result
class Cancelled(NamedTuple):
    plan: Plan
    cancelled: list[Session]
    written: list[Path]
    dry_run: bool
    command: str = "cancel"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        cancelled = [{"kind": s.kind, "number": s.number, "start": s.start.isoformat()} for s in self.cancelled]
        files = [str(p) for p in self.written]
        return {**plan_json(self.plan), "cancelled": cancelled, "dry_run": self.dry_run, "files": files}

    def show(self, console: Console) -> None:
        verb = "would cancel" if self.dry_run else "cancelled"
        for s in self.cancelled:
            console.print(f"{verb} {s.label} ({s.start:%a %Y-%m-%d %H:%M})")
        for path in self.written:
            console.print(f"wrote {path}")
        if self.dry_run:
            console.print("[yellow]dry run: nothing changed[/]")
        elif not self.written:
            console.print(
                f"{self.plan.plan_id} is now at revision {self.plan.revision}; "
                "export the .ics again so the patient's calendar shows it"
            )
