"""Shared test helpers: clinic files from dicts, plans, requests."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ketaplan.core import checks
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Booking, Patient, Request
from ketaplan.core.span import planning_span
from ketaplan.formats.clinic_file import parse_clinic
from ketaplan.store.holiday_cache import FROM_PACKAGE
from ketaplan.store.location import ledger_at

TODAY = date(2026, 11, 25)

BASE: dict[str, Any] = {
    "name": "Test Clinic",
    "timezone": "America/Chicago",
    "address": "1 Test Rd",
    "phone": "+1 555 0199",
    "email": "desk@test.example",
    "chairs": 2,
    "slot_minutes": 15,
    "turnover_minutes": 15,
    "consult_rooms": 1,
    "hours": {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string is a JSON string (escapes included)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def to_toml(doc: dict[str, Any]) -> str:
    lines = [f"{k} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{kk} = {toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def clinic_doc(**overrides: Any) -> dict[str, Any]:
    doc = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict) and key != "hours":
            doc[key].update(value)
        else:
            doc[key] = value
    return doc


def make_clinic(**overrides: Any) -> Clinic:
    return parse_clinic(to_toml(clinic_doc(**overrides)), source="test.toml", base_dir=None, holidays=FROM_PACKAGE)


def write_clinic(path: Path, **overrides: Any) -> Path:
    path.write_text(to_toml(clinic_doc(**overrides)), encoding="utf-8")
    return path


def request(first: date, last: date, **kw: Any) -> Request:
    kw.setdefault("patient", Patient("Test Patient", "T-1"))
    return Request(first_day=first, last_day=last, **kw)


def at(clinic: Clinic, day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=clinic.zone)


def busy(clinic: Clinic, day: date, hh: int, minutes: int, chair: str | None) -> Booking:
    from datetime import timedelta

    start = at(clinic, day, hh)
    return Booking(start, start + timedelta(minutes=minutes), chair, "infusion", "KP-OTHER")


def availability(clinic: Clinic, bookings: list[Booking] | None = None) -> Availability:
    return Availability(clinic, bookings or [])


def query(ledger: Path | str, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows read straight from a ledger (sqlite3 or psycopg, not through ketaplan); none
    when there is no ledger there yet. `?` placeholders, as SQLite writes them."""
    if isinstance(ledger, str) and ledger.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(ledger, autocommit=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            if "sessions" not in tables:
                return []
            return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), args).fetchall()]
    import sqlite3

    if not Path(ledger).exists():
        return []
    with sqlite3.connect(ledger) as db:
        return db.execute(sql, args).fetchall()


def booked_rows(ledger: Path | str) -> int:
    """Sessions booked in a ledger (0 when there is none)."""
    rows = query(ledger, "SELECT COUNT(*) FROM sessions WHERE status = 'booked'")
    return rows[0][0] if rows else 0


def snapshot(ledger: Path | str) -> list[list[tuple]]:
    """Every row of every table: equal before and after means nothing changed."""
    return [
        sorted(query(ledger, f"SELECT * FROM {table}"), key=repr)  # noqa: S608 - our own table names
        for table in ("plans", "sessions", "history")
    ]


def run_json(cli, *args: str | Path) -> dict:
    r = cli(*args, "--json")
    return json.loads(r.stdout)


def book(cli, clinic: Path, patient: str, start: str = "2027-02-01", *extra: str) -> dict:
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", patient, "--start", start, "--weeks", "3", *extra)
    assert doc["status"] == "ok", doc
    return doc["data"]


def sessions(data: dict, kind: str = "infusion") -> dict[int, dict]:
    return {s["number"]: s for s in data["sessions"] if s["kind"] == kind}


def assert_all_rules_hold(ledger: Path | str, clinic_file: Path, plan_id: str) -> None:
    from ketaplan.formats.clinic_file import load_clinic

    clinic = load_clinic(clinic_file, FROM_PACKAGE)
    led = ledger_at(ledger)
    with led.read() as tx:
        plan, req = tx.load_plan(plan_id)
        span = planning_span(clinic, req.first_day, req.last_day, req.boosters)
        others = [b for b in tx.bookings(clinic.name, *span, clinic.zone) if b.plan_id != plan_id]
    req = req._replace(last_day=plan.last_day)
    ctx = checks.CheckContext(clinic, req, Availability(clinic, others, span=span).occupancy, True, len(plan.boosters))
    failed = [r for r in checks.run_checks(plan, ctx) if not r.ok and r.rule != "count"]
    assert not failed, [r.detail for r in failed]


def capacity_violations(
    ledger: Path | str, chairs: int, starts_per_slot: int, rooms: int, turnover_minutes: int
) -> list[str]:
    """Read every booked session straight from the ledger file (not through ketaplan) and
    list each chair, start slot or consult room held beyond what the clinic has."""
    from collections import Counter, defaultdict
    from datetime import timedelta

    rows = query(
        ledger, "SELECT kind, start_utc, end_utc, resource FROM sessions WHERE status IN ('booked', 'attended')"
    )
    gap = timedelta(minutes=turnover_minutes)
    held: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    starts: Counter[str] = Counter()
    problems = []
    for kind, start, end, resource in rows:
        s, e = datetime.fromisoformat(start), datetime.fromisoformat(end)
        if resource is None:
            problems.append(f"{kind} at {start} has no chair or room")
            continue
        held[resource].append((s, e))
        if kind in ("infusion", "maintenance"):
            starts[start] += 1
    names = {f"Chair {i}" for i in range(1, chairs + 1)} | {f"Consult room {i}" for i in range(1, rooms + 1)}
    for resource, spans in held.items():
        if resource not in names:
            problems.append(f"{resource!r} is not a chair or room of the clinic")
        spans.sort()
        wait = gap if resource.startswith("Chair") else timedelta(0)
        for (s1, e1), (s2, e2) in zip(spans, spans[1:], strict=False):
            if s2 < e1 + wait:
                problems.append(f"{resource}: {s1:%m-%d %H:%M}-{e1:%H:%M} and {s2:%m-%d %H:%M}-{e2:%H:%M} overlap")
    problems += [
        f"{n} infusions start at {at} (at most {starts_per_slot})" for at, n in starts.items() if n > starts_per_slot
    ]
    return problems


def pdf_text(data: bytes) -> tuple[int, str]:
    """A real PDF read back (pypdf): its page count and text."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)
