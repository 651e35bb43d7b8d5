"""`ketaplan show PLAN_ID`: one plan, its sessions and their status, its history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("show")
def show(
    plan_id: str = options.PLAN_ID,
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Shown:
    """Show a booked plan: sessions with their status, a calendar, the revision history."""
    plan, _ = common.load_plan(common.existing_ledger(ledger), plan_id)
    return Shown(plan, common.view_clinic(plan, clinic))


@result
class Shown(NamedTuple):
    plan: Plan
    clinic: Clinic
    command: str = "show"

    def history(self) -> list[dict[str, Any]]:
        """Each change with when it was made, in the clinic's local time like everything else."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.plan.timezone)
        return [
            {
                "revision": c.revision,
                "at": datetime.fromisoformat(c.at).astimezone(zone).isoformat(),
                "change": c.action,
                "by": c.author,
                "reason": c.reason,
            }
            for c in self.plan.history
        ]

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        return {**plan_json(self.plan), "history": self.history()}

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.cli import render

        console.print(render.plan_table(self.plan, self.clinic))
        console.print(render.calendar(self.plan, self.clinic))
        c = self.plan.contact
        if c is not None:
            console.print(f"contact: email {escape(c.email or '(none)')}, phone {c.phone or '(none)'}")
        console.print(f"revision {self.plan.revision}; history:")
        for h in self.history():
            who = f" (by {h['by']}{': ' + h['reason'] if h['reason'] else ''})" if h["by"] or h["reason"] else ""
            console.print(f"  {h['revision']}  {h['at'][:16].replace('T', ' ')}  {escape(str(h['change']) + who)}")
