"""The embedded SQLite ledger: one file, the default. A file is used only when it is
positively ours (see `identify`); anything else is refused with exit 2 and left exactly as
it was. Writers take SQLite's write lock (BEGIN IMMEDIATE) before reading availability."""

from __future__ import annotations

import os
import sqlite3
import stat
import time as time_mod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ketaplan.core.errors import LedgerError
from ketaplan.store.files import sweep_leftovers, temp_prefix
from ketaplan.store.ledger import SCHEMA_VERSION, Ledger, busy_error, lock_wait, no_notice
from ketaplan.store.records import HELD_SQL, TABLE_SINCE, TABLES, new_plan_id
from ketaplan.store.sql import Args, Db

#: PRAGMA application_id of a ketaplan ledger ("KTPL"): how a file is known to be ours.
APPLICATION_ID = 0x4B54504C

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    plan_id      TEXT PRIMARY KEY,
    request_id   TEXT UNIQUE,
    clinic       TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    patient_name TEXT NOT NULL,
    patient_id   TEXT,
    first_day    TEXT NOT NULL,
    last_day     TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    stamp_utc    TEXT NOT NULL,
    request      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    plan_id   TEXT NOT NULL REFERENCES plans(plan_id),
    kind      TEXT NOT NULL,
    number    INTEGER NOT NULL,
    of_n      INTEGER NOT NULL,
    clinic    TEXT NOT NULL,
    start_utc TEXT NOT NULL,
    end_utc   TEXT NOT NULL,
    resource  TEXT,
    status    TEXT NOT NULL,
    held_until_utc TEXT,
    PRIMARY KEY (plan_id, kind, number)
);
DROP INDEX IF EXISTS sessions_booked_by_start;
CREATE INDEX IF NOT EXISTS sessions_held_by_start
    ON sessions (clinic, start_utc) WHERE status IN {HELD};
CREATE TABLE IF NOT EXISTS history (
    plan_id  TEXT NOT NULL REFERENCES plans(plan_id),
    revision INTEGER NOT NULL,
    at_utc   TEXT NOT NULL,
    action   TEXT NOT NULL,
    author   TEXT,
    reason   TEXT
);
CREATE TABLE IF NOT EXISTS closures (
    id          INTEGER PRIMARY KEY,
    clinic      TEXT NOT NULL,
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    from_minute INTEGER,
    to_minute   INTEGER,
    chair       TEXT,
    reason      TEXT NOT NULL,
    author      TEXT,
    at_utc      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    plan_id TEXT PRIMARY KEY REFERENCES plans(plan_id),
    email   TEXT,
    phone   TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY,
    clinic      TEXT NOT NULL,
    plan_id     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    dedupe      TEXT UNIQUE,
    queued_utc  TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT,
    claimed_by  TEXT,
    claimed_utc TEXT,
    sent_utc    TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent_utc, id);
CREATE INDEX IF NOT EXISTS history_by_plan ON history (plan_id, revision);
CREATE INDEX IF NOT EXISTS plans_by_patient_id ON plans (patient_id, first_day);
CREATE INDEX IF NOT EXISTS plans_by_patient_name ON plans (patient_name, first_day);
CREATE INDEX IF NOT EXISTS plans_by_clinic ON plans (clinic, last_day);
""".replace("{HELD}", HELD_SQL)  # model.HELD_STATUSES, written once
_META = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('application', 'ketaplan ledger');
"""


def _retry_locked(action: Callable[[], object]) -> None:  # noqa: D103
    deadline = time_mod.monotonic() + lock_wait()
    delay = 0.01
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time_mod.monotonic() > deadline:
                raise
            time_mod.sleep(delay)
            delay = min(delay * 2, 0.5)


class SqliteDb(Db):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._seen: int | None = None  # PRAGMA data_version after our last transaction

    def execute(self, sql: str, args: Args = ()) -> Any:
        return self.conn.execute(sql, args)

    def executemany(self, sql: str, rows: Iterable[Args]) -> None:
        self.conn.executemany(sql, rows)

    def begin_write(self) -> bool:
        self.conn.execute("BEGIN IMMEDIATE")
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]  # changes with others' commits only
        changed = self._seen is not None and version != self._seen
        self._seen = version
        return changed

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def begin_read(self) -> None:
        pass  # each statement reads what is committed (the read-only file case needs no lock)

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def close(self) -> None:
        self.conn.close()


class SqliteLedger(Ledger):
    """One ledger file."""

    backend = "sqlite"

    def __init__(self, path: Path, notice: Callable[[str], None] = no_notice) -> None:
        self.path = path
        self.name = str(path)
        self.notice = notice

    def exists(self) -> bool:
        return os.path.lexists(self.path)

    def _connect(self, *, write: bool) -> Db:
        try:
            if not self.exists():
                if not write:
                    raise LedgerError(f"no ledger at {self.path}; nothing has been booked there yet", field="--ledger")
                _create(self.path)
            mode = os.stat(self.path).st_mode
            if not stat.S_ISREG(mode):
                raise LedgerError(f"{self.path} is not a file", field="--ledger")
            if mode & 0o077 and self.path not in _warned:
                _warned.add(self.path)
                self.notice(
                    f"the ledger {self.path} can be read by other users of this machine (mode {mode & 0o777:o}); "
                    f"it holds patient names: chmod 600 {self.path}"
                )
            with open(self.path, "rb") as f:
                if f.read(16) != b"SQLite format 3\0":  # empty, text, another format: not ours
                    raise _not_ours(self.path)
            if write and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
                raise LedgerError(  # SQLite needs the folder too, for its journal files
                    f"the ledger at {self.path} is read-only here (the file or its folder cannot be written); "
                    "nothing was changed",
                    field="--ledger",
                )
            conn = _open(self.path, write=write)
            try:
                identify(conn, self.path)
                if write:
                    _upgrade(conn, self.path)
                    conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()  # a refused or broken file: let go of it at once
                raise
        except OSError as e:
            raise LedgerError(f"cannot open the ledger at {self.path}: {e.strerror}", field="--ledger") from None
        return SqliteDb(conn)

    def _release(self, db: Db) -> None:
        db.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLite's errors about the file (corrupt, read-only, full disk) as one clear line."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            raise _ledger_error(self.path, e) from None


_warned: set[Path] = set()


def identify(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a file that is not a ketaplan ledger. Ours: the application_id pragma says so
    (schema 3 on), or, for ledgers made before it, schema 1-2 with exactly our tables."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:  # its tables may mean what this version cannot know
            raise LedgerError(
                f"the ledger at {path} was made by a newer ketaplan (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade ketaplan to use it",
                field="--ledger",
            )
        return
    if app_id == 0 and version in (1, 2) and _has_our_tables(conn):
        return  # made by ketaplan before the application id; upgraded on the next write
    raise _not_ours(path)


def _not_ours(path: Path) -> LedgerError:
    return LedgerError(
        f"{path} is not a ketaplan ledger (another program's file, or empty); it was left unchanged. "
        "Give --ledger a new path or an existing ketaplan ledger",
        field="--ledger",
    )


#: The tables of a schema 1-2 ledger, exactly: those of today without what schemas 4
#: (held_until_utc) and 5 (history's author and reason) added.
_LATER = {"held_until_utc", "author", "reason"}
_OUR_TABLES = {
    table: [c for c in columns if c not in _LATER] for table, columns in TABLES.items() if table not in TABLE_SINCE
}


def _has_our_tables(conn: sqlite3.Connection) -> bool:
    for table, columns in _OUR_TABLES.items():
        found = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        if found != columns:
            return False
    return True


def _create(path: Path) -> None:
    """A new ledger, made whole beside `path` and linked into place: never a half-made
    file under the ledger's name, 0600 whatever the umask, and no overwrite of a file
    another process created meanwhile (link fails if the name exists; then that one is used)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    sweep_leftovers(path.parent)  # a half-made ledger a killed run left here
    tmp = path.with_name(f"{temp_prefix(path.name)}.{new_plan_id()[3:]}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits away; patient data: owner only
        os.close(fd)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # a property of the file, kept from here on
            conn.executescript(
                f"BEGIN; {_SCHEMA} {_META} PRAGMA application_id={APPLICATION_ID}; "
                f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another coordinator's ketaplan made it first: use theirs
        except OSError:  # a file system without hard links: rename, unless one appeared
            if not os.path.lexists(path):
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with suppress(FileNotFoundError):
                os.unlink(leftover)


def _open(path: Path, *, write: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=lock_wait(), isolation_level=None)
    if write:
        return conn
    try:
        conn.execute("PRAGMA user_version").fetchone()  # readers share the WAL index as usual
        return conn
    except sqlite3.OperationalError:
        conn.close()
    # A WAL ledger needs its -shm file even to be read, and on a read-only file, folder or
    # mount it cannot be made: read the file as it stands there, where nobody can write.
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Bring an older ledger of ours to this schema, in place (identify() said it is ours)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return

    def upgrade() -> None:  # idempotent: two desks upgrading at once is fine
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in f"{_SCHEMA} {_META}".split(";"):  # not executescript: it would commit
                conn.execute(statement)
            columns = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")]
            if "held_until_utc" not in columns:
                # The turnover of sessions booked before schema 4 is not known: they count
                # as held until their end (ketaplan's own checks add the clinic's turnover).
                conn.execute("ALTER TABLE sessions ADD COLUMN held_until_utc TEXT")
                conn.execute("UPDATE sessions SET held_until_utc = end_utc")
            if "author" not in [r[1] for r in conn.execute("PRAGMA table_info(history)")]:
                # schema 5: who made each change and why (unknown for older changes)
                conn.execute("ALTER TABLE history ADD COLUMN author TEXT")
                conn.execute("ALTER TABLE history ADD COLUMN reason TEXT")
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
    _retry_locked(upgrade)


def _ledger_error(path: Path, e: sqlite3.DatabaseError) -> LedgerError:
    text = str(e)
    if "database is locked" in text:  # another desk held the write lock past the wait
        return busy_error(str(path), lock_wait())
    if "readonly" in text or "read-only" in text:
        return LedgerError(f"the ledger at {path} is read-only here; nothing was changed", field="--ledger")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return LedgerError(f"the ledger at {path} is damaged ({text}); restore it from a backup", field="--ledger")
    return LedgerError(f"cannot use the ledger at {path}: {text}", field="--ledger")
