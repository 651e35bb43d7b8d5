from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import TODAY  # noqa: E402
from ketaplan.core.clinic import use_holiday_provider  # noqa: E402
from ketaplan.store.holiday_cache import holidays_from_package  # noqa: E402

# Tests that build clinics without the CLI take holidays straight from the package.
use_holiday_provider(holidays_from_package)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's clinic or ledger; 'today' is fixed."""
    monkeypatch.setenv("KETAPLAN_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("KETAPLAN_TODAY", TODAY.isoformat())
    monkeypatch.delenv("KETAPLAN_CLINIC", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("KETAPLAN_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return Path(os.environ["KETAPLAN_LEDGER"])


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def cli(runner):
    """Run ketaplan in-process; returns the Result (stdout and stderr kept apart)."""
    from ketaplan.cli.app import app

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


@pytest.fixture
def clinic_file(tmp_path: Path) -> Path:
    """A two-chair clinic open 08-17 on weekdays (test modules may define their own)."""
    from helpers import write_clinic

    return write_clinic(
        tmp_path / "clinic.toml", chairs=2, hours={d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
