"""A real CalDAV server for the tests: Radicale in its own process on 127.0.0.1, with
htpasswd authentication and one calendar collection made by the caldav client.
`stop()` and `start()` take it down and bring it back on the same port and storage (a
server down during a change); `events()` reads the calendar back with the caldav client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

USER, PASSWORD = "desk", "cal-s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CalendarServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        (folder / "users").write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}/{USER}/clinic/"

    def start(self) -> None:
        self.log = open(self.folder / "radicale.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{self.port}",
             "--storage-filesystem-folder", str(self.folder / "store"), "--auth-type", "htpasswd",
             "--auth-htpasswd-filename", str(self.folder / "users"), "--auth-htpasswd-encryption", "plain",
             "--rights-type", "owner_only", "--auth-delay", "0", "--logging-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=self.log,
            env={**os.environ, "HOME": str(self.folder)},
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError((self.folder / "radicale.log").read_text()) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
            self.log.close()

    def client(self) -> Any:
        import caldav

        lib: Any = caldav  # its lazy attributes are not typed
        base = f"http://127.0.0.1:{self.port}/"
        return lib.DAVClient(url=base, username=USER, password=PASSWORD, enable_rfc6764=False)

    def make_calendar(self) -> None:
        principal: Any = self.client().principal()
        principal.make_calendar(name="Clinic", cal_id="clinic")

    def calendar(self) -> Any:
        return self.client().calendar(url=self.url)

    def events(self) -> dict[str, Any]:
        """The calendar's events by UID (their icalendar VEVENTs)."""
        out = {}
        for ev in self.calendar().events():
            comp = ev.icalendar_component
            out[str(comp["UID"])] = comp
        return out

    def caldav_table(self) -> dict[str, Any]:
        return {"url": self.url, "username": USER, "password_env": "KETAPLAN_TEST_CALDAV_PASSWORD"}
