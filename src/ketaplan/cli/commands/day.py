"""`ketaplan day [DATE]`: the front desk's sheet: who sits in which chair at what time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.dates import parse_near
from ketaplan.core.model import BookedSession
from ketaplan.core.status import look
from ketaplan.formats.day_sheet import DaySheet

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("day")
def day(
    when: str = typer.Argument("today", help="The day: YYYY-MM-DD, today, tomorrow, '4 Dec'."),
    pdf: Path | None = options.PDF,
    html: Path | None = options.HTML,
    out: Path | None = typer.Option(
        None, "--out", callback=options.path_value, help="Write day-YYYY-MM-DD.pdf and .html into this folder."
    ),
    paper: str | None = options.PAPER,
    force: bool = options.FORCE,
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> DayShown:
    """Show one day's sessions by chair and room, with patients and status; print it."""
    from ketaplan.app.views import as_it_stands
    from ketaplan.core.clinic import check_paper
    from ketaplan.formats.day_sheet import day_sheet

    the_clinic = common.load_clinic(clinic)
    if paper is not None:
        check_paper(paper, "--paper")
    the_day = parse_near(when, today=common.today(the_clinic.zone), field="DATE")
    start = datetime(the_day.year, the_day.month, the_day.day, tzinfo=the_clinic.zone)
    end = start + timedelta(days=1)
    end = datetime(end.year, end.month, end.day, tzinfo=the_clinic.zone)  # the next local midnight, DST or not
    rows: list[BookedSession] = []
    the_ledger = common.open_ledger(ledger)
    standing = as_it_stands(None, the_clinic)
    if the_ledger.exists():
        with the_ledger.read() as tx:
            rows = tx.day_sessions(the_clinic.name, start, end, the_clinic.zone)
            standing = as_it_stands(tx, the_clinic)
        common.mention_conflicts(the_ledger, the_clinic)
    sheet = day_sheet(standing, the_day, rows)
    written = _write(sheet, pdf, html, out, paper or the_clinic.paper, force, common.protected(the_clinic, the_ledger))
    return DayShown(sheet, written)


def _write(
    sheet: DaySheet,
    pdf: Path | None,
    html: Path | None,
    out: Path | None,
    paper: str,
    force: bool,
    protected: dict[Path, str],
) -> list[Path]:
    """The printable sheet, named by the day (never by a patient), 0600 and atomic."""
    from ketaplan.store.files import check_target, ensure_folder, write_private

    targets: list[tuple[str, Path, str]] = []
    if out is not None:
        ensure_folder(out, field="--out")
        targets += [("pdf", out / f"day-{sheet.day}.pdf", "--out"), ("html", out / f"day-{sheet.day}.html", "--out")]
    targets += [(kind, path, f"--{kind}") for kind, path in (("pdf", pdf), ("html", html)) if path is not None]
    for _, path, field in targets:  # every path checked before anything is written
        check_target(path, force=force, field=field, protected=protected)
    written = []
    for kind, path, field in targets:
        if kind == "pdf":
            from ketaplan.formats.day_sheet import day_pdf

            data = day_pdf(sheet, paper)
        else:
            from ketaplan.formats.day_sheet import day_html

            data = day_html(sheet, paper).encode("utf-8")
        written.append(write_private(path, data, force=force, field=field, protected=protected))
    return written


@result
class DayShown(NamedTuple):
    sheet: DaySheet
    written: list[Path]
    command: str = "day"

    def data(self) -> dict[str, Any]:
        s = self.sheet
        sessions = [
            {
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "resource": r.resource,
                "patient": {"name": r.patient, "id": r.patient_id},
                "kind": r.kind,
                "number": r.number,
                "of": r.of,
                "plan_id": r.plan_id,
                "status": r.status,
            }
            for r in s.rows
        ]
        files = [str(p) for p in self.written]
        return {
            "date": s.day.isoformat(),
            "clinic": s.clinic,
            "timezone": s.timezone,
            "closed": s.closed,
            "notes": list(s.notes),
            "sessions": sessions,
            "files": files,
        }

    def show(self, console: Console) -> None:
        from rich.markup import escape

        from ketaplan.cli.render import listing, where
        from ketaplan.formats.day_sheet import cells, warnings

        s = self.sheet
        t = listing(f"{escape(s.clinic)} · {s.day_text}", f"times are local ({s.timezone})")
        for col in ("time", "where", "patient", "session", "plan", "status"):
            t.add_column(col, no_wrap=col != "patient")
        for r in s.rows:
            time, place, who, _, plan, status, _ = cells(r)
            what = r.what.replace(" of ", "/")
            style = "dim strike" if look(r.status).struck else None
            t.add_row(time, escape(where(place)), escape(who), what, plan, status, style=style)
        for line in warnings(s):
            console.print(f"[bold yellow]{escape(line)}[/]", soft_wrap=True)
        console.print(t if s.rows else f"no sessions on {s.day_text}")
        for path in self.written:
            console.print(f"wrote {path}")
