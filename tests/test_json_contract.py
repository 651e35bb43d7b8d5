"""The JSON contract: every command that takes --json answers with the versioned envelope,
and the keys of its `data` are pinned here. Changing one is a contract change: bump the
envelope version or add keys, never rename or drop one silently."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from ketaplan.formats.plan_json import ENVELOPE_KEYS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import cli_reference  # type: ignore[import-not-found]  # noqa: E402

PLAN = {"plan_id", "patient", "contact", "lang", "clinic", "timezone", "window", "sessions", "checks", "revision"}
SESSION = {"kind", "number", "of", "start", "end", "chair", "status"}

#: command -> (its arguments after the plan id is known, the keys of `data`)
PINNED: dict[str, tuple[list[str], set[str]]] = {
    "schedule": (["--patient", "Ann", "--start", "2026-12-07", "--dry-run"], PLAN | {"dry_run", "files"}),
    "plans": ([], {"plans", "total"}),
    "contact": (["{plan}", "--email", "ann@example.org"], {"plan_id", "revision", "contact", "lang"}),
    "show": (["{plan}"], PLAN | {"history"}),
    "export": (["{plan}", "--ics", "{tmp}/p.ics"], {"plan_id", "revision", "files", "plans"}),
    "reschedule": (["{plan}", "--session", "2"], PLAN | {"moved", "notes", "dry_run", "files"}),
    "cancel": (["{plan}", "--session", "6"], PLAN | {"cancelled", "dry_run", "files"}),
    "attend": (["{plan}", "--session", "1"], PLAN | {"marked"}),
    "boosters": (["{plan}", "1"], PLAN | {"added", "dry_run", "files"}),
    "no-show": (["{plan}", "--session", "1"], PLAN | {"marked"}),
    "check": (["{tmp}/p.ics"], PLAN | {"file", "current_revision"}),
    "availability": (["--days", "3"], {"clinic", "timezone", "chairs", "hours", "days"}),
    "day": (["2026-12-01"], {"date", "clinic", "timezone", "closed", "notes", "sessions", "files", "days"}),
    "close": (["2026-12-28", "--reason", "staff training"], {"closure", "conflicts", "repair"}),
    "closures": ([], {"from", "to", "closures"}),
    "reopen": (["1"], {"closure"}),
    "outbox": ([], {"messages"}),
    "remind": (
        ["2026-12-02", "--jsonl", "{tmp}/r.jsonl"],
        {"date", "sessions_due", "emails", "texts", "already", "unreachable"},
    ),
    "conflicts": ([], {"conflicts", "plans"}),
    "repair": (["--dry-run"], {"dry_run", "conflicts", "moved", "not_placed", "proven", "files"}),
    "clinic show": ([], {"name", "timezone", "chairs", "consult_rooms", "hours", "protocol", "closures", "source"}),
    "clinic check": ([], {"file", "name", "chairs", "timezone", "conflicts"}),
    "ledger info": ([], {"backend", "location", "schema", "plans", "sessions_by_status", "history", "clinics"}),
    "ledger copy": (["{ledger}", "{tmp}/copy.sqlite3"], {"source", "target", "rows"}),
}
#: A session on the day sheet (`day`).
DAY_ROW = {"start", "end", "resource", "patient", "kind", "number", "of", "plan_id", "status"}
#: A row of `plans`.
PLANS_ROW = {
    "plan_id", "patient", "clinic", "window", "first_infusion", "last_infusion", "next_session",
    "done", "missed", "to_mark", "left", "cancelled", "status", "revision",
}  # fmt: skip
#: What each row of `batch` carries (it streams one envelope per input line).
BATCH_ROW = {"line", "request_id"} | PLAN | {"existing", "files"}
BATCH_ROW_NO_PLAN = {"line", "request_id", "explanation", "suggestions"}


def json_commands() -> set[str]:
    return {name for name, cmd in cli_reference.commands() if any("--json" in p.opts for p in cmd.params)}


def test_every_json_command_is_pinned() -> None:
    # send needs a clinic with [smtp]: its keys (and `delivery`'s) are pinned in test_cmd_send
    assert json_commands() - {"batch", "send", "sync"} == set(PINNED)  # send, sync: in their own tests


@pytest.fixture
def booked(cli) -> str:
    doc = json.loads(cli("schedule", "--patient", "Jane Roe", "--start", "2026-12-01", "--weeks", "3", "--json").stdout)
    return doc["data"]["plan_id"]


@pytest.mark.parametrize("command", list(PINNED))
def test_data_keys_are_pinned(cli, booked: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    args, keys = PINNED[command]
    if command in ("attend", "no-show"):
        monkeypatch.setenv("KETAPLAN_NOW", "2026-12-04T23:00:00")  # infusion 1 has begun
    if command == "boosters":  # a series that is done and was attended
        monkeypatch.setenv("KETAPLAN_NOW", "2026-12-24T12:00:00")
        for n in range(1, 7):
            assert cli("attend", booked, "--session", str(n)).exit_code == 0
    if command == "reopen":  # a closure to take back
        assert cli("close", "2026-12-28", "--reason", "staff training").exit_code == 0
    if command == "check":  # a series file to check: the booked plan, exported
        assert cli("export", booked, "--ics", tmp_path / "p.ics").exit_code == 0
    words = [a.format(plan=booked, tmp=tmp_path, ledger=os.environ["KETAPLAN_LEDGER"]) for a in args]
    r = cli(*command.split(), *words, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)  # stdout holds the envelope and nothing else
    assert tuple(doc) == ENVELOPE_KEYS
    assert doc["ketaplan"] == 1 and doc["command"] == command and doc["status"] == "ok" and doc["errors"] == []
    assert set(doc["data"]) == keys
    for s in doc["data"].get("sessions", []):
        assert set(s) == (DAY_ROW if command == "day" else SESSION)
    for row in doc["data"]["plans"] if command == "plans" else []:  # `ledger info` counts them
        assert set(row) == PLANS_ROW


def test_batch_row_envelopes_are_pinned(cli, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    # Ben can come only on Sundays, when the demo clinic is closed: no plan.
    rows.write_text("patient,start,days\nAnn,2026-12-07,\nBen,2026-12-07,sun\n", encoding="utf-8")
    r = cli("batch", rows, "--suggest")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [tuple(d) for d in lines] == [ENVELOPE_KEYS] * 2
    ok = next(d for d in lines if d["status"] == "ok")
    assert ok["command"] == "batch" and set(ok["data"]) == BATCH_ROW
    none = next(d for d in lines if d["status"] == "infeasible")
    assert set(none["data"]) == BATCH_ROW_NO_PLAN and none["data"]["suggestions"]
    assert all(set(s) == {"change", "message", "option", "window"} for s in none["data"]["suggestions"])
