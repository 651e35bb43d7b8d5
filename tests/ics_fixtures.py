"""Deterministic plans for the .ics golden files and interop tests.

python tests/ics_fixtures.py     rewrites tests/golden/*.ics (after a deliberate change)"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from helpers import make_clinic  # noqa: E402
from ketaplan.core.availability import Availability  # noqa: E402
from ketaplan.core.clinic import Clinic  # noqa: E402
from ketaplan.core.model import Patient, Plan, Request  # noqa: E402
from ketaplan.core.planner import find_plan  # noqa: E402
from ketaplan.formats.ics_export import plan_to_ics  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
STAMP = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat")

# name: (zone, first day, boosters, details); each window crosses a DST change but Kolkata's
CASES: dict[str, tuple[str, date, int, bool]] = {
    "chicago": ("America/Chicago", date(2026, 12, 1), 0, False),
    "new_york_spring": ("America/New_York", date(2027, 3, 8), 1, False),
    "berlin_autumn": ("Europe/Berlin", date(2027, 10, 25), 0, False),
    "sydney_autumn": ("Australia/Sydney", date(2027, 3, 29), 0, False),
    "kolkata_details": ("Asia/Kolkata", date(2027, 1, 11), 0, True),
}


def case(name: str) -> tuple[Plan, Clinic, bool]:
    zone, first, boosters, details = CASES[name]
    clinic = make_clinic(
        name="Lakeside Ketamine Clinic",
        timezone=zone,
        address="12 Lake St, Springfield",
        phone="+1 555 0100",
        email="frontdesk@lakeside.example",
        hours={d: ["08:00-17:00"] for d in WEEK},
    )
    patient = Patient("Zoë Ørsted-Đặng", "MRN-1") if details else Patient("Jane Roe", "MRN-2")
    req = Request(patient, first, first + timedelta(days=20), boosters=boosters)
    plan = find_plan(clinic, req, Availability(clinic), plan_id=f"KP-{name.upper().replace('_', '')[:8]}", stamp=STAMP)
    assert plan is not None
    return plan, clinic, details


def export(name: str) -> bytes:
    plan, clinic, details = case(name)
    return plan_to_ics(plan, clinic, details=details)


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for name in CASES:
        (GOLDEN / f"{name}.ics").write_bytes(export(name))
        print(f"wrote {GOLDEN / name}.ics")
