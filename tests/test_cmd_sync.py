"""The clinic calendar over CalDAV, against a real Radicale server (tests/caldav_server.py):
what every change puts there, read back with the caldav client, and `ketaplan sync`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import run_json, sessions, write_clinic

pytestmark = pytest.mark.usefixtures("backend")


def desk_clinic(tmp_path: Path, server: Any, **more: Any) -> Path:
    return write_clinic(tmp_path / "c.toml", caldav=server.caldav_table(), **more)


def book(cli, clinic: Path, patient: str = "Jane Roe", *extra: str) -> dict:
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", patient, "--start", "2027-02-01", "--weeks", "3",
                   *extra)  # fmt: skip
    assert doc["status"] == "ok", doc
    return doc["data"]


def starts(events: dict[str, Any]) -> dict[str, str]:
    return {uid: ev.decoded("dtstart").isoformat() for uid, ev in events.items()}


def test_every_active_session_is_an_event_without_the_patient(cli, tmp_path: Path, calendar_server) -> None:
    clinic = desk_clinic(tmp_path, calendar_server)
    data = book(cli, clinic, "Jane Roe", "--patient-id", "MRN-4471", "--email", "jane@example.org")
    assert data["delivery"] == {"sent": 1, "pending": 0, "errors": []}
    events = calendar_server.events()
    assert len(events) == len(data["sessions"]) == 7
    assert sorted(starts(events).values()) == sorted(s["start"] for s in data["sessions"])
    for uid, ev in events.items():
        assert uid.startswith(data["plan_id"]) and uid.endswith("@desk.ketaplan")
        text = ev.to_ical().decode()
        assert "Jane" not in text and "Roe" not in text and "MRN" not in text and "jane@" not in text
        assert "ketamine" not in text.lower()
        assert str(ev["SUMMARY"]) == "Appointment"
    chairs = {str(ev["LOCATION"]) for ev in events.values() if "LOCATION" in ev}
    assert chairs <= {s["chair"] for s in data["sessions"]} | {"Consult room 1"}


def test_a_move_updates_in_place_and_a_cancel_removes(cli, tmp_path: Path, calendar_server) -> None:
    clinic = desk_clinic(tmp_path, calendar_server)
    data = book(cli, clinic)
    pid = data["plan_id"]
    before = starts(calendar_server.events())
    moved = run_json(cli, "reschedule", pid, "--session", "3", "--from", sessions(data)[3]["start"][:10],
                     "--clinic", clinic)  # fmt: skip
    assert moved["status"] == "ok", moved
    new = sessions(moved["data"])[3]["start"]
    after = starts(calendar_server.events())
    assert set(after) == set(before)  # the same UIDs: updated in place, not added
    uid = f"{pid}-infusion-3@desk.ketaplan"
    assert after[uid] == new != before[uid]
    cancelled = run_json(cli, "cancel", pid, "--session", "6", "--clinic", clinic)
    assert cancelled["data"]["delivery"]["sent"] == 1
    assert set(starts(calendar_server.events())) == set(before) - {f"{pid}-infusion-6@desk.ketaplan"}


def test_a_server_down_leaves_the_booking_and_send_puts_the_events_once(cli, tmp_path: Path, calendar_server) -> None:
    clinic = desk_clinic(tmp_path, calendar_server)
    calendar_server.stop()
    data = book(cli, clinic)
    assert data["delivery"]["sent"] == 0 and data["delivery"]["pending"] == 1
    assert "cannot connect" in data["delivery"]["errors"][0]
    cancelled = run_json(cli, "cancel", data["plan_id"], "--session", "6", "--clinic", clinic)
    assert cancelled["status"] == "ok" and cancelled["data"]["delivery"]["pending"] == 1  # one update, latest state
    calendar_server.start()
    sent = run_json(cli, "send", "--clinic", clinic)
    assert sent["data"] == {"sent": 1, "pending": 0, "errors": []}
    assert len(calendar_server.events()) == 6
    assert run_json(cli, "send", "--clinic", clinic)["data"]["sent"] == 0


def _put(server: Any, uid: str, mark: str | None, summary: str = "Staff meeting") -> None:
    extra = f"X-KETAPLAN-CLINIC:{mark}\r\n" if mark else ""
    server.calendar().save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270203T150000Z\r\nDTEND:20270203T160000Z\r\n"
        f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def test_sync_restores_corrects_and_removes_only_its_own(cli, tmp_path: Path, calendar_server) -> None:
    clinic = desk_clinic(tmp_path, calendar_server)
    pid = book(cli, clinic)["plan_id"]
    book(cli, clinic, "John Doe", "--no-send")  # never reached the calendar
    right = starts(calendar_server.events())
    gone, edited = f"{pid}-infusion-2@desk.ketaplan", f"{pid}-infusion-4@desk.ketaplan"
    calendar_server.calendar().event_by_uid(gone).delete()
    ev = calendar_server.calendar().event_by_uid(edited)
    ev.icalendar_component["SUMMARY"] = "moved by hand"
    ev.save()
    _put(calendar_server, "KP-GONE0000-infusion-1@desk.ketaplan", "Test Clinic")  # ours, plan not in the ledger
    _put(calendar_server, "meeting-1@example.org", None)  # somebody else's
    _put(calendar_server, "KP-OTHER000-infusion-1@desk.ketaplan", "Another Clinic")  # another clinic's ketaplan
    dry = run_json(cli, "sync", "--clinic", clinic, "--dry-run")
    assert dry["data"] == {"created": 8, "updated": 1, "removed": 1, "unchanged": 5, "error": None, "dry_run": True}
    assert gone not in calendar_server.events()
    done = run_json(cli, "sync", "--clinic", clinic)
    assert done["status"] == "ok" and done["data"]["created"] == 8
    events = calendar_server.events()
    assert str(events[edited]["SUMMARY"]) == "Appointment" and gone in events
    assert "KP-GONE0000-infusion-1@desk.ketaplan" not in events
    assert {"meeting-1@example.org", "KP-OTHER000-infusion-1@desk.ketaplan"} <= set(events)
    assert str(events["meeting-1@example.org"]["SUMMARY"]) == "Staff meeting"
    assert starts({u: e for u, e in events.items() if u.startswith(pid)}) == right
    again = run_json(cli, "sync", "--clinic", clinic)
    assert set(again["data"]) == {"created", "updated", "removed", "unchanged", "error", "dry_run"}  # pinned
    assert again["data"]["unchanged"] == 14 and again["data"]["created"] == again["data"]["removed"] == 0


def test_a_wrong_password_is_named_never_shown(cli, tmp_path: Path, calendar_server, monkeypatch) -> None:
    clinic = desk_clinic(tmp_path, calendar_server)
    book(cli, clinic)
    monkeypatch.setenv("KETAPLAN_TEST_CALDAV_PASSWORD", "wrong-pass-123")
    r = cli("sync", "--clinic", clinic)
    assert r.exit_code == 3 and "refused the username or password" in r.stdout
    assert "wrong-pass-123" not in r.stdout + r.stderr
    monkeypatch.delenv("KETAPLAN_TEST_CALDAV_PASSWORD")
    data = book(cli, clinic, "John Doe")
    assert data["delivery"]["pending"] == 1 and "KETAPLAN_TEST_CALDAV_PASSWORD" in data["delivery"]["errors"][0]


def test_sync_needs_a_caldav_table(cli, tmp_path: Path) -> None:
    r = cli("sync", "--clinic", write_clinic(tmp_path / "c.toml"))
    assert r.exit_code == 2 and "[caldav]" in r.stderr
