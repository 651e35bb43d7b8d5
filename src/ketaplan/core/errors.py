"""Errors with exit codes: the only way the core reports failure to the CLI."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ketaplan.core.suggestion import Suggestion


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug in ketaplan
    INVALID = 2  # usage, dates, clinic file, batch file, .ics
    NO_PLAN = 3  # no plan satisfies the rules / partial batch / check found violations


class KetaplanError(Exception):
    """An error a user can act on. `field` names the option, key or line at fault."""

    exit_code: ExitCode = ExitCode.INVALID
    code: str = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def line(self) -> str:
        """One line for a person: the field first, so they know where to look."""
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InputError(KetaplanError):
    """A command-line value or request field is invalid (exit 2)."""

    code = "invalid_input"


class ClinicFileError(KetaplanError):
    """The clinic file (or a file it names) is invalid (exit 2)."""

    code = "invalid_clinic"


class CalendarFileError(KetaplanError):
    """An .ics file cannot be read (exit 2)."""

    code = "invalid_ics"


class FileWriteError(KetaplanError):
    """An output file cannot be written (exists, missing folder, read-only) (exit 2)."""

    code = "cannot_write"


class LedgerError(KetaplanError):
    """The ledger refuses a change: unknown plan, stale revision, wrong session (exit 2)."""

    code = "ledger"


class NoPlanError(KetaplanError):
    """Valid input, but no plan satisfies the rules (exit 3)."""

    exit_code = ExitCode.NO_PLAN
    code = "infeasible"

    def __init__(self, message: str, *, explanation: list[str], suggestions: list[Suggestion]) -> None:
        super().__init__(message)
        self.explanation = explanation
        self.suggestions = suggestions
