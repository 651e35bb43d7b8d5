"""Planner time per plan (read the ledger's bookings for the span, plan, check), with an
empty ledger and with one holding 10,000 booked plans of earlier years.

    python benchmarks/bench_planner.py [--plans 10000] [--runs 30]

Target (issue 2): the 10k-plan ledger costs <= 1.2x the empty one per plan."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import per_call  # noqa: E402

from ketaplan.app.booking import availability_from, plan_one
from ketaplan.core.clinic import demo_clinic
from ketaplan.core.model import Patient, Request
from ketaplan.store.holiday_cache import FROM_PACKAGE
from ketaplan.store.ledger import Ledger, utc_text
from ketaplan.store.sqlite_ledger import SqliteLedger


def fill(ledger: Ledger, clinic_name: str, plans: int, before: date) -> None:
    """Booked history: `plans` six-infusion series on weekdays of the ten years before `before`."""
    rng = random.Random(7)
    with ledger.write() as tx:
        for i in range(plans):
            pid = f"KP-H{i:07d}"
            first = before - timedelta(days=rng.randint(30, 3650))
            tx.db.execute(
                "INSERT INTO plans VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    pid,
                    None,
                    clinic_name,
                    "America/Chicago",
                    f"Patient {i}",
                    None,
                    first.isoformat(),
                    (first + timedelta(days=20)).isoformat(),
                    1,
                    utc_text(datetime.now(UTC)),
                    "{}",
                ),
            )
            rows = []
            for n in range(6):
                start = datetime(first.year, first.month, first.day, 14 + rng.randint(0, 6), tzinfo=UTC) + timedelta(
                    days=3 * n
                )
                rows.append(
                    (
                        pid,
                        "infusion",
                        n + 1,
                        6,
                        clinic_name,
                        utc_text(start),
                        utc_text(start + timedelta(minutes=90)),
                        f"Chair {rng.randint(1, 4)}",
                        "booked",
                        utc_text(start + timedelta(minutes=105)),
                    )
                )
            tx.db.executemany("INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?)", rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plans", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    clinic = demo_clinic(FROM_PACKAGE)
    first = date.today() + timedelta(days=30)
    req = Request(Patient("Bench"), first, first + timedelta(days=20), boosters=1)

    def plan_once(ledger: Ledger) -> None:
        with ledger.read() as tx:
            avail = availability_from(tx, clinic, req)
        plan_one(clinic, req, avail, "KP-BENCH", datetime.now(UTC))[0]

    with tempfile.TemporaryDirectory() as tmp:
        empty = SqliteLedger(Path(tmp) / "empty.sqlite3")
        with empty.write():
            pass
        full = SqliteLedger(Path(tmp) / "full.sqlite3")
        fill(full, clinic.name, args.plans, first)
        # In turns, so that drift in the machine's speed hits both alike.
        empties, fulls = [], []
        plan_once(empty)
        plan_once(full)
        for _ in range(args.runs):
            empties.append(per_call(lambda: plan_once(empty), 1))
            fulls.append(per_call(lambda: plan_once(full), 1))
        t_empty, t_full = statistics.median(empties), statistics.median(fulls)
    print(f"planner per plan, empty ledger          {t_empty:7.2f} ms")
    print(
        f"planner per plan, {args.plans:,} booked plans  {t_full:7.2f} ms  = {t_full / t_empty:4.2f}x "
        f"empty  (target <= 1.2x)"
    )


if __name__ == "__main__":
    main()
