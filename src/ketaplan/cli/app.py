"""The Typer application: commands are registered here, errors become output here only."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

try:  # the click Typer runs on: its own copy in newer typer, the click package before
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer
    from click.exceptions import ClickException  # type: ignore[assignment]

from ketaplan import __version__
from ketaplan.cli.commands import COMMANDS
from ketaplan.cli.result import CommandResult
from ketaplan.core.errors import ExitCode, KetaplanError


class KetaplanGroup(TyperGroup):
    """Runs a command and turns every failure into one clear message and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            if close:  # `schedul` once got only "No such command"
                ctx.fail(f"No such command {name!r}; did you mean {close[0]!r}?")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, name: str) -> Any:
        if name not in COMMANDS:
            return None
        import importlib

        import typer.main

        from ketaplan.cli.startup import imports_done

        module_name, _, attribute = COMMANDS[name].partition(":")
        module = importlib.import_module(module_name)
        command = typer.main.get_command(getattr(module, attribute or "app"))
        command.name = name
        imports_done()
        return command

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
        extra.pop("standalone_mode", None)
        command = _command_name(argv)
        json_mode = "--json" in argv
        try:
            _ascii_numbers(argv)
            code = super().main(args=argv, prog_name=prog_name or "ketaplan", standalone_mode=False, **extra)
            if isinstance(code, CommandResult):  # rendered here, so its errors are told like any other
                from ketaplan.cli import output

                sys.exit(output.render(code, json_mode))
            if code is not None and not isinstance(code, int):  # a command returned something else: a bug
                raise TypeError(f"command {command!r} returned {type(code).__name__}, not a CommandResult")
        except KetaplanError as e:
            from ketaplan.cli import output

            output.report_error(e, command, json_mode)
            sys.exit(int(e.exit_code))
        except ClickException as e:  # usage errors: an exit code and a message
            from ketaplan.cli import output

            output.report_usage_error(e, command, json_mode)
            sys.exit(int(e.exit_code))
        except typer.Abort:  # Ctrl-C at a prompt
            sys.stderr.write("Aborted.\n")
            sys.exit(int(ExitCode.INVALID))
        except Exception as e:
            if os.environ.get("KETAPLAN_DEBUG"):
                raise
            from ketaplan.cli import output

            output.report_bug(e, command, json_mode)
            sys.exit(int(ExitCode.INTERNAL))
        sys.exit(code or 0)


def _ascii_numbers(argv: list[str]) -> None:
    """Numbers are written with 0-9: Python's int() also reads other scripts' digits
    ("٣" is 3), which a session number or a count should not silently become."""
    from ketaplan.core.errors import InputError

    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--") and "=" in arg else arg
        if value.strip().lstrip("+-").isdigit() and not value.strip().lstrip("+-").isascii():
            where = argv[i - 1] if i and argv[i - 1].startswith("-") and "=" not in arg else arg.partition("=")[0]
            raise InputError(f"{value!r}: write numbers with the digits 0-9", field=where or None)


def _command_name(argv: list[str]) -> str:
    words = [a for a in argv if not a.startswith("-")]
    if words and words[0] in ("clinic",) and len(words) > 1:
        return f"{words[0]} {words[1]}"
    return words[0] if words else "ketaplan"


app = typer.Typer(
    cls=KetaplanGroup,
    name="ketaplan",
    help="Plan a ketamine infusion series: six infusions, the clinic's rules, files for the patient.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ketaplan {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", "-V", help="Show the version and exit.", is_eager=True, callback=_version
    ),
) -> None:
    """Plan a ketamine infusion series: six infusions, the clinic's rules, files for the patient."""
