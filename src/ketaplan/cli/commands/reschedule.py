"""`ketaplan reschedule PLAN_ID --session N`: move one session, keep every rule."""

from __future__ import annotations

from pathlib import Path

import typer

from ketaplan.cli import common, options, output
from ketaplan.core.dates import parse_date
from ketaplan.core.errors import InputError

app = typer.Typer()
KINDS = ("infusion", "consultation", "booster")


@app.command("reschedule")
def reschedule(
    plan_id: str = options.PLAN_ID,
    session: int = typer.Option(
        ..., "--session", help="Which session: infusion N (or booster N with --kind booster; 1 for the consultation)."
    ),
    kind: str = typer.Option("infusion", "--kind", help="infusion, consultation or booster."),
    from_: str | None = typer.Option(
        None, "--from", help="Earliest day for the new slot (default: today, from now on)."
    ),
    revision: int | None = options.REVISION,
    clinic: Path | None = options.CLINIC,
    ledger: Path | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> None:
    """Move one session of a booked plan to the best slot that keeps every rule."""
    from ketaplan.store.lifecycle import reschedule_in_ledger

    if kind not in KINDS:
        raise InputError(f"{kind!r} is not one of {', '.join(KINDS)}", field="--kind")
    the_clinic = common.load_clinic(clinic)
    today = common.today(the_clinic.zone)
    from_day = parse_date(from_, today=today, field="--from") if from_ else today
    if from_day < today:
        raise InputError(f"{from_day} is in the past", field="--from")
    result = reschedule_in_ledger(
        common.existing_ledger(ledger),
        the_clinic,
        plan_id,
        kind="maintenance" if kind == "booster" else kind,
        number=session,
        from_day=from_day,
        now=common.now(the_clinic.zone),
        expected=revision,
    )
    if json_out:
        from ketaplan.formats.plan_json import envelope, plan_json

        data = plan_json(result.plan)
        data["moved"] = [
            {
                "kind": a.kind,
                "number": a.number,
                "from": b.start.isoformat(),
                "to": a.start.isoformat(),
                "chair": a.chair,
            }
            for b, a in result.moved
        ]
        data["notes"] = result.notes
        output.emit_json(envelope("reschedule", "ok", 0, data))
        return
    from rich.markup import escape

    from ketaplan.cli import render
    from ketaplan.core.times import local

    console = output.out()
    for b, a in result.moved:
        lb, la = local(b.start, the_clinic.zone), local(a.start, the_clinic.zone)
        console.print(
            f"moved {a.label}: {lb:%a %Y-%m-%d %H:%M} -> [bold]{la:%a %Y-%m-%d %H:%M}[/] ({escape(a.resource or '')})"
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(render.plan_table(result.plan, the_clinic))
    console.print(
        f"{result.plan.plan_id} is now at revision {result.plan.revision}; export the .ics again for the patient"
    )
