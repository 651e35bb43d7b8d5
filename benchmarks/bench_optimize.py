"""`batch --optimize` against first come on congested clinics: 20, 60 and 150 requests.

    python benchmarks/bench_optimize.py [--sizes 20 60 150] [--time-limit 30]

For each size: requests planned first come, planned by --optimize, the solver's bound
(no answer can plan more), when that count was proven (solver seconds; the rest of the
time limit goes to ties of priority and line), and wall time of the whole command. Targets (issue 14):
--optimize >= 99 % of the proven optimum, within 30 s for 150 requests on 2 cores."""

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 60, 150])
    ap.add_argument("--time-limit", type=float, default=30)
    a = ap.parse_args()
    first = date.today() + timedelta(days=14)
    print("congested clinic: 2 chairs, Mon-Fri 08-16, 1 infusion start per slot; requests start over n/2 days")
    head = ("requests", "first come", "--optimize", "bound", "proven", "% of bound", "count at", "wall")
    print("  ".join(f"{h:>10}" for h in head))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "clinic.toml").write_text(CLINIC)
        env = {**os.environ, "KETAPLAN_CLINIC": str(root / "clinic.toml"), "XDG_CACHE_HOME": str(root / "cache")}
        for n in a.sizes:
            rows = root / f"r{n}.csv"
            requests(rows, n, first, seed=n)
            env["KETAPLAN_LEDGER"] = str(root / f"fc{n}.sqlite3")
            first_come, _, _ = batch([str(rows), "--dry-run"], env)
            env["KETAPLAN_LEDGER"] = str(root / f"opt{n}.sqlite3")
            planned, wall, err = batch([str(rows), "--dry-run", "--optimize", "--time-limit", str(a.time_limit)], env)
            found = re.search(r"at most (\d+) possible \((proven|not proven)\)", err)
            bound, proven = (int(found.group(1)), found.group(2) == "proven") if found else (planned, False)
            share = 100 * planned / bound if bound else 100.0
            # when the count was proven (the rest of the time went to ties of priority and line)
            settled = re.search(r"proven after ([0-9.]+) s", err) or re.search(r"\(proven, ([0-9.]+) s\)", err)
            at = f"{float(settled.group(1)):.1f} s" if settled else "-"
            cells = (n, first_come, planned, bound, "yes" if proven else "no", f"{share:.1f}%", at, f"{wall:.1f} s")
            print("  ".join(f"{c:>10}" for c in cells))


if __name__ == "__main__":
    main()
