"""What a command answers, as a value: one renderer turns it into JSON or into what a
person reads (cli.output.render), so no command decides between the two itself.

Each command module defines a NamedTuple with `command`, `data()` and `show()`; the app
renders whatever a command returns and exits with its code. `status` is needed only by
results that can be something other than "ok" (check, batch); the exit code follows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console


class CommandResult(Protocol):
    @property
    def command(self) -> str: ...  # the envelope's "command", e.g. "schedule", "clinic check"

    def data(self) -> dict[str, Any] | None:
        """The envelope's `data`; None when the command streamed its JSON already (batch)."""
        ...

    def show(self, console: Console) -> None:
        """What a person reads."""
        ...


def status(result: CommandResult) -> str:
    """ok | infeasible | partial: what the result says, "ok" when it says nothing."""
    return str(getattr(result, "status", "ok"))


#: The exit code each status means (README, "JSON output and exit codes").
EXIT_CODES = {"ok": 0, "infeasible": 3, "partial": 3}


def exit_code(result: CommandResult) -> int:
    return EXIT_CODES[status(result)]
