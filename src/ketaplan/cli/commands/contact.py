"""`ketaplan contact PLAN_ID [--email ADDRESS] [--phone NUMBER]`: how to reach the patient."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import typer

from ketaplan.cli import common, options, sending
from ketaplan.cli.result import result
from ketaplan.core.model import Plan

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer()


@app.command("contact")
def contact(
    plan_id: str = options.PLAN_ID,
    email: str | None = options.EMAIL,
    phone: str | None = options.PHONE,
    lang: str | None = typer.Option(
        None,
        "--lang",
        metavar="LANG",
        help="The language of the patient's papers: en, es, fr, de (\"\" for the clinic's).",
    ),
    clinic: Path | None = options.CLINIC,
    ledger: str | None = options.LEDGER,
    json_out: bool = options.JSON,
    by: str | None = options.BY,
    reason: str | None = options.REASON,
    no_send: bool = options.NO_SEND,
    attach_plan: bool = options.ATTACH_PLAN,
) -> ContactShown:
    """Show or change the patient's email and phone ("" removes one); a new email gets the invitation."""
    the_clinic = common.load_clinic(clinic)
    the_ledger = common.existing_ledger(ledger)
    lang = options.language(lang) if lang else lang
    if email is None and phone is None and lang is None:
        with the_ledger.read() as tx:
            return ContactShown(tx.load_plan(plan_id)[0], False)
    from ketaplan.app.contact import change_contact
    from ketaplan.formats.contact import clinic_region, parse_email, parse_phone

    plan = change_contact(
        the_ledger,
        the_clinic,
        plan_id,
        email=parse_email(email) if email else email,
        phone=parse_phone(phone, clinic_region(the_clinic.holidays)) if phone else phone,
        now=common.now(the_clinic.zone),
        author=common.author(by, reason),
        lang=lang,
    )
    sending.after_commit(the_ledger, the_clinic, no_send=no_send, attach_plan=attach_plan)
    return ContactShown(plan, True)


@result
class ContactShown(NamedTuple):
    plan: Plan
    changed: bool
    command: str = "contact"

    def data(self) -> dict[str, Any]:
        from ketaplan.formats.plan_json import contact_json

        plan = self.plan
        return {"plan_id": plan.plan_id, "revision": plan.revision, "contact": contact_json(plan), "lang": plan.lang}

    def show(self, console: Console) -> None:
        from rich.markup import escape

        c = self.data()["contact"]
        console.print(f"{self.plan.plan_id}: email {escape(c['email'] or '(none)')}, phone {c['phone'] or '(none)'}")
        if self.changed:
            console.print(f"{self.plan.plan_id} is at revision {self.plan.revision}")
