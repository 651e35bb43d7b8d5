"""`ketaplan outbox`: the messages not yet delivered, with why (no patient data: the
plan id says whose)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.store.outbox_rows import Message

app = typer.Typer()

WHAT = {
    ("email", "request"): "invitation to the patient",
    ("email", "cancel"): "cancellation to the patient",
    ("email", "reminder"): "reminder to the patient",
    ("caldav", "event"): "clinic calendar",
}


@app.command("outbox")
def outbox(
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Waiting:
    """List the messages waiting to be sent (`ketaplan send` delivers them)."""
    from ketaplan.store import outbox_rows

    the_clinic = common.load_clinic(clinic)
    the_ledger = common.open_ledger(ledger)
    if not the_ledger.exists():
        return Waiting([])
    with the_ledger.read() as tx:
        return Waiting(outbox_rows.unsent(tx, the_clinic.name))


@result
class Waiting(NamedTuple):
    messages: list[Message]
    command: str = "outbox"

    def data(self) -> dict[str, Any]:
        return {"messages": [_json(m) for m in self.messages]}

    def show(self, console: Console) -> None:
        from rich.markup import escape

        if not self.messages:
            console.print("the outbox is empty: every message was delivered")
            return
        for m in self.messages:
            why = f" — {m.last_error}" if m.last_error else ""
            tries = f", {m.attempts} attempt{'s' if m.attempts != 1 else ''}" if m.attempts else ""
            console.print(
                f"#{m.id} {m.plan_id} {WHAT.get((m.channel, m.kind), m.kind)} (queued {m.queued}{tries}){escape(why)}",
                soft_wrap=True,
            )
        console.print(f"{len(self.messages)} waiting; `ketaplan send` delivers them")


def _json(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "plan_id": m.plan_id,
        "channel": m.channel,
        "kind": m.kind,
        "queued": m.queued,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "being_sent": m.claimed_by is not None,
    }
