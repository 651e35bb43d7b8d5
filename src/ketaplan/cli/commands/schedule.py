"""`ketaplan schedule`: plan one patient's series and book it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.app.booking import plan_and_book
from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.checks import CheckResult
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Plan
from ketaplan.core.requests import RequestFields, build_request

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("schedule")
@options.with_exports
def schedule(
    patient: str = typer.Option(
        ..., "--patient", help="Patient's name (kept out of file names and, by default, the .ics)."
    ),
    start: str = typer.Option(
        ..., "--start", help="First day of the window: YYYY-MM-DD, today, tomorrow, '1 Dec 2026'."
    ),
    patient_id: str | None = typer.Option(None, "--patient-id", help="The clinic's patient id."),
    email: str | None = options.EMAIL,
    phone: str | None = options.PHONE,
    lang: str | None = options.LANG,
    weeks: int | None = typer.Option(
        None, "--weeks", help="Window of 2 or 3 weeks (14 or 21 days). Default: the protocol's longest window."
    ),
    end: str | None = typer.Option(None, "--end", help="Last day of the window (instead of --weeks)."),
    clinic: Path | None = options.CLINIC,
    days: str | None = typer.Option(None, "--days", help="Weekdays the patient can come, e.g. mon,wed,fri."),
    earliest: str | None = typer.Option(None, "--earliest", help="No session starts before HH:MM."),
    latest: str | None = typer.Option(None, "--latest", help="Every session ends by HH:MM."),
    unavailable: str | None = typer.Option(
        None, "--unavailable", help="Days the patient cannot come: DATE,DATE or DATE/DATE ranges."
    ),
    no_consultation: bool = typer.Option(
        False, "--no-consultation", help="Plan no consultation (it was held already)."
    ),
    maintenance: int = typer.Option(0, "--maintenance", help="Plan N maintenance boosters after the series."),
    json_out: bool = options.JSON,
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan, but book nothing."),
    allow_past: bool = typer.Option(
        False, "--allow-past", help="Allow a start before today (re-entering a series under way)."
    ),
    allow_overlap: bool = typer.Option(
        False, "--allow-overlap", help="Book even when this patient has an active plan over these days."
    ),
    ledger: str | None = options.LEDGER,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    no_send: bool = options.NO_SEND,
    attach_plan: bool = options.ATTACH_PLAN,
    exports: options.ExportOptions | None = None,
) -> Scheduled:
    """Plan a patient's infusion series in the chosen window and book it in the ledger."""
    the_clinic = common.load_clinic(clinic)
    lang = options.language(lang)
    request = build_request(
        RequestFields(
            patient=patient,
            start=start,
            patient_id=patient_id,
            weeks=weeks,
            end=end,
            days=days,
            earliest=earliest,
            latest=latest,
            unavailable=unavailable,
            consultation=not no_consultation,
            maintenance=maintenance,
            allow_past=allow_past,
        ),
        the_clinic,
        common.today(the_clinic.zone),
        common.now(the_clinic.zone),  # the minimum notice counts from now
    )
    from ketaplan.core.dates import read_as_next_year

    reach = None
    if email or phone:  # the validators load only when a contact is given
        from ketaplan.formats.contact import clinic_region, parse_contact

        reach = parse_contact(email, phone, clinic_region(the_clinic.holidays))

    today = common.today(the_clinic.zone)
    for flag, text, day in (("--start", start, request.first_day), ("--end", end, request.last_day)):
        if text and read_as_next_year(text, day, today):
            common.notice(f"{flag} {text!r} is read as {day:%a %b %d, %Y} (next year); give the year to mean another")

    files = None
    the_ledger = common.open_ledger(ledger)
    if exports is not None and exports.wanted:
        from ketaplan.cli.exports import writer  # a dataclass and the renderers: only when asked

        # checked before booking: a bad path (or the ledger itself) books nothing
        files = writer(the_clinic, exports, common.protected(the_clinic, the_ledger))
    common.note_other_clinics(the_ledger, the_clinic)
    plan, results = plan_and_book(
        the_clinic,
        request,
        the_ledger,
        dry_run=dry_run,
        allow_overlap=allow_overlap,
        now=common.now(the_clinic.zone),
        author=common.author(by, reason),
        contact=reach,
        lang=lang,
    )
    if files is not None and dry_run:
        files.preview(plan)
    elif files is not None:
        files.after_commit(plan)
    if not dry_run:
        sending.after_commit(the_ledger, the_clinic, no_send=no_send, attach_plan=attach_plan)
    return Scheduled(plan, results, the_clinic, files.written if files else [], dry_run)


@result
class Scheduled(NamedTuple):
    plan: Plan
    results: list[CheckResult]
    clinic: Clinic
    written: list[Path]
    dry_run: bool
    command: str = "schedule"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import plan_json

        data = plan_json(self.plan, self.results)
        data["dry_run"] = self.dry_run
        data["files"] = [str(p) for p in self.written]
        return data

    def show(self, console: Console) -> None:
        from ketaplan.cli import render

        console.print(render.plan_table(self.plan, self.clinic))
        console.print(render.calendar(self.plan, self.clinic))
        for line in render.check_lines(self.results):
            console.print(line)
        for path in self.written:
            console.print(f"wrote {path}")
        console.print(
            "[yellow]dry run: nothing booked[/]" if self.dry_run else f"booked {self.plan.plan_id} in the ledger"
        )
