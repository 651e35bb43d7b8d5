"""The patient's emails as a mail program reads them: parsed back with the `email`
package, whatever the names hold (no header injection)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from hypothesis import given, settings
from hypothesis import strategies as st

from ics_fixtures import case
from ketaplan.core.model import Patient
from ketaplan.formats.imip import invitation, reminder

HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type"}
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=120), clinic_name=st.text(min_size=1, max_size=60))
def test_hostile_names_never_add_a_header(name: str, clinic_name: str) -> None:
    plan, clinic, _ = case("chicago")
    plan = plan._replace(patient=Patient(name or "x"))
    clinic = clinic._replace(name=clinic_name.replace("\r", " ").replace("\n", " "))  # the file refuses breaks
    for msg in (
        invitation(plan, clinic, sender="Desk <desk@lakeside.example>", to="jane@example.org", kind="request",
                   change="booked", sessions=plan.active, now=NOW),
        reminder(plan, plan.active[1], clinic, sender="Desk <desk@lakeside.example>", to="jane@example.org", now=NOW),
    ):  # fmt: skip
        back = message_from_bytes(msg.as_bytes(), policy=policy.default)
        assert set(back.keys()) == HEADERS
        assert [a.addr_spec for a in back["To"].addresses] == ["jane@example.org"]
        assert [a.addr_spec for a in back["From"].addresses] == ["desk@lakeside.example"]


def test_a_reminder_says_no_more_than_it_must() -> None:
    plan, clinic, _ = case("chicago")
    msg = reminder(plan, plan.active[1], clinic, sender="Desk <desk@lakeside.example>", to="j@example.org", now=NOW)
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "ketamine" not in (text + msg["Subject"]).lower()
    assert msg["Subject"].startswith("Reminder: appointment on ")
    assert "\n\n\n" not in text  # no empty groups of lines
    opted = clinic._replace(privacy=clinic.privacy._replace(mention_treatment=True))
    assert "ketamine infusion 1 of 6" in reminder(plan, plan.active[1], opted, sender="d@x.example", to="j@example.org",
                                                  now=NOW)["Subject"]  # fmt: skip
