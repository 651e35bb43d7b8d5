"""What happened at a session: attended or a no-show, recorded once it has begun.

A past session is never silently "done": until it is marked it stays booked, and `plans`
counts it as still to mark. A no-show stops holding its chair and shows as cancelled in
the patient's calendar; it can then be moved to a future day (core.reschedule)."""

from __future__ import annotations

from datetime import UTC, datetime

from ketaplan.core.errors import InputError
from ketaplan.core.model import Plan, Session, Status

MARKS = ("attended", "no_show")


def mark(plan: Plan, kind: str, number: int, status: Status, now: datetime) -> tuple[Plan, Session]:
    """The plan with one session marked `status` (attended | no_show), and that session."""
    if status not in MARKS:
        raise ValueError(status)
    same = [s for s in plan.sessions if s.kind == kind and s.number == number]
    if not same:
        raise InputError(f"plan {plan.plan_id} has no {kind} {number}", field="session")
    s = same[0]
    if s.status == "cancelled":
        raise InputError(f"{s.label} is cancelled; there is nothing to mark", field="session")
    if s.start.astimezone(UTC) > now.astimezone(UTC):
        raise InputError(
            f"{s.label} is on {s.start:%a %Y-%m-%d %H:%M}, still to come; mark it once it has begun", field="session"
        )
    if s.status == status:
        raise InputError(f"{s.label} is marked {status.replace('_', '-')} already", field="session")
    marked = s._replace(status=status)
    return plan._replace(sessions=tuple(marked if x is s else x for x in plan.sessions)), marked
