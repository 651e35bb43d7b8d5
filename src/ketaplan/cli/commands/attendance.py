"""`ketaplan attend PLAN_ID --session N` and `ketaplan no-show PLAN_ID --session N`: record
what happened at a session that has begun. Two commands, one module: they differ only in
the status they record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.model import Author, Plan, Session, Status

if TYPE_CHECKING:
    from rich.console import Console

attend_app = typer.Typer()
no_show_app = typer.Typer()

SESSION = typer.Option(..., "--session", help="Which session: infusion N (booster N with --kind booster).")


# attend and no-show take the same options (a plan, a session, the revision seen) and
# differ only in the status they record: two commands people type, one _mark.
@attend_app.command("attend")
def attend(
    plan_id: str = options.PLAN_ID,
    session: int = SESSION,
    kind: str = options.KIND,
    revision: int | None = options.REVISION,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    clinic: Path | None = options.CLINIC,
    no_send: bool = options.NO_SEND,
) -> Marked:
    """Record that the patient came to a session (once it has begun)."""
    where = Where(ledger, clinic, no_send)
    return _mark("attend", plan_id, session, kind, "attended", revision, where, common.author(by, reason))


@no_show_app.command("no-show")
def no_show(
    plan_id: str = options.PLAN_ID,
    session: int = SESSION,
    kind: str = options.KIND,
    revision: int | None = options.REVISION,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    clinic: Path | None = options.CLINIC,
    no_send: bool = options.NO_SEND,
) -> Marked:
    """Record that the patient missed a session: its chair is free, the calendar shows it
    cancelled, and `ketaplan reschedule` can move it to a future day."""
    where = Where(ledger, clinic, no_send)
    return _mark("no-show", plan_id, session, kind, "no_show", revision, where, common.author(by, reason))


class Where(NamedTuple):
    """The ledger, and the clinic file whose [smtp]/[caldav] hear of the change."""

    ledger: str | None
    clinic: Path | None
    no_send: bool


def _mark(
    command: str,
    plan_id: str,
    session: int,
    kind: str,
    status: Status,
    revision: int | None,
    where: Where,
    author: Author,
) -> Marked:
    from zoneinfo import ZoneInfo

    from ketaplan.app.changes import mark_in_ledger

    the_ledger = common.existing_ledger(where.ledger)
    plan, _ = common.load_plan(the_ledger, plan_id)
    now = common.now(ZoneInfo(plan.timezone))
    told = sending.plan_clinic_or_none(plan, where.clinic)
    plan, marked = mark_in_ledger(
        the_ledger,
        plan_id,
        kind=options.session_kind(kind),
        number=session,
        status=status,
        now=now,
        expected=revision,
        author=author,
        clinic=told,
    )
    sending.after_commit(the_ledger, told, no_send=where.no_send)
    return Marked(plan, marked, command)


@result
class Marked(NamedTuple):
    plan: Plan
    session: Session
    command: str

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        s = self.session
        return {**plan_json(self.plan), "marked": {"kind": s.kind, "number": s.number, "status": s.status}}

    def show(self, console: Console) -> None:
        s, plan = self.session, self.plan
        place = "room" if s.kind == "consultation" else "chair"  # a consultation holds a consult room
        what = "attended" if s.status == "attended" else f"a no-show (its {place} is free again)"
        console.print(
            f"{s.label} ({s.start:%a %Y-%m-%d %H:%M}) marked {what}; {plan.plan_id} is at revision {plan.revision}"
        )
        if s.status == "no_show" and s.kind != "consultation":
            console.print(
                f"to book it again: ketaplan reschedule {plan.plan_id} --session {s.number}"
                + (" --kind booster" if s.kind == "maintenance" else "")
            )
