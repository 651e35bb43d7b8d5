"""Delivery from the outbox: 500 pending invitations handed to a local SMTP server
(aiosmtpd with STARTTLS and AUTH, as tests/mail_server.py starts it), 500 pending
clinic-calendar updates handed to a local Radicale (tests/caldav_server.py; each writes
a plan's seven events), and `schedule` with `[smtp]` set (booking plus one invitation
sent) against `schedule` without it. Whole processes on the embedded SQLite ledger, as
users run them.

    python benchmarks/bench_send.py [--messages 500] [--runs 3]"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from caldav_server import PASSWORD as CALDAV_PASSWORD  # noqa: E402
from caldav_server import CalendarServer  # noqa: E402
from helpers import write_clinic  # noqa: E402
from mail_server import PASSWORD, MailServer  # noqa: E402


def ketaplan(*args: str | Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ketaplan", *map(str, args)], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"ketaplan {args[0]} failed: {done.stderr.strip()}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's deprecation chatter
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = MailServer(tmp)
        server.start()
        env = {**os.environ, "SSL_CERT_FILE": str(server.cert), "KETAPLAN_TEST_SMTP_PASSWORD": PASSWORD,
               "KETAPLAN_TODAY": "2026-11-25", "HOME": str(tmp)}  # fmt: skip
        hours = {d: ["07:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
        with_smtp = write_clinic(tmp / "smtp.toml", chairs=60, max_starts_per_slot=60, hours=hours,
                                 smtp=server.smtp_table())  # fmt: skip
        without = write_clinic(tmp / "plain.toml", chairs=60, max_starts_per_slot=60, hours=hours)
        # schedule, with and without [smtp] (each on its own ledger)
        for label, clinic in (("without [smtp]", without), ("with [smtp] ", with_smtp)):
            times = [
                ketaplan("schedule", "--clinic", clinic, "--patient", f"S{k}", "--start", "2027-02-01",
                         "--email", f"s{k}@example.org", "--ledger", tmp / f"{clinic.stem}.sqlite3", env=env)
                for k in range(a.runs * 3)
            ]  # fmt: skip
            print(f"schedule {label}: median {statistics.median(times):.2f} s over {len(times)} runs")
        # 500 pending of each kind (batch --no-send queues them), then one send per ledger
        desk = CalendarServer(tmp)
        desk.start()
        desk.make_calendar()
        env["KETAPLAN_TEST_CALDAV_PASSWORD"] = CALDAV_PASSWORD
        with_caldav = write_clinic(tmp / "caldav.toml", chairs=60, max_starts_per_slot=60, hours=hours,
                                   caldav=desk.caldav_table())  # fmt: skip
        rows = tmp / "rows.csv"
        starts = [date(2027, 2, 1) + timedelta(weeks=k % 12) for k in range(a.messages)]  # room for every row
        rows.write_text("patient,start,email\n" + "".join(f"P{k},{d},p{k}@example.org\n" for k, d in enumerate(starts)),
                        encoding="utf-8")  # fmt: skip
        for clinic in (with_smtp, with_caldav):
            ketaplan("batch", rows, "--clinic", clinic, "--ledger", tmp / f"{clinic.stem}-500.sqlite3", "--no-send",
                     env=env)  # fmt: skip
        before = len(server.handler.received)
        seconds = ketaplan("send", "--clinic", with_smtp, "--ledger", tmp / "smtp-500.sqlite3", env=env)
        got = len(server.handler.received) - before
        print(f"send: {got} invitations delivered over STARTTLS+AUTH in {seconds:.1f} s ({got / seconds:.0f}/s)")
        seconds = ketaplan("send", "--clinic", with_caldav, "--ledger", tmp / "caldav-500.sqlite3", env=env)
        events = len(desk.events())
        print(f"send: {a.messages} clinic-calendar updates ({events} events) written to Radicale in {seconds:.1f} s "
              f"({a.messages / seconds:.0f} updates/s)")  # fmt: skip
        seconds = ketaplan("sync", "--clinic", with_caldav, "--ledger", tmp / "caldav-500.sqlite3", env=env)
        print(f"sync: {events} events compared with the ledger, nothing to change, in {seconds:.1f} s")
        desk.stop()
        server.stop()


if __name__ == "__main__":
    main()
