"""Closures and chair outages recorded in the ledger (`close`, `closures`, `reopen`): every
desk sharing the ledger plans around them. Written under the ledger's write lock, like a
booking, so no booking slips onto a day while it is being closed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ketaplan.core.model import Closure
from ketaplan.store.records import TABLE_SINCE, TABLES, damaged, utc_text
from ketaplan.store.tx import LedgerTx

_COLUMNS = ", ".join(TABLES["closures"])


def closures(tx: LedgerTx, clinic: str) -> list[Closure]:
    """This clinic's recorded closures, in the order they were recorded."""
    if tx.schema < TABLE_SINCE["closures"]:
        return []  # a ledger not yet upgraded records none
    rows = tx.db.execute(f"SELECT {_COLUMNS} FROM closures WHERE clinic = ? ORDER BY id", (clinic,))
    return [_closure(r) for r in rows]


def add_closure(tx: LedgerTx, clinic: str, c: Closure, at: datetime) -> Closure:
    """Record `c`; returns it with its id (one more than the highest: writers are serialised)."""
    new_id = int(tx.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM closures").fetchone()[0])
    lo, hi = c.hours if c.hours else (None, None)
    tx.db.execute(
        f"INSERT INTO closures ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (new_id, clinic, c.first.isoformat(), c.last.isoformat(), lo, hi, c.chair, c.reason, c.author, utc_text(at)),
    )
    return c._replace(id=new_id)


def remove_closure(tx: LedgerTx, closure_id: int) -> tuple[str, Closure] | None:
    """Delete one recorded closure; returns its clinic and what it was, or None."""
    if tx.schema < TABLE_SINCE["closures"]:
        return None
    row = tx.db.execute(f"SELECT {_COLUMNS} FROM closures WHERE id = ?", (closure_id,)).fetchone()
    if row is None:
        return None
    tx.db.execute("DELETE FROM closures WHERE id = ?", (closure_id,))
    return str(row[1]), _closure(row)


def _closure(row: Any) -> Closure:
    cid, _clinic, first, last, lo, hi, chair, reason, author, _at = row
    try:
        first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    except (TypeError, ValueError):
        damaged(f"closure {cid}", f"its dates {first!r}..{last!r} are not dates")
    hours = None if lo is None or hi is None else (int(lo), int(hi))
    if first_day > last_day or (hours is not None and not 0 <= hours[0] < hours[1] <= 1440):
        damaged(f"closure {cid}", "its days or hours are reversed")
    return Closure(first_day, last_day, str(reason), hours, chair, int(cid), author)
