"""Options several commands share, defined once so their names and help agree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import typer


def path_value(value: Path | str | None) -> Path | str | None:
    """A path option's value may not look like an option: `--ics --dry-run` would otherwise
    write a file named "--dry-run" and book (the flag swallowed). Write ./-name for such a file."""
    if value is not None and str(value).startswith("-"):
        raise typer.BadParameter(
            f"{str(value)!r} looks like an option, not a path (write ./{value} for a file so named)"
        )
    return value


CLINIC = typer.Option(
    None,
    "--clinic",
    callback=path_value,
    help="Clinic file (TOML). Default: $KETAPLAN_CLINIC, clinic.toml in the user config dir, else the demo clinic.",
)
LEDGER = typer.Option(
    None,
    "--ledger",
    callback=path_value,
    help="Ledger: an SQLite file, or a postgresql:// URL (shared by several desks). "
    "Default: $KETAPLAN_LEDGER, else ledger.sqlite3 in the user data dir.",
)
JSON = typer.Option(False, "--json", help="Print only the JSON envelope on stdout.")
EMAIL = typer.Option(None, "--email", metavar="ADDRESS", help="The patient's email address (patient data).")
PHONE = typer.Option(
    None, "--phone", metavar="NUMBER", help="The patient's phone; without +country, read in the clinic's country."
)
LANG = typer.Option(
    None,
    "--lang",
    metavar="LANG",
    help="The language of the patient's papers, .ics and emails: en, es, fr or de (default: the clinic's language).",
)


def language(value: str | None) -> str | None:
    """--lang checked against the languages shipped (core.clinic.LANGUAGES)."""
    from ketaplan.core.clinic import LANGUAGES
    from ketaplan.core.errors import InputError

    if value is not None and value not in LANGUAGES:
        raise InputError(f"must be one of {', '.join(LANGUAGES)}", field="--lang")
    return value


PLAN_ID = typer.Argument(..., help="The plan id, e.g. KP-7K2M9QXD.")
# Who makes a change, and why: recorded in the plan's history (show, JSON)
BY = typer.Option(None, "--by", help="Who makes this change (default: $KETAPLAN_USER, else your login name).")
REASON = typer.Option(None, "--reason", help="Why, in a few words; kept in the plan's history.")
REVISION = typer.Option(None, "--revision", help="The revision you looked at; refused if the plan has changed since.")

# The files a plan can be written as (schedule, export)
ICS = typer.Option(None, "--ics", callback=path_value, help="Write the patient's calendar file (.ics) here.")
ICS_DETAILS = typer.Option(
    False, "--ics-details", help="Put the patient's name and 'ketamine infusion' in the .ics (off: neutral titles)."
)
PDF = typer.Option(None, "--pdf", callback=path_value, help="Write the printable plan (PDF) here.")
HTML = typer.Option(None, "--html", callback=path_value, help="Write the printable plan (HTML) here.")
OUT = typer.Option(None, "--out", callback=path_value, help="Write <plan-id>.ics, .pdf and .html into this folder.")
COPY = typer.Option("patient", "--copy", help="Printable copy: patient, coordinator or both.")
PAPER = typer.Option(None, "--paper", help="A4 or Letter (default: the clinic file's paper).")
FORCE = typer.Option(False, "--force", help="Replace output files that exist.")

# --optimize (batch, repair): the solver and its time.
TIME_LIMIT = typer.Option(
    60.0, "--time-limit", min=1.0, help="With --optimize: the whole run's limit in seconds, model building included."
)
SOLVER = typer.Option(
    "highs",
    "--solver",
    help="With --optimize: highs (default) or cpsat (pip install 'ketaplan[cpsat]').",
)


def solver_name(value: str) -> str:
    """--solver's value, checked (a KetaplanError, as every input error)."""
    from ketaplan.core.errors import InputError
    from ketaplan.solver import SOLVERS

    if value not in SOLVERS:
        raise InputError(f"{value!r} is not {' or '.join(SOLVERS)}", field="--solver")
    return value


# Changing a booked plan (reschedule, cancel, boosters, attend, no-show): their parameter
# lists are alike because each names a plan, a session and the revision seen; the
# definitions are shared here.
PREVIEW = typer.Option(False, "--dry-run", help="Show what would change; change and write nothing.")
# Messages a change queues for the patient and the clinic calendar (README: "Reaching patients")
NO_SEND = typer.Option(
    False, "--no-send", help="Queue the messages to the patient and the clinic calendar; `ketaplan send` sends them."
)
ATTACH_PLAN = typer.Option(False, "--attach-plan", help="Attach the printable plan (PDF) to the patient's invitation.")

# Which session of a plan (reschedule, cancel)
KIND = typer.Option(
    "infusion", "--kind", help="infusion, consultation or booster (or maintenance, as JSON says) with --session."
)
KINDS = ("infusion", "consultation", "booster")


def session_kind(kind: str) -> str:
    """--kind as the session kind it names. A booster is stored, and written in JSON, as
    kind "maintenance" (the contract's word); --kind takes either word for it."""
    from ketaplan.core.errors import InputError
    from ketaplan.core.model import BOOSTER

    if kind not in (*KINDS, BOOSTER):
        raise InputError(f"{kind!r} is not one of {', '.join(KINDS)} (or maintenance)", field="--kind")
    return BOOSTER if kind in ("booster", BOOSTER) else kind


class ExportOptions(NamedTuple):
    """The export options as one typed value (schedule, export, reschedule, cancel, boosters)."""

    ics: Path | None = None
    ics_details: bool = False
    pdf: Path | None = None
    html: Path | None = None
    out: Path | None = None
    copy: str = "patient"
    paper: str | None = None
    force: bool = False

    @property
    def wanted(self) -> bool:
        """Whether any file was asked for."""
        return any(p is not None for p in (self.ics, self.pdf, self.html, self.out))


def with_exports(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the export options, defined once here, and pass them to it as one
    `exports` value. Typer reads a command's options from its signature, so the signature
    is extended here instead of each command listing the same eight parameters."""
    import functools
    import inspect

    kind = inspect.Parameter.KEYWORD_ONLY
    extra = [
        inspect.Parameter("ics", kind, default=ICS, annotation=Path | None),
        inspect.Parameter("ics_details", kind, default=ICS_DETAILS, annotation=bool),
        inspect.Parameter("pdf", kind, default=PDF, annotation=Path | None),
        inspect.Parameter("html", kind, default=HTML, annotation=Path | None),
        inspect.Parameter("out", kind, default=OUT, annotation=Path | None),
        inspect.Parameter("copy", kind, default=COPY, annotation=str),
        inspect.Parameter("paper", kind, default=PAPER, annotation=str | None),
        inspect.Parameter("force", kind, default=FORCE, annotation=bool),
    ]
    assert [p.name for p in extra] == list(ExportOptions._fields)
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "exports"]

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        exports = ExportOptions(**{name: kwargs.pop(name) for name in ExportOptions._fields})
        return command(exports=exports, **kwargs)

    run.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
    run.__annotations__ = {
        **{k: v for k, v in command.__annotations__.items() if k != "exports"},
        **{p.name: p.annotation for p in extra},
    }
    return run
