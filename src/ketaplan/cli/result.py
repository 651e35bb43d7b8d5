"""What a command answers, as a value: one renderer turns it into JSON or into what a
person reads (cli.output.render), so no command decides between the two itself.

Each command module defines a NamedTuple with these fields and methods; the app renders
whatever a command returns and exits with its code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console


class CommandResult(Protocol):
    @property
    def command(self) -> str: ...  # the envelope's "command", e.g. "schedule", "clinic check"

    @property
    def status(self) -> str: ...  # ok | infeasible | partial | error

    @property
    def exit_code(self) -> int: ...

    def data(self) -> dict[str, Any] | None:
        """The envelope's `data`; None when the command streamed its JSON already (batch)."""
        ...

    def show(self, console: Console) -> None:
        """What a person reads."""
        ...
