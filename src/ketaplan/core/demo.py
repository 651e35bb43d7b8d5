"""The built-in demo clinic's data: data/demo_clinic.toml (the commented template that
`ketaplan clinic init` writes) as Python, so the demo loads without importing and running
tomllib on every start (~3 ms of `ketaplan schedule`). tests/test_clinic.py keeps the two
equal; change the TOML first, then this."""

from __future__ import annotations

from typing import Any

TABLE: dict[str, Any] = {
    "name": "Lakeside Ketamine Clinic",
    "timezone": "America/Chicago",
    "address": "12 Lake St, Springfield",
    "phone": "+1 555 0100",
    "email": "frontdesk@lakeside.example",
    "chairs": 4,
    "slot_minutes": 15,
    "turnover_minutes": 15,
    "max_starts_per_slot": 2,
    "consult_rooms": 1,
    "paper": "Letter",
    "date_format": "Dec 4, 2026",
    "hours": {
        "mon": ["08:00-17:00"],
        "tue": ["08:00-12:00", "13:00-18:00"],
        "wed": ["08:00-17:00"],
        "thu": ["08:00-12:00", "13:00-18:00"],
        "fri": ["08:00-16:00"],
        "sat": ["09:00-13:00"],
    },
    "closures": {"dates": ["2026-12-24", "2026-12-31/2027-01-02"], "holidays": "US"},
    "protocol": {
        "infusions": 6,
        "window_days": [14, 21],
        "min_days_apart": 2,
        "max_days_apart": 7,
        "session_minutes": 90,
        "consultation": True,
        "consultation_minutes": 45,
        "consultation_days_before": [1, 14],
        "maintenance_every_days": 28,
        "maintenance_tolerance_days": 7,
    },
    "instructions": {
        "fasting": "No solid food for 6 hours before; clear liquids until 2 hours before.",
        "escort": "An adult must drive you home. Do not drive until the next morning.",
        "emergency": "In an emergency call 911.",
        "arrive_minutes_early": 15,
        "reminder_hours_before": 24,
        "es": {"emergency": "En caso de emergencia, llame al 911."},
    },
}
