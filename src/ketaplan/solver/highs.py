"""The models of `batch --optimize` (core.days, core.joint) solved by HiGHS, a mixed-integer
solver (`ketaplan[optimize]`, imported only by `batch --optimize`). HiGHS writes to the process's stdout, which carries
batch's JSON Lines: while it runs, file descriptor 1 points at stderr."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from ketaplan.core.errors import InputError
from ketaplan.core.joint import Program, Row

INSTALL = "pip install 'ketaplan[optimize]'"
#: Told of each better answer during a solve: its objective and the best bound.
Progress = Callable[[float, float], None]


class Solved(NamedTuple):
    values: list[float]
    proven: bool  # optimal within the gap asked for
    objective: float
    bound: float  # no answer can score above this
    seconds: float


@contextmanager
def _stdout_to_stderr(quiet: bool = False) -> Iterator[None]:
    """Point file descriptor 1 at stderr (or, `quiet`, nowhere) while HiGHS runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    target = os.open(os.devnull, os.O_WRONLY) if quiet else 2
    try:
        os.dup2(target, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        if quiet:
            os.close(target)


class Solver:
    """One model in HiGHS; `add` adds rows and `solve` runs again from where it was."""

    def __init__(
        self, program: Program, *, deadline: float, gap: float, log: bool, progress: Progress | None = None
    ) -> None:
        """`deadline`: a time.monotonic() no solve of this model runs past (the whole
        run's, so no sub-model takes more than the run has left). `progress(objective,
        bound)` is called with each better answer found during a solve."""
        try:
            import highspy
            import numpy as np
        except ImportError:
            raise InputError(f"--optimize needs the solver: {INSTALL}", field="--optimize") from None
        self.np, self.highspy, self.program = np, highspy, program
        self.deadline = deadline
        with _stdout_to_stderr(quiet=not log):  # its banner too, unless its log is wanted
            h = highspy.Highs()
            h.setOptionValue("output_flag", log)
            h.setOptionValue("mip_rel_gap", gap)
            h.setOptionValue("mip_abs_gap", 0.5)  # objective values are whole numbers
            h.setOptionValue("threads", 1)
            n = program.n_cols
            upper = np.ones(n) if program.upper is None else np.array(program.upper, dtype=float)
            h.addVars(n, np.zeros(n), upper)
            ints = np.arange(program.n_int, dtype=np.int32)
            h.changeColsIntegrality(program.n_int, ints, np.full(program.n_int, highspy.HighsVarType.kInteger))
            costed = np.arange(len(program.cost), dtype=np.int32)
            h.changeColsCost(len(program.cost), costed, np.array(program.cost, dtype=float))
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
            if program.rows:
                self._add_rows(h, program.rows)
            if progress is not None:

                def improved(event: Any) -> None:
                    out = event.data_out
                    progress(float(out.objective_function_value), float(out.mip_dual_bound))

                h.cbMipImprovingSolution.subscribe(improved)
        self.h = h

    def stop_within(self, objective: float) -> None:
        """Stop once no answer can score `objective` more than the one found."""
        self.h.setOptionValue("mip_abs_gap", objective)

    def add(self, rows: Sequence[Row]) -> None:
        """More rows (cuts a later check found); later solves keep them."""
        with _stdout_to_stderr():
            self._add_rows(self.h, rows)

    def _add_rows(self, h: Any, rows: Sequence[Row]) -> None:
        np = self.np
        lower = np.array([r.lower for r in rows], dtype=float)
        upper = np.array([r.upper for r in rows], dtype=float)
        starts = np.cumsum([0] + [len(r.cols) for r in rows[:-1]]).astype(np.int32)
        index = np.array([c for r in rows for c in r.cols], dtype=np.int32)
        value = np.array([v for r in rows for v in r.coefs], dtype=float)
        h.addRows(len(rows), lower, upper, len(index), starts, index, value)

    def start(self, values: list[float]) -> None:
        """A first answer (e.g. first come's) that the solver improves on: it never ends
        with fewer requests than that."""
        np = self.np
        with _stdout_to_stderr():
            self.h.setSolution(len(values), np.arange(len(values), dtype=np.int32), np.array(values, dtype=float))

    def solve(self) -> Solved:
        start = time.monotonic()
        status, info, values = self._run()
        cost = self.program.cost
        if values and abs(sum(w * values[r] for r, w in enumerate(cost)) - info.objective_function_value) > 0.5:
            # HiGHS 1.16, given a start, hands that start back when presolve finishes the
            # search (its objective is right, the values are not): solve again without presolve.
            self.h.setOptionValue("presolve", "off")
            status, info, values = self._run()
        return self._solved(status, info, values, time.monotonic() - start)

    def _run(self) -> tuple[Any, Any, list[float]]:
        with _stdout_to_stderr():
            # HiGHS wants a positive limit; past the deadline it stops at once, unproven.
            self.h.setOptionValue("time_limit", max(self.deadline - time.monotonic(), 1e-3))
            self.h.run()
            return self.h.getModelStatus(), self.h.getInfo(), list(self.h.getSolution().col_value)

    def _solved(self, status: Any, info: Any, values: list[float], seconds: float) -> Solved:
        ok = self.highspy.HighsModelStatus
        if not values:  # stopped before any answer: choosing nothing is always one
            values = [0.0] * self.program.n_cols
        proven = status in (ok.kOptimal, ok.kModelEmpty)
        objective = float(info.objective_function_value) if values else 0.0
        bound = float(info.mip_dual_bound) if not proven else objective
        return Solved(values, proven, objective, bound, seconds)
