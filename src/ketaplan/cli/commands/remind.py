"""`ketaplan remind [DATE]`: reminders for a day's sessions (default tomorrow): emails
through the outbox, and with --jsonl a line per patient with a phone for an SMS gateway
script. Each reminder is given once per session and time (app.reminders)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.output import notice
from ketaplan.cli.result import result
from ketaplan.core.dates import parse_near
from ketaplan.core.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.reminders import Reminders

app = typer.Typer()


def _jsonl_value(value: Path | None) -> Path | None:
    return value if value is None or str(value) == "-" else options.path_value(value)  # type: ignore[return-value]


@app.command("remind")
def remind(
    when: str | None = typer.Argument(None, help="The day: YYYY-MM-DD, today, tomorrow, '4 Dec'. Default: tomorrow."),
    jsonl: Path | None = typer.Option(
        None,
        "--jsonl",
        callback=_jsonl_value,
        help="Also write a JSON line per reminder (phone, local time, text) for an SMS gateway script; - for stdout.",
    ),
    force: bool = options.FORCE,
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    no_send: bool = options.NO_SEND,
    json_out: bool = options.JSON,
) -> Reminded:
    """Remind the patients of a day's sessions (default: tomorrow), once per session: by email ([smtp]) and --jsonl."""
    from ketaplan.app.reminders import handed_over, queue_reminders
    from ketaplan.store.files import check_target, write_private

    the_clinic = common.load_clinic(clinic)
    if the_clinic.smtp is None and jsonl is None:
        raise InputError("the clinic file has no [smtp] table: give --jsonl FILE to remind by text", field="--clinic")
    to_stdout = jsonl is not None and str(jsonl) == "-"
    if to_stdout and json_out:
        raise InputError("--jsonl - and --json both want stdout: give --jsonl a file", field="--jsonl")
    today = common.today(the_clinic.zone)
    day = parse_near(when, today=today, field="DATE") if when else today + timedelta(days=1)
    the_ledger = common.existing_ledger(ledger)
    kept = common.protected(the_clinic, the_ledger)
    if jsonl is not None and not to_stdout:  # before anything is queued: a refused file changes nothing
        check_target(jsonl, force=force, field="--jsonl", protected=kept)
    now = common.now(the_clinic.zone)
    found = queue_reminders(the_ledger, the_clinic, day, now, texts=jsonl is not None)
    if jsonl is not None:
        text = "".join(json.dumps(line.as_json(), ensure_ascii=False) + "\n" for line in found.texts)
        if to_stdout:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_private(jsonl, text.encode(), force=force, field="--jsonl", protected=kept)
        handed_over(the_ledger, the_clinic, found.texts, now)
    sending.after_commit(the_ledger, the_clinic if the_clinic.smtp else None, no_send=no_send)
    return Reminded(found, quiet=to_stdout)


@result
class Reminded(NamedTuple):
    found: Reminders
    quiet: bool  # the lines went to stdout: the summary goes to stderr
    command: str = "remind"

    def data(self) -> dict[str, Any]:
        f = self.found
        return {"date": f.day.isoformat(), "sessions_due": f.sessions, "emails": f.emails,
                "texts": [line.as_json() for line in f.texts], "already": f.already,
                "unreachable": f.unreachable}  # fmt: skip

    def summary(self) -> str:
        f = self.found
        parts = [f"{f.sessions} session{'s' if f.sessions != 1 else ''} to come on {f.day.isoformat()}",
                 f"{f.emails} reminder email{'s' if f.emails != 1 else ''} queued",
                 f"{len(f.texts)} text line{'s' if len(f.texts) != 1 else ''} written"]  # fmt: skip
        if f.already:
            parts.append(f"{f.already} reminded before")
        if f.unreachable:
            parts.append(f"{f.unreachable} with no way to reach the patient")
        return "; ".join(parts)

    def show(self, console: Console) -> None:
        if self.quiet:
            notice(self.summary())
        else:
            console.print(self.summary(), soft_wrap=True)
