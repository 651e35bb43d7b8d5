"""`ketaplan check FILE.ics`: run every planner rule on a series made anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.checks import CheckResult
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="The series as an .ics file (ours or another tool's)."),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> Checked:
    """Check a series from an .ics file against every rule; exit 3 when any is broken."""
    from ketaplan.app.audit import audit_series
    from ketaplan.formats.ics_import import read_series

    the_clinic = common.load_clinic(clinic)
    plan = read_series(file, the_clinic)
    the_ledger = common.open_ledger(ledger)
    current = None
    if the_ledger.exists() and plan.revision:
        with the_ledger.read() as tx:
            current = tx.revision_of(plan.plan_id)
    plan, results = audit_series(plan, the_clinic, the_ledger if the_ledger.exists() else None)
    stale = current if current is not None and current > plan.revision else None
    if stale is not None:
        common.notice(
            f"{file} is out of date: it holds revision {plan.revision} of {plan.plan_id}, which is now at "
            f"revision {stale}; export it again (ketaplan export {plan.plan_id})"
        )
    return Checked(plan, results, the_clinic, file, stale)


@result
class Checked(NamedTuple):
    plan: Plan
    results: list[CheckResult]
    clinic: Clinic
    file: Path
    current_revision: int | None  # the ledger's, when the file holds an older one
    command: str = "check"

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def status(self) -> str:
        return "ok" if self.ok else "infeasible"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        return {**plan_json(self.plan, self.results), "file": str(self.file), "current_revision": self.current_revision}

    def show(self, console: Console) -> None:
        _report(self.plan, self.results, self.clinic, self.file, console)


def _report(plan: Plan, results: list[CheckResult], clinic: Clinic, file: Path, console: Console) -> None:
    from rich.markup import escape

    from ketaplan.core.times import local

    problems: dict[str, list[str]] = {}
    for r in results:
        for label, reason in r.problems:
            problems.setdefault(label, []).append(f"{r.rule}: {reason}")
    from ketaplan.cli.render import listing, where

    t = listing(f"{escape(str(file))} · {len(plan.sessions)} sessions", f"times are local ({clinic.timezone})")
    for col in ("session", "day", "date", "time", "where", "result"):
        t.add_column(col, no_wrap=col != "result")
    for s in sorted(plan.sessions, key=lambda s: s.start):
        ls, le = local(s.start, clinic.zone), local(s.end, clinic.zone)
        found = problems.get(s.label, [])
        result = "[red]" + escape("; ".join(found)) + "[/]" if found else (s.status if not s.active else "[green]ok[/]")
        t.add_row(
            s.label,
            f"{ls:%a}",
            ls.date().isoformat(),
            f"{ls:%H:%M}-{le:%H:%M}",
            escape(where(s.resource) or "-"),
            result,
        )
    console.print(t)
    from ketaplan.cli import render

    for line in render.check_lines(results):
        console.print(line)
    if "series" in problems:
        console.print("[red]" + escape("; ".join(problems["series"])) + "[/]")
