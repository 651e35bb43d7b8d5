"""`ketaplan plans` (table and JSON) on a ledger of 5,000 plans, against `schedule`.

Target (issue 12): within 1.5x of `schedule --dry-run` on the same ledger. Plans are
booked through the real command path (batch) so the ledger is what a clinic would have:
a consultation and six infusions each, spread over three years, some attended, some missed."""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import compile_package, interleaved  # noqa: E402


def build(ledger: Path, plans: int, where: Path) -> None:
    rows = where / "rows.csv"
    rng = random.Random(5)
    with rows.open("w") as f:
        f.write("request_id,patient,start,weeks\n")
        for i in range(plans):
            day = 1 + rng.randrange(3 * 364)
            f.write(f"r{i},Patient {i},2027-01-01 +{day},3\n".replace(" +", "+"))
    # A year of starts, written as real dates.
    from datetime import date, timedelta

    text = rows.read_text().splitlines()
    out = [text[0]]
    for line in text[1:]:
        rid, name, start, weeks = line.split(",")
        first = date(2027, 1, 1) + timedelta(days=int(start.split("+")[1]))
        out.append(f"{rid},{name},{first.isoformat()},{weeks}")
    rows.write_text("\n".join(out) + "\n")
    clinic = where / "clinic.toml"
    subprocess.run([sys.executable, "-m", "ketaplan", "clinic", "init", str(clinic)], check=True, capture_output=True)
    text = (
        clinic.read_text()
        .replace("chairs = 4", "chairs = 40")
        .replace("max_starts_per_slot = 2", "max_starts_per_slot = 40")
    )
    clinic.write_text(text)
    env = {"KETAPLAN_TODAY": "2026-12-01"}
    import os

    subprocess.run(
        [sys.executable, "-m", "ketaplan", "batch", str(rows), "--clinic", str(clinic), "--ledger", str(ledger)],
        env={**os.environ, **env}, capture_output=True,
    )  # fmt: skip
    with sqlite3.connect(ledger) as db:  # some history: attended and missed sessions
        db.execute("UPDATE sessions SET status = 'attended' WHERE start_utc < '2027-06-01' AND number % 5 != 0")
        db.execute("UPDATE sessions SET status = 'no_show' WHERE start_utc < '2027-06-01' AND number % 5 = 0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15)
    a = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        ledger = where / "l.sqlite3"
        build(ledger, a.plans, where)
        with sqlite3.connect(ledger) as db:
            n = db.execute("SELECT COUNT(*) FROM plans").fetchone()[0]
        clinic = str(where / "clinic.toml")
        base = [sys.executable, "-m", "ketaplan"]
        common = ["--clinic", clinic, "--ledger", str(ledger)]
        cmds = {
            "schedule": [
                *base,
                "schedule",
                "--patient",
                "X",
                "--start",
                "2027-09-06",
                "--no-consultation",
                "--dry-run",
                "--json",
                *common,
            ],
            "plans (table, 50 rows)": [*base, "plans", *common],
            "plans --json (50 rows)": [*base, "plans", "--json", *common],
            "plans --json --limit 0 (all)": [*base, "plans", "--json", "--limit", "0", *common],
        }
        env = {"KETAPLAN_NOW": "2027-06-15T12:00:00", "COLUMNS": "120"}
        walls, _ = interleaved(cmds, a.runs, env)
    print(f"ledger: {n:,} plans (consultation + 6 infusions each); median of {a.runs} interleaved runs")
    for name, ms in walls.items():
        ratio = "" if name == "schedule" else f"  = {ms / walls['schedule']:4.2f}x schedule  (target <= 1.5x)"
        print(f"  {name:<30} {ms:7.1f} ms{ratio}")


if __name__ == "__main__":
    main()
