"""`ketaplan ledger info | copy`: which ledger this is, and moving one to another back end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.store.transfer import LedgerInfo

app = typer.Typer(help="Which ledger is in use; copy a ledger to another back end.", no_args_is_help=True)


@app.command("info")
def info(ledger: str | None = options.LEDGER, json_out: bool = options.JSON) -> Info:
    """Say which back end and schema the ledger is on, and what it holds."""
    from ketaplan.store import transfer

    return Info(transfer.info(common.existing_ledger(ledger)))


@result
class Info(NamedTuple):
    info: LedgerInfo
    command: str = "ledger info"

    def data(self) -> dict[str, Any]:
        return self.info._asdict()

    def show(self, console: Console) -> None:
        from rich.markup import escape

        i = self.info
        console.print(f"{escape(i.location)} ({i.backend}, schema {i.schema})")
        sessions = ", ".join(f"{n} {status}" for status, n in i.sessions_by_status.items()) or "none"
        console.print(f"{i.plans} plan{'s' if i.plans != 1 else ''}; sessions: {sessions}; {i.history} history entries")
        console.print(f"clinics: {escape(', '.join(i.clinics)) if i.clinics else 'none yet'}")


@app.command("copy")
def copy(
    source: str = typer.Argument(
        ..., callback=options.path_value, help="The ledger to copy: a file or a postgresql:// URL."
    ),
    target: str = typer.Argument(
        ..., callback=options.path_value, help="A new, empty ledger: a file or a postgresql:// URL."
    ),
    json_out: bool = options.JSON,
) -> Copied:
    """Copy a whole ledger (plans, sessions, history, revisions) to another back end.

    The target must hold no plans. The copy is one transaction, compared row for row with
    the source before it commits; the source is only read."""
    from ketaplan.store import transfer

    src, dst = common.open_ledger(source), common.open_ledger(target)
    return Copied(src.name, dst.name, transfer.copy(src, dst))


@result
class Copied(NamedTuple):
    source: str
    target: str
    rows: dict[str, int]
    command: str = "ledger copy"

    def data(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "rows": self.rows}

    def show(self, console: Console) -> None:
        from rich.markup import escape

        r = self.rows
        console.print(
            f"copied {r['plans']} plans, {r['sessions']} sessions and {r['history']} history entries "
            f"from {escape(self.source)} to {escape(self.target)}; checked row for row"
        )
