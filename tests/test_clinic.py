from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helpers import clinic_doc, make_clinic, to_toml
from ketaplan.core.clinic import demo_clinic
from ketaplan.core.errors import ClinicFileError
from ketaplan.formats.clinic_file import demo_text, load_clinic, parse_clinic
from ketaplan.store.holiday_cache import FROM_PACKAGE


def test_demo_clinic_loads() -> None:
    c = demo_clinic(FROM_PACKAGE)
    assert c.name == "Lakeside Ketamine Clinic"
    assert c.chairs == ("Chair 1", "Chair 2", "Chair 3", "Chair 4")
    assert c.starts_per_slot == 2
    assert c.hours[1] == ((8 * 60, 12 * 60), (13 * 60, 18 * 60))  # split Tuesday
    assert c.hours[6] == ()  # Sunday closed
    assert date(2027, 1, 1) in c.closures and date(2026, 12, 31) in c.closures
    assert c.closed_reason(date(2026, 12, 25)) == "public holiday (Christmas Day)"
    assert c.closed_reason(date(2026, 12, 27)) == "closed on Sundays"
    assert c.closed_reason(date(2026, 12, 28)) is None


def test_demo_table_is_the_template_clinic_init_writes() -> None:
    """The demo loads from a Python copy of the template (no TOML parser at start-up);
    the two must say the same, and parse to the same clinic."""
    import tomllib

    from ketaplan.core.demo import TABLE

    assert tomllib.loads(demo_text()) == TABLE
    assert parse_clinic(
        demo_text(), source="built-in demo clinic", base_dir=None, holidays=FROM_PACKAGE
    ) == demo_clinic(FROM_PACKAGE)


def test_named_chairs_and_pain_profile() -> None:
    c = make_clinic(chairs=["Recliner A", "Recliner B"], protocol={"profile": "pain-5-day"})
    assert c.chairs == ("Recliner A", "Recliner B")
    assert (c.protocol.infusions, c.protocol.min_days_apart, c.protocol.session_minutes) == (5, 1, 240)


def test_subdivision_holidays() -> None:
    c = make_clinic(closures={"holidays": "US-CA"})
    assert c.holiday_name(date(2026, 3, 31)) == "Cesar Chavez Day"


BAD = [
    ("syntax", "name = 'x\n", "test.toml"),
    ("unknown top key", to_toml(clinic_doc(colour="blue")), "colour"),
    ("unknown zone", to_toml(clinic_doc(timezone="Mars/Olympus")), "timezone"),
    ("no zone", to_toml({k: v for k, v in clinic_doc().items() if k != "timezone"}), "timezone"),
    ("zero chairs", to_toml(clinic_doc(chairs=0)), "chairs"),
    ("duplicate chair names", to_toml(clinic_doc(chairs=["A", "A"])), "chairs"),
    ("reversed hours", to_toml(clinic_doc(hours={"mon": ["17:00-08:00"]})), "hours.mon"),
    ("overlapping hours", to_toml(clinic_doc(hours={"tue": ["08:00-12:00", "11:00-15:00"]})), "hours.tue"),
    ("bad time", to_toml(clinic_doc(hours={"wed": ["8-12"]})), "hours.wed"),
    ("unknown weekday", to_toml(clinic_doc(hours={"fry": ["08:00-12:00"]})), "hours.fry"),
    ("slot grid", to_toml(clinic_doc(slot_minutes=7)), "slot_minutes"),
    (
        "protocol cannot fit",
        to_toml(clinic_doc(protocol={"infusions": 6, "min_days_apart": 5, "window_days": [14, 21]})),
        "protocol.window_days",
    ),
    (
        "max below min",
        to_toml(clinic_doc(protocol={"min_days_apart": 3, "max_days_apart": 2})),
        "protocol.max_days_apart",
    ),
    ("unknown protocol key", to_toml(clinic_doc(protocol={"infusionz": 6})), "protocol.infusionz"),
    ("unknown profile", to_toml(clinic_doc(protocol={"profile": "nope"})), "protocol.profile"),
    ("bad closure date", to_toml(clinic_doc(closures={"dates": ["2026-02-30"]})), "closures.dates"),
    ("numeric closure", to_toml(clinic_doc(closures={"dates": ["12/24/2026"]})), "closures.dates"),
    ("unknown holiday country", to_toml(clinic_doc(closures={"holidays": "XX"})), "closures.holidays"),
    ("unknown instruction", to_toml(clinic_doc(instructions={"pray": "yes"})), "instructions.pray"),
    ("string chairs", to_toml(clinic_doc(chairs="four")), "chairs"),
    ("bool window", to_toml(clinic_doc(protocol={"window_days": [True, 21]})), "protocol.window_days"),
    ("never open", "", "hours"),
]


@pytest.mark.parametrize("label, text, field", BAD, ids=[b[0] for b in BAD])
def test_malformed_clinic_files_name_the_key(label: str, text: str, field: str) -> None:
    if label == "never open":
        text = to_toml({k: v for k, v in clinic_doc().items() if k != "hours"})
    with pytest.raises(ClinicFileError) as e:
        parse_clinic(text, source="test.toml", base_dir=None, holidays=FROM_PACKAGE)
    assert e.value.field == field, e.value.line()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ClinicFileError, match="no clinic file"):
        load_clinic(tmp_path / "nope.toml", FROM_PACKAGE)
