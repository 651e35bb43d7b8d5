"""`ketaplan batch FILE|-`: plan many requests; one JSON envelope per input row on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ketaplan.cli import common, options, output
from ketaplan.core.errors import ExitCode, InputError

app = typer.Typer()


@app.command("batch")
def batch(
    file: str = typer.Argument(..., help="CSV (with a header row) or JSON Lines; - reads stdin."),
    fmt: str | None = typer.Option(None, "--format", help="csv or jsonl (default: detected from the content)."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the files --ics and --pdf ask for, named by plan id."
    ),
    ics: bool = typer.Option(False, "--ics", help="Write <plan-id>.ics for each plan into --out."),
    ics_details: bool = options.ICS_DETAILS,
    pdf: bool = typer.Option(False, "--pdf", help="Write <plan-id>.pdf (patient copy) for each plan into --out."),
    json_out: bool = typer.Option(False, "--json", help="Accepted for symmetry: stdout is always JSON Lines."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan, but book nothing."),
    suggest: bool = typer.Option(
        False, "--suggest", help="For requests with no plan, also search for changes that work (slower)."
    ),
    allow_past: bool = typer.Option(False, "--allow-past", help="Allow start dates before today."),
    clinic: Path | None = options.CLINIC,
    ledger: Path | None = options.LEDGER,
) -> None:
    """Plan and book many requests in file order; exit 3 when some could not be planned."""
    from ketaplan.formats import batch_file as batch_input
    from ketaplan.store import batch as engine

    if fmt not in (None, "csv", "jsonl"):
        raise InputError(f"{fmt!r} is not csv or jsonl", field="--format")
    if (ics or pdf) and out is None:
        raise InputError("--ics and --pdf write into a folder; give --out DIR", field="--out")
    the_clinic = common.load_clinic(clinic)
    today = common.today(the_clinic.zone)
    stream, source = batch_input.open_source(file, sys.stdin.buffer)
    with stream:
        fmt = fmt or batch_input.detect(stream, source)
        stream.seek(0)
        total, starts = batch_input.check_file(stream, source, fmt)
        stream.seek(0)
        if out is not None and (ics or pdf) and not dry_run:
            from ketaplan.store.files import ensure_folder

            ensure_folder(out, field="--out")  # once the file is known to be usable
        span = engine.batch_span(the_clinic, starts, today)
        writer = _Writer(out, ics, pdf, ics_details, the_clinic)
        progress = _Progress(total)

        def emit(outcome: Any) -> None:
            files = writer.write(outcome.plan) if outcome.plan is not None and not dry_run else []
            output.emit_json(engine.outcome_json(outcome, files))
            progress.advance()

        rows = batch_input.rows(stream, source, fmt, allow_past=allow_past)
        the_ledger = common.open_ledger(ledger)
        common.note_other_clinics(the_ledger, the_clinic)
        with progress:
            counts = engine.run(
                the_clinic, the_ledger, rows, today=today, span=span, dry_run=dry_run, emit=emit, suggest=suggest
            )
    _summary(counts, dry_run)
    if counts["infeasible"] or counts["error"]:
        raise typer.Exit(int(ExitCode.NO_PLAN))


class _Writer:
    """Files named by plan id, written after the plan's group is committed; a re-run
    writes those a killed run did not get to, and leaves existing ones alone."""

    def __init__(self, out: Path | None, ics: bool, pdf: bool, details: bool, clinic: Any) -> None:
        self.out, self.ics, self.pdf, self.details, self.clinic = out, ics, pdf, details, clinic

    def write(self, plan: Any) -> list[str]:
        from ketaplan.store.files import write_private

        written: list[str] = []
        if self.out is None:
            return written
        if self.ics:
            path = self.out / f"{plan.plan_id}.ics"
            if not path.exists():
                from ketaplan.formats.ics_export import plan_to_ics

                write_private(path, plan_to_ics(plan, self.clinic, details=self.details), force=False, field="--out")
            written.append(str(path))
        if self.pdf:
            path = self.out / f"{plan.plan_id}.pdf"
            if not path.exists():
                from ketaplan.formats.pdf import plan_pdf

                write_private(path, plan_pdf(plan, self.clinic), force=False, field="--out")
            written.append(str(path))
        return written


class _Progress:
    """A transient bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            # redirect_stdout=False: Rich would otherwise route our JSON Lines to the terminal
            self.bar = Progress(
                console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("planning", total=self.total)
        return self

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _summary(counts: dict[str, int], dry_run: bool) -> None:
    if not sys.stderr.isatty():
        return
    from rich.table import Table

    t = Table(title="batch (dry run: nothing booked)" if dry_run else "batch", title_justify="left")
    for col in ("planned", "already booked", "no plan", "bad rows"):
        t.add_column(col, justify="right")
    t.add_row(str(counts["ok"]), str(counts["existing"]), str(counts["infeasible"]), str(counts["error"]))
    output.err().print(t)
