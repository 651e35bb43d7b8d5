"""`ketaplan remind`: one reminder per session and time, by email through the outbox
(a real SMTP server, tests/mail_server.py) and as JSON lines for an SMS gateway script."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from helpers import run_json, sessions, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def reminded_clinic(tmp_path: Path, server: Any | None, **more: Any) -> Path:
    tables = {"smtp": server.smtp_table()} if server is not None else {}
    return write_clinic(tmp_path / "c.toml", phone="+1 555 0100", **tables, **more)


def book(cli, clinic: Path, patient: str, *contact: str) -> dict:
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", patient, "--start", "2027-02-01", "--weeks", "3",
                   *contact)  # fmt: skip
    assert doc["status"] == "ok", doc
    return doc["data"]


def day_of(data: dict, number: int) -> str:
    return sessions(data)[number]["start"][:10]


def test_one_reminder_email_per_session_and_a_second_run_sends_nothing_new(cli, tmp_path: Path, mail_server) -> None:
    clinic = reminded_clinic(tmp_path, mail_server)
    data = book(cli, clinic, "Jane Roe", "--email", "jane@example.org")
    book(cli, clinic, "No Contact")  # nobody to remind: counted, nothing sent
    day = day_of(data, 2)
    before = len(mail_server.messages())
    first = run_json(cli, "remind", day, "--clinic", clinic)
    assert first["status"] == "ok", first
    assert first["data"]["emails"] == 1 and first["data"]["unreachable"] == 1
    assert first["data"]["delivery"] == {"sent": 1, "pending": 0, "errors": []}
    [msg] = mail_server.messages()[before:]
    assert msg["To"].addresses[0].addr_spec == "jane@example.org"
    assert msg["Subject"].startswith("Reminder: appointment on ")
    body = msg.get_body(("plain",)).get_content()
    start = sessions(data)[2]["start"]
    assert start[11:16] in body and start[11:16] in msg["Subject"]
    assert "ketamine" not in (str(msg["Subject"]) + body).lower()  # minimal health information by default
    again = run_json(cli, "remind", day, "--clinic", clinic)
    assert again["data"]["emails"] == 0 and again["data"]["already"] == 1
    assert len(mail_server.messages()) == before + 1


def test_default_day_is_tomorrow_and_past_sessions_get_none(cli, tmp_path: Path, mail_server, monkeypatch) -> None:
    clinic = reminded_clinic(tmp_path, mail_server)
    data = book(cli, clinic, "Jane Roe", "--email", "jane@example.org")
    day = day_of(data, 3)
    from datetime import date, timedelta

    monkeypatch.setenv("KETAPLAN_TODAY", (date.fromisoformat(day) - timedelta(days=1)).isoformat())
    doc = run_json(cli, "remind", "--clinic", clinic, "--no-send")
    assert doc["data"]["date"] == day and doc["data"]["emails"] == 1
    monkeypatch.delenv("KETAPLAN_TODAY")
    monkeypatch.setenv("KETAPLAN_NOW", sessions(data)[4]["start"][:19])  # that session has begun
    late = run_json(cli, "remind", day_of(data, 4), "--clinic", clinic, "--no-send")
    assert late["data"]["sessions_due"] == 0 and late["data"]["emails"] == 0


def test_a_moved_session_gets_a_reminder_for_its_new_time_and_none_for_the_old(
    cli, tmp_path: Path, mail_server
) -> None:
    clinic = reminded_clinic(tmp_path, mail_server)
    data = book(cli, clinic, "Jane Roe", "--email", "jane@example.org")
    pid, day = data["plan_id"], day_of(data, 2)
    queued = run_json(cli, "remind", day, "--clinic", clinic, "--no-send")
    assert queued["data"]["emails"] == 1
    old = sessions(data)[2]["start"]
    moved = run_json(cli, "reschedule", pid, "--session", "2", "--to", day, "--at", "13:00", "--clinic", clinic,
                     "--no-send")  # fmt: skip
    assert moved["status"] == "ok", moved
    new = sessions(moved["data"])[2]["start"]
    assert new != old
    count = len(mail_server.messages())
    run_json(cli, "send", "--clinic", clinic)
    subjects = [str(m["Subject"]) for m in mail_server.messages()[count:]]
    assert not any(s.startswith("Reminder") for s in subjects)  # the old time's reminder would mislead
    fresh = run_json(cli, "remind", day, "--clinic", clinic)
    assert fresh["data"]["emails"] == 1 and fresh["data"]["delivery"]["sent"] == 1
    assert mail_server.messages()[-1]["Subject"].endswith("at 13:00")


def test_jsonl_lines_for_an_sms_gateway_once_each(cli, tmp_path: Path) -> None:
    clinic = reminded_clinic(tmp_path, None)
    data = book(cli, clinic, "Jane Roe", "--phone", "+1 312 555 0142")
    book(cli, clinic, "Email Only", "--email", "only@example.org")  # no [smtp], no phone: unreachable
    day = day_of(data, 1)
    out = tmp_path / "texts.jsonl"
    doc = run_json(cli, "remind", day, "--clinic", clinic, "--jsonl", out)
    assert doc["status"] == "ok", doc
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["phone"] for x in lines] == ["+13125550142"]
    start = sessions(data)[1]["start"]
    assert lines[0]["start"] == start and lines[0]["local_time"] == start[11:16]
    assert start[11:16] in lines[0]["text"] and "555 0100" in lines[0]["text"]
    assert "ketamine" not in lines[0]["text"].lower() and "Test Clinic" not in lines[0]["text"]
    assert doc["data"]["unreachable"] == 1 and doc["data"]["texts"] == lines
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # phone numbers are patient data
    again = run_json(cli, "remind", day, "--clinic", clinic, "--jsonl", out, "--force")
    assert again["data"]["texts"] == [] and again["data"]["already"] == 1
    assert out.read_text() == ""
    refused = cli("remind", day, "--clinic", clinic, "--jsonl", out)  # exists, no --force: nothing recorded
    assert refused.exit_code == 2 and "--jsonl" in refused.stderr


def test_jsonl_to_stdout_and_the_treatment_only_when_the_clinic_opts_in(cli, tmp_path: Path) -> None:
    clinic = reminded_clinic(tmp_path, None, privacy={"mention_treatment": True})
    data = book(cli, clinic, "Jane Roe", "--phone", "+1 312 555 0142")
    r = cli("remind", day_of(data, 1), "--clinic", clinic, "--jsonl", "-")
    assert r.exit_code == 0, r.stderr
    [line] = [json.loads(x) for x in r.stdout.splitlines()]
    assert "ketamine infusion 1 of 6" in line["text"] and "Test Clinic" in line["text"]
    assert "1 text line written" in r.stderr
    both = cli("remind", day_of(data, 1), "--clinic", clinic, "--jsonl", "-", "--json")
    assert both.exit_code == 2 and json.loads(both.stdout)["errors"][0]["field"] == "--jsonl"


def test_no_way_to_remind_is_named(cli, tmp_path: Path) -> None:
    clinic = reminded_clinic(tmp_path, None)
    r = cli("remind", "--clinic", clinic)
    assert r.exit_code == 2 and "[smtp]" in r.stderr and "--jsonl" in r.stderr
