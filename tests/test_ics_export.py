"""The .ics a patient imports: structure, privacy, stability, encoding and golden files."""

from __future__ import annotations

import calendar
import re
import stat
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from ics_fixtures import CASES, GOLDEN, case, export
from ketaplan.formats.ics_export import plan_to_ics
from ketaplan.formats.vtimezone import Observance, transitions


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def components(data: bytes) -> list[tuple[str, tuple[str, ...]]]:
    """Components as (name, sorted own lines): comparison ignores line and event order."""
    out: list[tuple[str, tuple[str, ...]]] = []
    stack: list[tuple[str, list[str]]] = []
    for line in unfold(data):
        if line.startswith("BEGIN:"):
            stack.append((line[6:], []))
        elif line.startswith("END:"):
            name, lines = stack.pop()
            out.append((name, tuple(sorted(lines))))
        elif line and stack:
            stack[-1][1].append(line)
    return sorted(out)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_golden_file(name: str) -> None:
    """Order-insensitive, as khal compares; regenerate with `python tests/ics_fixtures.py`."""
    assert components(export(name)) == components((GOLDEN / f"{name}.ics").read_bytes())


@pytest.mark.parametrize("name", list(CASES))
def test_calendar_structure(name: str) -> None:
    plan, clinic, details = case(name)
    data = export(name)
    cal = Calendar.from_ical(data)
    assert (str(cal["VERSION"]), str(cal["METHOD"]), str(cal["CALSCALE"])) == ("2.0", "PUBLISH", "GREGORIAN")
    assert str(cal["PRODID"]).startswith("-//ketaplan//") and "X-WR-CALNAME" in cal and "NAME" in cal
    events = cal.walk("VEVENT")
    assert len(events) == len(plan.sessions)
    assert "RRULE" not in data.decode().split("BEGIN:VEVENT", 1)[1]  # one event per session, no RRULE
    for ev, s in zip(events, sorted(plan.sessions, key=lambda s: s.start), strict=False):
        assert str(ev["UID"]) == f"{plan.plan_id}-{s.kind}-{s.number}@ketaplan"
        assert ev["SEQUENCE"] == plan.revision
        assert ev.decoded("DTSTAMP").isoformat() == "2026-11-25T12:00:00+00:00"
        assert ev.decoded("DTSTART") == s.start and ev.decoded("DTEND") == s.end
        assert ev["DTSTART"].params["TZID"] == clinic.timezone
        assert str(ev["CLASS"]) == "PRIVATE" and str(ev["ORGANIZER"]) == "mailto:frontdesk@lakeside.example"
        assert str(ev["LOCATION"]) == "12 Lake St, Springfield"
        alarms = ev.walk("VALARM")
        assert len(alarms) == 1 and str(alarms[0]["ACTION"]) == "DISPLAY" and "DESCRIPTION" in alarms[0]
        assert alarms[0].decoded("TRIGGER") == -timedelta(hours=24)
        assert "call +1 555 0100" in str(ev["DESCRIPTION"]) and "arrive at" in str(ev["DESCRIPTION"])


def test_vtimezone_is_rrule_style_and_right() -> None:
    for name, (zone, first, _, _) in CASES.items():
        cal = Calendar.from_ical(export(name))
        (tz,) = cal.walk("VTIMEZONE")
        parts = tz.subcomponents
        assert str(tz["TZID"]) == zone
        assert all("RDATE" not in p for p in parts)
        if zone == "Asia/Kolkata":
            assert [p.name for p in parts] == ["STANDARD"] and "RRULE" not in parts[0]
            continue
        assert sorted(str(p.name) for p in parts) == ["DAYLIGHT", "STANDARD"]
        from ketaplan.formats.vtimezone import observances

        for ob in observances(zone, first.year, first.year + 1):
            for year in range(first.year - 1, first.year + 4):
                assert rule_matches(ob, zone, year), (zone, ob, year)


def test_neutral_private_titles_by_default() -> None:
    plan, clinic, _ = case("chicago")
    text = plan_to_ics(plan, clinic._replace(name="Lakeside Clinic")).decode()
    assert "Jane" not in text and "Roe" not in text and "MRN" not in text
    assert "ketamine" not in text.lower()
    # (UIDs name the kind, per the .ics contract; titles and descriptions, which lock screens show, do not)
    shown = [line for line in unfold(plan_to_ics(plan, clinic)) if line.startswith(("SUMMARY", "DESCRIPTION"))]
    assert shown and not any("infusion" in line.lower() for line in shown)
    assert "SUMMARY:Appointment 2 of 6\r\n" in text and "Lakeside" not in text.split("LOCATION")[0]
    # calendar apps show the organizer's name beside the title: not the clinic's, which may name the treatment
    assert not any(line.startswith("ORGANIZER;CN") for line in unfold(plan_to_ics(plan, clinic)))
    detailed = plan_to_ics(plan, clinic, details=True).decode()
    assert "Jane Roe" in detailed and "Ketamine infusion 2 of 6" in detailed


def test_uids_stable_and_sequence_follows_revision() -> None:
    plan, clinic, _ = case("chicago")
    first = Calendar.from_ical(plan_to_ics(plan, clinic))
    revised = plan._replace(revision=3)
    second = Calendar.from_ical(plan_to_ics(revised, clinic))
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == [str(e["UID"]) for e in second.walk("VEVENT")]
    assert {e["SEQUENCE"] for e in second.walk("VEVENT")} == {3}
    assert plan_to_ics(plan, clinic) == plan_to_ics(plan, clinic)  # deterministic: DTSTAMP from the plan


def test_cancelled_sessions() -> None:
    plan, clinic, _ = case("chicago")
    cancelled = plan._replace(
        revision=2,
        sessions=tuple(s._replace(status="cancelled") if s.label == "infusion 6" else s for s in plan.sessions),
    )
    cal = Calendar.from_ical(plan_to_ics(cancelled, clinic))
    ev = next(e for e in cal.walk("VEVENT") if str(e["UID"]).endswith("-infusion-6@ketaplan"))
    assert str(ev["STATUS"]) == "CANCELLED" and ev["SEQUENCE"] == 2 and not ev.walk("VALARM")


def test_crlf_folding_and_escaping() -> None:
    plan, clinic, _ = case("kolkata_details")
    clinic = clinic._replace(address="Flat 3; Block B, Ørsted Road, " + "Å" * 60)
    data = plan_to_ics(plan, clinic, details=True)
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    for raw in data.split(b"\r\n"):
        assert len(raw) <= 75, raw
        raw.decode("utf-8")  # no line is cut inside a UTF-8 character
    text = "".join(unfold(data))
    assert "LOCATION:Flat 3\\; Block B\\, Ørsted Road\\, " in text
    description = re.search(r"DESCRIPTION:[^\r]*", data.decode().replace("\r\n ", ""))
    assert description is not None and "\\n" in description.group(0)


def test_schedule_writes_ics_atomically_private_and_never_over_a_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    r = cli("schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--ics", target, "--json")
    assert r.exit_code == 0, r.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    before = target.read_bytes()
    again = cli("schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--ics", target)
    assert again.exit_code == 2 and "--ics:" in again.stderr and "--force" in again.stderr
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ketaplan")] == []
    assert (
        cli(
            "schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--ics", target, "--force", "--allow-overlap"
        ).exit_code
        == 0
    )


def test_bad_ics_path_books_nothing(cli, tmp_path: Path, ledger_path: Path) -> None:
    r = cli("schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--ics", tmp_path / "missing" / "x.ics")
    assert r.exit_code == 2 and "does not exist" in r.stderr
    assert not ledger_path.exists()


def test_out_dir_names_files_by_plan_id(cli, tmp_path: Path, ledger_path: Path) -> None:
    import json

    out = tmp_path / "plans" / "december"  # made, private: it holds patient files
    r = cli("schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--out", out, "--json")
    data = json.loads(r.stdout)["data"]
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(f).name for f in data["files"])
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    (tmp_path / "file").write_text("not a folder")
    refused = cli("schedule", "--patient", "Max Doe", "--start", "2026-12-01", "--out", tmp_path / "file")
    assert refused.exit_code == 2 and "--out:" in refused.stderr and "not a folder" in refused.stderr
    assert len(json.loads(cli("plans", "--json").stdout)["data"]["plans"]) == 1  # Max Doe not booked
    names = sorted(Path(f).name for f in data["files"])
    assert f"{data['plan_id']}.ics" in names
    assert all("Jane" not in n for n in names)


def rule_matches(obs: Observance, zone_name: str, year: int) -> bool:
    """Does the observance's rule give the zone's real change in `year`? (what a calendar app computes from it)"""
    zone = ZoneInfo(zone_name)
    for t in transitions(zone, year):
        if (t.offset_to > t.offset_from) != obs.daylight:
            continue
        loc = (t.at + t.offset_from).replace(tzinfo=None)
        assert obs.rrule is not None
        byday = str(obs.rrule["byday"])
        n = int(byday[:-2])
        weeks = [
            d
            for d in calendar.Calendar().itermonthdates(year, loc.month)
            if d.month == loc.month and d.weekday() == loc.weekday()
        ]
        expected = weeks[n - 1] if n > 0 else weeks[n]
        return expected == loc.date() and loc.time() == obs.dtstart.time() and obs.rrule["bymonth"] == loc.month
    return False
