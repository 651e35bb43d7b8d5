"""What a command answers, as a value: one renderer turns it into JSON or into what a
person reads (cli.output.render), so no command decides between the two itself.

Each command module defines a NamedTuple with `command`, `data()` and `show()`, marked
with @result; the app renders what a command returns when it is one (by type, checked
by isinstance) and exits with its code. `status` is needed only by results that can be
something other than "ok" (check, batch); the exit code follows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from rich.console import Console


class CommandResult(ABC):
    """What a command answers. Results are NamedTuples (cheap to define at start-up), which
    cannot inherit from this class: they are registered as its virtual subclasses (@result)."""

    @property
    @abstractmethod
    def command(self) -> str: ...  # the envelope's "command", e.g. "schedule", "clinic check"

    @abstractmethod
    def data(self) -> dict[str, Any] | None:
        """The envelope's `data`; None when the command streamed its JSON already (batch)."""

    @abstractmethod
    def show(self, console: Console) -> None:
        """What a person reads."""


R_ = TypeVar("R_", bound=type)


def result(cls: R_) -> R_:
    """Mark a command's result type, so the app knows it by type."""
    for name in ("command", "data", "show"):
        if not hasattr(cls, name):
            raise TypeError(f"{cls.__name__} is not a command result: it has no {name}")
    CommandResult.register(cls)
    return cls


def status(result: CommandResult) -> str:
    """ok | infeasible | partial: what the result says, "ok" when it says nothing."""
    return str(getattr(result, "status", "ok"))


#: The exit code each status means (README, "JSON output and exit codes").
EXIT_CODES = {"ok": 0, "infeasible": 3, "partial": 3}


def exit_code(result: CommandResult) -> int:
    return EXIT_CODES[status(result)]
