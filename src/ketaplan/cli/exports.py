"""The files a command was asked to write (.ics, PDF, HTML), checked before anything is booked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ketaplan.core.clinic import Clinic
from ketaplan.core.errors import FileWriteError, InputError
from ketaplan.core.model import Plan
from ketaplan.store.files import write_private

COPIES = ("patient", "coordinator", "both")


@dataclass(frozen=True)
class Targets:
    ics: Path | None = None
    pdf: Path | None = None
    html: Path | None = None
    out: Path | None = None
    copy: str = "patient"
    force: bool = False
    ics_details: bool = False
    paper: str | None = None
    #: What --out holds for each plan: <plan-id>.<kind> for these kinds.
    out_kinds: tuple[str, ...] = ("ics", "pdf", "html")
    #: Leave a file that exists as it is (batch: a re-run after a kill writes only the missing ones).
    keep_existing: bool = False

    @classmethod
    def from_options(cls, **kw: object) -> Targets:
        t = cls(**kw)  # type: ignore[arg-type]
        if t.copy not in COPIES:
            raise InputError(f"{t.copy!r} is not one of {', '.join(COPIES)}", field="--copy")
        if t.paper is not None and t.paper not in ("A4", "Letter"):
            raise InputError(f"{t.paper!r} is not A4 or Letter", field="--paper")
        return t

    def paths(self, plan_id: str) -> dict[str, Path]:
        chosen = {k: v for k, v in (("ics", self.ics), ("pdf", self.pdf), ("html", self.html)) if v is not None}
        if self.out is not None:
            for kind in self.out_kinds:
                chosen.setdefault(kind, self.out / f"{plan_id}.{kind}")
        return chosen

    def check_writable(self) -> None:
        """Refuse early what would fail later, so a bad path books nothing."""
        folders: list[tuple[Path, str]] = []
        if self.out is not None:
            from ketaplan.store.files import ensure_folder

            ensure_folder(self.out, field="--out")  # file names there come from the plan id, unknown yet
        for kind, path in (("ics", self.ics), ("pdf", self.pdf), ("html", self.html)):
            if path is None:
                continue
            if os.path.lexists(path) and not self.force:  # a dangling symlink counts as existing
                raise FileWriteError(f"{path} exists; give --force to replace it", field=f"--{kind}")
            folders.append((path.parent if str(path.parent) else Path("."), f"--{kind}"))
        for folder, field in folders:
            if not folder.is_dir():
                raise FileWriteError(f"folder {folder} does not exist", field=field)
            if not os.access(folder, os.W_OK):
                raise FileWriteError(f"folder {folder} is not writable", field=field)

    def write(self, plan: Plan, clinic: Clinic) -> list[Path]:
        """Write every file asked for; returns their paths (kept ones included)."""
        written = []
        for kind, path in self.paths(plan.plan_id).items():
            if not (self.keep_existing and os.path.lexists(path)):
                field = "--out" if self.keep_existing else f"--{kind}"
                write_private(path, self.render(kind, plan, clinic), force=self.force, field=field)
            written.append(path)
        return written

    def render(self, kind: str, plan: Plan, clinic: Clinic) -> bytes:
        if kind == "ics":
            from ketaplan.formats.ics_export import plan_to_ics

            return plan_to_ics(plan, clinic, details=self.ics_details)
        if kind == "pdf":
            from ketaplan.formats.pdf import plan_pdf

            return plan_pdf(plan, clinic, copy=self.copy, paper=self.paper)
        from ketaplan.formats.html import plan_html

        return plan_html(plan, clinic, copy=self.copy, paper=self.paper).encode("utf-8")


class Writer:
    """The files a changing command (schedule, reschedule, cancel) was asked to write,
    checked before anything is booked and written inside its transaction: if a file cannot
    be written, nothing is booked. `written` lists what was written."""

    def __init__(self, targets: Targets | None, clinic: Clinic) -> None:
        self.targets, self.clinic = targets, clinic
        self.written: list[Path] = []
        if targets is not None:
            targets.check_writable()

    def before_commit(self, plan: Plan) -> None:
        if self.targets is not None:
            self.written.extend(self.targets.write(plan, self.clinic))


def writer(clinic: Clinic, **options: object) -> Writer:
    """A Writer from the export options (ics, pdf, html, out, copy, force, ics_details, paper)."""
    wanted = any(options.get(k) is not None for k in ("ics", "pdf", "html", "out"))
    return Writer(Targets.from_options(**options) if wanted else None, clinic)
