"""`ketaplan plans`: the booked plans, a row each."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.core.dates import parse_near

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


def summarise(plan: Any, now: datetime) -> dict[str, Any]:
    """One plan as a row: first and last infusion, sessions done and left, status."""
    active = [s for s in plan.sessions if s.active]
    infusions = sorted((s for s in active if s.kind == "infusion"), key=lambda s: s.start.astimezone(UTC))
    done = sum(1 for s in active if s.end.astimezone(UTC) <= now.astimezone(UTC))
    left = len(active) - done
    cancelled = len(plan.sessions) - len(active)
    status = (
        "active" if left else ("cancelled" if cancelled and not done else ("completed" if not cancelled else "ended"))
    )
    return {
        "plan_id": plan.plan_id,
        "patient": {"name": plan.patient.name, "id": plan.patient.id},
        "first_infusion": infusions[0].start.isoformat() if infusions else None,
        "last_infusion": infusions[-1].start.isoformat() if infusions else None,
        "done": done,
        "left": left,
        "cancelled": cancelled,
        "status": status,
        "revision": plan.revision,
    }


@app.command("plans")
def plans(
    patient: str | None = typer.Option(
        None, "--patient", help="Only plans whose patient name or id contains this text."
    ),
    since: str | None = typer.Option(None, "--from", help="Only plans whose window ends on or after this date."),
    clinic: Path | None = options.CLINIC,
    ledger: Path | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Listed:
    """List the booked plans: patient, first and last infusion, sessions done and left, status."""
    from ketaplan.cli.config import clinic_path, resolve_clinic

    the_clinic = resolve_clinic(clinic_path(clinic))
    today = common.today(the_clinic.zone)
    since_day = parse_near(since, today=today, field="--from") if since else None
    the_ledger = common.open_ledger(ledger)
    rows: list[dict[str, Any]] = []
    if the_ledger.path.exists():
        with the_ledger.read() as tx:
            ids = [r["plan_id"] for r in tx.plan_rows(patient=patient, since=since_day)]
            now = common.now(the_clinic.zone)
            rows = [summarise(tx.load_plan(pid)[0], now) for pid in ids]
    return Listed(rows)


class Listed(NamedTuple):
    rows: list[dict[str, Any]]
    command: str = "plans"

    def data(self) -> dict[str, Any]:
        return {"plans": self.rows}

    def show(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        t = Table(title=f"{len(self.rows)} plan{'' if len(self.rows) == 1 else 's'}", title_justify="left")
        for col in ("plan", "patient", "first infusion", "last infusion", "done", "left", "status"):
            t.add_column(col)
        for r in self.rows:
            who = r["patient"]["name"] + (f" ({r['patient']['id']})" if r["patient"]["id"] else "")
            t.add_row(
                r["plan_id"],
                escape(who),
                (r["first_infusion"] or "")[:16].replace("T", " "),
                (r["last_infusion"] or "")[:16].replace("T", " "),
                str(r["done"]),
                str(r["left"]),
                r["status"],
            )
        console.print(t)
