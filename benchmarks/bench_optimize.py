"""`batch --optimize` on congested clinics, HiGHS (the default) and CP-SAT (`--solver
cpsat`) on the same files with the same limit, side by side, against first come.

    python benchmarks/bench_optimize.py [--sizes 20 60 150 300 1000] [--time-limit 60] [--big-limit 120]

For each size and solver: requests planned, the bound (no answer plans more), proven or
the gap, when the count was proven, and the wall time of the whole command (start-up
included). Files of 1,000 requests get --big-limit. Targets (issue 23): the optimum up to
300 requests within 60 s; a gap under 1 % on 1,000 within 120 s."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

CLINIC = """
name = "Busy Clinic"
timezone = "America/Chicago"
chairs = 2
slot_minutes = 15
turnover_minutes = 15
max_starts_per_slot = 1
consult_rooms = 1
[hours]
mon = ["08:00-16:00"]
tue = ["08:00-16:00"]
wed = ["08:00-16:00"]
thu = ["08:00-16:00"]
fri = ["08:00-16:00"]
[closures]
holidays = "US"
"""
DAYS = ["", "", "mon,wed,fri", "tue,thu", "mon,tue,wed,thu"]


def requests(path: Path, n: int, first: date, seed: int) -> None:
    """n requests starting over n/2 days: about twice what the chairs hold."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["request_id", "patient", "start", "weeks", "days", "earliest"])
        for i in range(n):
            start = first + timedelta(days=rng.randrange(max(n // 2, 7)))
            w.writerow(
                [f"R{i}", f"Patient {i}", start.isoformat(), rng.choice([2, 3]), rng.choice(DAYS),
                 rng.choice(["", "", "10:00"])]
            )  # fmt: skip


def batch(args: list[str], env: dict[str, str]) -> tuple[int, float, str]:
    exe = str(Path(sys.executable).parent / "ketaplan")
    t = time.perf_counter()
    p = subprocess.run([exe, "batch", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode not in (0, 3):
        raise SystemExit(p.stderr)
    ok = sum(json.loads(line)["status"] == "ok" for line in p.stdout.splitlines())
    return ok, wall, p.stderr


def solved(rows: Path, limit: float, solver: str, env: dict[str, str]) -> tuple[str, ...]:
    planned, wall, err = batch([str(rows), "--dry-run", "--optimize", "--time-limit", str(limit), "--solver", solver],
                               env)  # fmt: skip
    found = re.search(r"at most (\d+) possible \((proven|not proven)\)", err)
    bound, proven = (int(found.group(1)), found.group(2) == "proven") if found else (planned, False)
    gap = 100 * (bound - planned) / bound if bound else 0.0
    settled = re.search(r"proven after ([0-9.]+) s", err) or re.search(r"\(proven, ([0-9.]+) s\)", err)
    at = f"{float(settled.group(1)):.1f} s" if settled else "-"
    return str(planned), str(bound), "proven" if proven else f"gap {gap:.1f}%", at, f"{wall:.1f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 60, 150, 300, 1000])
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--big-limit", type=float, default=120)
    ap.add_argument("--solvers", nargs="+", default=["highs", "cpsat"])
    a = ap.parse_args()
    first = date.today() + timedelta(days=14)
    print("congested clinic: 2 chairs, Mon-Fri 08-16, 1 infusion start per slot; requests start over n/2 days")
    head = ["requests", "limit", "first come"]
    for name in a.solvers:
        head += [f"{name} plan", "bound", "proof", "count at", "wall"]
    print("  ".join(f"{h:>10}" for h in head), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "clinic.toml").write_text(CLINIC)
        env = {**os.environ, "KETAPLAN_CLINIC": str(root / "clinic.toml"), "XDG_CACHE_HOME": str(root / "cache"),
               "KETAPLAN_LEDGER": str(root / "l.sqlite3")}  # fmt: skip
        for n in a.sizes:
            rows = root / f"r{n}.csv"
            requests(rows, n, first, seed=n)
            limit = a.big_limit if n >= 1000 else a.time_limit
            first_come, _, _ = batch([str(rows), "--dry-run"], env)
            cells: list[str] = [str(n), f"{limit:g} s", str(first_come)]
            for name in a.solvers:
                cells += solved(rows, limit, name, env)
            print("  ".join(f"{c:>10}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
