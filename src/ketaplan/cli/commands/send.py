"""`ketaplan send`: deliver the messages waiting in the outbox (a server was down, or the
change was made with --no-send). A second `send` sends nothing new."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.delivery import Delivered

app = typer.Typer()


@app.command("send")
def send(
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    attach_plan: bool = options.ATTACH_PLAN,
    json_out: bool = options.JSON,
) -> Sent:
    """Deliver the messages in the outbox to the patients and the clinic calendar; exit 3 when some must wait."""
    from ketaplan.app.delivery import deliver

    the_clinic = common.load_clinic(clinic)
    if not (the_clinic.smtp or the_clinic.caldav):
        raise InputError(
            "the clinic file has neither [smtp] nor [caldav]: there is nowhere to send to", field="--clinic"
        )
    the_ledger = common.existing_ledger(ledger)
    return Sent(deliver(the_ledger, the_clinic, common.now(the_clinic.zone), attach_plan=attach_plan))


@result
class Sent(NamedTuple):
    done: Delivered
    command: str = "send"

    @property
    def status(self) -> str:
        return "partial" if self.done.pending else "ok"  # exit 3: run it again later

    def data(self) -> dict[str, Any]:
        return self.done.as_json()

    def show(self, console: Console) -> None:
        console.print(sending.line(self.done), soft_wrap=True)
