"""`ketaplan reschedule PLAN_ID --session N`: move one session, keep every rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.clinic import Clinic
from ketaplan.core.dates import parse_near
from ketaplan.core.errors import InputError
from ketaplan.core.reschedule import Rescheduled

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.changes import MoveTo

app = typer.Typer()


@app.command("reschedule")
@options.with_exports
def reschedule(
    plan_id: str = options.PLAN_ID,
    session: int = typer.Option(
        ..., "--session", help="Which session: infusion N (or booster N with --kind booster; 1 for the consultation)."
    ),
    kind: str = options.KIND,
    from_: str | None = typer.Option(
        None, "--from", help="Earliest day for the new slot (default: today, from now on)."
    ),
    to: str | None = typer.Option(
        None, "--to", help="Move it to this day (the same day included), checked against every rule."
    ),
    at: str | None = typer.Option(None, "--at", help="With --to: the start time HH:MM (default: its own)."),
    chair: str | None = typer.Option(
        None, "--chair", help="With --to: the chair (a room for a consultation); default: the lowest free."
    ),
    allow_gap: int | None = typer.Option(
        None,
        "--allow-gap",
        min=1,
        max=60,
        help="An infusion: allow this many days after the infusion before it, beyond the protocol's longest "
        "gap (needs --reason; recorded with the plan, and its rules keep it).",
    ),
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
) -> Moved:
    """Move one session of a booked plan to the best slot that keeps every rule."""
    from ketaplan.app.changes import reschedule_in_ledger

    the_clinic = common.load_clinic(clinic)
    today = common.today(the_clinic.zone)
    from_day = parse_near(from_, today=today, field="--from") if from_ else today
    if from_day < today:
        raise InputError(f"{from_day} is in the past", field="--from")
    target = _target(to, at, chair, from_, today)
    if allow_gap is not None and not (reason and reason.strip()):
        raise InputError("a longer gap than the protocol's needs a reason (--reason TEXT), kept in the history",
                         field="--allow-gap")  # fmt: skip
    if allow_gap is not None and options.session_kind(kind) != "infusion":
        raise InputError("only the gap before an infusion can be allowed longer", field="--allow-gap")
    from ketaplan.cli.exports import writer

    the_ledger = common.existing_ledger(ledger)
    files = writer(the_clinic, None if dry_run else exports, common.protected(the_clinic, the_ledger))
    result = reschedule_in_ledger(
        the_ledger,
        the_clinic,
        plan_id,
        kind=options.session_kind(kind),
        number=session,
        from_day=from_day,
        now=common.now(the_clinic.zone),
        to=target,
        author=common.author(by, reason),
        allow_gap=allow_gap,
        expected=revision,
        dry_run=dry_run,
    )
    if not dry_run:
        files.after_commit(result.plan)
    if not dry_run:
        sending.after_commit(the_ledger, the_clinic, no_send=no_send, attach_plan=attach_plan)
    return Moved(result, the_clinic, files.written, dry_run)


def _target(to: str | None, at: str | None, chair: str | None, from_: str | None, today: date) -> MoveTo | None:
    """--to/--at/--chair as a MoveTo; --at and --chair only go with --to, --from never."""
    from ketaplan.app.changes import MoveTo
    from ketaplan.core.dates import parse_time

    if to is None:
        for given, name in ((at, "--at"), (chair, "--chair")):
            if given is not None:
                raise InputError("goes with --to DATE (the day to move the session to)", field=name)
        return None
    if from_ is not None:
        raise InputError("give --to (a day you choose) or --from (the best day from then), not both", field="--to")
    day = parse_near(to, today=today, field="--to")
    if day < today:
        raise InputError(f"{day} is in the past", field="--to")
    return MoveTo(day, parse_time(at, field="--at") if at else None, chair.strip() if chair else None)


@result
class Moved(NamedTuple):
    result: Rescheduled
    clinic: Clinic
    written: list[Path]
    dry_run: bool
    command: str = "reschedule"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        moved = [
            {
                "kind": a.kind,
                "number": a.number,
                "from": b.start.isoformat(),
                "to": a.start.isoformat(),
                "chair": a.chair,
            }
            for b, a in self.result.moved
        ]
        files = [str(p) for p in self.written]
        return {
            **plan_json(self.result.plan),
            "moved": moved,
            "notes": self.result.notes,
            "dry_run": self.dry_run,
            "files": files,
        }

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.cli import render
        from ketaplan.core.times import local

        zone = self.clinic.zone
        for b, a in self.result.moved:
            lb, la = local(b.start, zone), local(a.start, zone)
            where = escape(a.resource or "")
            console.print(f"moved {a.label}: {lb:%a %Y-%m-%d %H:%M} -> [bold]{la:%a %Y-%m-%d %H:%M}[/] ({where})")
        for note in self.result.notes:
            console.print(f"[yellow]note:[/] {escape(note)}")
        plan = self.result.plan
        console.print(render.plan_table(plan, self.clinic))
        for path in self.written:
            console.print(f"wrote {path}")
        if self.dry_run:
            console.print("[yellow]dry run: nothing changed[/]")
        elif not self.written:
            console.print(f"{plan.plan_id} is now at revision {plan.revision}; export the .ics again for the patient")
