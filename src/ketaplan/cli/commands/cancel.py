"""`ketaplan cancel PLAN_ID [--session N]`: cancel one session or the rest of the series."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.core.model import Plan, Session

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("cancel")
def cancel(
    plan_id: str = options.PLAN_ID,
    session: int | None = typer.Option(
        None, "--session", help="Cancel only this session (default: every session still to come)."
    ),
    kind: str = options.KIND,
    revision: int | None = options.REVISION,
    ledger: Path | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Cancelled:
    """Cancel one session, or the rest of a series; frees the chairs."""
    from zoneinfo import ZoneInfo

    from ketaplan.store.lifecycle import cancel_in_ledger

    the_ledger = common.existing_ledger(ledger)
    plan, _ = common.load_plan(the_ledger, plan_id)
    plan, cancelled = cancel_in_ledger(
        the_ledger,
        plan_id,
        kind=options.session_kind(kind),
        number=session,
        now=common.now(ZoneInfo(plan.timezone)),
        expected=revision,
    )
    return Cancelled(plan, cancelled)


class Cancelled(NamedTuple):
    plan: Plan
    cancelled: list[Session]
    command: str = "cancel"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        cancelled = [{"kind": s.kind, "number": s.number, "start": s.start.isoformat()} for s in self.cancelled]
        return {**plan_json(self.plan), "cancelled": cancelled}

    def show(self, console: Console) -> None:
        for s in self.cancelled:
            console.print(f"cancelled {s.label} ({s.start:%a %Y-%m-%d %H:%M})")
        console.print(
            f"{self.plan.plan_id} is now at revision {self.plan.revision}; "
            "export the .ics again so the patient's calendar shows it"
        )
