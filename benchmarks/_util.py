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


def interleaved(cmds: dict[str, Sequence[str]], runs: int, env: dict[str, str] | None = None) -> dict[str, float]:
    """Median wall time (ms) of each command, run in turns so that drift in the
    machine's speed hits all of them alike (one warm-up round first)."""
    full_env = {**os.environ, **(env or {})}
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for round_no in range(runs + 1):
        for name, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, env=full_env, capture_output=True, check=True)
            if round_no:
                times[name].append((time.perf_counter() - t) * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}


def compile_package() -> None:
    """Write .pyc files for ketaplan, as `pip install` does; an editable install under
    PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run."""
    import compileall

    import ketaplan

    compileall.compile_dir(os.path.dirname(ketaplan.__file__), quiet=1)


def per_call(fn: Callable[[], object], runs: int) -> float:
    """Median time of fn() in ms (one warm-up call first)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)
