"""What several commands need: the clinic, the ledger, today's date."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from ketaplan import config
from ketaplan.clinic import Clinic
from ketaplan.dates import parse_date
from ketaplan.ledger import Ledger

from .output import notice


def load_clinic(option: Path | None) -> Clinic:
    from ketaplan.clinic import use_holiday_provider
    from ketaplan.holiday_cache import cached_holidays

    use_holiday_provider(cached_holidays)
    path = config.clinic_path(option)
    clinic = config.resolve_clinic(path)
    if path is None:
        notice(f"no clinic file given: planning against the built-in demo clinic ({clinic.name}); see `ketaplan clinic init`")
    return clinic


def today(clinic: Clinic) -> date:
    """Today in the clinic's zone. KETAPLAN_TODAY overrides it (tests, re-running a day)."""
    forced = os.environ.get("KETAPLAN_TODAY")
    if forced:
        return parse_date(forced, today=date.today(), field="KETAPLAN_TODAY")
    return datetime.now(clinic.zone).date()


def open_ledger(option: Path | None) -> Ledger:
    return Ledger(config.ledger_path(option))
