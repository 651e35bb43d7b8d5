"""`ketaplan day [DATE]`: the front desk's sheet: who sits in which chair at what time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options
from ketaplan.cli.result import result
from ketaplan.core.dates import parse_near
from ketaplan.core.errors import InputError
from ketaplan.core.model import BookedSession
from ketaplan.core.status import look
from ketaplan.formats.day_sheet import DaySheet

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("day")
def day(
    when: str = typer.Argument("today", help="The day: YYYY-MM-DD, today, tomorrow, '4 Dec'."),
    days: int = typer.Option(1, "--days", help="This many days from DATE (1-14): a week's sheets at once."),
    pdf: Path | None = options.PDF,
    html: Path | None = options.HTML,
    out: Path | None = typer.Option(
        None,
        "--out",
        callback=options.path_value,
        help="Write day-YYYY-MM-DD.pdf and .html (several days: days-FIRST-to-LAST) into this folder.",
    ),
    paper: str | None = options.PAPER,
    force: bool = options.FORCE,
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> DayShown:
    """Show a day's sessions (or --days N) by time, with chair, patient and status; print it."""
    from ketaplan.app.views import as_it_stands
    from ketaplan.core.clinic import check_paper
    from ketaplan.formats.day_sheet import day_sheet

    the_clinic = common.load_clinic(clinic)
    if paper is not None:
        check_paper(paper, "--paper")
    if not 1 <= days <= 14:
        raise InputError("must be from 1 to 14", field="--days")
    first = parse_near(when, today=common.today(the_clinic.zone), field="DATE")
    the_days = [first + timedelta(days=i) for i in range(days)]
    rows: dict[date, list[BookedSession]] = {d: [] for d in the_days}
    the_ledger = common.open_ledger(ledger)
    standing = as_it_stands(None, the_clinic)
    if the_ledger.exists():
        with the_ledger.read() as tx:
            for d in the_days:  # each local midnight to the next, DST or not
                start = datetime(d.year, d.month, d.day, tzinfo=the_clinic.zone)
                nxt = d + timedelta(days=1)
                end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=the_clinic.zone)
                rows[d] = tx.day_sessions(the_clinic.name, start, end, the_clinic.zone)
            standing = as_it_stands(tx, the_clinic)
        common.mention_conflicts(the_ledger, the_clinic)
    sheets = [day_sheet(standing, d, rows[d]) for d in the_days]
    written = _write(sheets, pdf, html, out, paper or the_clinic.paper, force, common.protected(the_clinic, the_ledger))
    return DayShown(sheets, written)


def _write(
    sheets: list[DaySheet],
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
        name = f"day-{sheets[0].day}" if len(sheets) == 1 else f"days-{sheets[0].day}-to-{sheets[-1].day}"
        targets += [("pdf", out / f"{name}.pdf", "--out"), ("html", out / f"{name}.html", "--out")]
    targets += [(kind, path, f"--{kind}") for kind, path in (("pdf", pdf), ("html", html)) if path is not None]
    for _, path, field in targets:  # every path checked before anything is written
        check_target(path, force=force, field=field, protected=protected)
    written = []
    for kind, path, field in targets:
        if kind == "pdf":
            from ketaplan.formats.day_sheet import day_pdf

            data = day_pdf(sheets, paper)
        else:
            from ketaplan.formats.day_sheet import day_html

            data = day_html(sheets, paper).encode("utf-8")
        written.append(write_private(path, data, force=force, field=field, protected=protected))
    return written


@result
class DayShown(NamedTuple):
    sheets: list[DaySheet]  # one per day asked for
    written: list[Path]
    command: str = "day"

    def data(self) -> dict[str, Any]:
        each = [_day_json(s) for s in self.sheets]
        # The first day's keys stay where one day's always were; `days` has every day.
        return {**each[0], "files": [str(p) for p in self.written], "days": each}

    def show(self, console: Console) -> None:
        for sheet in self.sheets:
            _show_day(sheet, console)
        for path in self.written:
            console.print(f"wrote {path}")


def _day_json(s: DaySheet) -> dict[str, Any]:
    sessions = [
        {
            "start": r.start.isoformat(),
            "end": r.end.isoformat(),
            "resource": r.resource,
            "patient": {"name": r.patient, "id": r.patient_id, "phone": r.phone},
            "kind": r.kind,
            "number": r.number,
            "of": r.of,
            "plan_id": r.plan_id,
            "status": r.status,
        }
        for r in s.rows
    ]
    return {
        "date": s.day.isoformat(),
        "clinic": s.clinic,
        "timezone": s.timezone,
        "closed": s.closed,
        "notes": list(s.notes),
        "sessions": sessions,
    }


def _show_day(s: DaySheet, console: Console) -> None:
    from rich.markup import escape

    from ketaplan.cli.render import listing, where
    from ketaplan.formats.day_sheet import cells, warnings

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
