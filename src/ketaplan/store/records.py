"""How a plan's values are written in a ledger row, the same on every back end: times as
UTC text (ISO, "Z"), dates as ISO text, the request as JSON. Text sorts as the times do,
so one query reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, time
from typing import NoReturn
from zoneinfo import ZoneInfo

from ketaplan.core.dates import BOOKING_YEARS
from ketaplan.core.errors import LedgerError
from ketaplan.core.model import HELD_STATUSES, Patient, Request, Status

#: Every table and column a ledger holds (schema 8), in a fixed order: the copy and its check.
TABLES: dict[str, tuple[str, ...]] = {
    "plans": (
        "plan_id",
        "request_id",
        "clinic",
        "timezone",
        "patient_name",
        "patient_id",
        "first_day",
        "last_day",
        "revision",
        "stamp_utc",
        "request",
    ),
    "sessions": (
        "plan_id",
        "kind",
        "number",
        "of_n",
        "clinic",
        "start_utc",
        "end_utc",
        "resource",
        "status",
        "held_until_utc",
    ),
    "history": ("plan_id", "revision", "at_utc", "action", "author", "reason"),
    "closures": (
        "id",
        "clinic",
        "first_day",
        "last_day",
        "from_minute",
        "to_minute",
        "chair",
        "reason",
        "author",
        "at_utc",
    ),
    "contacts": ("plan_id", "email", "phone"),
    "outbox": (
        "id",
        "clinic",
        "plan_id",
        "channel",
        "kind",
        "detail",
        "dedupe",
        "queued_utc",
        "attempts",
        "last_error",
        "claimed_by",
        "claimed_utc",
        "sent_utc",
    ),
}
#: Tables a schema added whole: an older ledger has none until its next write upgrades it
#: (schema 6: closures and chair outages recorded by `close`; 7: the patients' contact;
#: 8: the outbox of messages to patients and the clinic calendar).
TABLE_SINCE = {"closures": 6, "contacts": 7, "outbox": 8}
#: Columns each schema added, by table: a ledger on an older schema lacks them until its
#: next write upgrades it, and is read with NULL in their place (schema 5: who and why).
ADDED = {5: {"history": ("author", "reason")}}


def columns_of(table: str, schema: int) -> str:
    """TABLES[table] as a SELECT list for a ledger on `schema` (missing ones as NULL)."""
    missing = {c for version, tables in ADDED.items() if version > schema for c in tables.get(table, ())}
    return ", ".join(f"NULL AS {c}" if c in missing else c for c in TABLES[table])


#: The statuses that hold a chair or room, as an SQL list: from model.HELD_STATUSES, the
#: one definition (queries and the back ends' partial indexes and constraint use it).
HELD_SQL = "(" + ", ".join(f"'{status}'" for status in HELD_STATUSES) + ")"
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


def utc_text(dt: datetime) -> str:
    """2027-03-01T14:30:00Z (isoformat: several times faster than strftime, same text)."""
    return dt.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def from_utc_text(text: str, zone: ZoneInfo, where: str = "") -> datetime:
    """A stored time. One that is not (a row changed by hand) is a LedgerError naming the
    row, never a traceback. `where`: the row, e.g. "KP-… infusion 2"."""
    try:
        value = datetime.fromisoformat(text).astimezone(zone)  # 3.11 reads the "Z"; strptime is slow to load
    except (TypeError, ValueError, OverflowError):
        damaged(where, f"its time {str(text)[:40]!r} is not a time")
    if not BOOKING_YEARS[0] <= value.year <= BOOKING_YEARS[1]:  # 9999 overflows the first sum on it
        damaged(where, f"its time {text!r} is not one a plan holds")
    return value


def damaged(where: str, what: str) -> NoReturn:
    """Refuse a row changed by hand, naming it."""
    raise LedgerError(
        f"the ledger holds a damaged row{f' ({where})' if where else ''}: {what}; it was not written by "
        "ketaplan: restore the ledger from a backup, or correct that row",
        field="--ledger",
    )


#: Every status a session row may hold (model.Status).
STATUSES = frozenset({"planned", "booked", "attended", "no_show", "cancelled"})


def check_status(status: str, where: str) -> Status:
    if status not in STATUSES:
        damaged(where, f"its status {str(status)[:20]!r} is not one ketaplan writes")
    return status  # type: ignore[return-value]  # one of STATUSES


def new_plan_id() -> str:
    # 32 symbols: each random byte maps without bias (256 = 8 x 32); 40 bits per id.
    return "KP-" + "".join(_ID_ALPHABET[b % 32] for b in os.urandom(8))


#: A batch row's own fields as it asked for them (app.batch.asked_fields), kept with its plan.
Asked = dict[str, str | None]


def request_to_json(r: Request, asked: Asked | None = None, lang: str | None = None) -> str:
    """The request as planned; `asked`: a batch row's own fields (see batch.asked_fields);
    `lang`: the language of the patient's papers when it is not the clinic's."""
    return json.dumps(
        {
            **({"asked": asked} if asked is not None else {}),
            **({"lang": lang} if lang else {}),
            "first_day": r.first_day.isoformat(),
            "last_day": r.last_day.isoformat(),
            "days": sorted(r.days) if r.days is not None else None,
            "earliest": r.earliest.isoformat("minutes") if r.earliest else None,
            "latest": r.latest.isoformat("minutes") if r.latest else None,
            "unavailable": sorted(d.isoformat() for d in r.unavailable),
            "consultation": r.consultation,
            "maintenance": r.boosters,
            **({"gaps": {str(n): days for n, days in r.gaps}} if r.gaps else {}),
        },
        sort_keys=True,
    )


def request_from_json(text: str, patient: Patient, request_id: str | None) -> Request:
    d = json.loads(text)
    return Request(
        patient=patient,
        first_day=date.fromisoformat(d["first_day"]),
        last_day=date.fromisoformat(d["last_day"]),
        days=frozenset(d["days"]) if d["days"] is not None else None,
        earliest=time.fromisoformat(d["earliest"]) if d["earliest"] else None,
        latest=time.fromisoformat(d["latest"]) if d["latest"] else None,
        unavailable=frozenset(date.fromisoformat(x) for x in d["unavailable"]),
        consultation=d["consultation"],
        boosters=d["maintenance"],
        request_id=request_id,
        gaps=tuple(sorted((int(n), int(days)) for n, days in d.get("gaps", {}).items())),
    )
