"""Start-up without cycle collection: pausing the collector while the CLI imports.

Start-up builds tens of thousands of objects that live as long as the process (Typer,
click, our modules); the cycle collector would walk them again and again for nothing.
`pause()` stops collection until the command's module is loaded; `imports_done()` then
keeps those objects out of later passes (gc.freeze) and collects normally, so a long
batch stays bounded. Only a process's first run starts up (a second would freeze the
first's garbage), and a caller's own choice to turn collection off is left alone."""

from __future__ import annotations

import gc

_collector_paused = False


def pause() -> None:
    global _collector_paused
    _collector_paused = gc.isenabled() and gc.get_freeze_count() == 0
    if _collector_paused:
        gc.disable()


def imports_done() -> None:
    """The command's code is loaded: freeze what start-up built, collect from here on."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()
