"""Batch throughput: 2,000 requests over 26 weeks against a 6-chair clinic, run as users
run it (`ketaplan batch`, a fresh ledger each time), and peak memory for 10,000.

    python benchmarks/bench_batch.py [--requests 2000] [--rss-requests 10000]

Targets (issue 6): >= 500 plans/s plan+book, >= 100/s with .ics, >= 50/s with PDF,
<= 200 MB peak RSS for 10,000 requests. Issue 14, on the 26-week load (most requests have
no plan): >= 500 plans/s booked or >= 1,500 requests/s answered."""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

CLINIC = """
name = "Bench Clinic"
timezone = "America/Chicago"
chairs = 6
slot_minutes = 15
turnover_minutes = 15
max_starts_per_slot = 3
consult_rooms = 2
[hours]
mon = ["07:00-19:00"]
tue = ["07:00-19:00"]
wed = ["07:00-19:00"]
thu = ["07:00-19:00"]
fri = ["07:00-19:00"]
sat = ["08:00-14:00"]
[closures]
holidays = "US"
"""
DAYS = ["", "", "", "mon,wed,fri", "tue,thu,sat", "mon,tue,wed,thu,fri"]


def requests(path: Path, n: int, first: date, weeks: int) -> None:
    rng = random.Random(42)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["request_id", "patient", "patient_id", "start", "weeks", "days", "earliest"])
        for i in range(n):
            start = first + timedelta(days=rng.randrange(weeks * 7))
            w.writerow(
                [
                    f"R{i:06d}",
                    f"Patient {i}",
                    f"MRN{i:06d}",
                    start.isoformat(),
                    rng.choice([2, 3]),
                    rng.choice(DAYS),
                    rng.choice(["", "", "09:00", "12:00"]),
                ]
            )


def run(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (MB) and plans made by one `ketaplan batch` run, in its own
    process (so its RSS is its own)."""
    exe = str(Path(sys.executable).parent / "ketaplan")
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
        "wall = time.perf_counter() - t\n"
        "ok = sum(1 for line in p.stdout.splitlines() if json.loads(line)['status'] == 'ok')\n"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, ok, p.returncode)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, exe, "batch", *args], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    wall, rss, ok, rc = float(out[0]), int(out[1]), int(out[2]), int(out[3])
    if rc not in (0, 3):
        raise SystemExit(f"batch exited {rc}")
    return wall, rss, ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rss-requests", type=int, default=10_000)
    a = ap.parse_args()
    first = date.today() + timedelta(days=14)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "clinic.toml").write_text(CLINIC)
        env = {**os.environ, "KETAPLAN_CLINIC": str(root / "clinic.toml"), "XDG_CACHE_HOME": str(root / "cache")}
        csv_path = root / "requests.csv"
        requests(csv_path, a.requests, first, 26)
        roomy = root / "roomy.csv"
        requests(roomy, a.requests, first, 104)
        print(
            f"{a.requests} requests, 6 chairs (Mon-Fri 07-19, Sat 08-14), one `ketaplan batch` run each, fresh ledger,"
        )
        print("wall time including start-up; rows/s counts every request answered, plans/s those booked")
        for spread, path in (
            ("26 weeks (the issue's load: more than the chairs hold)", csv_path),
            ("104 weeks (most fit)", roomy),
        ):
            print(f"  starts over {spread}:")
            for label, extra in (("plan+book", []), ("with --ics", ["--ics"]), ("with --pdf", ["--pdf"])):
                out = root / f"out-{path.stem}-{len(extra)}{extra[0][2:] if extra else ''}"
                out.mkdir()
                env["KETAPLAN_LEDGER"] = str(out) + ".sqlite3"
                wall, rss, ok = run([str(path), *extra, "--out", str(out)] if extra else [str(path)], env)
                print(
                    f"    {label:<11} {a.requests / wall:6.0f} rows/s  {ok / wall:6.0f} plans/s  "
                    f"({ok} booked, {wall:5.2f} s, peak RSS {rss} MB)"
                )
        big = root / "big.csv"
        requests(big, a.rss_requests, first, 26 * 8)
        env["KETAPLAN_LEDGER"] = str(root / "big.sqlite3")
        wall, rss, ok = run([str(big)], env)
        print(
            f"  {a.rss_requests} requests over 208 weeks: {a.rss_requests / wall:.0f} rows/s, {ok} "
            f"booked, peak RSS {rss} MB (target <= 200 MB)"
        )


if __name__ == "__main__":
    main()
