"""Where the clinic file and the ledger live (first match wins; README, "Scheduling a series")."""

from __future__ import annotations

import os
from pathlib import Path

from ketaplan.core.clinic import Clinic, demo_clinic

APP = "ketaplan"


def user_config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False)


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False)


def clinic_path(option: Path | None) -> Path | None:
    """--clinic, $KETAPLAN_CLINIC, clinic.toml in the user config dir; None = the demo."""
    if option is not None:
        return option
    env = os.environ.get("KETAPLAN_CLINIC")
    if env:
        return Path(env)
    default = user_config_dir() / "clinic.toml"
    return default if default.is_file() else None


def resolve_clinic(path: Path | None) -> Clinic:
    """The clinic at `path` (as found by clinic_path), or the demo clinic for None."""
    from ketaplan.store.holiday_cache import CACHED  # public holidays from the package, cached on disk

    if path is None:
        return demo_clinic(CACHED)
    from ketaplan.formats.clinic_file import load_clinic

    return load_clinic(path, CACHED)


def ledger_location(option: str | None) -> str | Path:
    """A postgresql:// URL (kept as text: a path would fold its //), else a file path."""
    from ketaplan.store.location import check_location, is_url

    value = option if option is not None else os.environ.get("KETAPLAN_LEDGER") or None
    if value is None:
        return user_data_dir() / "ledger.sqlite3"
    check_location(value)  # another scheme, or a key=value connection string: refused
    return value if is_url(value) else Path(value)
