"""The optional solvers of `batch --optimize`: HiGHS (`ketaplan[optimize]`, the default)
and CP-SAT for the day model (`ketaplan[cpsat]`); each imported only when it is used."""

from __future__ import annotations

from typing import Any

SOLVERS = ("highs", "cpsat")


def solver_class(name: str) -> Any:
    """The Solver class of that name (solver.highs or solver.cpsat: one interface)."""
    if name == "cpsat":
        from ketaplan.solver.cpsat import Solver as CpSat

        return CpSat
    from ketaplan.solver.highs import Solver

    return Solver


def require(name: str) -> None:
    """Fail now, saying how to install it, when the solver's package is missing (before a
    run spends time on what the solver is for)."""
    from ketaplan.core.errors import InputError

    package, extra, option = (
        ("ortools", "cpsat", "--solver cpsat") if name == "cpsat" else ("highspy", "optimize", "--optimize")
    )
    try:
        __import__(package)
    except ImportError:
        raise InputError(f"{option} needs the solver: pip install 'ketaplan[{extra}]'", field=option) from None
