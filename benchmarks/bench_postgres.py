"""The shared ledger on PostgreSQL against the SQLite file, in one run: `schedule` wall
time (booking a plan, psycopg's import included) and `batch` throughput.

    python benchmarks/bench_postgres.py [--runs 15] [--requests 2000]

Starts its own PostgreSQL server (as tests/pg_server.py does; Debian's `postgresql`).
Targets (issue 13): `schedule` on PostgreSQL <= 1.5x the SQLite file's wall time;
`batch` of 2,000 requests over 104 weeks (most fit) >= 300 plans/s on PostgreSQL."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from _util import compile_package, interleaved  # noqa: E402
from bench_batch import CLINIC, requests, run  # noqa: E402

from pg_server import Server  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--requests", type=int, default=2000)
    a = ap.parse_args()
    compile_package()
    server = Server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "clinic.toml").write_text(CLINIC)
            env = {**os.environ, "KETAPLAN_CLINIC": str(root / "clinic.toml"), "XDG_CACHE_HOME": str(root / "cache")}
            exe = str(Path(sys.executable).parent / "ketaplan")
            start = (date.today() + timedelta(days=30)).isoformat()
            schedule = [exe, "schedule", "--patient", "Bench", "--start", start, "--weeks", "3", "--allow-overlap"]
            sqlite_file, pg = str(root / "s.sqlite3"), server.new_database()
            walls, cpus = interleaved(
                {
                    "sqlite": [*schedule, "--ledger", sqlite_file],
                    "postgresql": [*schedule, "--ledger", pg],
                    "sqlite --json": [*schedule, "--json", "--ledger", sqlite_file],
                    "postgresql --json": [*schedule, "--json", "--ledger", pg],
                },
                a.runs,
                env,
            )
            print(f"`ketaplan schedule` booking a plan, median of {a.runs} runs each (in turns):")
            for name in walls:
                print(f"  {name:<18} {walls[name]:6.1f} ms wall  {cpus[name]:6.1f} ms CPU")
            for kind in ("", " --json"):
                ratio = walls[f"postgresql{kind}"] / walls[f"sqlite{kind}"]
                print(f"  postgresql/sqlite{kind}: {ratio:.2f}x wall (target <= 1.5x)")

            rows = root / "roomy.csv"
            requests(rows, a.requests, date.today() + timedelta(days=14), 104)
            print(f"`ketaplan batch`, {a.requests} requests over 104 weeks (most fit), fresh ledger each:")
            for name, ledger in (("sqlite", str(root / "b.sqlite3")), ("postgresql", server.new_database())):
                env["KETAPLAN_LEDGER"] = ledger
                wall, rss, ok = run([str(rows)], env)
                print(f"  {name:<11} {ok / wall:6.0f} plans/s ({ok} booked, {wall:5.2f} s, peak RSS {rss} MB)")
            print("  target: >= 300 plans/s on postgresql")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
