"""Shared test helpers: clinic files from dicts, plans, requests."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Booking, Patient, Request
from ketaplan.formats.clinic_file import parse_clinic

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
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
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
    return parse_clinic(to_toml(clinic_doc(**overrides)), source="test.toml", base_dir=None)


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


def booked_rows(ledger: Path) -> int:
    """Sessions booked in a ledger file (0 when there is no file)."""
    import sqlite3

    if not ledger.exists():
        return 0
    with sqlite3.connect(ledger) as db:
        return db.execute("SELECT COUNT(*) FROM sessions WHERE status = 'booked'").fetchone()[0]
