"""Which back end a ledger location names: a `postgresql://` URL is a PostgreSQL ledger
(psycopg loaded only then), anything else a path to an SQLite file."""

from __future__ import annotations

from pathlib import Path

from ketaplan.store.ledger import Ledger

URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def ledger_at(location: str | Path) -> Ledger:
    if is_url(location):
        from ketaplan.store.pg_ledger import PostgresLedger

        return PostgresLedger(str(location))
    from ketaplan.store.sqlite_ledger import SqliteLedger

    return SqliteLedger(Path(location))
