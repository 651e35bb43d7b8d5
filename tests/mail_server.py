"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 with STARTTLS (a certificate
made by openssl for the test, trusted through SSL_CERT_FILE) and AUTH required after
it, keeping every message it accepts. `stop()` and `start()` take it down and bring it
back on the same port (a server down during a change)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

USER, PASSWORD = "desk", "s3cret-pass"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Handler:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds before accepting each message (a slow server)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


class MailServer:
    def __init__(self, folder: Path) -> None:
        self.cert, self.key = make_certificate(folder)
        self.port = free_port()
        self.handler = Handler()
        self.controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
            authenticator=_auth, auth_require_tls=True, server_hostname="localhost",
        )  # fmt: skip
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
            time.sleep(0.05)

    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            raw = [content for _, content in self.handler.received]
        return [message_from_bytes(r, policy=policy.default) for r in raw]

    def smtp_table(self) -> dict[str, Any]:
        return {
            "host": "localhost",
            "port": self.port,
            "security": "starttls",
            "username": USER,
            "password_env": "KETAPLAN_TEST_SMTP_PASSWORD",
            "from": "Lakeside Desk <desk@lakeside.example>",
        }
