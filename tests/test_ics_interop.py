"""Independent parsers read our files to the same instants as the plan.

ical.js and libical really read the embedded VTIMEZONE; the Python parsers mostly use
their own zone databases. With KETAPLAN_REQUIRE_INTEROP=1 (CI) a missing parser fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ics_fixtures import CASES, case, export

HERE = Path(__file__).parent / "interop"
REQUIRED = os.environ.get("KETAPLAN_REQUIRE_INTEROP") == "1"


def missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} is not installed (KETAPLAN_REQUIRE_INTEROP=1)")
    pytest.skip(f"{what} is not installed")


def ts(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp())


def by_icalendar(path: Path) -> dict[str, tuple[int, int]]:
    from icalendar import Calendar

    cal = Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): (ts(e.decoded("DTSTART")), ts(e.decoded("DTEND"))) for e in cal.walk("VEVENT")}


def by_vobject(path: Path) -> dict[str, tuple[int, int]]:
    try:
        import vobject
    except ImportError:
        missing("vobject")
    cal = vobject.readOne(path.read_text(encoding="utf-8"))
    return {e.uid.value: (ts(e.dtstart.value), ts(e.dtend.value)) for e in cal.vevent_list}


def by_ics_py(path: Path) -> dict[str, tuple[int, int]]:
    try:
        import ics
    except ImportError:
        missing("ics (ics.py)")
    cal = ics.Calendar(path.read_text(encoding="utf-8"))
    return {e.uid: (int(e.begin.timestamp()), int(e.end.timestamp())) for e in cal.events}


def by_ical(path: Path) -> dict[str, tuple[int, int]]:
    try:
        from ical.calendar_stream import IcsCalendarStream
    except ImportError:
        missing("ical")
    cal = IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8"))
    return {e.uid: (ts(e.dtstart), ts(e.dtend)) for e in cal.events}  # type: ignore[arg-type]  # timed events


def by_icaljs(path: Path) -> dict[str, tuple[int, int]]:
    if shutil.which("node") is None or not (HERE / "node_modules" / "ical.js").is_dir():
        missing("ical.js (cd tests/interop && npm ci)")
    out = subprocess.run(
        ["node", str(HERE / "icaljs_times.mjs"), str(path)], capture_output=True, text=True, check=True
    )
    return {k: tuple(v) for k, v in json.loads(out.stdout).items()}


def _libical(path: Path) -> dict:
    system_python = "/usr/bin/python3"
    probe = (
        subprocess.run([system_python, "-c", "import gi; gi.require_version('ICalGLib', '3.0')"], capture_output=True)
        if Path(system_python).exists()
        else None
    )
    if probe is None or probe.returncode != 0:
        missing("libical (Debian python3-gi gir1.2-ical-3.0)")
    out = subprocess.run(
        [system_python, str(HERE / "libical_times.py"), str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def by_libical(path: Path) -> dict[str, tuple[int, int]]:
    return {k: tuple(v) for k, v in _libical(path)["times"].items()}


PARSERS = {
    "icalendar": by_icalendar,
    "vobject": by_vobject,
    "ics.py": by_ics_py,
    "ical": by_ical,
    "ical.js": by_icaljs,
    "libical": by_libical,
}


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("name", list(CASES))
def test_parsers_agree_with_the_plan(tmp_path: Path, name: str, parser: str) -> None:
    plan, _, _ = case(name)
    path = tmp_path / f"{name}.ics"
    path.write_bytes(export(name))
    expected = {f"{plan.plan_id}-{s.kind}-{s.number}@ketaplan": (ts(s.start), ts(s.end)) for s in plan.sessions}
    assert PARSERS[parser](path) == expected


@pytest.mark.parametrize("name", list(CASES))
def test_libical_restriction_check_finds_nothing(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.ics"
    path.write_bytes(export(name))
    assert _libical(path)["errors"] == []
