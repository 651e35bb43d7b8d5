"""The command line: the only layer that prints, exits or talks to people."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        # Answered before Typer (and pydantic, rich) is imported: start-up time matters here.
        from ketaplan import __version__

        sys.stdout.write(f"ketaplan {__version__}\n")
        return
    from ketaplan.cli import startup

    startup.pause()
    try:
        from ketaplan.cli.app import app

        app(args=args, prog_name="ketaplan")
    finally:
        startup.imports_done()
