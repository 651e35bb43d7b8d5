"""`ketaplan closures`: the clinic file's closures, its public holidays and the closures
recorded in the ledger, each with its reason (and, for the ledger's, an id)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.model import Closure

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.app.closures import Listed

app = typer.Typer()


@app.command("closures")
def closures(
    start: str | None = typer.Option(None, "--from", help="First day (default: today)."),
    end: str | None = typer.Option(None, "--to", help="Last day (default: 90 days on)."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> ClosuresShown:
    """List closures: the clinic file's, public holidays and the ledger's (with their ids)."""
    from ketaplan.app.closures import list_closures
    from ketaplan.core.errors import InputError

    the_clinic = common.load_clinic(clinic)
    first, last = common.day_range(start, end, the_clinic.zone)
    first = first or common.today(the_clinic.zone)
    last = last or first + timedelta(days=89)
    if last < first:
        raise InputError(f"{last} is before --from {first}", field="--to")
    if (last - first).days > 3660:
        raise InputError("at most ten years at once", field="--to")
    return ClosuresShown(list_closures(common.open_ledger(ledger), the_clinic, first, last), str(first), str(last))


def closure_json(c: Closure | Listed, source: str) -> dict[str, Any]:
    from ketaplan.core.times import hm

    return {
        "id": c.id,
        "source": source,
        "first_day": c.first.isoformat(),
        "last_day": c.last.isoformat(),
        "hours": f"{hm(c.hours[0])}-{hm(c.hours[1])}" if c.hours else None,
        "chair": c.chair,
        "reason": c.reason,
        "by": c.author,
    }


@result
class ClosuresShown(NamedTuple):
    found: list[Listed]
    first: str
    last: str
    command: str = "closures"

    def data(self) -> dict[str, Any]:
        return {"from": self.first, "to": self.last, "closures": [closure_json(c, c.source) for c in self.found]}

    def show(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        from ketaplan.core.times import hm

        if not self.found:
            console.print(f"no closures from {self.first} to {self.last}")
            return
        table = Table(title=f"Closures {self.first} to {self.last}")
        for column in ("id", "days", "hours", "chair", "reason", "from"):
            table.add_column(column, overflow="fold")
        for c in self.found:
            days = c.first.isoformat() if c.first == c.last else f"{c.first} to {c.last}"
            table.add_row(
                str(c.id) if c.id is not None else "",
                days,
                f"{hm(c.hours[0])}-{hm(c.hours[1])}" if c.hours else "all day",
                escape(c.chair or "all"),
                escape(c.reason),
                c.source + (f" ({escape(c.author)})" if c.author else ""),
            )
        console.print(table)
