"""`ketaplan plans`: the clinic's plans, a row each, the ones with sessions to come first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.dates import parse_near
from ketaplan.core.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.store.ledger import PlanSummary

app = typer.Typer()
STATUSES = ("active", "to_mark", "completed", "ended", "cancelled")


@app.command("plans")
def plans(
    patient: str | None = typer.Option(None, "--patient", help="Only plans whose patient name or id contains this."),
    since: str | None = typer.Option(None, "--from", help="Only plans whose window reaches this day or later."),
    until: str | None = typer.Option(None, "--to", help="Only plans whose window starts on this day or earlier."),
    status: str | None = typer.Option(
        None, "--status", help=f"Only plans in these states (comma-separated): {', '.join(STATUSES)}."
    ),
    limit: int = typer.Option(50, "--limit", help="Show at most N plans (0: all)."),
    every_clinic: bool = typer.Option(False, "--all", help="Plans of every clinic in the ledger, not just this one."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Listed:
    """List plans: upcoming first, with the next session, what is done, left and to mark."""
    from ketaplan.cli.config import clinic_path, resolve_clinic

    the_clinic = resolve_clinic(clinic_path(clinic))
    today = common.today(the_clinic.zone)
    wanted = {s.strip() for s in status.split(",")} if status is not None else set(STATUSES)
    if not wanted <= set(STATUSES) or not wanted:
        raise InputError(f"use one or more of {', '.join(STATUSES)}", field="--status")
    if limit < 0:
        raise InputError("must be 0 (all) or more", field="--limit")
    first = parse_near(since, today=today, field="--from") if since else None
    last = parse_near(until, today=today, field="--to") if until else None
    the_ledger = common.open_ledger(ledger)
    if not the_ledger.exists():
        return Listed([], 0, every_clinic)
    now = common.now(the_clinic.zone)
    with the_ledger.read() as tx:
        if limit and not (every_clinic or patient or first or last or status):
            # The usual look at a clinic's plans: one page, read along the indexes (a
            # ledger of thousands of plans answers as fast as a few).
            ids = tx.upcoming_plan_ids(the_clinic.name, now, limit)
            ids += tx.recent_plan_ids(the_clinic.name, set(ids), limit - len(ids)) if len(ids) < limit else []
            page = {r.plan_id: r for r in tx.plan_summaries(now, clinic=the_clinic.name, ids=ids)}
            return Listed([page[i] for i in ids], tx.count_plans(the_clinic.name), every_clinic)
        clinic_name = None if every_clinic else the_clinic.name
        rows = tx.plan_summaries(now, clinic=clinic_name, patient=patient, since=first, until=last)
    # a plan with a past session left unmarked is to mark, whatever else is still to come
    rows = [r for r in rows if r.status in wanted or ("to_mark" in wanted and r.to_mark)]
    # Plans with a session to come, soonest first; then the rest, latest window first.
    rows.sort(key=lambda r: r.plan_id)
    rows.sort(key=lambda r: r.last_day, reverse=True)
    rows.sort(key=lambda r: (r.next_session_utc is None, r.next_session_utc or ""))
    return Listed(rows[:limit] if limit else rows, len(rows), every_clinic)


def _local(utc: str | None, zone: str, plan_id: str) -> str | None:
    from ketaplan.store.records import from_utc_text

    return from_utc_text(utc, ZoneInfo(zone), plan_id).isoformat() if utc else None


def row_json(r: PlanSummary) -> dict[str, Any]:
    return {
        "plan_id": r.plan_id,
        "patient": {"name": r.patient, "id": r.patient_id},
        "clinic": r.clinic,
        "window": {"first_day": r.first_day, "last_day": r.last_day},
        "first_infusion": _local(r.first_infusion_utc, r.timezone, r.plan_id),
        "last_infusion": _local(r.last_infusion_utc, r.timezone, r.plan_id),
        "next_session": _local(r.next_session_utc, r.timezone, r.plan_id),
        "done": r.attended,
        "missed": r.missed,
        "to_mark": r.to_mark,
        "left": r.left,
        "cancelled": r.cancelled,
        "status": r.status,
        "revision": r.revision,
    }


@result
class Listed(NamedTuple):
    rows: list[PlanSummary]
    total: int  # before --limit
    every_clinic: bool
    command: str = "plans"

    def data(self) -> dict[str, Any]:
        return {"plans": [row_json(r) for r in self.rows], "total": self.total}

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.cli.render import listing

        n = self.total
        title = f"{n} plan{'' if n == 1 else 's'}" + (
            f", the first {len(self.rows)} shown" if len(self.rows) < n else ""
        )
        t = listing(title)
        for col in ("plan", "patient", "next session", "done", "left", "status"):
            t.add_column(col, no_wrap=col != "patient", overflow="ellipsis" if col == "patient" else "fold")
        if self.every_clinic:
            t.add_column("clinic", overflow="ellipsis")
        for r in self.rows:
            who = r.patient + (f" ({r.patient_id})" if r.patient_id else "")
            nxt = _local(r.next_session_utc, r.timezone, r.plan_id)
            cells = [r.plan_id, escape(who), (nxt or "")[:16].replace("T", " "), str(r.attended), str(r.left)]
            cells.append(r.status.replace("_", " ") + (f" ({r.to_mark})" if r.to_mark and r.left else ""))
            t.add_row(*cells, *([escape(r.clinic)] if self.every_clinic else []))
        console.print(t)
