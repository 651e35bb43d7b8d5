"""Suggestions (core.suggestion) as what a coordinator types: options or whole commands."""

from __future__ import annotations

import shlex
from typing import Any

from ketaplan.core.suggestion import Suggestion

_WEEKDAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def option(s: Suggestion) -> str:
    """The change as options to add to the same command (or a command to run)."""
    r = s.request
    if s.change == "start":
        return f"--start {r.first_day}"
    if s.change == "end":
        return f"--end {r.last_day}"
    if s.change == "days":
        return "without --days"
    if s.change == "times":
        return "without --earliest/--latest"
    if s.change == "unavailable":
        return "without --unavailable"
    if s.change == "consultation":
        return "--no-consultation"
    if s.change == "maintenance":
        return f"--maintenance {r.boosters}"
    if s.change == "boosters":
        return f"ketaplan boosters {s.plan_id} {r.boosters}"
    if s.change == "new_series":
        return f"ketaplan cancel {s.plan_id}; {schedule_command(s)}"
    if s.change == "allow_gap":
        gap = dict(r.gaps)[s.session or 0]
        since = f" --from {r.not_before}" if r.not_before else ""
        return f"ketaplan reschedule {s.plan_id} --session {s.session}{since} --allow-gap {gap} --reason 'WHY'"
    raise ValueError(f"unknown suggestion {s.change!r}")


def schedule_command(s: Suggestion) -> str:
    """A whole `ketaplan schedule` that plans the suggested request, restrictions kept."""
    r = s.request
    words = ["ketaplan", "schedule", "--patient", r.patient.name]
    if r.patient.id:
        words += ["--patient-id", r.patient.id]
    words += ["--start", r.first_day.isoformat(), "--end", r.last_day.isoformat()]
    if r.days is not None:
        words += ["--days", ",".join(_WEEKDAY[d] for d in sorted(r.days))]
    if r.earliest is not None:
        words += ["--earliest", f"{r.earliest:%H:%M}"]
    if r.latest is not None:
        words += ["--latest", f"{r.latest:%H:%M}"]
    if r.unavailable:
        words += ["--unavailable", ",".join(d.isoformat() for d in sorted(r.unavailable))]
    if not r.consultation:
        words.append("--no-consultation")
    if r.boosters:
        words += ["--maintenance", str(r.boosters)]
    return shlex.join(words)


def as_json(s: Suggestion) -> dict[str, Any]:
    r = s.request
    return {
        "change": s.change,
        "message": s.message,
        "option": option(s),
        "window": {"first_day": r.first_day.isoformat(), "last_day": r.last_day.isoformat()},
    }
