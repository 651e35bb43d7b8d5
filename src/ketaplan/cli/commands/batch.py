"""`ketaplan batch FILE|-`: plan many requests; one JSON envelope per input row on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.app import batch as engine
from ketaplan.cli import common, options, output, sending
from ketaplan.cli.result import result
from ketaplan.core.errors import InputError, NoPlanError

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("batch")
def batch(
    file: str = typer.Argument(..., help="CSV (with a header row) or JSON Lines; - reads stdin."),
    fmt: str | None = typer.Option(None, "--format", help="csv or jsonl (default: detected from the content)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        callback=options.path_value,
        help="Folder for the files --ics and --pdf ask for, named by plan id.",
    ),
    ics: bool = typer.Option(False, "--ics", help="Write <plan-id>.ics for each plan into --out."),
    ics_details: bool = options.ICS_DETAILS,
    pdf: bool = typer.Option(False, "--pdf", help="Write <plan-id>.pdf (patient copy) for each plan into --out."),
    json_out: bool = typer.Option(
        False, "--json", help="stdout is always JSON Lines; with --optimize, no progress lines on stderr."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan, but book nothing."),
    suggest: bool = typer.Option(
        False, "--suggest", help="For requests with no plan, also search for changes that work (slower)."
    ),
    allow_past: bool = typer.Option(False, "--allow-past", help="Allow start dates before today."),
    by: str | None = options.BY,
    allow_overlap: bool = typer.Option(
        False,
        "--allow-overlap",
        help="Book a patient with an active plan over the same days (else: that row's error).",
    ),
    optimize: bool = typer.Option(
        False,
        "--optimize",
        help="Plan all rows together: book the most requests that fit at once (needs the solver: the optimize extra).",
    ),
    time_limit: float = options.TIME_LIMIT,
    solver: str = options.SOLVER,
    tie_limit: float = typer.Option(
        5.0,
        "--tie-limit",
        min=0.0,
        help="With --optimize: seconds for ties (priority, then line) once the most requests are proven planned.",
    ),
    gap: float = typer.Option(
        0.0,
        "--gap",
        min=0.0,
        max=1.0,
        help="With --optimize: stop once the answer is within this fraction of the best possible.",
    ),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    no_send: bool = options.NO_SEND,
) -> Batched:
    """Plan and book many requests in file order; exit 3 when some could not be planned."""
    from ketaplan.formats import batch_file as batch_input

    if fmt not in (None, "csv", "jsonl"):
        raise InputError(f"{fmt!r} is not csv or jsonl", field="--format")
    options.solver_name(solver)
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
        from ketaplan.cli.exports import Targets

        kinds = tuple(k for k, on in (("ics", ics), ("pdf", pdf)) if on)
        writer = Targets(out=out, out_kinds=kinds, ics_details=ics_details, keep_existing=True)
        progress = _Progress(total)

        def emit(outcome: Any) -> None:
            written = writer.write(outcome.plan, the_clinic) if outcome.plan is not None and not dry_run else []
            files = [str(p) for p in written]
            output.emit_json(outcome_json(outcome, files))
            progress.advance()

        from ketaplan.formats.contact import clinic_region

        region = clinic_region(the_clinic.holidays)
        rows = batch_input.rows(stream, source, fmt, allow_past=allow_past, region=region)
        the_ledger = common.open_ledger(ledger)
        common.note_other_clinics(the_ledger, the_clinic)
        settings = engine.Settings(
            the_clinic, today, span, dry_run, suggest, allow_overlap, common.now(the_clinic.zone), common.author(by)
        )
        if optimize:
            from ketaplan.app import optimize as joint_engine

            counts, summary = joint_engine.run(
                settings, the_ledger, rows, emit, time_limit=time_limit, gap=gap, tie_limit=tie_limit,
                solver=solver, log=sys.stderr.isatty() and not json_out,
                say=(lambda text: None) if json_out else output.notice,  # progress: silent with --json
            )  # fmt: skip
            output.notice(_solver_line(summary))
        else:
            with progress:
                counts = engine.run(settings, the_ledger, rows, emit)
        if not dry_run:
            sending.after_commit(the_ledger, the_clinic, no_send=no_send)
    return Batched(counts, dry_run)


def _solver_line(s: Any) -> str:
    """The --optimize summary: how many were planned and how far that may be from the best."""
    text = f"--optimize: {s.planned} of {s.candidates} requests that have a plan alone were planned together"
    if s.displaced:
        text += f" ({s.displaced} more gave way to bookings another desk made while the solver ran)"
    if s.proven or s.planned >= s.bound:
        ties = "ties of priority and line proven too" if s.ties_proven else "ties of priority and line: the best found"
        if s.settled is not None and s.seconds - s.settled >= 1:
            return (
                f"{text}; no answer plans more (proven after {s.settled:.1f} s); "
                f"{ties} in {s.seconds - s.settled:.1f} s more (--tie-limit)"
            )
        return f"{text}; no answer plans more (proven, {s.seconds:.1f} s); {ties}"
    gap = 100 * (s.bound - s.planned) / s.bound if s.bound else 0.0
    return (
        f"{text}; the solver stopped after {s.seconds:.1f} s before proving it: at most {s.bound} could be, "
        f"{s.bound - s.planned} more (gap {gap:.1f} %; raise --time-limit to search longer)"
    )


@result
class Batched(NamedTuple):
    """The batch's own answer: its rows went out as JSON Lines already, so only the
    summary is left (on stderr, for a person at a terminal) and the exit code."""

    counts: dict[str, int]
    dry_run: bool
    command: str = "batch"

    @property
    def partial(self) -> bool:
        return bool(self.counts["infeasible"] or self.counts["error"])

    @property
    def status(self) -> str:
        return "partial" if self.partial else "ok"

    def data(self) -> None:
        return None  # streamed: one envelope per row

    def show(self, console: Console) -> None:
        if not console.is_terminal:
            return
        from rich.table import Table

        c = self.counts
        t = Table(title="batch (dry run: nothing booked)" if self.dry_run else "batch", title_justify="left")
        for col in ("planned", "already booked", "no plan", "bad rows"):
            t.add_column(col, justify="right")
        t.add_row(str(c["ok"]), str(c["existing"]), str(c["infeasible"]), str(c["error"]))
        console.print(t)


def outcome_json(o: engine.Outcome, files: list[str]) -> dict[str, Any]:
    from ketaplan.cli.suggestions import as_json
    from ketaplan.formats.plan_json import envelope, plan_json

    data: dict[str, Any] = {"line": o.line, "request_id": o.request_id}
    errors = []
    if o.plan is not None:
        data.update(plan_json(o.plan, o.checks))
        data["existing"] = o.existing
        data["files"] = files
    if o.error is not None:
        err = o.error.as_json()
        if isinstance(err.get("field"), str) and err["field"].startswith("--"):
            err["field"] = err["field"][2:].replace("-", "_")  # a row's field is its column name
        errors.append(err)
        if isinstance(o.error, NoPlanError):
            data["explanation"] = o.error.explanation
            data["suggestions"] = [as_json(s) for s in o.error.suggestions]
    return envelope("batch", o.status, o.exit_code, data, errors)


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
