from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import TODAY  # noqa: E402


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


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL server for the whole run (tests/pg_server.py)."""
    import pg_server as pg

    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "psycopg is not installed (pip install -e '.[test]')"
        pytest.fail(reason) if pg.REQUIRED else pytest.skip(reason)
    if pg.bindir() is None:
        reason = "no PostgreSQL server binaries (apt-get install postgresql)"
        pytest.fail(reason) if pg.REQUIRED else pytest.skip(reason)
    server = pg.Server()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return pg_server.new_database()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Modules that use the `backend` fixture (pytestmark = usefixtures("backend")) run
    # every test on both ledger back ends.
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ["sqlite"] if sqlite_only else ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ledger back end of this test: KETAPLAN_LEDGER is a file, or a fresh database."""
    if request.param == "postgresql":
        monkeypatch.setenv("KETAPLAN_LEDGER", request.getfixturevalue("pg_url"))
    return str(request.param)


@pytest.fixture
def ledger_path(tmp_path: Path) -> str | Path:
    """Where this test's ledger is: a file path, or a postgresql:// URL (see `backend`)."""
    value = os.environ["KETAPLAN_LEDGER"]
    return value if value.startswith("postgresql://") else Path(value)


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


@pytest.fixture
def mail_server(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server (aiosmtpd: STARTTLS, then AUTH) for one test; its certificate is
    trusted through SSL_CERT_FILE and its password is in the variable the clinic names."""
    from mail_server import PASSWORD, MailServer

    server = MailServer(tmp_path_factory.mktemp("smtp"))
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
    monkeypatch.setenv("KETAPLAN_TEST_SMTP_PASSWORD", PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def calendar_server(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A real CalDAV server (Radicale, htpasswd auth) with one empty calendar collection;
    its password is in the variable the clinic names."""
    from caldav_server import PASSWORD, CalendarServer

    server = CalendarServer(tmp_path_factory.mktemp("caldav"))
    monkeypatch.setenv("KETAPLAN_TEST_CALDAV_PASSWORD", PASSWORD)
    server.start()
    server.make_calendar()
    yield server
    server.stop()
