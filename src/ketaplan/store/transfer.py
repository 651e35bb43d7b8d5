"""A whole ledger moved between back ends (`ledger copy`), and what a ledger holds
(`ledger info`). Rows are copied as they are, column by column, so plan ids, revisions,
history and request ids survive and a copied plan is the same plan."""

from __future__ import annotations

from typing import NamedTuple

from ketaplan.core.errors import LedgerError
from ketaplan.store.ledger import Ledger
from ketaplan.store.records import TABLE_SINCE, TABLES, columns_of
from ketaplan.store.sql import Db

_ORDER = {
    "plans": "plan_id",
    "sessions": "plan_id, kind, number",
    "history": "plan_id, revision, at_utc, action",
    "closures": "id",
    "contacts": "plan_id",
    "outbox": "id",
}


class LedgerInfo(NamedTuple):
    backend: str
    location: str  # safe to show: no password
    schema: int
    plans: int
    sessions_by_status: dict[str, int]
    history: int
    clinics: list[str]


def info(ledger: Ledger) -> LedgerInfo:
    with ledger.read() as tx:
        db = tx.db
        sessions = {status: int(n) for status, n in db.execute("SELECT status, COUNT(*) FROM sessions GROUP BY status")}
        return LedgerInfo(
            ledger.backend,
            ledger.name,
            db.schema_version(),
            int(db.one("SELECT COUNT(*) FROM plans")),
            dict(sorted(sessions.items())),
            int(db.one("SELECT COUNT(*) FROM history")),
            [r[0] for r in db.execute("SELECT DISTINCT clinic FROM plans ORDER BY clinic")],
        )


def _rows(db: Db, table: str) -> list[tuple[object, ...]]:
    schema = db.schema_version()
    if schema < TABLE_SINCE.get(table, 0):
        return []  # an older ledger, without this table yet
    columns = columns_of(table, schema)  # our own names, never input; an older source's as NULL
    return [tuple(r) for r in db.execute(f"SELECT {columns} FROM {table} ORDER BY {_ORDER[table]}")]


def copy(source: Ledger, target: Ledger) -> dict[str, int]:
    """Copy every row of `source` into `target`, which must hold no plans yet. The copy is
    one transaction, checked row for row against the source before it commits: either the
    target holds exactly the source, or nothing changed. Returns the rows per table."""
    if source.name == target.name:
        raise LedgerError("the source and the target are the same ledger", field="TARGET")
    if not source.exists():
        raise LedgerError(f"no ledger at {source.name}; nothing to copy", field="SOURCE")
    with source.read() as src:
        rows = {table: _rows(src.db, table) for table in TABLES}
    with target.write() as dst:
        held = int(dst.db.one("SELECT COUNT(*) FROM plans"))
        if held:
            raise LedgerError(
                f"{target.name} already holds {held} plan{'s' if held != 1 else ''}; copy into a new, empty ledger",
                field="TARGET",
            )
        for table, columns in TABLES.items():  # plans first: sessions and history refer to them
            marks = ", ".join("?" for _ in columns)
            dst.db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows[table])
        for table in TABLES:
            if _rows(dst.db, table) != rows[table]:  # rolled back: the target is left empty
                raise LedgerError(f"the copy of {table} does not match the source; nothing was copied", field="TARGET")
    return {table: len(r) for table, r in rows.items()}
