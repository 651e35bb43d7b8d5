"""Which back end a ledger location names: a `postgresql://` URL is a PostgreSQL ledger
(psycopg loaded only then), anything else a path to an SQLite file; any other scheme is
refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ketaplan.core.errors import LedgerError
from ketaplan.store.credentials import CONNINFO, masked
from ketaplan.store.ledger import Ledger, no_notice

URL_SCHEMES = ("postgresql://", "postgres://")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.I)


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def check_location(location: str) -> None:
    """Refuse a location ketaplan does not speak: another scheme (`mysql://`, SQLite's own
    `file:` URIs) would otherwise become a file or folder of that odd name, and a libpq
    key=value string (`host=… password=…`) a file named after the password."""
    if is_url(location):
        return
    if CONNINFO.match(location):
        raise LedgerError(
            f"{masked(location)!r} looks like a PostgreSQL connection string; give it as a postgresql:// URL",
            field="--ledger",
        )
    scheme = _SCHEME.match(location)
    if scheme and (location[scheme.end() :].startswith("//") or scheme.group(1).lower() == "file"):
        raise LedgerError(
            f"{scheme.group(1)}: is not a ledger ketaplan can use: give a file path or a postgresql:// URL",
            field="--ledger",
        )


def ledger_at(location: str | Path, notice: Callable[[str], None] = no_notice) -> Ledger:
    """The ledger at `location`; `notice` is where it says what the user should know."""
    if isinstance(location, str):
        check_location(location)
    if is_url(location):
        from ketaplan.store.pg_ledger import PostgresLedger

        ledger: Ledger = PostgresLedger(str(location))
        ledger.notice = notice
        return ledger
    from ketaplan.store.sqlite_ledger import SqliteLedger

    return SqliteLedger(Path(location), notice)
