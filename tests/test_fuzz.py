"""Fuzzing the real command: mutated real calendars, clinic files, batch files and ledgers
with rows changed by hand, on both ledger back ends.

A seeded generator (KETAPLAN_FUZZ_SEED, KETAPLAN_FUZZ_CASES to run longer) makes inputs;
each runs `python -m ketaplan` in its own process with a time limit, two at a time. For
every input: exit 0, 2 or 3 only, never a traceback, never over the time limit, and a
refused input (exit 2) books nothing. A failure prints the seed and keeps the input."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import clinic_doc, query, to_toml

CORPUS = Path(__file__).parent / "data" / "corpus"
SEED = int(os.environ.get("KETAPLAN_FUZZ_SEED", "20261203"))
CASES = int(os.environ.get("KETAPLAN_FUZZ_CASES", "48"))
LIMIT = 20.0  # seconds one run may take (a hang is a failure, not a slow pass)

JUNK = [
    "", "-", "0", "-1", "99999999999999999999", "1e308", "NaN", "9999-12-31", "0001-01-01", "2026-02-30",
    "24:00", "25:61", "Zoë Ørsted", "\u202e", "x" * 3000, "[[[[", '"', "\\", "mon,,fri", "Mon, Wed", "DAILY",
    "Infinity", "-Infinity", "1e400", "2.9", "٣", "29 Feb", "\x00", "/dev/zero",
]  # fmt: skip
#: JSON values (not text) a batch row may hold in any field
JSON_JUNK = [float("inf"), 1e300, 2.9, -0.0, True, False, {"x": 1}, [1, [2]], 10**30]
ICS_LINES = [
    "RRULE:FREQ=SECONDLY", "RRULE:FREQ=MINUTELY;COUNT=1000000000", "RRULE:FREQ=DAILY;COUNT=1000000000",
    "RRULE:FREQ=DAILY;BYSECOND=1,2,3", "RRULE:FREQ=YEARLY;BYDAY=-400MO", "EXDATE:garbage", "RDATE;VALUE=PERIOD:x",
    "DTSTART;TZID=Mars/Olympus:20261201T090000", "DTSTART:99991231T235959Z", "DTEND:00010101T000000Z",
    "BEGIN:VEVENT", "END:VEVENT", "BEGIN:X-A", "END:VCALENDAR", "DURATION:P99999W", "X-KETAPLAN-CHAIR:Chair 99",
    "RRULE:FREQ=DAILY;INTERVAL=0", "RRULE:FREQ=WEEKLY;INTERVAL=-1", "DURATION:-PT1H30M", "DURATION:P99999999W",
    "RRULE:FREQ=DAILY;UNTIL=19000101T000000Z", "RECURRENCE-ID:20261201T090000", "EXDATE:20261201T090000",
    "DTSTART:00010101T000000Z", "RRULE:FREQ=DAILY;COUNT=0",
]  # fmt: skip


def run(args: list[str], cwd: Path) -> tuple[int, str, str, float]:
    began = time.monotonic()
    try:
        p = subprocess.run(
            [sys.executable, "-m", "ketaplan", *args], cwd=cwd, capture_output=True, text=True, timeout=LIMIT
        )
    except subprocess.TimeoutExpired:
        return -1, "", "timed out", LIMIT
    return p.returncode, p.stdout, p.stderr, time.monotonic() - began


def booked(ledger: Path | str) -> int:
    return int((query(ledger, "SELECT COUNT(*) FROM sessions WHERE status = 'booked'") or [(0,)])[0][0])


def plan_ids(ledger: Path | str) -> set[str]:
    return {r[0] for r in query(ledger, "SELECT plan_id FROM plans")}


def mutate_lines(rng: random.Random, lines: list[str], extra: list[str]) -> list[str]:
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines.insert(i, rng.choice(extra))
        elif op == 4 and ("=" in lines[i] or ":" in lines[i]):
            sep = "=" if "=" in lines[i] else ":"
            lines[i] = lines[i].split(sep, 1)[0] + sep + rng.choice(JUNK)
        else:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return lines


def calendar_case(rng: random.Random, where: Path) -> tuple[list[str], Path]:
    sources = sorted(CORPUS.glob("*.ics"))
    text = rng.choice(sources).read_text(encoding="utf-8-sig", errors="replace")
    ics = where / "busy.ics"
    ics.write_text("\r\n".join(mutate_lines(rng, text.splitlines(), ICS_LINES)) + "\r\n", encoding="utf-8")
    clinic = where / "clinic.toml"
    clinic.write_text(to_toml(clinic_doc(closures={"busy_ics": "busy.ics"})), encoding="utf-8")
    if rng.random() < 0.1:  # a device or a FIFO where a calendar should be
        special = rng.choice(["/dev/zero", "/dev/urandom", "fifo"])
        if special == "fifo":
            os.mkfifo(where / "fifo")
            special = str(where / "fifo")
        clinic.write_text(to_toml(clinic_doc(closures={"busy_ics": special})), encoding="utf-8")
    if rng.random() < 0.5:
        return ["check", str(ics), "--clinic", str(where / "plain.toml")], clinic
    return ["schedule", "--patient", "Fuzz", "--start", "2026-12-07", "--clinic", str(clinic)], clinic


def clinic_case(rng: random.Random, where: Path) -> tuple[list[str], Path]:
    closures = {"dates": ["2026-12-24", "2026-12-31/2027-01-02"], "holidays": "US"}
    lines = to_toml(clinic_doc(closures=closures, protocol={"min_days_apart": 2})).split("\n")
    extra = [
        "slot_minutes = 7", 'chairs = ["A", "A"]', 'mon = ["17:00-08:00"]', 'timezone = "Mars/Olympus"',
        'dates = ["0001-01-01/9999-12-31"]', 'holidays = "XX-YY"', "infusions = 400", "turnover_minutes = -5",
        'sat = ["00:00-24:00"]', "max_starts_per_slot = 0", "window_days = [1, 400]", 'name = "A\\r\\nB"',
        "a = " + "[" * 50_000 + "]" * 50_000, "b = " + "{c = " * 3_000 + "1" + "}" * 3_000, "chairs = 100000",
        'chairs = ["Consult room 1", "B"]', 'chairs = ["A\\u0000", "B"]', 'fasting = "' + "x" * 200_000 + '"',
    ]  # fmt: skip
    # Whole statements only, mostly: a file that is not TOML at all stops at the first check.
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(lines))
        if rng.random() < 0.6:
            lines.insert(i, rng.choice(extra))
        elif "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + json.dumps(rng.choice(JUNK))
        else:
            del lines[i]
    clinic = where / "clinic.toml"
    clinic.write_text("\n".join(lines), encoding="utf-8")
    return ["schedule", "--patient", "Fuzz", "--start", "2026-12-07", "--clinic", str(clinic)], clinic


def batch_case(rng: random.Random, where: Path) -> tuple[list[str], Path]:
    fields = ["request_id", "patient", "start", "weeks", "days", "earliest", "latest", "maintenance", "unavailable"]
    good = {"patient": "Ann", "start": "2026-12-07", "weeks": "3", "days": "mon,wed,fri", "earliest": "09:00"}
    rows = []
    for _ in range(rng.randint(1, 6)):
        row = {k: v for k, v in good.items() if rng.random() < 0.8}
        row["request_id"] = f"r{rng.randint(0, 4)}"
        for k in rng.sample(fields, rng.randint(0, 3)):
            row[k] = rng.choice(JUNK)
        rows.append(row)
    json_rows: list[dict[str, object]] = [dict(r) for r in rows]
    for r in json_rows:  # JSON values no CSV cell can hold
        for k in rng.sample(fields, rng.randint(0, 2)):
            r[k] = rng.choice(JSON_JUNK)
    path = where / "rows.txt"
    if rng.random() < 0.5:
        text = "\n".join(json.dumps(r) for r in json_rows)
    else:
        header = fields if rng.random() < 0.9 else [*fields, rng.choice(JUNK)]
        cell = lambda v: '"' + str(v).replace('"', '""') + '"'  # noqa: E731
        text = ",".join(header) + "\n" + "\n".join(",".join(cell(r.get(k, "")) for k in header) for r in rows)
    path.write_text("\n".join(mutate_lines(rng, text.split("\n"), JUNK)) if rng.random() < 0.3 else text)
    return ["batch", str(path), "--clinic", str(where / "plain.toml")], path


TAMPERED = [
    ("start_utc", "garbage"), ("end_utc", ""), ("status", "weird"), ("kind", "x"), ("number", "-1"),
    ("start_utc", "9999-12-31T23:59:59Z"), ("resource", "Chair 99"), ("of_n", "0"),
]  # fmt: skip


def tampered_case(rng: random.Random, where: Path, ledger: Path | str) -> tuple[list[str], Path]:
    """A ledger with a plan, one of its rows then changed by hand; a command reads it."""
    clinic = where / "plain.toml"
    code, out, _, _ = run(["schedule", "--patient", "Fuzz", "--start", "2026-12-07", "--clinic", str(clinic),
                           "--ledger", str(ledger), "--json"], where)  # fmt: skip
    assert code == 0, out
    plan = json.loads(out)["data"]["plan_id"]
    column, value = rng.choice(TAMPERED)
    try:
        query(ledger, f"UPDATE sessions SET {column} = ? WHERE plan_id = ? AND number = 2 RETURNING 1", (value, plan))
    except Exception:  # PostgreSQL refuses some of these itself (a time that is not one)
        pass
    command = rng.choice([["plans"], ["show", plan], ["day", "2026-12-09"], ["export", plan, "--ics", "x.ics"],
                          ["reschedule", plan, "--session", "3"], ["cancel", plan, "--session", "4"],
                          ["attend", plan, "--session", "1"], ["check", "x.ics"]])  # fmt: skip
    clinic_arg = [] if command[0] in ("plans", "attend") else ["--clinic", str(clinic)]
    return [*command, *clinic_arg], clinic


MAKERS: list[Callable[[random.Random, Path], tuple[list[str], Path]]] = [calendar_case, clinic_case, batch_case]


@pytest.mark.slow
@pytest.mark.parametrize("back_end", ["sqlite", "postgresql"])
def test_fuzzed_inputs_never_crash_hang_or_book_when_refused(tmp_path: Path, request, back_end: str) -> None:
    rng = random.Random(SEED)
    pg = request.getfixturevalue("pg_server") if back_end == "postgresql" else None
    cases = []
    for n in range(CASES):
        where = tmp_path / f"case{n}"
        where.mkdir()
        (where / "plain.toml").write_text(to_toml(clinic_doc()), encoding="utf-8")
        ledger: Path | str = pg.new_database() if pg is not None else where / "l.sqlite3"
        if n % (len(MAKERS) + 1) == len(MAKERS):
            args, source = tampered_case(rng, where, ledger)
        else:
            args, source = MAKERS[n % (len(MAKERS) + 1)](rng, where)
        cases.append((where, [*args, "--ledger", str(ledger)], source, ledger))

    def one(case: tuple[Path, list[str], Path, Path | str]) -> str | None:
        where, args, source, ledger = case
        before = booked(ledger)
        code, out, err, took = run(args, where)
        what = f"seed {SEED}, {where.name}: ketaplan {' '.join(args[:1])} on {source}"
        if code not in (0, 2, 3):
            return f"{what}: exit {code}: {err[-400:]}"
        if "Traceback" in err:
            return f"{what}: traceback: {err[-400:]}"
        if took >= LIMIT:
            return f"{what}: took {took:.1f} s"
        if code == 2 and args[0] in ("schedule", "batch") and booked(ledger) != before:
            return f"{what}: refused (exit 2) but booked {booked(ledger) - before} sessions"
        if args[0] == "batch" and code in (0, 3):
            new = [json.loads(x) for x in out.splitlines()]
            fresh = {d["data"]["plan_id"] for d in new if d["status"] == "ok" and not d["data"].get("existing")}
            plans = plan_ids(ledger)
            if plans != fresh:
                return f"{what}: the ledger holds {sorted(plans)}, the output said {sorted(fresh)}"
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f for f in pool.map(one, cases) if f]
    assert not failures, "\n".join(failures)
