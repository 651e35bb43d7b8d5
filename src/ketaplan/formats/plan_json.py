"""Plans and results as JSON: the versioned envelope (README, "JSON output and exit codes")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ketaplan.core.model import Plan

if TYPE_CHECKING:  # only a type here: the checks load when a plan is checked
    from ketaplan.core.checks import CheckResult

ENVELOPE_VERSION = 1
ENVELOPE_KEYS = ("ketaplan", "command", "status", "exit_code", "data", "errors")


def envelope(
    command: str, status: str, exit_code: int, data: dict[str, Any] | None = None, errors: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    return {
        "ketaplan": ENVELOPE_VERSION,
        "command": command,
        "status": status,
        "exit_code": int(exit_code),
        "data": data if data is not None else {},
        "errors": list(errors),
    }


def contact_json(plan: Plan) -> dict[str, str | None]:
    c = plan.contact
    return {"email": c.email if c else None, "phone": c.phone if c else None}


def plan_json(plan: Plan, checks: Iterable[CheckResult] = ()) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "patient": {"name": plan.patient.name, "id": plan.patient.id},
        "contact": contact_json(plan),
        "lang": plan.lang,  # the patient's papers' language; null: the clinic's
        "clinic": plan.clinic,
        "timezone": plan.timezone,
        "window": {"first_day": plan.first_day.isoformat(), "last_day": plan.last_day.isoformat()},
        "sessions": [
            {
                "kind": s.kind,
                "number": s.number,
                "of": s.of,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "chair": s.chair,
                "status": s.status,
            }
            for s in sorted(plan.sessions, key=lambda s: (s.start, s.kind))
        ],
        "checks": [c.as_json() for c in checks],
        "revision": plan.revision,
    }
