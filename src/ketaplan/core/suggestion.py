"""A change that would make a plan possible, said in the domain's words.

The core says *what* changes (a later start, a longer window, no weekday restriction, a
new series) with the request that was planned to prove it works; the command line turns
that into the options or commands to type (cli.suggestions)."""

from __future__ import annotations

from typing import NamedTuple

from ketaplan.core.model import Request

#: What a suggestion may change. new_series: cancel the rest of `plan_id`, plan anew.
CHANGES = (
    *("start", "end", "days", "times", "unavailable", "consultation", "maintenance", "new_series", "boosters"),
    "allow_gap",  # reschedule `session` of `plan_id` with the longer gap request.gaps holds
)


class Suggestion(NamedTuple):
    change: str  # one of CHANGES
    message: str  # for a person, e.g. "start on Tue Dec 8 instead"
    request: Request  # the changed request, planned before this was offered
    plan_id: str | None = None  # new_series: the plan whose rest is cancelled; boosters: the plan
    session: int | None = None  # allow_gap: the infusion to move
