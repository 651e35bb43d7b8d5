"""`ketaplan show PLAN_ID`: one plan, its sessions and their status, its history."""

from __future__ import annotations

from pathlib import Path

import typer

from ketaplan.cli import common, options, output

app = typer.Typer()


@app.command("show")
def show(
    plan_id: str = options.PLAN_ID,
    clinic: Path | None = options.CLINIC,
    ledger: Path | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> None:
    """Show a booked plan: sessions with their status, a calendar, the revision history."""
    plan, _ = common.load_plan(common.existing_ledger(ledger), plan_id)
    history = [{"revision": r, "at": at, "change": what} for r, at, what in plan.history]
    if json_out:
        from ketaplan.formats.plan_json import envelope, plan_json

        data = plan_json(plan)
        data["history"] = history
        output.emit_json(envelope("show", "ok", 0, data))
        return
    from rich.markup import escape

    from ketaplan.cli import render

    the_clinic = common.load_clinic(clinic)
    console = output.out()
    console.print(render.plan_table(plan, the_clinic))
    console.print(render.calendar(plan, the_clinic))
    console.print(f"revision {plan.revision}; history:")
    for h in history:
        console.print(f"  {h['revision']}  {h['at']}  {escape(str(h['change']))}")
