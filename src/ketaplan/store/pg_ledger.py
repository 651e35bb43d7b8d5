"""The shared ledger on a PostgreSQL server, for several desks or sites (`--ledger
postgresql://…`). psycopg 3 is imported only here, only when a URL is given.

Guarantees, the same as SQLite's, and one more:
- Writers are serialised per ledger: each write transaction first updates the `writes`
  row of `meta` (a row lock held to commit, and a counter a batch reads to know whether
  someone else wrote). Whatever a writer read of the chairs stays true until it commits,
  so counts that no constraint can express (starts per slot) hold as on SQLite.
- The database itself refuses two held sessions on one chair or room whose times,
  turnover included, overlap: an exclusion constraint over [start, end + turnover),
  checked at commit (a plan may move its own sessions past each other in one change).
  A writer that skipped the lock (another tool, a clinic file with a shorter turnover)
  gets SQLSTATE 23P01, which ketaplan turns into a re-plan (store.ledger.retrying)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

from ketaplan.core.errors import LedgerError
from ketaplan.store.credentials import masked, scrubbed
from ketaplan.store.ledger import SCHEMA_VERSION, Ledger, LedgerConflict, busy_error, lock_wait
from ketaplan.store.records import HELD_SQL
from ketaplan.store.sql import Args, Db

APPLICATION = "ketaplan ledger"
#: Seconds to reach the server before saying it cannot be reached (libpq's least is 2).
CONNECT_TIMEOUT = 5
INSTALL = "pip install 'ketaplan[postgres]'"

_CLOSURES = """CREATE TABLE closures (
    id          BIGINT PRIMARY KEY,
    clinic      TEXT COLLATE "C" NOT NULL,
    first_day   TEXT COLLATE "C" NOT NULL,
    last_day    TEXT COLLATE "C" NOT NULL,
    from_minute INTEGER,
    to_minute   INTEGER,
    chair       TEXT COLLATE "C",
    reason      TEXT NOT NULL,
    author      TEXT,
    at_utc      TEXT NOT NULL
);"""
_CONTACTS = """
CREATE TABLE contacts (
    plan_id TEXT COLLATE "C" PRIMARY KEY REFERENCES plans(plan_id),
    email   TEXT,
    phone   TEXT
);"""
_OUTBOX = """
CREATE TABLE outbox (
    id          BIGINT PRIMARY KEY,
    clinic      TEXT COLLATE "C" NOT NULL,
    plan_id     TEXT COLLATE "C" NOT NULL,
    channel     TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    detail      TEXT NOT NULL,
    dedupe      TEXT COLLATE "C" UNIQUE,
    queued_utc  TEXT COLLATE "C" NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT,
    claimed_by  TEXT,
    claimed_utc TEXT COLLATE "C",
    sent_utc    TEXT COLLATE "C"
);
CREATE INDEX outbox_unsent ON outbox (sent_utc, id);"""
# Text columns sort bytewise ("C"), as SQLite's do, so both back ends list in one order.
_TABLES = (
    """
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE plans (
    plan_id      TEXT COLLATE "C" PRIMARY KEY,
    request_id   TEXT COLLATE "C" UNIQUE,
    clinic       TEXT COLLATE "C" NOT NULL,
    timezone     TEXT NOT NULL,
    patient_name TEXT COLLATE "C" NOT NULL,
    patient_id   TEXT COLLATE "C",
    first_day    TEXT COLLATE "C" NOT NULL,
    last_day     TEXT COLLATE "C" NOT NULL,
    revision     INTEGER NOT NULL,
    stamp_utc    TEXT NOT NULL,
    request      TEXT NOT NULL
);
CREATE TABLE sessions (
    plan_id   TEXT COLLATE "C" NOT NULL REFERENCES plans(plan_id),
    kind      TEXT COLLATE "C" NOT NULL,
    number    INTEGER NOT NULL,
    of_n      INTEGER NOT NULL,
    clinic    TEXT COLLATE "C" NOT NULL,
    start_utc TEXT COLLATE "C" NOT NULL,
    end_utc   TEXT COLLATE "C" NOT NULL,
    resource  TEXT COLLATE "C",
    status    TEXT COLLATE "C" NOT NULL,
    held_until_utc TEXT COLLATE "C",
    held      tstzrange NOT NULL,
    PRIMARY KEY (plan_id, kind, number)
);
-- held = [start, end + turnover), set from the text columns (a cast from text is not
-- IMMUTABLE, so it cannot be a generated column; a trigger may use it).
CREATE FUNCTION ketaplan_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.held := tstzrange(NEW.start_utc::timestamptz, COALESCE(NEW.held_until_utc, NEW.end_utc)::timestamptz, '[)');
    RETURN NEW;
END $$;
CREATE TRIGGER sessions_held BEFORE INSERT OR UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION ketaplan_held();
ALTER TABLE sessions ADD CONSTRAINT one_session_per_chair EXCLUDE USING gist (
    clinic WITH =, resource WITH =, held WITH &&
) WHERE (status IN {HELD} AND resource IS NOT NULL) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX sessions_held_by_start ON sessions (clinic, start_utc) WHERE status IN {HELD};
CREATE TABLE history (
    plan_id  TEXT COLLATE "C" NOT NULL REFERENCES plans(plan_id),
    revision INTEGER NOT NULL,
    at_utc   TEXT NOT NULL,
    action   TEXT NOT NULL,
    author   TEXT,
    reason   TEXT
);
{CLOSURES}
{CONTACTS}
{OUTBOX}
CREATE INDEX history_by_plan ON history (plan_id, revision);
CREATE INDEX plans_by_patient_id ON plans (patient_id, first_day);
CREATE INDEX plans_by_patient_name ON plans (patient_name, first_day);
CREATE INDEX plans_by_clinic ON plans (clinic, last_day);
""".replace("{HELD}", HELD_SQL)
    .replace("{CLOSURES}", _CLOSURES)
    .replace("{CONTACTS}", _CONTACTS)
    .replace("{OUTBOX}", _OUTBOX)
)  # each once
#: Steps from each older schema to the next, run in one transaction (PostgreSQL ledgers
#: start at schema 4).
_UPGRADES: dict[int, str] = {
    4: "ALTER TABLE history ADD COLUMN author TEXT, ADD COLUMN reason TEXT",  # who made each change, and why
    5: _CLOSURES,  # closures and chair outages recorded by `close`
    6: _CONTACTS,  # the patients' email and phone
    7: _OUTBOX,  # messages to patients and the clinic calendar
}
#: Serialises two desks creating or upgrading one ledger at the same moment.
_SCHEMA_LOCK = 0x4B54504C


@lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    """SQLite's placeholders (`?`, `:name`) as psycopg's (`%s`, `%(name)s`), read token by
    token: text inside quotes and PostgreSQL's `::` casts are left as they are, and a
    literal % is doubled (psycopg would read it as a placeholder)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":  # a quoted literal or name, copied whole ('' and "" escape themselves)
            j = i + 1
            while j < n and not (sql[j] == c and sql[j + 1 : j + 2] != c):
                j += 2 if sql[j] == c else 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == ":" and sql[i + 1 : i + 2] == ":":
            out.append("::")
            i += 2
        elif c == ":" and (sql[i + 1 : i + 2].isalpha() or sql[i + 1 : i + 2] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1 : j]})s")
            i = j
        else:
            out.append("%%" if c == "%" else c)
            i += 1
    return "".join(out)


class PgDb(Db):
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self.conn = conn  # autocommit: transactions are begun and ended here, as on SQLite
        self._seen: int | None = None  # the writes counter after our last transaction
        self._pipeline: Any = None

    def execute(self, sql: str, args: Args = ()) -> Any:
        return self.conn.execute(_pg(sql), args)  # args always: psycopg then reads %% as %

    def executemany(self, sql: str, rows: Iterable[Args]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_pg(sql), list(rows))

    def begin_write(self) -> bool:
        # Pipeline mode: writes are sent without waiting for each answer (a booking is a
        # dozen statements; a batch group thousands); a read waits only for itself.
        self._pipeline = self.conn.pipeline()
        self._pipeline.__enter__()
        self.conn.execute("BEGIN")
        # The lock: every writer updates this row first and holds it to commit.
        row = self.conn.execute(
            "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'writes' RETURNING value::bigint"
        ).fetchone()
        before = row[0] - 1
        changed = self._seen is not None and before != self._seen
        self._seen = before  # ours is counted at commit
        return changed

    def schema_version(self) -> int:
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])

    def begin_read(self) -> None:
        # one snapshot for the whole read: a plan, its sessions and history agree
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
            self._end_pipeline()
        except BaseException as e:
            self._end_pipeline(failed=True)
            if getattr(e, "sqlstate", None) in CONFLICT_STATES:  # the caller plans again (a batch group too)
                raise _conflict() from None
            raise
        if self._seen is not None:
            self._seen += 1

    def rollback(self) -> None:
        self._end_pipeline(failed=True)
        self.conn.execute("ROLLBACK")

    def _end_pipeline(self, failed: bool = False) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            if failed:
                with suppress(Exception):  # the error that got us here is the one to report
                    pipeline.__exit__(None, None, None)
            else:
                pipeline.__exit__(None, None, None)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.conn.info.transaction_status != TransactionStatus.IDLE)

    def close(self) -> None:
        self.conn.close()


class PostgresLedger(Ledger):
    """A ledger in a PostgreSQL database (the tables in its default schema)."""

    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = masked(url)
        self._ready = False  # schema checked (and made or upgraded) by this process

    def exists(self) -> bool:
        with self._translated():
            conn = self._raw()
            try:
                return _state(conn, self.name) is not None
            finally:
                conn.close()

    def _raw(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise LedgerError(f"a PostgreSQL ledger needs the PostgreSQL extra: {INSTALL}", field="--ledger") from None
        # libpq reads what the URL leaves out from PGHOST, PGPASSWORD, ~/.pgpass, PGSERVICE...
        # A server that does not answer is an error within CONNECT_TIMEOUT; a lock another
        # desk holds (a laptop asleep mid-batch) is waited for lock_wait() at most, as on SQLite.
        from psycopg.conninfo import conninfo_to_dict

        _quiet(psycopg)
        given = str(conninfo_to_dict(self.url).get("options") or "")  # the URL's own options kept
        return psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="ketaplan",
            options=f"{given} -c lock_timeout={int(lock_wait() * 1000)}".strip(),
        )

    def _connect(self, *, write: bool) -> Db:
        conn = self._raw()
        try:
            if not self._ready:
                version = _state(conn, self.name)
                if version is None and not write:
                    raise LedgerError(f"no ledger at {self.name}; nothing has been booked there yet", field="--ledger")
                if write and version != SCHEMA_VERSION:
                    _make_or_upgrade(conn, self.name)
                self._ready = write or version == SCHEMA_VERSION
        except BaseException:
            conn.close()
            raise
        return PgDb(conn)

    def _release(self, db: Db) -> None:
        db.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except LedgerError:
            raise
        except Exception as e:
            error = _ledger_error(self, e)
            if error is None:
                raise
            raise error from None


def _quiet(psycopg: Any) -> None:
    """psycopg logs a warning when it closes a pipeline after an error ("error ignored
    terminating <psycopg.Pipeline [BAD]>"); with no handler Python prints it on stderr,
    a second line beside ketaplan's one. The error itself is what we report."""
    import logging

    log = logging.getLogger(psycopg.__name__)
    if not log.handlers:
        log.addHandler(logging.NullHandler())
        log.propagate = False


def _state(conn: Any, name: str) -> int | None:
    """The schema version of the ketaplan ledger in this database; None when there is none
    yet. Refuses a database whose tables are another program's, and a newer schema."""
    tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    if "meta" not in tables:
        if tables & {"plans", "sessions", "history"}:
            raise _not_ours(name)
        return None
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('application', 'schema')").fetchall())
    if meta.get("application") != APPLICATION or not str(meta.get("schema", "")).isdigit():
        raise _not_ours(name)
    version = int(meta["schema"])
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"the ledger at {name} was made by a newer ketaplan (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade ketaplan to use it",
            field="--ledger",
        )
    return version


def _make_or_upgrade(conn: Any, name: str) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        version = _state(conn, name)  # again, under the lock: another desk may have done it
        if version is None:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            except Exception as e:
                raise LedgerError(
                    f"the database at {name} lacks the btree_gist extension and this user may not add it; "
                    "ask its administrator to run CREATE EXTENSION btree_gist there",
                    field="--ledger",
                ) from e
            conn.execute(_TABLES)
            conn.execute(
                "INSERT INTO meta VALUES ('application', %s), ('schema', %s), ('writes', '0')",
                (APPLICATION, str(SCHEMA_VERSION)),
            )
            return
        while version < SCHEMA_VERSION:
            conn.execute(_UPGRADES[version])
            version += 1
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema'", (str(SCHEMA_VERSION),))


#: exclusion violation (a chair taken at commit), serialization failure, deadlock
CONFLICT_STATES = ("23P01", "40001", "40P01")


def _conflict() -> LedgerConflict:
    return LedgerConflict(
        "another desk booked the same chair or time at the same moment; nothing was booked", field="--ledger"
    )


def _not_ours(name: str) -> LedgerError:
    return LedgerError(
        f"the database at {name} holds tables that are not a ketaplan ledger; they were left unchanged. "
        "Give --ledger an empty database or an existing ketaplan ledger",
        field="--ledger",
    )


def _ledger_error(ledger: PostgresLedger, e: Exception) -> LedgerError | None:
    """psycopg's errors as one line that never shows the password; None: not the driver's."""
    import psycopg

    if not isinstance(e, psycopg.Error):
        return None
    sqlstate = getattr(e, "sqlstate", None)
    text = _scrub(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__, ledger.url)
    if sqlstate in CONFLICT_STATES:
        return _conflict()
    if sqlstate == "55P03":  # lock_not_available: lock_timeout passed
        return busy_error(ledger.name, lock_wait())
    if sqlstate == "25006":
        return LedgerError(f"the ledger at {ledger.name} is read-only here; nothing was changed", field="--ledger")
    if isinstance(e, psycopg.OperationalError):
        return LedgerError(f"cannot reach the ledger at {ledger.name}: {text}", field="--ledger")
    return LedgerError(f"cannot use the ledger at {ledger.name}: {text}", field="--ledger")


def _scrub(text: str, url: str) -> str:
    return scrubbed(text, url)
