"""Start-up cost: `ketaplan --version` and `schedule --dry-run --json`, against a bare
interpreter and a minimal Typer app measured in the same run.

    python benchmarks/bench_startup.py [--runs 15]

Targets (issue 2): --version <= 6x `python -c pass`; schedule <= 1.5x the minimal Typer command."""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import wall  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_typer.py"
        minimal.write_text(MINIMAL_TYPER)
        env = {"KETAPLAN_LEDGER": str(Path(tmp) / "ledger.sqlite3")}
        bare = wall([py, "-c", "pass"], runs)
        version = wall([py, "-m", "ketaplan", "--version"], runs)
        typer_min = wall([py, str(minimal), "--name", "x"], runs)
        schedule = wall(
            [py, "-m", "ketaplan", "schedule", "--patient", "Bench", "--start", "tomorrow", "--weeks", "3", "--dry-run", "--json"],
            runs,
            env,
        )
    import typer

    print(f"python {sys.version.split()[0]}, typer {typer.__version__}, median of {runs} runs")
    print(f"python -c pass                 {bare:7.1f} ms")
    print(f"ketaplan --version             {version:7.1f} ms  = {version / bare:4.1f}x python -c pass   (target <= 6x)")
    print(f"minimal Typer command          {typer_min:7.1f} ms")
    print(f"ketaplan schedule --dry-run    {schedule:7.1f} ms  = {schedule / typer_min:4.2f}x minimal Typer  (target <= 1.5x)")


if __name__ == "__main__":
    main()
