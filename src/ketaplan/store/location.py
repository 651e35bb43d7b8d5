"""Which back end a ledger location names: a `postgresql://` URL is a PostgreSQL ledger
(psycopg loaded only then), anything else a path to an SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ketaplan.store.ledger import Ledger, no_notice

URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def ledger_at(location: str | Path, notice: Callable[[str], None] = no_notice) -> Ledger:
    """The ledger at `location`; `notice` is where it says what the user should know."""
    if is_url(location):
        from ketaplan.store.pg_ledger import PostgresLedger

        ledger: Ledger = PostgresLedger(str(location))
        ledger.notice = notice
        return ledger
    from ketaplan.store.sqlite_ledger import SqliteLedger

    return SqliteLedger(Path(location), notice)
