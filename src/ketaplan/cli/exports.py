"""The files a command was asked to write (.ics, PDF, HTML), checked before anything is booked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ketaplan.cli.options import ExportOptions
from ketaplan.core.clinic import Clinic, check_paper
from ketaplan.core.errors import FileWriteError, InputError
from ketaplan.core.model import Plan
from ketaplan.store.files import same_file, write_private

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
    #: Files no output may replace (the ledger, the clinic file: common.protected).
    protected: Mapping[Path, str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: ExportOptions, protected: Mapping[Path, str]) -> Targets:
        if options.copy not in COPIES:
            raise InputError(f"{options.copy!r} is not one of {', '.join(COPIES)}", field="--copy")
        if options.paper is not None:
            check_paper(options.paper, "--paper")
        targets = cls(**options._asdict(), protected=protected)
        kinds = [k for k in ("ics", "pdf", "html") if getattr(options, k) is not None]
        paths = [getattr(options, k) for k in kinds]
        for i, kind in enumerate(kinds):  # --pdf x --ics x kept only the second file
            if any(same_file(paths[i], other) for other in paths[:i]):
                raise InputError(f"{paths[i]} is given for two files; give each its own path", field=f"--{kind}")
        return targets

    def paths(self, plan_id: str) -> dict[str, Path]:
        chosen = {k: v for k, v in (("ics", self.ics), ("pdf", self.pdf), ("html", self.html)) if v is not None}
        if self.out is not None:
            for kind in self.out_kinds:
                chosen.setdefault(kind, self.out / f"{plan_id}.{kind}")
        return chosen

    def check_writable(self) -> None:
        """Refuse early what would fail later, so a bad path books nothing."""
        from ketaplan.store.files import check_target, ensure_folder

        if self.out is not None:
            ensure_folder(self.out, field="--out")  # file names there come from the plan id, unknown yet
        for kind, path in (("ics", self.ics), ("pdf", self.pdf), ("html", self.html)):
            if path is not None:
                check_target(path, force=self.force, field=f"--{kind}", protected=self.protected)

    def write(self, plan: Plan, clinic: Clinic) -> list[Path]:
        """Write every file asked for; returns their paths (kept ones included)."""
        written: list[Path] = []
        if self.paths(plan.plan_id):
            _say_untranslated(plan, clinic)
        for kind, path in self.paths(plan.plan_id).items():
            if not (self.keep_existing and os.path.lexists(path)):
                field = "--out" if self.keep_existing else f"--{kind}"
                data = self.render(kind, plan, clinic)
                write_private(path, data, force=self.force, field=field, protected=self.protected)
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


_SAID: set[tuple[str, str]] = set()


def _say_untranslated(plan: Plan, clinic: Clinic) -> None:
    """The clinic's own texts with no [instructions.<lang>] go out in its language: said."""
    lang = plan.lang or clinic.language
    if lang == clinic.language or (lang, clinic.source) in _SAID:
        return
    _SAID.add((lang, clinic.source))  # once a run (a batch writes many plans)
    from ketaplan.cli.output import notice
    from ketaplan.formats.i18n import words

    _, missing = words(lang).instructions(clinic)
    if missing:
        notice(
            f"the clinic file has no [instructions.{lang}] {', '.join(missing)}: the patient's papers "
            f"print the clinic's own ({clinic.language}) wording there"
        )


class Writer:
    """The files a changing command (schedule, reschedule, cancel, boosters) was asked to
    write: checked before anything is booked (a bad path books nothing), written once the
    change is committed, so they describe only what the ledger holds (a retried commit
    never meets its own files). `written` lists what was written."""

    def __init__(self, targets: Targets | None, clinic: Clinic) -> None:
        self.targets, self.clinic = targets, clinic
        self.written: list[Path] = []
        if targets is not None:
            targets.check_writable()

    def after_commit(self, plan: Plan) -> None:
        """Write the committed plan's files; a failure now says the change stands."""
        if self.targets is None:
            return
        try:
            self.written.extend(self.targets.write(plan, self.clinic))
        except FileWriteError as e:
            raise FileWriteError(
                f"{plan.plan_id} is saved in the ledger (revision {plan.revision}), but {e.message}; "
                f"write its files again with `ketaplan export {plan.plan_id}`",
                field=e.field,
            ) from None

    def preview(self, plan: Plan) -> None:
        """A dry run's files: the plan as it would be (its sessions 'planned')."""
        if self.targets is not None:
            self.written.extend(self.targets.write(plan, self.clinic))


def writer(clinic: Clinic, options: ExportOptions | None, protected: Mapping[Path, str]) -> Writer:
    """A Writer from the export options; one that writes nothing when none was asked for."""
    wanted = options is not None and options.wanted
    return Writer(Targets.from_options(options, protected) if options is not None and wanted else None, clinic)
