"""How results and errors reach people and scripts: one place for both."""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any

from ketaplan.core.errors import ExitCode, KetaplanError, NoPlanError
from ketaplan.formats.plan_json import envelope

if TYPE_CHECKING:
    from rich.console import Console

    from ketaplan.cli.result import CommandResult

REPORT_URL = "https://github.com/ketaplan/ketaplan/issues"


def out() -> Console:
    from rich.console import Console  # not needed for --json: keep it off that path

    return Console(highlight=False, soft_wrap=_piped(sys.stdout))


def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=_piped(sys.stderr))


def _piped(stream: Any) -> bool:
    """Output for a file or another program: lines are never wrapped (a message or a
    suggested command stays one line for copy-paste and grep). On a terminal, or when
    COLUMNS sets a width, prose wraps to the width and tables fit it."""
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty()) and "COLUMNS" not in os.environ


_delivery: list[dict[str, Any]] = []


def delivery(told: dict[str, Any]) -> None:
    """Add what this run's messages did to its JSON answer (`delivery`)."""
    _delivery.append(told)


def notice(text: str) -> None:
    """A one-line notice on stderr (never on stdout, which may carry JSON)."""
    sys.stderr.write(f"ketaplan: {text}\n")


def emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    sys.stdout.flush()


#: Request fields the core names in its errors, and the option a person typed for each.
REQUEST_OPTIONS = frozenset(
    {"patient", "patient_id", "start", "end", "weeks", "days", "earliest", "latest", "unavailable", "maintenance"}
    | {"session", "from", "kind", "allow_gap"}
)


def as_option(field: str | None) -> str | None:
    """The core speaks request fields (`start`); on the command line they are options (`--start`)."""
    return f"--{field.replace('_', '-')}" if field in REQUEST_OPTIONS else field


def render(result: CommandResult, json_mode: bool) -> int:
    """The one place a command's answer becomes output; returns the exit code."""
    from ketaplan.cli.result import exit_code, status

    data = result.data()
    if _delivery and data is not None:  # what a change's messages did (cli.sending)
        data = {**data, "delivery": _delivery[-1]}
    _delivery.clear()  # one answer per run (tests run many in one process)
    if json_mode and data is not None:
        emit_json(envelope(result.command, status(result), exit_code(result), data))
    else:
        result.show(out() if data is not None else err())
    return exit_code(result)


def report_error(e: KetaplanError, command: str, json_mode: bool) -> None:
    e.field = as_option(e.field)
    if isinstance(e, NoPlanError):
        from ketaplan.cli.suggestions import as_json

        suggestions = [as_json(s) for s in e.suggestions]
        data: dict[str, Any] = {"explanation": e.explanation, "suggestions": suggestions}
        if json_mode:
            emit_json(envelope(command, "infeasible", e.exit_code, data, [e.as_json()]))
            return
        c = err()
        c.print(f"[bold red]{_esc(e.message)}[/]")
        for line in e.explanation:
            c.print(f"  - {_esc(line)}")
        if e.suggestions:
            c.print("[bold]What would work[/] (each one checked):")
            for s in suggestions:
                # The command never wraps, even on a terminal: it is there to be copied.
                c.print(f"  - {_esc(s['message'])}: [bold]{_esc(s['option'])}[/]", soft_wrap=True)
        return
    if json_mode:
        emit_json(envelope(command, "error", e.exit_code, {}, [e.as_json()]))
    else:
        sys.stderr.write(f"ketaplan: error: {e.line()}\n")


def report_usage_error(e: Any, command: str, json_mode: bool) -> None:
    """Typer's own errors (unknown option, value of the wrong type): one line, like ours."""
    param = getattr(e, "param", None)
    field = (getattr(param, "opts", None) or [getattr(param, "name", None)])[0] if param else None
    message = " ".join(e.format_message().split())
    if json_mode:
        emit_json(envelope(command, "error", e.exit_code, {}, [{"code": "usage", "message": message, "field": field}]))
    elif message:  # an empty message: the help was shown already (no arguments given)
        from ketaplan.cli.commands import COMMANDS

        hint = f" (see `ketaplan {command} --help`)" if command in COMMANDS else " (see `ketaplan --help`)"
        sys.stderr.write(f"ketaplan: error: {field + ': ' if field else ''}{message}{hint}\n")


def report_bug(e: BaseException, command: str, json_mode: bool) -> None:
    """An unexpected error: say where, not what (messages may hold patient data)."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
    message = (
        f"internal error ({type(e).__name__} at {where}); this is a bug in ketaplan. "
        f"Please report it at {REPORT_URL} (set KETAPLAN_DEBUG=1 to see the traceback)."
    )
    if json_mode:
        emit_json(
            envelope(command, "error", ExitCode.INTERNAL, {}, [{"code": "internal", "message": message, "field": None}])
        )
    else:
        sys.stderr.write(f"ketaplan: {message}\n")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
