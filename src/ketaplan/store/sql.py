"""The one thing both ledger back ends share below the queries: a DB-API connection with
its transactions. Queries are written once (store.tx), with SQLite's `?` and `:name`
placeholders; a back end that speaks another paramstyle rewrites them (store.pg_ledger)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Args = Sequence[Any] | Mapping[str, Any]


class Db(ABC):
    """A connection to a ledger. Writers are serialised per ledger: `begin_write` takes the
    ledger's write lock *before* anything is read, so what a writer reads stays true until
    it commits (the planner reads free chairs, then books them)."""

    dialect: str

    @abstractmethod
    def execute(self, sql: str, args: Args = ()) -> Any:
        """A cursor over the rows (iterable; fetchone, fetchall). No rowcount: inside a
        pipeline (PostgreSQL writers) it is not known until the transaction syncs."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Args]) -> None: ...

    @abstractmethod
    def begin_write(self) -> bool:
        """Begin a write transaction holding the ledger's write lock. True when another
        connection committed a change since this one's last transaction (a batch then
        reloads what it holds in memory)."""

    @abstractmethod
    def begin_read(self) -> None:
        """Begin a read (a consistent snapshot where the back end gives one)."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @property
    @abstractmethod
    def in_transaction(self) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    def one(self, sql: str, args: Args = ()) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.execute(sql, args).fetchone()
        return row[0] if row else None
