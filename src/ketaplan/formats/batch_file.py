"""Reading a batch file (CSV with a header, or JSON Lines), streamed and checked.

A first pass checks what makes the whole file unusable (encoding, empty, header, unknown
columns, over-long lines, neither CSV nor JSON Lines), so a bad file books nothing; the
second pass yields one row at a time. Rows are never all held in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from ketaplan.core.clinic import LANGUAGES
from ketaplan.core.errors import InputError
from ketaplan.core.model import Contact
from ketaplan.core.requests import RequestFields

MAX_LINE = 1 << 20  # 1 MiB: no real request is longer
FIELDS = (
    "request_id",
    "patient",
    "patient_id",
    "start",
    "weeks",
    "end",
    "days",
    "earliest",
    "latest",
    "unavailable",
    "consultation",
    "maintenance",
    "priority",  # batch --optimize: higher first among answers that plan as many requests
    "email",  # the patient's contact (patient data; validated against the clinic's country)
    "phone",
    "lang",  # the language of the patient's papers (en, es, fr, de; default: the clinic's)
)
REQUIRED = ("patient", "start")
TRUE, FALSE = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


class Row(NamedTuple):
    line: int
    request_id: str | None
    fields: RequestFields | None  # None when the row itself is bad
    error: InputError | None
    priority: int = 0
    contact: Contact | None = None
    lang: str | None = None


def _lines(stream: IO[bytes], source: str) -> Iterator[tuple[int, str]]:
    """Decoded lines with their numbers; file-level problems raise InputError."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise InputError(f"line {number} is longer than {MAX_LINE // (1 << 20)} MiB", field=f"{source}:{number}")
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"line {number} is not UTF-8 (byte {e.start + 1})", field=f"{source}:{number}") from None
        yield number, text


def detect(stream: IO[bytes], source: str) -> str:
    for _, text in _lines(stream, source):
        stripped = text.strip()
        if stripped:
            return "jsonl" if stripped.startswith("{") else "csv"
    raise InputError("the file is empty", field=source)


def check_file(stream: IO[bytes], source: str, fmt: str) -> tuple[int, list[str]]:
    """First pass: raise InputError for a file-level problem; return (rows, start dates)."""
    rows = 0
    starts: list[str] = []
    if fmt == "csv":
        header_seen = False
        for number, record in _csv_records(stream, source):
            if not header_seen:
                _check_header(record, source, number)
                header = [h.strip().lower() for h in record]
                header_seen = True
                continue
            if any(cell.strip() for cell in record):
                rows += 1
                value = dict(zip(header, record, strict=False)).get("start")
                if value:
                    starts.append(value)
        if not header_seen:
            raise InputError("the file is empty", field=source)
        if rows == 0:  # once exit 0 with no output and no word
            raise InputError("the file has a header but no requests under it", field=source)
    else:
        for _, text in _lines(stream, source):
            if text.strip():
                rows += 1
                obj = _json(text)
                if isinstance(obj, dict) and isinstance(obj.get("start"), str):
                    starts.append(obj["start"])
        if rows == 0:
            raise InputError("the file is empty", field=source)
    return rows, starts


def _csv_records(stream: IO[bytes], source: str) -> Iterator[tuple[int, list[str]]]:
    lines = _lines(stream, source)
    numbers: list[int] = []

    def texts() -> Iterator[str]:
        for number, text in lines:
            numbers.append(number)
            yield text

    reader = csv.reader(texts())
    try:
        for record in reader:
            yield (numbers[-1] if numbers else reader.line_num), record
    except csv.Error as e:
        where = f"{source}:{numbers[-1] if numbers else 1}"
        if "new-line character" in str(e):  # csv's own words ask for "universal-newline mode"
            raise InputError(
                "a line ends in a bare carriage return (CR) inside a row; save the file with one kind of "
                "line ending (LF or CRLF)",
                field=where,
            ) from None
        raise InputError(f"not readable as CSV: {e}", field=where) from None


def named(names: list[str], most: int = 5) -> str:
    """A few names, each cut short, and how many more: one readable line however many."""
    shown = ", ".join(repr(n if len(n) <= 40 else n[:40] + "…") for n in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def _check_header(record: list[str], source: str, number: int) -> None:
    header = [h.strip().lower() for h in record]
    if not any(header) or header[0].startswith("{"):
        raise InputError("the first line is not a CSV header", field=f"{source}:{number}")
    unknown = [h for h in header if h not in FIELDS]
    if unknown:
        raise InputError(
            f"unknown columns {named(unknown)}; known: {', '.join(FIELDS)}",
            field=f"{source}:{number}",
        )
    missing = [r for r in REQUIRED if r not in header]
    if missing:
        raise InputError(f"the header lacks {', '.join(missing)}", field=f"{source}:{number}")
    if len(set(header)) != len(header):
        raise InputError("a column appears twice in the header", field=f"{source}:{number}")


class _NotJson(str):
    """Why a line is not usable JSON (a value, so a bad row never stops the file)."""


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        return _NotJson(e.msg)
    except RecursionError:
        return _NotJson("nested too deeply")
    except ValueError as e:  # e.g. an integer of thousands of digits
        return _NotJson(str(e).split(";")[0])


def rows(stream: IO[bytes], source: str, fmt: str, *, allow_past: bool, region: str | None = None) -> Iterator[Row]:
    """Second pass: one Row per request line, in file order; `region`: the clinic's
    country, for phone numbers written without one."""
    if fmt == "csv":
        header: list[str] | None = None
        for number, record in _csv_records(stream, source):
            if header is None:
                header = [h.strip().lower() for h in record]
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                yield Row(
                    number,
                    None,
                    None,
                    InputError(
                        f"line {number} has {len(record)} cells, the header {len(header)}", field=f"line {number}"
                    ),
                )
                continue
            yield _row(
                number, {k: v for k, v in zip(header, record, strict=False) if v.strip() != ""}, allow_past, region
            )
    else:
        for number, text in _lines(stream, source):
            if not text.strip():
                continue
            obj = _json(text)
            if isinstance(obj, _NotJson):
                yield Row(number, None, None, InputError(f"line {number} is not JSON: {obj}", field=f"line {number}"))
                continue
            if not isinstance(obj, dict):
                yield Row(number, None, None, InputError(f"line {number} is not a JSON object", field=f"line {number}"))
                continue
            unknown = [k for k in obj if k not in FIELDS]
            if unknown:
                rid = obj.get("request_id") if isinstance(obj.get("request_id"), str) else None
                yield Row(
                    number,
                    rid,
                    None,
                    InputError(f"unknown fields {named(unknown)}", field=unknown[0][:40]),
                )
                continue
            yield _row(number, {k: v for k, v in obj.items() if v is not None and v != ""}, allow_past, region)


def _row(number: int, values: dict[str, Any], allow_past: bool, region: str | None) -> Row:
    rid_value = values.get("request_id")
    rid = str(rid_value).strip() if isinstance(rid_value, (str, int)) and not isinstance(rid_value, bool) else None
    try:
        if rid_value is not None and rid is None:  # {"x": 1}, true, 1.5: not an id anyone typed
            raise InputError("must be text", field="request_id")
        fields = RequestFields(
            patient=_text(values, "patient"),
            start=_text(values, "start"),
            patient_id=_text(values, "patient_id"),
            weeks=_whole(values, "weeks"),
            end=_text(values, "end"),
            days=_list(values, "days"),
            earliest=_text(values, "earliest"),
            latest=_text(values, "latest"),
            unavailable=_list(values, "unavailable"),
            consultation=_bool(values.get("consultation", True), "consultation"),
            maintenance=_whole(values, "maintenance") or 0,
            allow_past=allow_past,
            request_id=rid,
        )
        priority = _priority(values.get("priority"))
        contact = _contact(values, region)
        lang = _text(values, "lang")
        if lang is not None and lang not in LANGUAGES:
            raise InputError(f"must be one of {', '.join(LANGUAGES)}", field="lang")
    except InputError as e:
        return Row(number, rid, None, e)
    return Row(number, rid, fields, None, priority, contact, lang)


def _contact(values: dict[str, Any], region: str | None) -> Contact | None:
    email, phone = _text(values, "email"), _text(values, "phone")
    if email is None and phone is None:
        return None  # no validator imported for a batch without contacts
    from ketaplan.formats.contact import parse_email, parse_phone

    return Contact(parse_email(email, field="email") if email else None,
                   parse_phone(phone, region, field="phone") if phone else None)  # fmt: skip


def _priority(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        n = int(str(value).strip())
    except ValueError:
        raise InputError(f"{str(value)[:20]!r} is not a whole number", field="priority") from None
    if not -1000 <= n <= 1000:
        raise InputError("must be from -1000 to 1000", field="priority")
    return n


def _whole(values: dict[str, Any], key: str) -> int | str | None:
    """A count from a cell or a JSON value: a whole number, or text the request reads.
    A float with a fraction (2.9 once became 2 weeks), infinity, 1e400 and true/false
    are refused here rather than cut down or crashing the whole batch."""
    v = values.get(key)
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError("must be a whole number", field=key)
    if isinstance(v, float):
        if not v.is_integer():  # nan and inf are not integers either
            raise InputError(f"{v!r} is not a whole number", field=key)
        v = int(v)
    if abs(v) > 10**6:
        raise InputError(f"{v} is out of range", field=key)
    return v


def _text(values: dict[str, Any], key: str) -> str | None:
    v = values.get(key)
    if v is None:
        return None
    if isinstance(v, (dict, list, bool)):
        raise InputError("must be text", field=key)
    return str(v)


def _list(values: dict[str, Any], key: str) -> str | None:
    v = values.get(key)
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return _text(values, key)


def _bool(v: Any, key: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in TRUE | FALSE:
        return v.strip().lower() in TRUE
    raise InputError(f"{v!r} is not true or false", field=key)


def open_source(path: str, stdin: IO[bytes]) -> tuple[IO[bytes], str]:
    """The batch as a re-readable binary stream: a file, or stdin spooled to disk."""
    if path == "-":
        import tempfile

        spool = tempfile.TemporaryFile()  # 0600, deleted on close: rows hold patient data
        while chunk := stdin.read(1 << 16):
            spool.write(chunk)
        spool.seek(0)
        return spool, "stdin"
    try:
        return open(path, "rb"), path
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}", field="FILE") from None
