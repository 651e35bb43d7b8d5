"""Delivery from the outbox: 500 pending invitations handed to a local SMTP server
(aiosmtpd with STARTTLS and AUTH, as tests/mail_server.py starts it), and `schedule`
with `[smtp]` set (booking plus one invitation sent) against `schedule` without it.
Whole processes on the embedded SQLite ledger, as users run them.

    python benchmarks/bench_send.py [--messages 500] [--runs 3]

The CalDAV half of issue 22's benchmark waits for the CalDAV delivery (not built yet)."""

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
        # 500 pending, then one send
        ledger = tmp / "outbox.sqlite3"
        rows = tmp / "rows.csv"
        starts = [date(2027, 2, 1) + timedelta(weeks=k % 12) for k in range(a.messages)]  # room for every row
        rows.write_text("patient,start\n" + "".join(f"P{k},{d}\n" for k, d in enumerate(starts)), encoding="utf-8")
        ketaplan("batch", rows, "--clinic", with_smtp, "--ledger", ledger, "--no-send", env=env)
        import sqlite3

        with sqlite3.connect(ledger) as db:  # batch has no email column yet: give every plan one
            ids = [r[0] for r in db.execute("SELECT plan_id FROM plans")]
            db.executemany("INSERT OR REPLACE INTO contacts VALUES (?, ?, NULL)",
                           [(pid, f"p{k}@example.org") for k, pid in enumerate(ids)])  # fmt: skip
            db.executemany(
                "INSERT INTO outbox VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM outbox), 'Test Clinic', ?, 'email', "
                "'request', '{\"change\": \"booked\"}', NULL, '2026-11-25T00:00:00Z', 0, NULL, NULL, NULL, NULL)",
                [(pid,) for pid in ids],
            )
        before = len(server.handler.received)
        seconds = ketaplan("send", "--clinic", with_smtp, "--ledger", ledger, env=env)
        got = len(server.handler.received) - before
        print(f"send: {got} invitations delivered over STARTTLS+AUTH in {seconds:.1f} s ({got / seconds:.0f}/s)")
        server.stop()


if __name__ == "__main__":
    main()
