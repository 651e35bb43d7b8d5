"""The command line: the only layer that prints, exits or talks to people."""

from __future__ import annotations

import gc
import sys

_collector_paused = False


def main(argv: list[str] | None = None) -> None:
    global _collector_paused
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        # Answered before Typer (and pydantic, rich) is imported: start-up time matters here.
        from ketaplan import __version__

        sys.stdout.write(f"ketaplan {__version__}\n")
        return
    # Start-up builds tens of thousands of objects that live as long as the process
    # (Typer, click, our modules); the cycle collector would walk them again and again for
    # nothing. Collect nothing until the command's module is loaded (see imports_done).
    # Only a process's first run starts up (a second would freeze the first's garbage),
    # and a caller's own choice to turn collection off is left alone.
    _collector_paused = gc.isenabled() and gc.get_freeze_count() == 0
    if _collector_paused:
        gc.disable()
    try:
        from ketaplan.cli.app import app

        app(args=args, prog_name="ketaplan")
    finally:
        imports_done()


def imports_done() -> None:
    """The command's code is loaded: keep what start-up built out of later collections
    (gc.freeze) and collect normally from here on, so a long batch stays bounded."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()
