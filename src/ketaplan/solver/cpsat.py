"""The day model of `batch --optimize` (core.days) solved by OR-Tools' CP-SAT instead of
HiGHS (`--solver cpsat`, `ketaplan[cpsat]`): the same interface as solver.highs.Solver,
for the integer programs only (every column integer, whole coefficients). Kept to
measure the two on the same files (benchmarks/bench_optimize.py)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ketaplan.core.errors import InputError
from ketaplan.core.joint import Program, Row
from ketaplan.solver.highs import Progress, Solved

INSTALL = "pip install 'ketaplan[cpsat]'"
WORKERS = 2  # this project's machines have two cores
LINEARIZATION = 2  # the LP relaxation in the search: 73 proven in 17 s on 150 requests; level 1 proved nothing in 60 s


class Solver:
    def __init__(
        self, program: Program, *, deadline: float, gap: float, log: bool, progress: Progress | None = None
    ) -> None:
        try:
            from ortools.sat.python import cp_model
        except ImportError:
            raise InputError(f"--solver cpsat needs OR-Tools: {INSTALL}", field="--solver") from None
        if program.n_int != program.n_cols:
            raise InputError("--solver cpsat solves integer programs only", field="--solver")
        self.cp, self.program, self.deadline, self.gap, self.log = cp_model, program, deadline, gap, log
        self.model: Any = cp_model.CpModel()
        upper = program.upper or [1.0] * program.n_cols
        self.x = [self.model.new_int_var(0, _whole(upper[i]), f"x{i}") for i in range(program.n_cols)]
        self.add(program.rows)
        self.model.maximize(sum(_whole(c) * self.x[i] for i, c in enumerate(program.cost) if c))
        self.abs_gap = 0.5
        self.progress = progress

    def stop_within(self, objective: float) -> None:
        self.abs_gap = objective

    def add(self, rows: Sequence[Row]) -> None:
        for r in rows:
            total = sum(_whole(c) * self.x[i] for i, c in zip(r.cols, r.coefs, strict=True))
            self.model.add_linear_constraint(total, _whole(r.lower), _whole(r.upper))

    def start(self, values: list[float]) -> None:
        self.model.clear_hints()
        for var, v in zip(self.x, values, strict=False):
            self.model.add_hint(var, round(v))

    def solve(self) -> Solved:
        began = time.monotonic()
        solver: Any = self.cp.CpSolver()
        p = solver.parameters
        p.max_time_in_seconds = max(self.deadline - time.monotonic(), 1e-3)
        p.num_workers = WORKERS
        p.absolute_gap_limit = self.abs_gap
        p.relative_gap_limit = self.gap
        p.log_search_progress = self.log
        p.linearization_level = LINEARIZATION
        told = None
        if self.progress is not None:
            tell = self.progress

            class Told(self.cp.CpSolverSolutionCallback):  # type: ignore[name-defined]
                def on_solution_callback(self) -> None:
                    tell(float(self.objective_value), float(self.best_objective_bound))

            told = Told()
        status = solver.solve(self.model, told)
        found = status in (self.cp.OPTIMAL, self.cp.FEASIBLE)
        values = [float(solver.value(v)) for v in self.x] if found else [0.0] * self.program.n_cols
        proven = status == self.cp.OPTIMAL
        objective = float(solver.objective_value) if found else 0.0
        bound = objective if proven else float(solver.best_objective_bound)
        return Solved(values, proven, objective, bound, time.monotonic() - began)


def _whole(value: float) -> int:
    n = round(value)
    if abs(n - value) > 1e-9:
        raise InputError("--solver cpsat needs whole coefficients", field="--solver")
    return n
