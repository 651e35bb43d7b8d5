"""Start-up cost: `ketaplan --version` and `schedule --dry-run --json`, against a bare
interpreter and a minimal Typer app, run in turns in the same session.

    python benchmarks/bench_startup.py [--runs 20]

Targets (issue 2): --version <= 6x `python -c pass`; schedule <= 1.5x the minimal Typer command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import compile_package, interleaved  # noqa: E402

MINIMAL_TYPER = textwrap.dedent(
    """
    import typer
    app = typer.Typer()
    @app.command()
    def hello(name: str = typer.Option(...)) -> None:
        print(f"hello {name}")
    app()
    """
)
# The same app with ketaplan's start-up GC handling (cli/__init__.py): no cycle collection
# while importing, then gc.freeze(). Reported so the ratio can be read both ways: against
# plain Typer (the target) and against Typer given the same treatment.
MINIMAL_TYPER_FROZEN = "import gc\ngc.disable()\nimport typer\ngc.freeze()\ngc.enable()\n" + MINIMAL_TYPER.replace(
    "import typer\n", "", 1
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    runs = ap.parse_args().runs
    py = sys.executable
    # The console script, as users run it (python -m would add runpy's import to the figure).
    exe = str(Path(py).parent / "ketaplan")
    compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_typer.py"
        minimal.write_text(MINIMAL_TYPER)
        frozen = Path(tmp) / "minimal_typer_frozen.py"
        frozen.write_text(MINIMAL_TYPER_FROZEN)
        env = {"KETAPLAN_LEDGER": str(Path(tmp) / "ledger.sqlite3"), "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        # A ledger with bookings, as a clinic has: the dry run reads it.
        for i in range(20):
            subprocess.run(
                [exe, "schedule", "--patient", f"Booked {i}", "--start", "tomorrow", "--json"],
                env={**os.environ, **env},
                capture_output=True,
                check=True,
            )
        t, cpu = interleaved(
            {
                "bare": [py, "-c", "pass"],
                "version": [exe, "--version"],
                "typer": [py, str(minimal), "--name", "x"],
                "typer_frozen": [py, str(frozen), "--name", "x"],
                "schedule": [
                    exe,
                    "schedule",
                    "--patient",
                    "Bench",
                    "--start",
                    "tomorrow",
                    "--weeks",
                    "3",
                    "--dry-run",
                    "--json",
                ],
            },
            runs,
            env,
        )
    bare, version, typer_min, schedule = t["bare"], t["version"], t["typer"], t["schedule"]
    frozen_min = t["typer_frozen"]
    import typer

    print(f"python {sys.version.split()[0]}, typer {typer.__version__}, median of {runs} interleaved runs")
    print(f"python -c pass                 {bare:7.1f} ms")
    print(f"ketaplan --version             {version:7.1f} ms  = {version / bare:4.1f}x python -c pass   (target <= 6x)")
    print(f"minimal Typer command          {typer_min:7.1f} ms")
    print(
        f"ketaplan schedule --dry-run    {schedule:7.1f} ms  = {schedule / typer_min:4.2f}x minimal "
        f"Typer  (target <= 1.5x)"
    )
    print(f"minimal Typer, same GC handling {frozen_min:7.1f} ms; schedule = {schedule / frozen_min:4.2f}x that")
    print(
        f"CPU time (user+sys): python {cpu['bare']:.1f} ms, --version {cpu['version']:.1f} ms, "
        f"minimal Typer {cpu['typer']:.1f} ms, "
        f"schedule {cpu['schedule']:.1f} ms = {cpu['schedule'] / cpu['typer']:.2f}x"
    )


if __name__ == "__main__":
    main()
