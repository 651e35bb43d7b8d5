"""`ketaplan send` and the messages every change queues, against a real SMTP server
(tests/mail_server.py: STARTTLS, AUTH). Each email is read back with the `email`
package, and its calendar part with two parsers (icalendar and vobject)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import run_json, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def smtp_clinic(tmp_path: Path, server: Any, **more: Any) -> Path:
    return write_clinic(tmp_path / "c.toml", smtp=server.smtp_table(), **more)


def calendar_of(msg: Any) -> tuple[str, bytes]:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), part.get_content().encode()


def book_with_email(cli, clinic: Path, *extra: str) -> dict:
    doc = run_json(
        cli, "schedule", "--clinic", clinic, "--patient", "Jane Roe", "--start", "2027-02-01", "--weeks", "3",
        "--email", "jane@example.org", *extra,
    )  # fmt: skip
    assert doc["status"] == "ok", doc
    return doc["data"]


def test_schedule_sends_an_imip_invitation_with_the_export_uids(cli, tmp_path: Path, mail_server) -> None:
    import icalendar
    import vobject

    clinic = smtp_clinic(tmp_path, mail_server)
    data = book_with_email(cli, clinic)
    assert data["delivery"] == {"sent": 1, "pending": 0, "errors": []}
    [msg] = mail_server.messages()
    assert msg["To"].addresses[0].addr_spec == "jane@example.org"
    assert msg["From"].addresses[0].addr_spec == "desk@lakeside.example"
    assert "ketamine" not in msg["Subject"].lower() and "Lakeside" not in msg["Subject"]
    assert {p.get_content_type() for p in msg.walk()} >= {"text/plain", "text/html", "text/calendar"}
    method, ics = calendar_of(msg)
    assert method == "REQUEST"
    cal = icalendar.Calendar.from_ical(ics)
    assert str(cal["METHOD"]) == "REQUEST"
    events = [c for c in cal.walk("VEVENT")]
    assert cli("export", data["plan_id"], "--clinic", clinic, "--ics", tmp_path / "p.ics").exit_code == 0
    exported = icalendar.Calendar.from_ical((tmp_path / "p.ics").read_bytes())
    assert {str(e["UID"]) for e in events} == {str(e["UID"]) for e in exported.walk("VEVENT")}
    assert all(str(e["ATTENDEE"]) == "mailto:jane@example.org" for e in events)
    assert all(str(e["ORGANIZER"]) == "mailto:desk@lakeside.example" for e in events)
    other = vobject.readOne(ics.decode())  # a second, independent parser agrees
    assert other.method.value == "REQUEST" and len(other.vevent_list) == len(events) == 7
    again = run_json(cli, "send", "--clinic", clinic)
    assert again["data"] == {"sent": 0, "pending": 0, "errors": []}, again["errors"]


def test_a_server_down_never_undoes_a_change_and_send_delivers_each_once(cli, tmp_path: Path, mail_server) -> None:
    """Stopped during schedule, reschedule and cancel: each change stands, its messages
    wait with the reason; after the restart `send` delivers each exactly once."""
    clinic = smtp_clinic(tmp_path, mail_server)
    mail_server.stop()
    data = book_with_email(cli, clinic)
    assert data["delivery"]["sent"] == 0 and data["delivery"]["pending"] == 1
    assert "connection refused" in data["delivery"]["errors"][0]
    pid = data["plan_id"]
    moved = run_json(cli, "reschedule", pid, "--session", "3", "--from", "2027-02-08", "--clinic", clinic)
    assert moved["status"] == "ok" and moved["data"]["delivery"]["pending"] == 1  # the one invitation, latest times
    cancelled = run_json(cli, "cancel", pid, "--session", "6", "--clinic", clinic)
    assert cancelled["status"] == "ok" and cancelled["data"]["delivery"]["pending"] == 2
    waiting = run_json(cli, "outbox", "--clinic", clinic)["data"]["messages"]
    assert [(m["kind"], m["attempts"] > 0) for m in waiting] == [("request", True), ("cancel", True)]
    assert all("connection refused" in m["last_error"] for m in waiting)
    refused = cli("send", "--clinic", clinic, "--json")
    assert refused.exit_code == 3  # partial: still waiting
    mail_server.start()
    sent = run_json(cli, "send", "--clinic", clinic)
    assert sent["exit_code"] == 0 and sent["data"] == {"sent": 2, "pending": 0, "errors": []}
    methods = sorted(calendar_of(m)[0] for m in mail_server.messages())
    assert methods == ["CANCEL", "REQUEST"]
    assert run_json(cli, "send", "--clinic", clinic)["data"]["sent"] == 0  # nothing new
    assert len(mail_server.messages()) == 2
    assert run_json(cli, "outbox", "--clinic", clinic)["data"]["messages"] == []


def test_no_send_queues_and_send_attaches_the_plan(cli, tmp_path: Path, mail_server) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    clinic = smtp_clinic(tmp_path, mail_server)
    data = book_with_email(cli, clinic, "--no-send")
    assert data["delivery"] == {"sent": 0, "pending": 1, "errors": []}
    assert mail_server.messages() == []
    assert run_json(cli, "send", "--clinic", clinic, "--attach-plan")["data"]["sent"] == 1
    [msg] = mail_server.messages()
    pdf = next(p for p in msg.walk() if p.get_content_type() == "application/pdf")
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf.get_content())).pages)
    assert data["plan_id"] in text and "Jane Roe" in text  # the patient copy, read back


@pytest.mark.sqlite_only  # the server makes the client wait out its timeout (20 s) after a wrong password
def test_a_wrong_password_is_named_and_the_message_waits(cli, tmp_path: Path, mail_server, monkeypatch) -> None:
    clinic = smtp_clinic(tmp_path, mail_server)
    monkeypatch.setenv("KETAPLAN_TEST_SMTP_PASSWORD", "wrong")
    data = book_with_email(cli, clinic)
    assert data["delivery"]["pending"] == 1
    assert "username or password" in data["delivery"]["errors"][0]
    assert "wrong" not in str(data["delivery"])
    monkeypatch.delenv("KETAPLAN_TEST_SMTP_PASSWORD")
    result = cli("send", "--clinic", clinic)
    assert result.exit_code == 3 and "KETAPLAN_TEST_SMTP_PASSWORD (password_env) is not set" in result.stdout


def test_without_smtp_send_says_there_is_nowhere_to_send(cli, clinic_file: Path) -> None:
    result = cli("send", "--clinic", clinic_file)
    assert result.exit_code == 2 and "[smtp]" in result.stderr


def _queue_for(cli, clinic: Path, n: int) -> list[str]:
    ids = []
    for k in range(n):
        doc = run_json(
            cli, "schedule", "--clinic", clinic, "--patient", f"P{k}", "--start", "2027-02-01", "--weeks", "3",
            "--email", f"p{k}@example.org", "--no-send",
        )  # fmt: skip
        assert doc["status"] == "ok", doc
        ids.append(doc["data"]["plan_id"])
    return ids


def _plans_reached(server: Any) -> list[str]:
    """The plan each received invitation is for (from its calendar part's UIDs)."""
    import icalendar

    out = []
    for msg in server.messages():
        cal = icalendar.Calendar.from_ical(calendar_of(msg)[1])
        uid = str(next(iter(cal.walk("VEVENT")))["UID"])  # KP-XXXX-kind-n@ketaplan
        out.append("-".join(uid.split("-")[:2]))
    return out


def _send_process(clinic: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ketaplan", "send", "--clinic", str(clinic), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_two_desks_sending_at_once_send_each_message_once(cli, tmp_path: Path, mail_server) -> None:
    clinic = smtp_clinic(tmp_path, mail_server)
    ids = _queue_for(cli, clinic, 6)
    mail_server.handler.delay = 0.2  # slow enough for the two to overlap
    a, b = _send_process(clinic), _send_process(clinic)
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in (a, b)]
    assert sum(o["data"]["sent"] for o in outs) == 6, outs
    reached = _plans_reached(mail_server)
    assert sorted(reached) == sorted(ids)  # each exactly once: the claims kept them apart


def test_a_sender_killed_mid_send_loses_nothing(cli, tmp_path: Path, mail_server) -> None:
    """kill -9 while the server holds a message: the next `send` (this host sees the dead
    sender's claim) delivers the rest; a message the server took just before the kill may
    come twice (README: at most one duplicate), none is lost."""
    clinic = smtp_clinic(tmp_path, mail_server)
    ids = _queue_for(cli, clinic, 5)
    mail_server.handler.delay = 3.0
    p = _send_process(clinic)
    deadline = time.monotonic() + 60
    while not mail_server.handler.received and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    mail_server.handler.delay = 0
    again = run_json(cli, "send", "--clinic", clinic)
    assert again["exit_code"] == 0 and again["data"]["pending"] == 0, again
    reached = _plans_reached(mail_server)
    assert set(reached) == set(ids)  # none lost
    assert len(reached) <= len(ids) + 1  # at most the one the server took as the sender died


def test_a_no_show_tells_the_patient_with_a_cancel(cli, tmp_path: Path, mail_server, monkeypatch) -> None:
    import icalendar

    clinic = smtp_clinic(tmp_path, mail_server)
    data = book_with_email(cli, clinic)
    first = next(s for s in data["sessions"] if s["kind"] == "infusion" and s["number"] == 1)
    monkeypatch.delenv("KETAPLAN_TODAY", raising=False)
    monkeypatch.setenv("KETAPLAN_NOW", first["end"][:19])  # infusion 1 is over
    missed = run_json(cli, "no-show", data["plan_id"], "--session", "1", "--clinic", clinic)
    assert missed["data"]["delivery"] == {"sent": 1, "pending": 0, "errors": []}
    method, ics = calendar_of(mail_server.messages()[-1])
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert method == "CANCEL" and str(event["UID"]) == f"{data['plan_id']}-infusion-1@ketaplan"
    assert str(event["STATUS"]) == "CANCELLED"
    attended = run_json(cli, "attend", data["plan_id"], "--session", "1", "--clinic", clinic)
    assert attended["data"]["delivery"]["sent"] == 0  # a past session: nothing to put back in a calendar


def test_an_email_added_later_gets_the_invitation_a_phone_gets_nothing(cli, tmp_path: Path, mail_server) -> None:
    clinic = smtp_clinic(tmp_path, mail_server)
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", "Jane Roe", "--start", "2027-02-01",
                   "--weeks", "3")  # fmt: skip
    pid = doc["data"]["plan_id"]
    assert mail_server.messages() == []
    phoned = run_json(cli, "contact", pid, "--phone", "+1 312 555 0142", "--clinic", clinic)
    assert phoned["status"] == "ok" and mail_server.messages() == []
    added = run_json(cli, "contact", pid, "--email", "jane@example.org", "--clinic", clinic)
    assert added["data"]["delivery"] == {"sent": 1, "pending": 0, "errors": []}
    [msg] = mail_server.messages()
    method, ics = calendar_of(msg)
    assert method == "REQUEST" and ics.count(b"BEGIN:VEVENT") == 7
    assert msg["To"].addresses[0].addr_spec == "jane@example.org"
    same = run_json(cli, "contact", pid, "--email", "jane@example.org", "--clinic", clinic)
    assert same["data"]["delivery"]["sent"] == 0 and len(mail_server.messages()) == 1
