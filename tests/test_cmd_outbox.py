"""`ketaplan outbox`: what waits, why, and never whose beyond the plan id."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_json, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def test_an_empty_outbox_and_one_waiting_message(cli, tmp_path: Path, mail_server) -> None:
    clinic = write_clinic(tmp_path / "c.toml", smtp=mail_server.smtp_table())
    assert run_json(cli, "outbox", "--clinic", clinic)["data"] == {"messages": []}
    doc = run_json(
        cli, "schedule", "--clinic", clinic, "--patient", "Jane Roe", "--start", "2027-02-01", "--weeks", "3",
        "--email", "jane@example.org", "--no-send",
    )  # fmt: skip
    [m] = run_json(cli, "outbox", "--clinic", clinic)["data"]["messages"]
    assert m["plan_id"] == doc["data"]["plan_id"] and (m["channel"], m["kind"]) == ("email", "request")
    assert m["attempts"] == 0 and m["last_error"] is None and m["being_sent"] is False
    shown = cli("outbox", "--clinic", clinic).stdout
    assert "invitation to the patient" in shown and "Jane" not in shown and "jane@" not in shown
    assert "1 waiting" in shown


def test_a_patient_without_email_queues_nothing(cli, tmp_path: Path, mail_server) -> None:
    clinic = write_clinic(tmp_path / "c.toml", smtp=mail_server.smtp_table())
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", "No Mail", "--start", "2027-02-01")
    assert doc["data"]["delivery"] == {"sent": 0, "pending": 0, "errors": []}
    assert run_json(cli, "outbox", "--clinic", clinic)["data"]["messages"] == []
