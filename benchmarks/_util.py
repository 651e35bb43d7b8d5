"""Small helpers for the benchmark scripts (they print figures; nothing here asserts)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


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


def interleaved(
    cmds: dict[str, Sequence[str]], runs: int, env: dict[str, str] | None = None
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median CPU time (user+sys, ms) of each command, run in turns
    so that drift in the machine's speed hits all of them alike (one warm-up round first).
    CPU time is steadier than wall time when something else wakes up on the machine."""
    import resource

    full_env = {**os.environ, **(env or {})}
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for round_no in range(runs + 1):
        for name, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, env=full_env, capture_output=True, check=True)
            wall = (time.perf_counter() - t) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_no:
                walls[name].append(wall)
                cpus[name].append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return (
        {name: statistics.median(ts) for name, ts in walls.items()},
        {name: statistics.median(ts) for name, ts in cpus.items()},
    )


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
