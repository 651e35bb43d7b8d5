"""`ketaplan repair`: move every conflicting session of every affected plan together, in
one transaction, every rule kept, fewest moves; the patients' files written again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, output, sending
from ketaplan.cli.result import result
from ketaplan.core.clinic import Clinic

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.repair import Repaired

app = typer.Typer()


@app.command("repair")
@options.with_exports
def repair(
    start: str | None = typer.Option(None, "--from", help="First day (default: today)."),
    end: str | None = typer.Option(None, "--to", help="Last day (default: every day to come)."),
    dry_run: bool = options.PREVIEW,
    optimize: bool = typer.Option(
        False,
        "--optimize",
        help="Solve every affected plan together with the solver batch --optimize uses (the optimize extra).",
    ),
    time_limit: float = options.TIME_LIMIT,
    solver: str = options.SOLVER,
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    no_send: bool = options.NO_SEND,
    attach_plan: bool = options.ATTACH_PLAN,
    exports: options.ExportOptions | None = None,
) -> RepairShown:
    """Move every session in conflict, all affected plans together; every rule kept, fewest moves."""
    from ketaplan.app.repair import repair_in_ledger
    from ketaplan.cli.exports import writer
    from ketaplan.core.errors import InputError

    the_clinic = common.load_clinic(clinic)
    first, last = common.day_range(start, end, the_clinic.zone)
    if exports is not None and any(x is not None for x in (exports.ics, exports.pdf, exports.html)):
        raise InputError("a repair may change several plans: give --out DIR for their files", field="--ics")
    the_ledger = common.existing_ledger(ledger)
    budget = None
    if optimize:
        import time

        from ketaplan.app.solving import Budget

        budget = Budget(time.monotonic() + time_limit, 0.0, options.solver_name(solver))
    files = writer(the_clinic, exports, common.protected(the_clinic, the_ledger)) if not dry_run else None
    done = repair_in_ledger(
        the_ledger,
        the_clinic,
        common.now(the_clinic.zone),
        first=first,
        last=last,
        dry_run=dry_run,
        optimize=budget,
        author=common.author(by, reason),
        say=(lambda text: None) if json_out else output.notice,  # progress: silent with --json
    )
    written: list[Path] = []
    if files is not None:
        for plan, _ in done.moved:
            files.after_commit(plan)
        written = files.written
    if not dry_run:
        sending.after_commit(the_ledger, the_clinic, no_send=no_send, attach_plan=attach_plan)
    return RepairShown(done, the_clinic, written, optimize)


@result
class RepairShown(NamedTuple):
    done: Repaired
    clinic: Clinic
    written: list[Path]
    optimized: bool = False
    command: str = "repair"

    @property
    def status(self) -> str:
        return "partial" if self.done.left else "ok"

    def data(self) -> dict[str, Any]:
        from ketaplan.cli.commands.conflicts import conflict_json
        from ketaplan.cli.suggestions import as_json

        def session(s: Any) -> dict[str, Any]:
            return {"kind": s.kind, "number": s.number, "start": s.start.isoformat(), "chair": s.resource}

        return {
            "dry_run": self.done.dry_run,
            "conflicts": [conflict_json(c) for c in self.done.conflicts],
            "moved": [
                {
                    "plan_id": plan.plan_id,
                    "revision": plan.revision,
                    "sessions": [{"from": session(b), "to": session(a)} for b, a in moved],
                }
                for plan, moved in self.done.moved
            ],
            "not_placed": [
                {
                    "plan_id": x.plan.plan_id,
                    "patient": {"name": x.plan.patient.name, "id": x.plan.patient.id},
                    "sessions": [session(s) for s in x.sessions],
                    "why": x.why,
                    "suggestions": [as_json(s) for s in x.suggestions],
                }
                for x in self.done.left
            ],
            "proven": self.done.proven,
            "files": [str(p) for p in self.written],
        }

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.cli.suggestions import option

        done, zone = self.done, self.clinic.zone
        if not done.conflicts:
            console.print("no conflicts: nothing to move")
            return

        def when(s: Any) -> str:
            ls = s.start.astimezone(zone)
            return f"{self.clinic.date_text(ls.date(), weekday=True)} {ls:%H:%M} {s.resource or ''}".rstrip()

        verb = "would move" if done.dry_run else "moved"
        for plan, moved in done.moved:
            for b, a in moved:
                console.print(
                    f"{plan.plan_id} {escape(plan.patient.name)}: {verb} {b.label} "
                    f"{escape(when(b))} -> {escape(when(a))}",
                    soft_wrap=True,
                )
        for x in done.left:
            console.print(
                f"[red]{x.plan.plan_id} {escape(x.plan.patient.name)} cannot be placed[/]: {escape(x.why)}",
                soft_wrap=True,
            )
            for s in x.suggestions:
                console.print(f"  option: {escape(s.message)}", soft_wrap=True)
                console.print(f"    {escape(option(s))}", soft_wrap=True)
        count = sum(len(m) for _, m in done.moved)
        console.print(
            f"{verb} {count} session{'s' if count != 1 else ''} of {len(done.moved)} "
            f"plan{'s' if len(done.moved) != 1 else ''}; each keeps every rule"
            + (
                ""
                if done.proven
                else " (the fewest moves was not proven in the search's time; try --optimize"
                + (" with a longer --time-limit)" if self.optimized else ")")
            ),
            soft_wrap=True,
        )
        for path in self.written:
            console.print(f"wrote {path}")
        if done.dry_run:
            console.print("[yellow]dry run: nothing changed[/]")
        elif done.moved and not self.written:
            console.print("export the moved plans again (`ketaplan export PLAN_ID`, or repair with --out DIR) "
                          "so the patients' calendars show it", soft_wrap=True)  # fmt: skip
