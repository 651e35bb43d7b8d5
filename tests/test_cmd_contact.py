"""The patient's contact: `schedule --email/--phone` and `ketaplan contact`, validated by
email-validator and phonenumbers, kept with the plan, never echoed in an error line and
never in the patient's .ics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import book, run_json, snapshot, write_clinic
from ketaplan.core.errors import InputError
from ketaplan.formats.contact import parse_email, parse_phone

# Every test here runs on both ledger back ends (SQLite file, PostgreSQL database).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def us_clinic(tmp_path: Path) -> Path:
    return write_clinic(tmp_path / "us.toml", chairs=2, closures={"holidays": "US"})


def test_schedule_keeps_the_contact_normalised(cli, us_clinic: Path, tmp_path: Path) -> None:
    ics = tmp_path / "jane.ics"
    plan = book(cli, us_clinic, "Jane", "2027-02-01", "--email", " Jane.Roe@Example.ORG ", "--phone",
                "(312) 555-0199", "--ics", str(ics))  # fmt: skip
    assert plan["contact"] == {"email": "Jane.Roe@example.org", "phone": "+13125550199"}
    shown = run_json(cli, "show", plan["plan_id"])["data"]
    assert shown["contact"] == plan["contact"]
    assert "+13125550199" in cli("show", plan["plan_id"]).stdout
    text = ics.read_text(encoding="utf-8")
    assert "example.org" not in text.lower() and "5550199" not in text  # the patient's file carries neither


def test_contact_changes_are_a_revision_whose_history_holds_no_value(cli, us_clinic: Path) -> None:
    plan = book(cli, us_clinic, "Jane", "2027-02-01", "--phone", "+1 312 555 0199")
    pid = plan["plan_id"]
    assert plan["contact"] == {"email": None, "phone": "+13125550199"}
    doc = run_json(cli, "contact", pid, "--email", "jane@example.org", "--phone", "", "--clinic", us_clinic,
                   "--by", "Desk 2")  # fmt: skip
    assert doc["status"] == "ok" and doc["data"]["revision"] == 2
    assert doc["data"]["contact"] == {"email": "jane@example.org", "phone": None}
    last = run_json(cli, "show", pid)["data"]["history"][-1]
    assert last["change"] == "contact: email added, phone removed" and last["by"] == "Desk 2"
    # shown without options; the same value again changes nothing
    assert run_json(cli, "contact", pid, "--clinic", us_clinic)["data"]["contact"]["email"] == "jane@example.org"
    again = run_json(cli, "contact", pid, "--email", "jane@example.org", "--clinic", us_clinic)
    assert again["data"]["revision"] == 2


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--email", "jane.roe@", "--email: not a valid email address"),
        ("--email", "jane@example.org\r\nBcc: all@example.net", "--email: has a line break"),
        ("--email", "j" * 300 + "@example.org", "--email: too long"),
        ("--phone", "0000000", "--phone: not a valid phone number"),
        ("--phone", "call me maybe", "--phone: not a phone number"),
    ],
)
def test_a_bad_contact_is_one_line_naming_the_field_never_the_value(
    cli, us_clinic: Path, ledger_path, option: str, value: str, words: str
) -> None:
    pid = book(cli, us_clinic, "Jane")["plan_id"]
    before = snapshot(ledger_path)
    for args in (["contact", pid, "--clinic", us_clinic], ["schedule", "--patient", "Ann", "--start", "2027-03-01",
                                                          "--clinic", us_clinic]):  # fmt: skip
        r = cli(*args, option, value)
        assert r.exit_code == 2 and r.stderr.startswith(f"ketaplan: error: {words}"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and value.strip()[:8] not in r.stderr
    assert snapshot(ledger_path) == before


@pytest.mark.sqlite_only
def test_a_clinic_without_a_country_needs_the_country_code(cli, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path / "c.toml", chairs=2)
    r = cli("schedule", "--patient", "Ann", "--start", "2027-03-01", "--clinic", clinic, "--phone", "312 555 0199")
    assert r.exit_code == 2 and "with its country code" in r.stderr
    doc = run_json(cli, "schedule", "--patient", "Ann", "--start", "2027-03-01", "--clinic", clinic, "--phone",
                   "+44 20 7946 0958")  # fmt: skip
    assert doc["data"]["contact"]["phone"] == "+442079460958"


@pytest.mark.sqlite_only
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_refused_or_a_single_clean_value(text: str) -> None:
    """No header injection: whatever comes in, what is kept has no line break or control
    character, and a refusal never repeats it."""
    for parse in (parse_email, lambda t: parse_phone(t, "US")):
        try:
            value = parse(text)
        except InputError as e:
            # (a text that is a piece of the message itself, "number", is no echo)
            wording = "not a valid phone number in US; not a phone number; not a valid email address (name@example.org)"
            assert len(text.strip()) < 6 or text.strip() in wording or text.strip() not in e.message
            continue
        assert not any(ord(c) < 32 or ord(c) == 127 for c in value), value
        assert json.dumps(value)  # plain text
