from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import booked_rows, write_clinic
from ketaplan.formats.plan_json import ENVELOPE_KEYS

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")

START = ["--start", "2026-12-01", "--weeks", "3"]


def test_schedule_on_demo_clinic_books_and_shows(cli, ledger_path: Path) -> None:
    r = cli("schedule", "--patient", "Jane Roe", *START)
    assert r.exit_code == 0, r.stderr
    assert r.stderr.count("built-in demo clinic") == 1
    out = r.stdout
    assert "Jane Roe" in out and "infusion" in out and "consultation" in out
    assert "Calendar" in out and "Mon" in out
    for rule in ("spacing", "hours", "closures", "chairs", "window"):
        assert f"✓ {rule}" in out
    assert booked_rows(ledger_path) == 7
    if isinstance(ledger_path, Path):  # a file: owner only
        assert (ledger_path.stat().st_mode & 0o777) == 0o600


def test_json_envelope_keys_are_pinned(cli, ledger_path: Path) -> None:
    r = cli("schedule", "--patient", "Jane Roe", "--patient-id", "MRN-7", *START, "--json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)  # stdout is only the envelope
    assert tuple(doc) == ENVELOPE_KEYS
    assert doc["ketaplan"] == 1 and doc["command"] == "schedule" and doc["status"] == "ok" and doc["exit_code"] == 0
    data = doc["data"]
    assert set(data) == {
        "plan_id",
        "patient",
        "contact",
        "lang",
        "clinic",
        "timezone",
        "window",
        "sessions",
        "checks",
        "revision",
        "dry_run",
        "files",
    }
    assert data["patient"] == {"name": "Jane Roe", "id": "MRN-7"}
    assert data["contact"] == {"email": None, "phone": None}
    assert data["window"] == {"first_day": "2026-12-01", "last_day": "2026-12-21"}
    assert data["plan_id"].startswith("KP-")
    s = data["sessions"][1]
    assert set(s) == {"kind", "number", "of", "start", "end", "chair", "status"}
    assert s["kind"] == "infusion" and s["of"] == 6 and s["status"] == "booked" and s["start"].endswith("-06:00")
    assert data["sessions"][0]["kind"] == "consultation" and data["sessions"][0]["chair"] is None
    assert all(c["ok"] for c in data["checks"]) and {c["rule"] for c in data["checks"]} >= {"spacing", "chairs"}


def test_dry_run_books_nothing(cli, ledger_path: Path) -> None:
    r = cli("schedule", "--patient", "Jane Roe", *START, "--dry-run", "--json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["data"]["dry_run"] is True and doc["data"]["sessions"][1]["status"] == "planned"
    assert booked_rows(ledger_path) == 0


def test_second_patient_sees_the_first(cli, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path / "c.toml", chairs=1, max_starts_per_slot=1, timezone="America/Chicago")
    a = json.loads(cli("schedule", "--clinic", clinic, "--patient", "A", *START, "--json").stdout)["data"]
    b = json.loads(cli("schedule", "--clinic", clinic, "--patient", "B", *START, "--json").stdout)["data"]
    a_starts = {s["start"] for s in a["sessions"] if s["kind"] == "infusion"}
    b_starts = {s["start"] for s in b["sessions"] if s["kind"] == "infusion"}
    assert a_starts.isdisjoint(b_starts)


def test_a_renamed_clinic_is_told_its_bookings_are_under_the_old_name(cli, tmp_path: Path, ledger_path: Path) -> None:
    old = write_clinic(tmp_path / "old.toml", name="Lakeside Clinic", chairs=1, max_starts_per_slot=1)
    new = write_clinic(tmp_path / "new.toml", name="Lakeside Clinic (Main St)", chairs=1, max_starts_per_slot=1)
    first = cli("schedule", "--clinic", old, "--patient", "A", *START, "--json")
    assert first.exit_code == 0 and "bookings for" not in first.stderr  # a new ledger: nothing to say
    renamed = cli("schedule", "--clinic", new, "--patient", "B", *START, "--json", "--dry-run")
    assert "has bookings for 'Lakeside Clinic' but none for 'Lakeside Clinic (Main St)'" in renamed.stderr
    assert renamed.exit_code == 0 and json.loads(renamed.stdout)["status"] == "ok"  # stdout stays pure JSON
    cli("schedule", "--clinic", new, "--patient", "B", *START, "--json")
    again = cli("schedule", "--clinic", new, "--patient", "C", *START, "--dry-run", "--json")
    assert "bookings for" not in again.stderr  # the clinic has its own bookings now


BAD_INPUT = [
    (["--start", "2026-02-30"], "--start"),
    (["--start", "01/02/2026"], "--start"),
    (["--start", "2026-11-01"], "--start"),  # in the past
    (["--start", "2026-12-01", "--weeks", "4"], "--weeks"),
    (["--start", "2026-12-01", "--end", "2026-12-05"], "--end"),  # 5 days < 14
    (["--start", "2026-12-01", "--end", "2026-11-30"], "--end"),
    (["--start", "2026-12-01", "--weeks", "2", "--end", "2026-12-20"], "--end"),
    (["--start", "2026-12-01", "--days", "mon,funday"], "--days"),
    (["--start", "2026-12-01", "--earliest", "14:00", "--latest", "10:00"], "--earliest"),
    (["--start", "2026-12-01", "--earliest", "9am"], "--earliest"),
    (["--start", "2026-12-01", "--unavailable", "2026-12-10/2026-12-01"], "--unavailable"),
    (["--start", "2026-12-01", "--maintenance", "-1"], "--maintenance"),
    (["--start", "2026-12-01", "--clinic", "/nonexistent/clinic.toml"], "--clinic"),
]


@pytest.mark.parametrize("args, field", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_exit_2_nothing_booked(cli, ledger_path: Path, args: list[str], field: str) -> None:
    r = cli("schedule", "--patient", "Jane Roe", *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if not line.startswith("ketaplan: no clinic file")]
    assert len(lines) == 1 and lines[0].startswith(f"ketaplan: error: {field}:"), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert booked_rows(ledger_path) == 0


@pytest.mark.parametrize("name", ["Jane\x07Roe", "Jane\nRoe", "   "])
def test_patient_names_refuse_control_characters(cli, name: str) -> None:
    r = cli("schedule", "--patient", name, *START)
    assert r.exit_code == 2 and "--patient:" in r.stderr


@pytest.mark.parametrize("name", ["Zoë Ørsted-Đặng", "Siobhán O'Connor", "Jean-Luc d'Arc", "李小龍", "<b>x</b>"])
def test_patient_names_are_free_text(cli, name: str) -> None:
    r = cli("schedule", "--patient", name, *START, "--json", "--dry-run")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["data"]["patient"]["name"] == name


def test_bad_input_as_json_envelope(cli) -> None:
    r = cli("schedule", "--patient", "Jane", "--start", "01/02/2026", "--json")
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert tuple(doc) == ENVELOPE_KEYS and doc["status"] == "error" and doc["exit_code"] == 2
    assert doc["errors"][0]["field"] == "--start" and "ambiguous" in doc["errors"][0]["message"]


def test_usage_error_as_json_envelope(cli) -> None:
    r = cli("schedule", "--patient", "Jane", "--start", "2026-12-01", "--weeks", "x", "--json")
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert doc["status"] == "error" and doc["errors"][0]["field"] == "--weeks"


def test_malformed_clinic_file_names_the_key(cli, tmp_path: Path, ledger_path: Path) -> None:
    clinic = write_clinic(tmp_path / "c.toml", chairs=0)
    r = cli("schedule", "--clinic", clinic, "--patient", "Jane", *START)
    assert (
        r.exit_code == 2
        and r.stderr.strip() == "ketaplan: error: chairs: must be from 1 to 200 (a number of chairs or a list of names)"
    )
    assert booked_rows(ledger_path) == 0


def test_no_plan_is_exit_3_with_explanation_and_suggestions(cli, ledger_path: Path) -> None:
    args = ["schedule", "--patient", "Jane", "--start", "2026-12-21", "--end", "2027-01-03", "--days", "mon,wed,fri"]
    r = cli(*args)
    assert r.exit_code == 3
    assert "only 4 open days between Dec 21 and Jan 3" in r.stderr and "--start 2027-01-04" in r.stderr
    doc = json.loads(cli(*args, "--json").stdout)
    assert doc["status"] == "infeasible" and doc["exit_code"] == 3
    assert doc["data"]["explanation"][0].startswith("only 4 open days")
    assert {s["change"] for s in doc["data"]["suggestions"]} >= {"start", "end"}
    assert booked_rows(ledger_path) == 0


def test_allow_past_reenters_a_series(cli) -> None:
    r = cli(
        "schedule", "--patient", "Jane", "--start", "2026-11-02", "--weeks", "3", "--allow-past", "--json", "--dry-run"
    )
    assert r.exit_code == 0, r.stdout


def test_internal_errors_are_exit_1_without_patient_data(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import ketaplan.app.booking

    def boom(*a, **k):
        raise ValueError("secret patient Jane Roe")

    monkeypatch.setattr(ketaplan.app.booking, "plan_with_checks", boom)
    r = cli("schedule", "--patient", "Jane Roe", *START)
    assert r.exit_code == 1
    assert "internal error (ValueError at" in r.stderr and "report" in r.stderr
    assert "Jane" not in r.stderr + r.stdout and "Traceback" not in r.stderr


def test_python_dash_m_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "ketaplan", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ketaplan ")
    help_out = subprocess.run([sys.executable, "-m", "ketaplan", "--help"], capture_output=True, text=True, check=True)
    assert "schedule" in help_out.stdout


def test_usage_errors_are_one_line(cli) -> None:
    r = cli("schedule", "--patient", "Jane", "--start", "2026-12-01", "--weeks", "x")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("ketaplan: error: --weeks:") and "ketaplan schedule --help" in r.stderr
    r = cli("no-such-command")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "No such command" in r.stderr


def test_the_same_patient_twice_over_the_same_days_is_refused(cli, ledger_path: Path) -> None:
    first = json.loads(cli("schedule", "--patient", "Jane Roe", "--patient-id", "MRN-7", *START, "--json").stdout)
    pid = first["data"]["plan_id"]
    r = cli("schedule", "--patient", "Jane R.", "--patient-id", "MRN-7", "--start", "2026-12-08", "--weeks", "2")
    assert r.exit_code == 2 and pid in r.stderr and "--patient-id:" in r.stderr
    assert booked_rows(ledger_path) == 7
    # another patient, or the same one after the series, or with --allow-overlap: fine
    assert cli("schedule", "--patient", "Ann", "--patient-id", "MRN-8", *START).exit_code == 0
    assert cli("schedule", "--patient", "Jane Roe", "--patient-id", "MRN-7", "--start", "2027-01-11").exit_code == 0
    r = cli("schedule", "--patient", "Jane Roe", "--patient-id", "MRN-7", *START, "--allow-overlap", "--json")
    second = json.loads(r.stdout)["data"]["plan_id"]
    # cancelled plans no longer count
    cli("cancel", pid)
    cli("cancel", second)
    assert cli("schedule", "--patient", "Jane Roe", "--patient-id", "MRN-7", *START, "--dry-run").exit_code in (0, 3)


def test_a_month_name_without_a_year_that_rolls_into_next_year_is_said(cli) -> None:
    r = cli("schedule", "--patient", "Ann", "--start", "Jan 11", "--dry-run")  # today is Nov 25, 2026
    assert r.exit_code == 0 and "'Jan 11' is read as Mon Jan 11, 2027 (next year)" in r.stderr
    r = cli("schedule", "--patient", "Ann", "--start", "Dec 7", "--dry-run")
    assert r.exit_code == 0 and "next year" not in r.stderr


def test_the_same_patient_over_her_own_booster_days_is_refused(cli, ledger_path: Path) -> None:
    """Boosters lie weeks past the window; the same-patient rule once looked at the window only."""
    first = json.loads(
        cli("schedule", "--patient", "Maria", "--patient-id", "MRN-1001", *START, "--maintenance", "2", "--json").stdout
    )["data"]
    booster = next(s for s in first["sessions"] if s["kind"] == "maintenance")
    day = booster["start"][:10]  # weeks after the window's last day
    assert day > first["window"]["last_day"]
    for args in (["--dry-run"], []):
        r = cli("schedule", "--patient", "Maria", "--patient-id", "MRN-1001", "--start", day, "--weeks", "2", *args)
        assert r.exit_code == 2 and first["plan_id"] in r.stderr and "--patient-id:" in r.stderr, r.stderr
    r = cli("schedule", "--patient", "Maria", "--patient-id", "MRN-1001", "--start", day, "--weeks", "2",
            "--dry-run", "--allow-overlap")  # fmt: skip
    assert r.exit_code == 0, r.stderr  # on purpose: allowed
    # a batch row and an --optimize row are held to the same rule
    rows = json.dumps({"patient": "Maria", "patient_id": "MRN-1001", "start": day, "weeks": 2})
    for extra in ([], ["--optimize"]):
        r = cli("batch", "-", "--json", *extra, input=rows + "\n")
        assert r.exit_code == 3 and first["plan_id"] in r.stdout, r.stdout
    # the new series' own boosters reach forward onto a later plan of hers too
    later = cli("schedule", "--patient", "Maria", "--patient-id", "MRN-1001", "--start", "2027-04-05", "--json")
    assert later.exit_code == 0, later.stderr
    r = cli("schedule", "--patient", "Maria", "--patient-id", "MRN-1001", "--start", "2027-03-01", "--weeks", "2")
    assert r.exit_code == 0, r.stderr  # its window ends before the later plan begins
    r = cli(
        "schedule", "--patient", "Maria", "--patient-id", "MRN-1001", "--start", "2027-03-15", "--weeks", "2",
        "--maintenance", "1", "--dry-run",
    )  # fmt: skip
    assert r.exit_code == 2 and json.loads(later.stdout)["data"]["plan_id"] in r.stderr


def test_a_retried_commit_writes_the_patient_files_once(
    cli, ledger_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the first commit (another desk took the chair): the booking is
    planned again and committed, and the .ics (no --force) is written once, for the plan
    that was booked. Files written inside the transaction once met their own first try."""
    from ketaplan.store.ledger import LedgerConflict
    from ketaplan.store.tx import LedgerTx

    refused: list[str] = []
    init = LedgerTx.__init__

    def refusing_once(tx: LedgerTx, db) -> None:
        init(tx, db)
        commit = db.commit

        def first_commit_refused() -> None:
            if not refused and db.in_transaction and tx.db.one("SELECT COUNT(*) FROM plans"):
                refused.append("refused")
                db.rollback()
                raise LedgerConflict("another writer took the chair (injected)")
            commit()

        db.commit = first_commit_refused

    monkeypatch.setattr(LedgerTx, "__init__", refusing_once)
    ics = tmp_path / "patient.ics"
    r = cli("schedule", "--patient", "Jane Roe", *START, "--ics", ics, "--json")
    assert refused == ["refused"]
    assert r.exit_code == 0, r.stdout
    plan_id = json.loads(r.stdout)["data"]["plan_id"]
    assert ics.exists() and f"UID:{plan_id}-infusion-1@ketaplan" in ics.read_text()
    assert booked_rows(ledger_path) == 7
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


@pytest.mark.parametrize("notice", [0, 12, 48])
def test_nothing_is_booked_sooner_than_the_minimum_notice(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notice: int
) -> None:
    """At 14:00, `schedule --start today` once put infusion 1 at 09:00 that morning (in the
    past), and a batch run at 07:45 a consultation at 08:45. Every path keeps the clinic's
    min_notice_hours from now (0: at least not in the past)."""
    from datetime import datetime, timedelta

    clinic = write_clinic(tmp_path / "c.toml", chairs=2, min_notice_hours=notice)
    monkeypatch.delenv("KETAPLAN_TODAY")  # the clock is KETAPLAN_NOW alone: today is its day
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-01T14:00:00")
    cutoff = datetime.fromisoformat("2027-02-01T14:00:00-06:00") + timedelta(hours=notice)
    doc = json.loads(
        cli("schedule", "--clinic", clinic, "--patient", "A", "--start", "today", "--no-consultation", "--json").stdout
    )
    assert doc["status"] == "ok", doc
    assert min(datetime.fromisoformat(s["start"]) for s in doc["data"]["sessions"]) >= cutoff
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-01T07:45:00")
    early = datetime.fromisoformat("2027-02-01T07:45:00-06:00") + timedelta(hours=notice)
    r = cli("batch", "-", "--clinic", clinic, input="patient,start\nB,2027-02-02\n")  # its consultation: Feb 1
    data = json.loads(r.stdout)["data"]
    assert min(datetime.fromisoformat(s["start"]) for s in data["sessions"]) >= early, data["sessions"]
    # a move keeps it too
    monkeypatch.setenv("KETAPLAN_NOW", "2027-02-03T16:00:00")
    moved = json.loads(cli("reschedule", data["plan_id"], "--session", "3", "--clinic", clinic, "--json").stdout)
    if moved["status"] == "ok":
        later = datetime.fromisoformat("2027-02-03T16:00:00-06:00") + timedelta(hours=notice)
        assert all(datetime.fromisoformat(m["to"]) >= later for m in moved["data"]["moved"]), moved["data"]["moved"]


def test_arrive_by_is_never_before_the_clinic_opens() -> None:
    from datetime import datetime

    from helpers import make_clinic

    clinic = make_clinic(hours={"mon": ["08:00-12:00", "13:00-17:00"]})
    at = lambda hh, mm: datetime(2027, 2, 1, hh, mm, tzinfo=clinic.zone)  # noqa: E731
    assert clinic.arrive_by(at(8, 0)) == at(8, 0)  # opens at 08:00: not 07:45
    assert clinic.arrive_by(at(8, 15)) == at(8, 0)
    assert clinic.arrive_by(at(9, 0)) == at(8, 45)
    assert clinic.arrive_by(at(13, 0)) == at(13, 0)  # after the lunch break
