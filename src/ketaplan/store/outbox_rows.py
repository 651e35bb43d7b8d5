"""The outbox: messages to patients and the clinic calendar, queued in the transaction of
the change that calls for them and delivered after its commit (app.delivery).

A message is *claimed* before it is handed to a server and *sent* once the server took
it, each in a short write transaction of its own, never while a server is talked to. A
sender that dies between the two leaves the message claimed: it is sent again when the
claim is known dead (its process is gone on this host) or has outlived `LEASE`. So a
message is never lost, and is sent twice only when a sender died (or stalled past the
lease) after the server took it and before it was recorded."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ketaplan.store.records import TABLE_SINCE, TABLES, utc_text
from ketaplan.store.tx import LedgerTx

_COLUMNS = ", ".join(TABLES["outbox"])
#: How long a claim holds before another sender may take the message over.
LEASE = timedelta(minutes=5)
#: Kinds whose message is rendered from the plan as it is when sent: one unsent (and
#: unclaimed) is enough however many changes come before it goes.
LATEST_STATE = ("request", "event")


class Message(NamedTuple):
    id: int
    clinic: str
    plan_id: str
    channel: str  # "email", "caldav", or "sms" (handed to a gateway script, never pending)
    kind: str  # "request", "cancel", "reminder" (email, sms); "event" (caldav)
    detail: str  # JSON: what the message is about (sessions, the change)
    queued: str  # UTC text
    attempts: int
    last_error: str | None
    claimed_by: str | None
    claimed: str | None


def ready(tx: LedgerTx) -> bool:
    return tx.schema >= TABLE_SINCE["outbox"]


def queue(
    tx: LedgerTx,
    clinic: str,
    plan_id: str,
    channel: str,
    kind: str,
    detail: str,
    at: datetime,
    dedupe: str | None = None,
) -> bool:
    """Queue one message; False when an equal one waits already (LATEST_STATE) or was
    queued before under the same `dedupe` key (a reminder for that session and time)."""
    if kind in LATEST_STATE:
        waiting = tx.db.execute(
            "SELECT 1 FROM outbox WHERE plan_id = ? AND channel = ? AND kind = ? AND sent_utc IS NULL "
            "AND claimed_by IS NULL",
            (plan_id, channel, kind),
        ).fetchone()
        if waiting:
            return False
    if dedupe is not None and seen(tx, dedupe):
        return False
    new_id = int(tx.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox").fetchone()[0])
    tx.db.execute(
        f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, NULL, NULL)",
        (new_id, clinic, plan_id, channel, kind, detail, dedupe, utc_text(at)),
    )
    return True


def seen(tx: LedgerTx, dedupe: str) -> bool:
    """Whether a message was queued (or handed over) under this key before."""
    return ready(tx) and tx.db.execute("SELECT 1 FROM outbox WHERE dedupe = ?", (dedupe,)).fetchone() is not None


def handed_over(
    tx: LedgerTx, clinic: str, plan_id: str, channel: str, kind: str, detail: str, dedupe: str, at: datetime
) -> None:
    """Record a message another program delivers (a reminder line for an SMS gateway) as
    sent when it was handed over, so the next run leaves it out."""
    if queue(tx, clinic, plan_id, channel, kind, detail, at, dedupe=dedupe):
        tx.db.execute("UPDATE outbox SET sent_utc = ?, attempts = 1 WHERE dedupe = ?", (utc_text(at), dedupe))


def unsent(tx: LedgerTx, clinic: str | None = None) -> list[Message]:
    """Messages not yet delivered, oldest first (all clinics when `clinic` is None)."""
    if not ready(tx):
        return []
    where = "sent_utc IS NULL" + (" AND clinic = ?" if clinic else "")
    rows = tx.db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE {where} ORDER BY id", (clinic,) if clinic else ())
    return [_message(r) for r in rows]


def claim(
    tx: LedgerTx, clinic: str, me: str, now: datetime, dead: Callable[[str], bool], ids: Collection[int] | None = None
) -> list[Message]:
    """Take the clinic's unsent messages no live sender holds (`dead`: whether a claim is
    known to be dead); `ids` limits it to those."""
    stale = utc_text(now - LEASE)
    taken = []
    for m in unsent(tx, clinic):
        if ids is not None and m.id not in ids:
            continue
        if m.claimed_by is not None and not dead(m.claimed_by) and (m.claimed or "") > stale:
            continue  # another sender has it
        tx.db.execute("UPDATE outbox SET claimed_by = ?, claimed_utc = ? WHERE id = ?", (me, utc_text(now), m.id))
        taken.append(m._replace(claimed_by=me, claimed=utc_text(now)))
    return taken


def mark_sent(tx: LedgerTx, message_id: int, me: str, now: datetime) -> None:
    tx.db.execute(
        "UPDATE outbox SET sent_utc = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND claimed_by = ?",
        (utc_text(now), message_id, me),
    )


def mark_failed(tx: LedgerTx, message_id: int, me: str, error: str) -> None:
    """Back in the queue, with the reason (for `outbox`)."""
    tx.db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, claimed_by = NULL, claimed_utc = NULL "
        "WHERE id = ? AND claimed_by = ?",
        (error[:500], message_id, me),
    )


def sent_count(tx: LedgerTx, clinic: str) -> int:
    if not ready(tx):
        return 0
    sql = "SELECT COUNT(*) FROM outbox WHERE clinic = ? AND sent_utc IS NOT NULL"
    return int(tx.db.execute(sql, (clinic,)).fetchone()[0])


def _message(row: Any) -> Message:
    mid, clinic, plan_id, channel, kind, detail, _dedupe, queued, attempts, error, by, at, _sent = row
    return Message(int(mid), str(clinic), str(plan_id), str(channel), str(kind), str(detail), str(queued),
                   int(attempts), error, by, at)  # fmt: skip
