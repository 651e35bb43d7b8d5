"""The clinic file's `[smtp]`, `[caldav]` and `[privacy]` tables: where messages to
patients and the clinic calendar go, and how much they say. Secrets never live here:
only the name of an environment variable that holds one (`password_env`)."""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr
from typing import Any, NamedTuple

from ketaplan.core.errors import ClinicFileError

SECURITY = ("starttls", "tls", "none")
DEFAULT_PORT = {"starttls": 587, "tls": 465, "none": 25}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


class Smtp(NamedTuple):
    host: str
    port: int
    security: str  # one of SECURITY
    sender: str  # the file's `from`: "Clinic Name <desk@clinic.example>"
    username: str | None = None
    password_env: str | None = None


class CalDav(NamedTuple):
    url: str  # the calendar collection
    username: str | None = None
    password_env: str | None = None


class Privacy(NamedTuple):
    calendar_title: str = "Appointment"  # patient and clinic-calendar events, unless details are asked for
    location: bool = True  # the clinic's address in the patient's events (the chair in the clinic's)
    mention_treatment: bool = False  # "ketamine" in reminders and clinic-calendar titles


_KEYS = {
    "smtp": {"host", "port", "security", "username", "password_env", "from"},
    "caldav": {"url", "username", "password_env"},
    "privacy": {"calendar_title", "location", "mention_treatment"},
}


def messaging_tables(doc: dict[str, Any]) -> tuple[Smtp | None, CalDav | None, Privacy]:
    """The three tables of a parsed clinic file, validated (absent: None, None, defaults)."""
    for name, known in _KEYS.items():
        table = doc.get(name, {})
        if not isinstance(table, dict):
            raise ClinicFileError(f"must be a table, e.g. [{name}]", field=name)
        for key in table:
            if key not in known:
                raise ClinicFileError(f"unknown key {key!r}", field=f"{name}.{key}")
    return _smtp(doc.get("smtp")), _caldav(doc.get("caldav")), _privacy(doc.get("privacy", {}))


def _smtp(table: dict[str, Any] | None) -> Smtp | None:
    if table is None:
        return None
    security = _text(table, "smtp", "security") or "starttls"
    if security not in SECURITY:
        raise ClinicFileError(f"must be one of {', '.join(SECURITY)}", field="smtp.security")
    port = table.get("port", DEFAULT_PORT[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ClinicFileError("must be a port number from 1 to 65535", field="smtp.port")
    sender = _text(table, "smtp", "from", required=True)
    _, address = parseaddr(sender)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise ClinicFileError('must be an address like "Clinic Name <desk@clinic.example>"', field="smtp.from")
    username, password_env = _credentials(table, "smtp")
    return Smtp(_text(table, "smtp", "host", required=True), port, security, sender, username, password_env)


def _caldav(table: dict[str, Any] | None) -> CalDav | None:
    if table is None:
        return None
    url = _text(table, "caldav", "url", required=True)
    if not url.startswith(("https://", "http://")):
        raise ClinicFileError("must be the calendar's https:// address", field="caldav.url")
    return CalDav(url, *_credentials(table, "caldav"))


def _credentials(table: dict[str, Any], name: str) -> tuple[str | None, str | None]:
    username = _text(table, name, "username") or None
    password_env = _text(table, name, "password_env") or None
    if password_env is not None and not _ENV_NAME.fullmatch(password_env):
        raise ClinicFileError(
            "must be the name of an environment variable (e.g. KETAPLAN_SMTP_PASSWORD), never the password",
            field=f"{name}.password_env",
        )
    if username and not password_env:
        raise ClinicFileError("a username needs password_env, the variable that holds the password", field=name)
    return username, password_env


def _privacy(table: dict[str, Any]) -> Privacy:
    base = Privacy()
    title = _text(table, "privacy", "calendar_title") or base.calendar_title
    flags = {}
    for key in ("location", "mention_treatment"):
        value = table.get(key, getattr(base, key))
        if not isinstance(value, bool):
            raise ClinicFileError("must be true or false", field=f"privacy.{key}")
        flags[key] = value
    return Privacy(title, **flags)


def _text(table: dict[str, Any], name: str, key: str, *, required: bool = False) -> str:
    """A one-line string: a line break in a header value or an .ics property would start
    another one (header injection), so control characters are refused."""
    value = table.get(key)
    if value is None or value == "":
        if required:
            raise ClinicFileError("is required", field=f"{name}.{key}")
        return ""
    if not isinstance(value, str):
        raise ClinicFileError("must be a string", field=f"{name}.{key}")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value) or len(value) > 300:
        raise ClinicFileError("must be one line of at most 300 characters", field=f"{name}.{key}")
    return value.strip()
