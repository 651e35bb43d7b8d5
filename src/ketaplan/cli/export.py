"""`ketaplan export PLAN_ID`: the .ics and printable plan of a booked plan, again."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ketaplan.errors import InputError

from . import common, output

app = typer.Typer()


@app.command("export")
def export(
    plan_id: str = typer.Argument(..., help="The plan id, e.g. KP-7K2M9QXD."),
    ics: Optional[Path] = typer.Option(None, "--ics", help="Write the calendar file (.ics) here."),
    ics_details: bool = typer.Option(False, "--ics-details", help="Put the patient's name and 'ketamine infusion' in the .ics."),
    pdf: Optional[Path] = typer.Option(None, "--pdf", help="Write the printable plan (PDF) here."),
    html: Optional[Path] = typer.Option(None, "--html", help="Write the printable plan (HTML) here."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write <plan-id>.ics, .pdf and .html into this folder."),
    copy: str = typer.Option("patient", "--copy", help="Printable copy: patient, coordinator or both."),
    paper: Optional[str] = typer.Option(None, "--paper", help="A4 or Letter (default: the clinic file's paper)."),
    force: bool = typer.Option(False, "--force", help="Replace output files that exist."),
    clinic: Optional[Path] = typer.Option(None, "--clinic", help="Clinic file (default: as for schedule)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Ledger file (default: as for schedule)."),
) -> None:
    """Write a booked plan's .ics (same UIDs, SEQUENCE = revision) and printable plan."""
    from .exports import Targets

    if ics is None and pdf is None and html is None and out is None:
        raise InputError("nothing to write; give --ics, --pdf, --html or --out", field="--ics")
    targets = Targets.from_options(ics=ics, pdf=pdf, html=html, out=out, copy=copy, force=force, ics_details=ics_details, paper=paper)
    targets.check_writable()
    plan, _ = common.load_plan(common.existing_ledger(ledger), plan_id)
    the_clinic = common.load_clinic(clinic)
    if plan.clinic != the_clinic.name:
        raise InputError(f"plan {plan.plan_id} belongs to {plan.clinic!r}; give --clinic with that clinic's file", field="--clinic")
    for path in targets.write(plan, the_clinic):
        output.out().print(f"wrote {path}")
