"""Ledger locations shown without their passwords, in every form the driver accepts: a
URL's user info (any case of scheme, unescaped characters), `password=` parameters and
libpq's key=value connection strings."""

from __future__ import annotations

import re
from urllib.parse import unquote

#: key=value connection strings (libpq's other form) and URL query parameters that hold one
_SECRET_KEYS = r"(?:ssl)?password"
_KEY_VALUE = re.compile(rf"(?i)\b({_SECRET_KEYS})(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")
CONNINFO = re.compile(r"(?i)^\s*(host|hostaddr|dbname|user|password|port|service|sslmode)\s*=")


def masked(location: str) -> str:
    """The location with every password replaced by ***: the URL's user info (whatever the
    scheme's case, and with characters a URL should have escaped), `password=` parameters,
    and key=value connection strings."""
    out = location
    url = re.match(r"(?i)^([a-z][a-z0-9+.-]*://)([^?#]*)@", out)  # up to the last @ before the query
    if url and ":" in url.group(2):
        user = url.group(2).split(":", 1)[0]
        out = f"{url.group(1)}{user}:***@{out[url.end() :]}"
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", out)


def secrets_of(location: str) -> list[str]:
    """Every password the location holds, as written and unescaped: what error text from
    the driver must never echo (longest first, so a part never leaves the rest showing)."""
    found: list[str] = []
    url = re.match(r"(?i)^([a-z][a-z0-9+.-]*://)([^?#]*)@", location)
    if url and ":" in url.group(2):
        password = url.group(2).split(":", 1)[1]
        found.append(password)
        # An unescaped @ in it: libpq splits at the first, taking the rest for the host
        # name, which its errors then quote ("failed to resolve host 'rest@db'").
        found += [part for part in password.split("@")[1:] if len(part) >= 4]
    found += [m.group(3).strip("'") for m in _KEY_VALUE.finditer(location)]
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrubbed(text: str, location: str) -> str:
    """`text` (an error from the driver) with the location's passwords replaced by ***,
    and any URL or key=value password within it masked too."""
    for secret in secrets_of(location):
        text = text.replace(secret, "***")
    text = _URL_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


#: user:password@ inside a longer text (a driver's message quoting the location)
_URL_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@?#]*):\S*@")
