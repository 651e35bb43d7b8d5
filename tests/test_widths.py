"""Every table and picture reads at 80 columns (and at 120): no line wider than the
terminal, no heading or value cut short ("…"), and the values a coordinator looks for
whole on one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import write_clinic


@pytest.fixture
def desk(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A clinic with a booked plan (long patient name, consultation, a booster) and its .ics."""
    clinic = write_clinic(
        tmp_path / "c.toml",
        name="Lakeside Ketamine Clinic",
        chairs=["Chair 1", "Chair 2", "Recliner B"],
        closures={"dates": ["2027-02-10"], "holidays": "US"},
    )
    doc = json.loads(
        cli(
            "schedule",
            "--patient",
            "Zoë Ørsted-Đặng de la Cruz",
            "--patient-id",
            "MRN-000042",
            "--start",
            "2027-02-01",
            "--maintenance",
            "1",
            "--clinic",
            clinic,
            "--json",
        ).stdout  # fmt: skip
    )
    pid = doc["data"]["plan_id"]
    ics = tmp_path / "p.ics"
    assert cli("export", pid, "--ics", ics, "--clinic", clinic).exit_code == 0
    consult = next(s for s in doc["data"]["sessions"] if s["kind"] == "consultation")
    return {"clinic": clinic, "plan": pid, "ics": ics, "day": consult["start"][:10]}


COMMANDS = {
    "schedule": (["schedule", "--patient", "Ann Lee", "--start", "2027-03-01", "--dry-run"], ["08:00-09:30", "Room 1"]),
    "show": (["show", "{plan}"], ["{plan}", "Room 1", "consultation", "booster"]),
    "plans": (["plans"], ["{plan}", "next session", "status"]),
    "clinic show": (["clinic", "show"], ["weekly hours", "08:00-17:00", "Recliner B"]),
    "availability": (["availability", "--from", "2027-02-08", "--days", "7"], ["starts", "closed all day"]),
    "check": (["check", "{ics}"], ["infusion 1", "Room 1", "result"]),
    "day": (["day", "{day}"], ["Room 1", "{plan}", "consultation"]),
}


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_readable_at(cli, desk, monkeypatch: pytest.MonkeyPatch, name: str, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    args, wanted = COMMANDS[name]
    r = cli(*[a.format(**desk) for a in args], "--clinic", desk["clinic"])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    too_wide = [line for line in lines if len(line.rstrip()) > width]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in r.stdout, r.stdout
    for text in wanted:
        text = text.format(**desk)
        assert any(text in line for line in lines), f"{text!r} not whole on one line:\n{r.stdout}"


def test_piped_messages_and_suggested_commands_are_never_wrapped(cli, desk, monkeypatch) -> None:
    """Piped into a file or another program (no terminal, no COLUMNS), a message and the
    command it suggests stay on one line: they once broke at column 80 mid-sentence."""
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setenv("KETAPLAN_TODAY", "2027-02-20")
    r = cli("no-show", desk["plan"], "--session", "1")
    assert r.exit_code == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "marked a no-show" in x)
    assert len(line) > 80 and line.rstrip().endswith("revision 2"), r.stdout
    assert f"to book it again: ketaplan reschedule {desk['plan']} --session 1" in r.stdout.splitlines()
    # the plan as a table still fits the default 80 columns
    r = cli("show", desk["plan"], "--clinic", desk["clinic"])
    assert max(len(x.rstrip()) for x in r.stdout.splitlines() if "│" in x or "─" in x) <= 80
