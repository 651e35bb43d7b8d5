"""`ketaplan cancel PLAN_ID [--session N]`: cancel one session or the rest of the series."""

from __future__ import annotations

from pathlib import Path

import typer

from ketaplan.cli import common, options, output
from ketaplan.core.errors import InputError

app = typer.Typer()
KINDS = ("infusion", "consultation", "booster")


@app.command("cancel")
def cancel(
    plan_id: str = options.PLAN_ID,
    session: int | None = typer.Option(
        None, "--session", help="Cancel only this session (default: every session still to come)."
    ),
    kind: str = typer.Option("infusion", "--kind", help="With --session: infusion, consultation or booster."),
    revision: int | None = options.REVISION,
    ledger: Path | None = options.LEDGER,
    json_out: bool = options.JSON,
) -> None:
    """Cancel one session, or the rest of a series; frees the chairs."""
    from zoneinfo import ZoneInfo

    from ketaplan.store.lifecycle import cancel_in_ledger

    if kind not in KINDS:
        raise InputError(f"{kind!r} is not one of {', '.join(KINDS)}", field="--kind")
    the_ledger = common.existing_ledger(ledger)
    plan, _ = common.load_plan(the_ledger, plan_id)
    plan, cancelled = cancel_in_ledger(
        the_ledger,
        plan_id,
        kind="maintenance" if kind == "booster" else kind,
        number=session,
        now=common.now(ZoneInfo(plan.timezone)),
        expected=revision,
    )
    if json_out:
        from ketaplan.formats.plan_json import envelope, plan_json

        data = plan_json(plan)
        data["cancelled"] = [{"kind": s.kind, "number": s.number, "start": s.start.isoformat()} for s in cancelled]
        output.emit_json(envelope("cancel", "ok", 0, data))
        return
    console = output.out()
    for s in cancelled:
        console.print(f"cancelled {s.label} ({s.start:%a %Y-%m-%d %H:%M})")
    console.print(
        f"{plan.plan_id} is now at revision {plan.revision}; export the .ics again so the patient's calendar shows it"
    )
