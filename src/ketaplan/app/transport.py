"""Talking to the servers: SMTP (the standard library's smtplib) and, with the caldav
extra, the clinic's CalDAV calendar. A failure is a `Undelivered` whose text names the
server and what went wrong, never a recipient, a message or a password."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from ketaplan.core.errors import InputError
from ketaplan.core.messaging import CalDav, Smtp
from ketaplan.formats.ics_export import fingerprint

TIMEOUT_SECONDS = 20


class Undelivered(Exception):
    """A server refused or could not be reached; the message stays in the outbox."""


def password(env_name: str | None, table: str) -> str | None:
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise Undelivered(f"{table}: the environment variable {env_name} (password_env) is not set")
    return value


class Mailer:
    """One SMTP session, opened on first use, for as many messages as there are."""

    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp
        self.conn: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass

    def where(self) -> str:
        return f"smtp {self.smtp.host}:{self.smtp.port}"

    def _open(self) -> smtplib.SMTP:
        s = self.smtp
        secret = password(s.password_env, "[smtp]")
        context = ssl.create_default_context()
        try:
            if s.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_SECONDS, context=context)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
                if s.security == "starttls":
                    conn.starttls(context=context)
            if s.username and secret is not None:
                try:
                    conn.login(s.username, secret)
                except smtplib.SMTPServerDisconnected:  # some servers hang up on a wrong password
                    raise Undelivered(
                        f"{self.where()}: the server hung up at login (is the username or password right?)"
                    ) from None
        except smtplib.SMTPAuthenticationError:
            raise Undelivered(f"{self.where()}: the server refused the username or password") from None
        except smtplib.SMTPNotSupportedError:
            raise Undelivered(f"{self.where()}: the server does not offer STARTTLS (security)") from None
        except ssl.SSLError as e:
            raise Undelivered(f"{self.where()}: TLS failed ({e.reason or 'certificate'})") from None
        except (OSError, smtplib.SMTPException) as e:
            raise Undelivered(f"{self.where()}: {_why(e)}") from None
        return conn

    def send(self, msg: EmailMessage) -> None:
        if self.conn is None:
            self.conn = self._open()
        try:
            self.conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            codes = sorted({code for code, _ in e.recipients.values()})
            raise Undelivered(f"{self.where()}: the recipient was refused ({', '.join(map(str, codes))})") from None
        except (OSError, smtplib.SMTPException) as e:
            self.conn = None
            raise Undelivered(f"{self.where()}: {_why(e)}") from None


def _why(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(e, TimeoutError | socket.timeout):
        return f"no answer within {TIMEOUT_SECONDS} s"
    if isinstance(e, socket.gaierror):
        return "unknown host"
    if isinstance(e, smtplib.SMTPResponseException):
        return f"the server answered {e.smtp_code}"
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if type(e).__name__ == "ConnectionError":  # the HTTP client's (caldav), not an OSError
        return "cannot connect (is the server running?)"
    if type(e).__name__ in {"Timeout", "ReadTimeout", "ConnectTimeout"}:
        return f"no answer within {TIMEOUT_SECONDS} s"
    return type(e).__name__


class DeskCalendar:
    """The clinic's CalDAV calendar collection (caldav extra)."""

    def __init__(self, cfg: CalDav) -> None:
        try:
            import caldav
        except ImportError:
            raise InputError(
                "[caldav] needs the caldav extra: pip install 'ketaplan[caldav]'", field="caldav.url"
            ) from None
        self.cfg = cfg
        self._caldav: Any = caldav  # its lazy attributes are not typed
        secret = password(cfg.password_env, "[caldav]")
        self.client = self._caldav.DAVClient(
            url=cfg.url,
            username=cfg.username,
            password=secret,
            timeout=TIMEOUT_SECONDS,
            enable_rfc6764=False,
            require_tls=cfg.url.startswith("https://"),
        )
        self.calendar = self.client.calendar(url=cfg.url)

    def where(self) -> str:
        return f"caldav {self.cfg.url}"

    def _guard(self, action: Any, *, missing_ok: bool = False) -> Any:
        try:
            return action()
        except self._caldav.lib.error.NotFoundError:
            if missing_ok:
                return None
            raise Undelivered(f"{self.where()}: no calendar at this url (is it made?)") from None
        except self._caldav.lib.error.AuthorizationError:
            raise Undelivered(f"{self.where()}: the server refused the username or password") from None
        except (OSError, self._caldav.lib.error.DAVError, Exception) as e:  # niquests' errors are not OSErrors
            raise Undelivered(f"{self.where()}: {_why(e)}") from None

    def put(self, ics: bytes) -> None:
        """Create or replace the event with this UID (its URL follows from the UID)."""
        self._guard(lambda: self.calendar.save_event(ics.decode()))

    def delete(self, uid: str) -> None:
        """Remove the event with this UID; an event that is not there is fine."""

        def remove() -> None:
            found = self.calendar.event_by_uid(uid)
            found.delete()

        self._guard(remove, missing_ok=True)

    def ours(self, mark: str, clinic: str, suffix: str) -> dict[str, tuple[str, ...]]:
        """The events this clinic's ketaplan made (its UID suffix and its mark naming this
        clinic), by UID, each as its `fingerprint`; nobody else's events are read further."""

        def events() -> dict[str, tuple[str, ...]]:
            out = {}
            for ev in self.calendar.events():
                comp = ev.icalendar_component
                uid = str(comp.get("uid", ""))
                if uid.endswith(suffix) and str(comp.get(mark, "")) == clinic:
                    out[uid] = fingerprint(comp)
            return out

        return dict(self._guard(events) or {})
