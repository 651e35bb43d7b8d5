"""After a change is committed: its messages delivered (unless --no-send), and one line
saying what went and what waits. The JSON answer carries the same as `delivery`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketaplan.cli import common
from ketaplan.cli.output import delivery, notice
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan

if TYPE_CHECKING:
    from pathlib import Path

    from ketaplan.app.delivery import Delivered
    from ketaplan.store.ledger import Ledger


def plan_clinic_or_none(plan: Plan, option: Path | None) -> Clinic | None:
    """The plan's clinic when the given (or default) clinic file is it, quietly: a change
    that needs no clinic (cancel, no-show) then tells the patient too; else None, said."""
    from ketaplan.cli import config

    path = config.clinic_path(option)
    if path is None:
        return None  # the demo clinic sends nothing
    clinic = config.resolve_clinic(path)
    if clinic.name != plan.clinic:
        if clinic.smtp or clinic.caldav:
            notice(f"{plan.plan_id} belongs to {plan.clinic!r}: no message queued (give --clinic with its file)")
        return None
    return clinic


def after_commit(ledger: Ledger, clinic: Clinic | None, *, no_send: bool, attach_plan: bool = False) -> None:
    """Deliver what the change queued, and say so; nothing without [smtp] or [caldav]."""
    if clinic is None or not (clinic.smtp or clinic.caldav):
        return
    from ketaplan.app.delivery import Delivered, deliver
    from ketaplan.store import outbox_rows

    if no_send:
        with ledger.read() as tx:
            waiting = len(outbox_rows.unsent(tx, clinic.name))
        delivery(Delivered(0, waiting, ()).as_json())
        notice(f"{_messages(waiting)} wait in the outbox (--no-send); `ketaplan send` delivers them")
        return
    done = deliver(ledger, clinic, common.now(clinic.zone), attach_plan=attach_plan)
    delivery(done.as_json())
    notice(line(done))


def line(done: Delivered) -> str:
    if done.errors:
        return (
            f"{_messages(done.sent)} sent; {_messages(done.pending)} not sent, kept in the outbox "
            f"({'; '.join(done.errors)}); the booking stands. `ketaplan send` tries again"
        )
    left = f"; {_messages(done.pending)} still in the outbox" if done.pending else ""
    return f"{_messages(done.sent)} sent{left}"


def _messages(n: int) -> str:
    return f"{n} message{'' if n == 1 else 's'}"
