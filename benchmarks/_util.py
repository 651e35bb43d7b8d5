"""Small helpers for the benchmark scripts (they print figures; nothing here asserts)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import Callable, Sequence


def wall(cmd: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of a command in ms (one warm-up run first)."""
    full_env = {**os.environ, **(env or {})}
    subprocess.run(cmd, env=full_env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=full_env, capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def per_call(fn: Callable[[], object], runs: int) -> float:
    """Median time of fn() in ms (one warm-up call first)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)
