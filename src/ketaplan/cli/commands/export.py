"""`ketaplan export PLAN_ID...`: the .ics and printable plan of booked plans, again."""

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
    plan_ids: list[str] = typer.Argument(
        ..., metavar="PLAN_ID...", help="One plan id, or several (with --out): the morning's patients at once."
    ),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    lang: str | None = typer.Option(
        None,
        "--lang",
        metavar="LANG",
        help="Write these files in this language (en, es, fr, de); the plan keeps its own.",
    ),
    exports: options.ExportOptions | None = None,
) -> Exported:
    """Write booked plans' .ics (same UIDs, SEQUENCE = revision) and printable plans."""
    from ketaplan.cli.exports import Targets

    if exports is None or not exports.wanted:
        raise InputError("nothing to write; give --ics, --pdf, --html or --out", field="--ics")
    if len(plan_ids) > 1 and any(x is not None for x in (exports.ics, exports.pdf, exports.html)):
        raise InputError("several plans need --out DIR (each file named by its plan id)", field="--out")
    lang = options.language(lang)
    the_ledger = common.existing_ledger(ledger)
    plans = list({p.plan_id: p for p in (common.load_plan(the_ledger, pid)[0] for pid in plan_ids)}.values())
    if lang is not None:  # a copy in another language (`contact --lang` changes the plan's)
        plans = [p._replace(lang=lang) for p in plans]
    the_clinic = common.plan_clinic(plans[0], clinic)
    for plan in plans[1:]:
        common.plan_clinic(plan, clinic)  # every plan is this clinic's, or nothing is written
    targets = Targets.from_options(exports, common.protected(the_clinic, the_ledger))
    targets.check_writable()
    return Exported(plans, [targets.write(plan, the_clinic) for plan in plans])


@result
class Exported(NamedTuple):
    plans: list[Plan]
    written: list[list[Path]]  # per plan
    command: str = "export"

    def data(self) -> dict[str, Any]:
        each: list[dict[str, Any]] = [
            {"plan_id": p.plan_id, "revision": p.revision, "files": [str(f) for f in files]}
            for p, files in zip(self.plans, self.written, strict=True)
        ]
        # The first plan's keys stay where one plan's always were; `plans` has each.
        every = [str(f) for files in self.written for f in files]
        return {**each[0], "files": every, "plans": each}

    def show(self, console: Console) -> None:
        for files in self.written:
            for path in files:
                console.print(f"wrote {path}")
