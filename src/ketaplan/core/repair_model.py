"""`repair --optimize` as one integer program, solved by the same engine as `batch
--optimize` (solver.highs): a column per repair of each affected plan (core.repair's
candidates, fewest moves first) and one for leaving the plan as it is; exactly one
column per plan; every chair, consult room and start slot held at most as the clinic
allows (rows at each moment some sessions of different plans could share). The most
patients kept, then the fewest sessions moved, then the nearest days, as one weighted sum."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.joint import Program, Row
from ketaplan.core.model import BOOSTER, CONSULTATION, INFUSION, Plan
from ketaplan.core.repair import CANDIDATES, Affected, Budget, Candidate, candidates, kept_sessions

#: Repairs of one plan put in the model (fewest moves first; the search's own cap); past
#: it, the answer is not proven.
PER_PLAN = CANDIDATES


class RepairModel(NamedTuple):
    program: Program
    columns: list[tuple[str, Candidate | None]]  # plan id and its repair (None: left as it is)
    capped: bool  # some plan had more repairs than the model holds


def repair_model(
    clinic: Clinic, alone: Availability, affected: list[Affected], now: datetime, budget: Budget
) -> RepairModel:
    columns: list[tuple[str, Candidate | None]] = []
    plans: list[Plan] = []
    capped = False
    for a in affected:
        found: list[Candidate] = []
        for c in candidates(clinic, a.plan, a.request, a.must, alone, now, budget):
            if len(found) == PER_PLAN:
                capped = True
                break
            found.append(c)
        columns += [(a.plan.plan_id, c) for c in found] + [(a.plan.plan_id, None)]
        plans += [c.plan for c in found] + [kept_sessions(a)]
    capped = capped or budget.ran_out
    most: Counter[str] = Counter()
    for pid, repair in columns:
        if repair is not None:
            most[pid] = max(most[pid], len(repair.moved))
    moves = sum(most.values())
    shifts = sum(c.shift for _, c in columns if c is not None) + 1
    step = shifts + 1  # one session moved weighs more than any days shifted
    keep = (moves + 1) * step  # one patient kept weighs more than any moves
    cost = [0.0 if c is None else float(keep - step * len(c.moved) - c.shift) for _, c in columns]
    rows = _one_each(columns) + _resources(clinic, columns, plans) + _starts(clinic, alone, plans)
    return RepairModel(Program(len(columns), len(columns), cost, None, rows), columns, capped)


def _one_each(columns: list[tuple[str, Candidate | None]]) -> list[Row]:
    by_plan: dict[str, list[int]] = defaultdict(list)
    for i, (pid, _) in enumerate(columns):
        by_plan[pid].append(i)
    return [Row(cols, [1.0] * len(cols), 1.0, 1.0) for cols in by_plan.values()]


def _resources(clinic: Clinic, columns: list[tuple[str, Candidate | None]], plans: list[Plan]) -> list[Row]:
    """A chair (with turnover) or room holds one session at a time: at each moment a
    session starts, the columns of different plans holding that resource then, at most one."""
    turnover = timedelta(minutes=clinic.turnover_minutes)
    held: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for i, plan in enumerate(plans):
        for s in plan.active:
            gap = timedelta(0) if s.kind == CONSULTATION else turnover
            held[s.resource or ""].append((s.start.astimezone(UTC), s.end.astimezone(UTC) + gap, i))
    rows, seen = [], set()
    for spans in held.values():
        for t, _, _ in spans:
            cols = frozenset(i for a, b, i in spans if a <= t < b)
            if len({columns[i][0] for i in cols}) > 1 and cols not in seen:
                seen.add(cols)
                rows.append(Row(sorted(cols), [1.0] * len(cols), 0.0, 1.0))
    return rows


def _starts(clinic: Clinic, alone: Availability, plans: list[Plan]) -> list[Row]:
    """Infusions starting at one moment: at most the clinic's starts per slot, with
    everyone else's starts then."""
    at: dict[datetime, Counter[int]] = defaultdict(Counter)
    for i, plan in enumerate(plans):
        for s in plan.active:
            if s.kind in (INFUSION, BOOSTER):
                at[s.start.astimezone(UTC)][i] += 1
    rows = []
    for t, counts in at.items():
        room = clinic.starts_per_slot - alone.occupancy.starts_at(t)
        if sum(counts.values()) > room:
            cols = sorted(counts)
            rows.append(Row(cols, [float(counts[i]) for i in cols], 0.0, float(max(room, 0))))
    return rows
