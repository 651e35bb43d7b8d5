"""PDF render time per plan, after the first (fonts loaded), for each copy.

    python benchmarks/bench_pdf.py [--plans 100]

Target (issue 5): <= 20 ms per plan after the first, i.e. >= 50 plans/s in a batch."""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from ketaplan.core.availability import Availability
from ketaplan.core.clinic import demo_clinic
from ketaplan.core.model import Patient, Request
from ketaplan.core.planner import find_plan
from ketaplan.formats.html import plan_html
from ketaplan.formats.pdf import plan_pdf
from ketaplan.store.holiday_cache import FROM_PACKAGE


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plans", type=int, default=100)
    n = ap.parse_args().plans
    clinic = demo_clinic(FROM_PACKAGE)
    first = date(2027, 2, 1)
    span = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
    avail = Availability(clinic, span=span)
    plans = []
    for i in range(n):
        day = first + timedelta(days=i % 90)
        plan = find_plan(
            clinic,
            Request(Patient(f"Zoë Ørsted-Đặng {i}", f"MRN{i}"), day, day + timedelta(days=20), boosters=1),
            avail,
            plan_id=f"KP-B{i:06d}",
        )
        if plan:
            avail.book(plan.sessions)
            plans.append(plan)
    t = time.perf_counter()
    plan_pdf(plans[0], clinic)
    first_ms = (time.perf_counter() - t) * 1000
    print(f"{len(plans)} plans; first PDF (loads reportlab and the font): {first_ms:.0f} ms")
    for copy in ("patient", "coordinator", "both"):
        times = []
        for plan in plans:
            t = time.perf_counter()
            plan_pdf(plan, clinic, copy=copy)
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"  PDF {copy:<11}: median {statistics.median(times):5.1f} ms, p95 "
            f"{sorted(times)[int(len(times) * 0.95)]:5.1f} ms per plan"
            f"  ({1000 / statistics.median(times):.0f} plans/s; target <= 20 ms)"
        )
    times = []
    for plan in plans:
        t = time.perf_counter()
        plan_html(plan, clinic, copy="both")
        times.append((time.perf_counter() - t) * 1000)
    print(f"  HTML both      : median {statistics.median(times):5.2f} ms per plan")


if __name__ == "__main__":
    main()
