"""Bookings that persist: a ledger on one of two back ends, an embedded SQLite file (the
default, store.sqlite_ledger) or a PostgreSQL database shared by several desks
(store.pg_ledger). Both run the same queries (store.tx) with the same guarantees:

- a plan is written in one transaction, all sessions or none;
- writers take the ledger's write lock *before* reading availability, so two
  coordinators planning at the same moment are serialised and never put two patients in
  one chair (on PostgreSQL the database also refuses overlapping chair bookings itself);
- a ledger is used only when it is positively ours, and one made by a newer ketaplan
  (a higher schema version) is refused."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from ketaplan.core.errors import LedgerError
from ketaplan.store.records import new_plan_id, utc_text
from ketaplan.store.sql import Db
from ketaplan.store.tx import BatchTx, LedgerTx, PlanSummary

__all__ = ["BatchTx", "Ledger", "LedgerConflict", "LedgerTx", "PlanSummary", "new_plan_id", "utc_text"]

#: The schema both back ends are on; the same numbers on both. 2: history indexed by plan;
#: 3: SQLite's application_id and the meta table; 4: sessions.held_until_utc (end + turnover);
#: 5: history.author and history.reason (who made a change, and why); 6: closures;
#: 7: contacts (a patient's email and phone, one row per plan). 8: outbox (messages
#: queued with a change, delivered after the commit).
SCHEMA_VERSION = 8
#: How many times a booking whose chairs were taken meanwhile is planned again.
CONFLICT_RETRIES = 3
#: Seconds a writer waits for another desk's write lock before it gives up and says so.
LOCK_WAIT = 60.0


def lock_wait() -> float:
    """LOCK_WAIT, or KETAPLAN_LOCK_WAIT seconds (tests; a site whose batches run long)."""
    text = os.environ.get("KETAPLAN_LOCK_WAIT", "")
    try:
        value = float(text) if text else LOCK_WAIT
    except ValueError:
        raise LedgerError(f"{text!r} is not a number of seconds", field="KETAPLAN_LOCK_WAIT") from None
    if not 0 < value <= 3600:
        raise LedgerError("must be from 0 to 3600 seconds", field="KETAPLAN_LOCK_WAIT")
    return value


def busy_error(name: str, waited: float) -> LedgerError:
    """Both back ends' answer when another desk held the write lock too long."""
    return LedgerError(
        f"the ledger at {name} is busy: another desk has held it for over {waited:g} s, so nothing was changed; "
        "try again (if it stays busy, a desk may be paused in the middle of a change)",
        field="--ledger",
    )


T = TypeVar("T")


def no_notice(text: str) -> None:
    """Where a ledger's notices go when its opener gave no place for them."""


class LedgerConflict(LedgerError):
    """The database refused a booking because another writer took the same chair or slot
    at the same moment (PostgreSQL: SQLSTATE 23P01 or 40001). Planned again, a few times."""

    code = "conflict"


class Ledger(ABC):
    """Where bookings live. `name` is safe to show: a path, or a URL without its password."""

    backend: str
    name: str
    #: Says something to the person running the command (the CLI: stderr), e.g. that the
    #: ledger file can be read by others; given by whoever opens the ledger.
    notice: Callable[[str], None] = staticmethod(no_notice)

    @abstractmethod
    def exists(self) -> bool:
        """Whether a ledger is there already (reading a missing one is an error)."""

    @abstractmethod
    def _connect(self, *, write: bool) -> Db: ...

    @abstractmethod
    def _release(self, db: Db) -> None:
        """Done with a connection: closed, or kept for the next transaction."""

    @abstractmethod
    def _translated(self) -> AbstractContextManager[None]:
        """The driver's errors (damaged, read-only, unreachable, conflict) as LedgerErrors."""

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        """One write transaction, holding the write lock from the first read to commit."""
        with self._connection(write=True) as db:
            db.begin_write()
            try:
                yield LedgerTx(db)
            except BaseException:
                db.rollback()
                raise
            db.commit()

    @contextmanager
    def batch(self) -> Iterator[BatchTx]:
        """A connection for a batch: it commits in groups (see BatchTx)."""
        with self._connection(write=True) as db:
            try:
                yield BatchTx(db)
            finally:
                if db.in_transaction:
                    db.rollback()

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        """A read-only transaction: changes nothing, works on a read-only SQLite file."""
        with self._connection(write=False) as db:
            db.begin_read()
            try:
                yield LedgerTx(db)
            finally:
                if db.in_transaction:
                    db.rollback()

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[Db]:
        # write(), batch() and read() open and let go of a connection alike; what differs
        # is the transaction each holds (all-or-nothing, group commits, none).
        db = None
        try:
            with self._translated():
                db = self._connect(write=write)
                yield db
        finally:
            if db is not None:
                self._release(db)

    def retrying(self, change: Callable[[LedgerTx], T]) -> T:
        """Run `change` in a write transaction; when the database refuses the booking
        because another writer took the chair first, run it again on the new state."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with self.write() as tx:
                    return change(tx)
            except LedgerConflict:
                if attempt == CONFLICT_RETRIES:
                    raise
        raise AssertionError("unreachable")
