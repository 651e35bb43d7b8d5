"""Reading a clinic file: TOML text to a validated Clinic, with its busy_ics calendar attached.

The Clinic value (core.clinic) only validates a parsed table; this loader does what needs
files: reading the TOML, resolving `busy_ics` relative to the clinic file, parsing it."""

from __future__ import annotations

from pathlib import Path

from ketaplan.core.clinic import Clinic, HolidaySource, clinic_from_table
from ketaplan.core.errors import ClinicFileError
from ketaplan.formats.reading import read_regular

DATA = Path(__file__).parent.parent / "data"


#: A clinic file is a page of settings; anything this large is not one.
MAX_BYTES = 1024 * 1024


def load_clinic(path: Path, holidays: HolidaySource) -> Clinic:
    if not path.exists() and not path.is_symlink():
        raise ClinicFileError(f"no clinic file at {path}", field="--clinic")
    raw = read_regular(path, MAX_BYTES, ClinicFileError)
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Notepad writes one) is not TOML
    except UnicodeDecodeError as e:
        raise ClinicFileError(
            f"cannot read clinic file {path}: not UTF-8 text (byte {e.start})", field="--clinic"
        ) from None
    return parse_clinic(text, source=str(path), base_dir=path.parent, holidays=holidays)


def demo_text() -> str:
    """The commented template `clinic init` writes (the demo clinic's data, as TOML)."""
    return (DATA / "demo_clinic.toml").read_text(encoding="utf-8")


def parse_clinic(text: str, *, source: str, base_dir: Path | None, holidays: HolidaySource) -> Clinic:
    """`base_dir` resolves a relative busy_ics (the clinic file's folder); `holidays` is
    where the clinic's public holidays are looked up (store.holiday_cache)."""
    import tomllib  # here, not at the top: the demo clinic needs no TOML parser

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ClinicFileError(f"not valid TOML: {e}", field=source) from None
    except RecursionError:  # a = [[[[… 100,000 deep
        raise ClinicFileError("not a clinic file: its values nest too deeply", field=source) from None
    clinic = clinic_from_table(doc, source=source, holidays=holidays)
    if clinic.busy_ics is None:
        return clinic
    from ketaplan.formats.ics_import import read_busy  # icalendar is heavy: only when a clinic has busy_ics

    path = Path(clinic.busy_ics)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return clinic._replace(busy=read_busy(path, clinic))
