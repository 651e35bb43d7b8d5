"""The clinic: opening hours, chairs, closures, holidays; validating its table (the loader
that reads the TOML file and its busy_ics is formats.clinic_file)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple
from typing import Protocol as Protocol_
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ketaplan.core.dates import WEEKDAYS, parse_minutes, parse_range
from ketaplan.core.errors import ClinicFileError, InputError, KetaplanError
from ketaplan.core.messaging import CalDav, Privacy, Smtp, messaging_tables
from ketaplan.core.model import Booking, Closure
from ketaplan.core.protocol import Protocol, protocol_from_table

DEMO_SOURCE = "built-in demo clinic"


class BusySource(Protocol_):
    """Bookings made in another system, for any stretch of time."""

    def between(self, start: datetime, end: datetime) -> list[Booking]: ...


class HolidaySource(Protocol_):
    """Public holidays of a country ("US") or subdivision ("US-CA"), given to the clinic by
    whoever loads it (the CLI: store.holiday_cache), like its busy calendar."""

    def names(self, code: str, year: int) -> dict[date, str]:
        """The year's holidays; raises KeyError or NotImplementedError for an unknown code."""
        ...

    def check(self, code: str) -> None:
        """Raise KeyError or NotImplementedError when the code is unknown."""
        ...


_TOP_KEYS = {
    "name",
    "timezone",
    "address",
    "phone",
    "email",
    "chairs",
    "slot_minutes",
    "turnover_minutes",
    "max_starts_per_slot",
    "consult_rooms",
    "paper",
    "hours",
    "closures",
    "protocol",
    "instructions",
    "date_format",
    "min_notice_hours",
    "smtp",
    "caldav",
    "privacy",
    "language",
}
#: The languages a patient's papers, .ics and emails are written in (formats.i18n).
LANGUAGES = ("en", "es", "fr", "de")
#: Hours between booking and a session, by default: a patient told in the morning cannot
#: keep the six hours' fast before an infusion the same morning, nor arrange the escort.
MIN_NOTICE_HOURS = 12
_CLOSURE_KEYS = {"dates", "holidays", "busy_ics"}
_INSTRUCTION_KEYS = {"fasting", "escort", "emergency", "arrive_minutes_early", "reminder_hours_before"}
#: How printed plans write a date: the clinic's `date_format` names one by example.
DATE_FORMATS = {"Dec 4, 2026": "us", "4 Dec 2026": "intl", "2026-12-04": "iso"}
_FULL_DAY = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


class Instructions(NamedTuple):
    fasting: str = "No solid food for 6 hours before; clear liquids until 2 hours before."
    escort: str = "An adult must drive you home. Do not drive until the next morning."
    emergency: str = "In an emergency call your local emergency number."
    arrive_minutes_early: int = 15
    reminder_hours_before: int = 24  # the .ics alarm


class Clinic(NamedTuple):
    name: str
    timezone: str
    chairs: tuple[str, ...]
    hours: tuple[tuple[tuple[int, int], ...], ...]  # per weekday (0 = Mon): (open, close) minutes
    address: str = ""
    phone: str = ""
    email: str = "clinic@example.invalid"
    slot_minutes: int = 15
    turnover_minutes: int = 15
    max_starts_per_slot: int = 0  # 0 = one per chair
    consult_rooms: int = 1
    paper: str = "A4"
    date_format: str = ""  # "" = by paper: Letter "Dec 4, 2026", A4 "4 Dec 2026"
    closures: frozenset[date] = frozenset()
    holidays: str | None = None
    busy_ics: str | None = None
    busy: BusySource | None = None  # bookings from busy_ics (ics_import.BusyCalendar)
    holiday_source: HolidaySource | None = None  # where `holidays` are looked up
    protocol: Protocol = Protocol()
    instructions: Instructions = Instructions()
    source: str = DEMO_SOURCE
    min_notice_hours: int = MIN_NOTICE_HOURS  # nothing is booked sooner than this from now
    # Why each closed date is closed (the file's label or the ledger's reason), and the
    # closures that take only some hours or one chair (core.closures puts the ledger's in).
    closure_reasons: Mapping[date, str] = MappingProxyType({})
    outages: tuple[Closure, ...] = ()
    file_closures: tuple[Closure, ...] = ()  # as the file wrote them, ranges kept
    ledger_closures: tuple[Closure, ...] | None = None  # None: the ledger's not read in yet
    smtp: Smtp | None = None  # where patients' emails go (core.messaging)
    caldav: CalDav | None = None  # the clinic calendar
    privacy: Privacy = Privacy()
    language: str = "en"  # the patients' default language (a plan may have its own)
    # [instructions.es] ...: the clinic's own texts in another language (the fasting and
    # escort lines, the emergency line); what is not given falls back (formats.i18n)
    translated: Mapping[str, Mapping[str, str]] = MappingProxyType({})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo keeps one instance per key

    @property
    def starts_per_slot(self) -> int:
        return self.max_starts_per_slot or len(self.chairs)

    def date_text(self, day: date, weekday: bool = False) -> str:
        """A date as printed plans write it, in the clinic's date_format."""
        style = DATE_FORMATS.get(self.date_format) or ("us" if self.paper == "Letter" else "intl")
        text = {"us": f"{day:%b} {day.day}, {day.year}", "intl": f"{day.day} {day:%b %Y}", "iso": day.isoformat()}[
            style
        ]
        return f"{day:%a} {text}" if weekday else text

    @property
    def rooms(self) -> tuple[str, ...]:
        return tuple(f"Consult room {i}" for i in range(1, self.consult_rooms + 1))

    def holiday_name(self, day: date) -> str | None:
        if not self.holidays:
            return None
        if self.holiday_source is None:  # the loaders require one: a Clinic built by hand forgot it
            raise ValueError(f"clinic {self.name!r} names holidays {self.holidays!r} but has no holiday source")
        return self.holiday_source.names(self.holidays, day.year).get(day)

    def arrive_by(self, start: datetime) -> datetime:
        """When the patient is asked to arrive: arrive_minutes_early before the start, but
        never before the clinic opens that day (a 08:00 session once said 'arrive 07:45')."""
        ls = start.astimezone(self.zone)
        arrive = ls - timedelta(minutes=self.instructions.arrive_minutes_early)
        minute = ls.hour * 60 + ls.minute
        for opens, closes in self.hours[ls.weekday()]:
            if opens <= minute < closes:
                doors = datetime(ls.year, ls.month, ls.day, opens // 60, opens % 60, tzinfo=self.zone)
                return max(arrive, doors)
        return arrive

    def earliest_booking(self, now: datetime) -> datetime:
        """The first moment a session booked `now` may start (min_notice_hours later)."""
        return now + timedelta(hours=self.min_notice_hours)

    def closed_reason(self, day: date) -> str | None:
        """Why the clinic is shut all day, or None when it opens."""
        if day in self.closures:
            return self.closure_reasons.get(day) or "clinic closure"
        name = self.holiday_name(day)
        if name:
            return f"public holiday ({name})"
        if not self.hours[day.weekday()]:
            return f"closed on {_FULL_DAY[day.weekday()]}"
        return None


#: The paper sizes printed plans and day sheets come in.
PAPERS = ("A4", "Letter")


def check_paper(value: str, field: str, error: type[KetaplanError] = InputError) -> str:
    """A paper size, from the clinic file or --paper: the one check both go through."""
    if value not in PAPERS:
        raise error(f"{value!r} is not one of {', '.join(PAPERS)}", field=field)
    return value


def check_holiday_code(code: str, source: HolidaySource) -> None:
    try:
        source.check(code)
    except (NotImplementedError, KeyError) as e:
        raise ClinicFileError(f"unknown country or subdivision {code!r} ({e})", field="closures.holidays") from None


def demo_clinic(holidays: HolidaySource) -> Clinic:
    from ketaplan.core.demo import TABLE

    return clinic_from_table(TABLE, source=DEMO_SOURCE, holidays=holidays)


def clinic_from_table(doc: dict[str, Any], *, source: str, holidays: HolidaySource) -> Clinic:
    """Validate a clinic file's parsed table. `busy_ics` stays a name here: reading that
    file is the loader's job (formats.clinic_file), so the value holds no file reader.
    `holidays` is where public holidays are looked up (passed in: the core reads no files)."""
    for key in doc:
        if key not in _TOP_KEYS:
            raise ClinicFileError(f"unknown key {key!r}", field=key)
    name = _text(doc, "name", required=True)
    tz = _text(doc, "timezone", required=True)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClinicFileError(
            f"unknown time zone {tz!r}; use an IANA name like America/Chicago", field="timezone"
        ) from None
    chairs = _chairs(doc.get("chairs", 1))
    slot = _int(doc, "slot_minutes", 15, 1, 720)
    if (24 * 60) % slot:
        raise ClinicFileError("must divide a day evenly (e.g. 5, 10, 15, 30, 60)", field="slot_minutes")
    consult_rooms = _int(doc, "consult_rooms", 1, 0, 100)
    protocol = protocol_from_table(_table(doc, "protocol"))
    if protocol.consultation and consult_rooms == 0:
        raise ClinicFileError("the protocol has a consultation, so at least 1 room is needed", field="consult_rooms")
    closures_t = _table(doc, "closures")
    for key in closures_t:
        if key not in _CLOSURE_KEYS:
            raise ClinicFileError(f"unknown key {key!r}", field=f"closures.{key}")
    holiday_code = closures_t.get("holidays")
    if holiday_code is not None:
        if not isinstance(holiday_code, str) or not holiday_code:
            raise ClinicFileError('must be a country code like "US" or "US-CA"', field="closures.holidays")
        check_holiday_code(holiday_code, holidays)
    paper = check_paper(_text(doc, "paper") or "A4", "paper", ClinicFileError)
    file_closures = _file_closures(closures_t.get("dates", []))
    date_format = _text(doc, "date_format")
    if date_format and date_format not in DATE_FORMATS:
        examples = ", ".join(map(repr, DATE_FORMATS))
        raise ClinicFileError(f"write a date the way it should be printed: {examples}", field="date_format")
    smtp, caldav, privacy = messaging_tables(doc)
    clinic = Clinic(
        name=name,
        timezone=tz,
        chairs=chairs,
        hours=_hours(_table(doc, "hours")),
        address=_text(doc, "address"),
        phone=_text(doc, "phone"),
        email=_text(doc, "email") or "clinic@example.invalid",
        slot_minutes=slot,
        turnover_minutes=_int(doc, "turnover_minutes", 15, 0, 720),
        max_starts_per_slot=_int(doc, "max_starts_per_slot", len(chairs), 1, 1000),
        consult_rooms=consult_rooms,
        paper=paper,
        date_format=date_format,
        closures=frozenset(d for c in file_closures for d in _days_of(c)),
        closure_reasons=MappingProxyType({d: c.reason for c in reversed(file_closures) for d in _days_of(c)}),
        file_closures=file_closures,
        holidays=holiday_code,
        holiday_source=holidays,
        busy_ics=closures_t.get("busy_ics"),
        protocol=protocol,
        instructions=_instructions(_table(doc, "instructions")),
        translated=_translated(_table(doc, "instructions")),
        language=_language(doc.get("language", "en"), "language"),
        source=source,
        min_notice_hours=_int(doc, "min_notice_hours", MIN_NOTICE_HOURS, 0, 24 * 14),
        smtp=smtp,
        caldav=caldav,
        privacy=privacy,
    )
    if clinic.busy_ics is not None and (not isinstance(clinic.busy_ics, str) or not clinic.busy_ics):
        raise ClinicFileError("must be the path of an .ics file", field="closures.busy_ics")
    _some_session_fits(clinic)
    return clinic


def _some_session_fits(clinic: Clinic) -> None:
    """A clinic whose opening hours hold no infusion (or no consultation) on any day, once
    starts keep to the slot grid, can never book a series: refused here, not found out at
    the first `schedule` (`clinic check` once said ok)."""
    p = clinic.protocol
    needs = [("infusion", p.session_minutes)] + ([("consultation", p.consultation_minutes)] if p.consultation else [])
    for what, minutes in needs:
        if not any(
            -(-opens // clinic.slot_minutes) * clinic.slot_minutes + minutes <= closes
            for day in clinic.hours
            for opens, closes in day
        ):
            raise ClinicFileError(
                f"no opening hours hold a {minutes}-minute {what} starting on the {clinic.slot_minutes}-minute grid; "
                "lengthen the hours or shorten the session",
                field="hours",
            )


def _table(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ClinicFileError("must be a table, e.g. [" + key + "]", field=key)
    return value


def _text(doc: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = doc.get(key)
    if value is None:
        if required:
            raise ClinicFileError("is required", field=key)
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ClinicFileError("must be a non-empty string" if required else "must be a string", field=key)
    return _plain(value, key, most=300)


def _plain(value: str, field: str, *, most: int, lines: bool = False) -> str:
    """Text printed on plans and written into .ics properties: no control or format
    characters (a line break would end an .ics property; NUL bytes made an .ics our own
    `check` refused; a right-to-left override hides what a name says), bounded length (a
    megabyte with no spaces once took a PDF two minutes to lay out)."""
    allowed = "\n" if lines else ""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed for ch in value):
        raise ClinicFileError("contains line breaks or other control characters", field=field)
    if len(value) > most:
        raise ClinicFileError(f"is {len(value):,} characters long; at most {most:,}", field=field)
    return value


def _int(doc: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = doc.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ClinicFileError(f"must be a whole number from {lo} to {hi}", field=key)
    return value


MAX_CHAIRS = 200


def _chairs(value: Any) -> tuple[str, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_CHAIRS:
            raise ClinicFileError(
                f"must be from 1 to {MAX_CHAIRS} (a number of chairs or a list of names)", field="chairs"
            )
        return tuple(f"Chair {i}" for i in range(1, value + 1))
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        if len(value) > MAX_CHAIRS:
            raise ClinicFileError(f"names {len(value)} chairs; at most {MAX_CHAIRS}", field="chairs")
        for name in value:
            _plain(name, "chairs", most=60)
            if name.strip().lower().startswith("consult room"):
                # the consult rooms are named so: a chair of that name would be taken for one
                raise ClinicFileError(f"{name!r} is how consult rooms are named; give the chair another name",
                                      field="chairs")  # fmt: skip
        if len(set(value)) != len(value):
            raise ClinicFileError("chair names must be different", field="chairs")
        return tuple(value)
    raise ClinicFileError("must be a number of chairs (>= 1) or a list of names", field="chairs")


def _hours(table: dict[str, Any]) -> tuple[tuple[tuple[int, int], ...], ...]:
    per_day: list[tuple[tuple[int, int], ...]] = [()] * 7
    for key, value in table.items():
        field_name = f"hours.{key}"
        if key not in WEEKDAYS:
            raise ClinicFileError("unknown weekday; use mon, tue, wed, thu, fri, sat, sun", field=field_name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ClinicFileError('must be a list like ["08:00-12:00", "13:00-17:00"]', field=field_name)
        spans = sorted(_span(v, field_name) for v in value)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ClinicFileError("opening hours overlap", field=field_name)
        per_day[WEEKDAYS.index(key)] = tuple(spans)
    if not any(per_day):
        raise ClinicFileError("the clinic is never open; give at least one weekday", field="hours")
    return tuple(per_day)


def _span(text: str, field_name: str) -> tuple[int, int]:
    start_s, sep, end_s = text.partition("-")
    if not sep:
        raise ClinicFileError(f"{text!r} is not HH:MM-HH:MM", field=field_name)
    try:
        start = parse_minutes(start_s, field=field_name)
        end = parse_minutes(end_s, field=field_name, allow_24=True)
    except InputError as e:
        raise ClinicFileError(e.message, field=field_name) from None
    if end <= start:
        raise ClinicFileError(f"{text!r} closes before it opens", field=field_name)
    return (start, end)


_DATES_HINT = (
    'must be a list like ["2026-12-24", "2026-12-31/2027-01-02", {dates = "2026-12-28", label = "Staff training"}]'
)


def _file_closures(value: Any) -> tuple[Closure, ...]:
    """The file's closure dates: a day or an inclusive range, each maybe with a label
    (an inline table), which `day`, `closures` and every refusal print."""
    if not isinstance(value, list):
        raise ClinicFileError(_DATES_HINT, field="closures.dates")
    out: list[Closure] = []
    for item in value:
        label = "clinic closure"
        if isinstance(item, dict):
            if set(item) - {"dates", "label"} or "dates" not in item:
                raise ClinicFileError("a labelled closure is {dates = \"YYYY-MM-DD\", label = \"...\"}",
                                      field="closures.dates")  # fmt: skip
            raw_label = item.get("label", label)
            if not isinstance(raw_label, str) or not raw_label.strip():
                raise ClinicFileError("a closure's label must be a non-empty string", field="closures.dates")
            label = _plain(raw_label.strip(), "closures.dates", most=120)
            item = item["dates"]
        if isinstance(item, date):
            out.append(Closure(item, item, label))
            continue
        if not isinstance(item, str):
            raise ClinicFileError(f"{item!r} is not a date or range", field="closures.dates")
        try:
            # Closure dates must be ISO: "today" means nothing in a file.
            for part in item.split("/"):
                date.fromisoformat(part.strip())
        except ValueError:
            raise ClinicFileError(
                f"{item!r} is not YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD", field="closures.dates"
            ) from None
        try:
            days = parse_range(item, today=date(2000, 1, 1), field="closures.dates")
        except InputError as e:  # reversed, or longer than a few years: say which
            raise ClinicFileError(e.message, field="closures.dates") from None
        out.append(Closure(min(days), max(days), label))
    return tuple(out)


def _language(value: Any, field: str) -> str:
    if value not in LANGUAGES:
        raise ClinicFileError(f"must be one of {', '.join(LANGUAGES)}", field=field)
    return str(value)


def _translated(table: dict[str, Any]) -> Mapping[str, Mapping[str, str]]:
    """[instructions.es] and the like: the texts, checked like the default ones."""
    out: dict[str, Mapping[str, str]] = {}
    for lang, texts in table.items():
        if not isinstance(texts, dict):
            continue
        _language(lang, f"instructions.{lang}")
        for key, text in texts.items():
            field = f"instructions.{lang}.{key}"
            if key not in ("fasting", "escort", "emergency"):
                raise ClinicFileError("only fasting, escort and emergency have translations", field=field)
            if not isinstance(text, str):
                raise ClinicFileError("must be a string", field=field)
            _plain(text, field, most=1000, lines=True)
        out[lang] = MappingProxyType(dict(texts))
    return MappingProxyType(out)


def _instructions(table: dict[str, Any]) -> Instructions:
    for key in table:
        if isinstance(table[key], dict):
            continue  # a language's texts (_translated)
        if key not in _INSTRUCTION_KEYS:
            raise ClinicFileError(f"unknown key {key!r}", field=f"instructions.{key}")
    base = Instructions()
    for key in ("fasting", "escort", "emergency"):
        if key in table and not isinstance(table[key], str):
            raise ClinicFileError("must be a string", field=f"instructions.{key}")
        if key in table:
            _plain(table[key], f"instructions.{key}", most=1000, lines=True)
    return Instructions(
        fasting=table.get("fasting", base.fasting),
        escort=table.get("escort", base.escort),
        emergency=table.get("emergency", base.emergency),
        arrive_minutes_early=_int(table, "arrive_minutes_early", base.arrive_minutes_early, 0, 240),
        reminder_hours_before=_int(table, "reminder_hours_before", base.reminder_hours_before, 0, 24 * 14),
    )


def _days_of(c: Closure) -> list[date]:
    return [c.first + timedelta(days=i) for i in range((c.last - c.first).days + 1)]


def upcoming_closures(clinic: Clinic, start: date, days: int) -> list[tuple[date, str]]:
    """Closure dates and holidays from start for `days` days (weekly closed days left out)."""
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        reason = clinic.closed_reason(day)
        if reason and clinic.hours[day.weekday()]:
            out.append((day, reason))
    return out
