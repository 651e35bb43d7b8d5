"""`ketaplan show PLAN_ID`: one plan, its sessions and their status, its history."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import common, output

app = typer.Typer()


@app.command("show")
def show(
    plan_id: str = typer.Argument(..., help="The plan id, e.g. KP-7K2M9QXD."),
    clinic: Optional[Path] = typer.Option(None, "--clinic", help="Clinic file (default: as for schedule)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Ledger file (default: as for schedule)."),
    json_out: bool = typer.Option(False, "--json", help="Print only the JSON envelope on stdout."),
) -> None:
    """Show a booked plan: sessions with their status, a calendar, the revision history."""
    plan, _ = common.load_plan(common.existing_ledger(ledger), plan_id)
    history = [{"revision": r, "at": at, "change": what} for r, at, what in plan.history]
    if json_out:
        from ketaplan.serialize import envelope, plan_json

        data = plan_json(plan)
        data["history"] = history
        output.emit_json(envelope("show", "ok", 0, data))
        return
    from rich.markup import escape

    from . import render

    the_clinic = common.load_clinic(clinic)
    console = output.out()
    console.print(render.plan_table(plan, the_clinic))
    console.print(render.calendar(plan, the_clinic))
    console.print(f"revision {plan.revision}; history:")
    for h in history:
        console.print(f"  {h['revision']}  {h['at']}  {escape(h['change'])}")
