"""The patient's papers in Spanish, French and German: every message in every catalog,
no English left in a Spanish PDF (read back) or .ics (parsed back), golden files of the
Spanish patient copy, and the language chosen, kept and changed through the commands."""

from __future__ import annotations

import json
import os
import re
import string
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from helpers import pdf_text, run_json, write_clinic
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import LANGUAGES, Clinic, demo_clinic
from ketaplan.core.model import Patient, Plan, Request
from ketaplan.core.planner import find_plan
from ketaplan.formats.html import plan_html
from ketaplan.formats.i18n import _catalog
from ketaplan.formats.ics_export import plan_to_ics
from ketaplan.formats.pdf import plan_pdf
from ketaplan.store.holiday_cache import FROM_PACKAGE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from messages import messages  # type: ignore[import-not-found]  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
OTHERS = [lang for lang in LANGUAGES if lang != "en"]


def english_dates(text: str, lang: str) -> list[str]:
    """English weekday and month names (abbreviated or whole) in `text`, leaving out those
    the language writes the same ("November" in German)."""
    from babel.dates import get_day_names, get_month_names

    def names(locale: str) -> set[str]:
        out: set[str] = set()
        for width in ("abbreviated", "wide"):
            for context in ("format", "stand-alone"):
                out |= {n.rstrip(".") for n in get_day_names(width, context, locale).values()}
                out |= {n.rstrip(".") for n in get_month_names(width, context, locale).values()}
        return out

    english = names("en") - names(lang)
    return [word for word in re.findall(r"[A-Za-z]+", text) if word in english]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_of_the_papers_is_in_every_language(lang: str) -> None:
    used = messages()
    catalog = _catalog(lang)
    missing = [m for m in used if not catalog.get(m)]
    assert not missing, f"{lang}.po lacks {missing}"
    stale = sorted(set(catalog) - set(used))
    assert not stale, f"{lang}.po has messages no code uses: {stale}"
    for msgid in used:  # the same placeholders, or a value would be lost (or a KeyError)
        assert fields(catalog[msgid]) == fields(msgid), (lang, msgid)


def sample(lang: str | None) -> tuple[Plan, Clinic]:
    clinic = demo_clinic(FROM_PACKAGE)
    req = Request(Patient("Ana García", "MRN-0042"), date(2026, 12, 1), date(2026, 12, 21), boosters=1)
    plan = find_plan(
        clinic, req, Availability(clinic, span=(datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))),
        plan_id="KP-SAMPLE01", stamp=datetime(2026, 11, 25, tzinfo=UTC),
    )  # fmt: skip
    assert plan is not None
    return plan._replace(lang=lang), clinic


def english_left(text: str, lang: str) -> list[str]:
    """Our English wording (each literal run of 4+ letters of a message whose translation
    differs) and English date names found in `text`."""
    catalog = _catalog(lang)
    found = []
    for msgid in messages():
        if catalog[msgid] == msgid:
            continue  # "Plan", "ID {id}": the same in both
        for piece in re.split(r"\{[^}]*\}", msgid):
            piece = piece.strip(" .,:;()")
            if piece in catalog[msgid]:
                continue  # French "page", "Patient(e)": the language's own word
            if len(piece) >= 4 and re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text):
                found.append(piece)
    return found + english_dates(text, lang)


@pytest.mark.parametrize("lang", OTHERS)
def test_no_english_reaches_a_pdf_read_back(lang: str) -> None:
    plan, clinic = sample(lang)
    _, text = pdf_text(plan_pdf(plan, clinic))
    text = text.replace(clinic.name, "").replace(clinic.address, "")  # the clinic's own name and address
    assert english_left(text, lang) == []
    page = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", plan_html(plan, clinic), flags=re.S))
    assert english_left(page.replace(clinic.name, "").replace(clinic.address, ""), lang) == []


@pytest.mark.parametrize("lang", OTHERS)
def test_no_english_reaches_an_ics_parsed_back(lang: str) -> None:
    import icalendar

    plan, clinic = sample(lang)
    for details in (False, True):
        cal = icalendar.Calendar.from_ical(plan_to_ics(plan, clinic, details=details))
        said = [str(cal["X-WR-CALNAME"])]
        for ev in cal.walk("VEVENT"):
            said += [str(ev["SUMMARY"]), str(ev["DESCRIPTION"])]
            said += [str(a["DESCRIPTION"]) for a in ev.walk("VALARM")]
        text = "\n".join(said).replace(clinic.name, "")
        assert english_left(text, lang) == [], details


def test_english_papers_are_unchanged_by_the_catalogs() -> None:
    """The source language needs no catalog: the English copy is the same with or without
    a plan language given."""
    plan, clinic = sample(None)
    assert plan_html(plan._replace(lang="en"), clinic) == plan_html(plan, clinic)


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KETAPLAN_UPDATE_GOLDEN"):
        path.write_bytes(actual.encode("utf-8"))
    assert actual == path.read_bytes().decode("utf-8"), f"{name} differs (KETAPLAN_UPDATE_GOLDEN=1 rewrites it)"


def test_the_spanish_patient_copy_matches_its_golden_files() -> None:
    plan, clinic = sample("es")
    golden("es_patient_copy.html", plan_html(plan, clinic))
    golden("es_patient_copy.pdf.txt", pdf_text(plan_pdf(plan, clinic))[1])
    golden("es_plan.ics", plan_to_ics(plan, clinic).decode())
    _, text = pdf_text(plan_pdf(plan, clinic))
    assert "Su plan de tratamiento" in text and "martes, 1 de diciembre de 2026" in text
    assert "página 1 de" in text and "náuseas o vómitos" in text


def test_the_coordinators_copy_stays_english() -> None:
    plan, clinic = sample("es")
    _, text = pdf_text(plan_pdf(plan, clinic, copy="both"))
    assert "Su plan de tratamiento" in text and "Treatment plan — coordinator copy" in text
    assert "Blood pressure" in text and "Consent confirmed" in text


def test_schedule_keeps_the_language_and_contact_and_export_change_it(cli, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path / "c.toml")
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", "Ana García", "--start", "2027-02-01",
                   "--lang", "es")  # fmt: skip
    assert doc["status"] == "ok" and doc["data"]["lang"] == "es"
    pid = doc["data"]["plan_id"]
    assert run_json(cli, "show", pid)["data"]["lang"] == "es"
    r = cli("export", pid, "--clinic", clinic, "--html", tmp_path / "es.html")
    assert r.exit_code == 0 and "Su plan de tratamiento" in (tmp_path / "es.html").read_text()
    r = cli("export", pid, "--clinic", clinic, "--html", tmp_path / "de.html", "--lang", "de")
    assert r.exit_code == 0 and "Ihr Behandlungsplan" in (tmp_path / "de.html").read_text()
    assert run_json(cli, "show", pid)["data"]["lang"] == "es"  # export --lang writes a copy only
    changed = run_json(cli, "contact", pid, "--lang", "fr", "--clinic", clinic)
    assert changed["data"]["lang"] == "fr"
    history = run_json(cli, "show", pid)["data"]["history"]
    assert history[-1]["change"] == "contact: language fr"
    r = cli("export", pid, "--clinic", clinic, "--html", tmp_path / "fr.html")
    assert "Votre plan de traitement" in (tmp_path / "fr.html").read_text()
    bad = cli("schedule", "--clinic", clinic, "--patient", "X", "--start", "2027-02-01", "--lang", "xx")
    assert bad.exit_code == 2 and "--lang" in bad.stderr


def test_the_clinic_language_is_the_default_and_instructions_fall_back_with_a_notice(cli, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path / "c.toml", language="de")
    with clinic.open("a", encoding="utf-8") as fh:
        fh.write('\n[instructions]\nfasting = "Nüchtern ab Mitternacht."\n\n'
                 '[instructions.es]\nfasting = "Ayuno desde medianoche."\n')  # fmt: skip
    r = cli(
        "schedule", "--clinic", clinic, "--patient", "Otto", "--start", "2027-02-01", "--html", tmp_path / "de.html"
    )
    assert r.exit_code == 0, r.stderr
    page = (tmp_path / "de.html").read_text()
    assert "Ihr Behandlungsplan" in page and "Nüchtern ab Mitternacht." in page and 'lang="de"' in page
    assert "Ein Erwachsener muss Sie nach Hause fahren." in page  # ketaplan's own default, in the clinic's language
    r = cli("schedule", "--clinic", clinic, "--patient", "Ana", "--start", "2027-02-01", "--lang", "es",
            "--html", tmp_path / "es.html")  # fmt: skip
    page = (tmp_path / "es.html").read_text()
    assert "Ayuno desde medianoche." in page  # [instructions.es]
    assert "Un adulto debe llevarle a casa" in page  # ketaplan's own default, translated
    r = cli("schedule", "--clinic", clinic, "--patient", "Jean", "--start", "2027-02-01", "--lang", "fr",
            "--html", tmp_path / "fr.html")  # fmt: skip
    assert "Nüchtern ab Mitternacht." in (tmp_path / "fr.html").read_text()  # no [instructions.fr]: as given
    assert "[instructions.fr] fasting" in r.stderr
    bad = write_clinic(tmp_path / "bad.toml", language="xx")
    r = cli("schedule", "--clinic", bad, "--patient", "X", "--start", "2027-02-01")
    assert r.exit_code == 2 and "language" in r.stderr


def test_a_batch_row_has_its_language(cli, tmp_path: Path) -> None:
    rows = tmp_path / "in.csv"
    rows.write_text("patient,start,lang\nAna,2027-02-01,es\nBob,2027-02-01,\nCy,2027-02-01,xx\n", encoding="utf-8")
    r = cli("batch", rows, "--clinic", write_clinic(tmp_path / "c.toml"))
    docs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [d["data"].get("lang") for d in docs[:2]] == ["es", None]
    assert docs[2]["status"] == "error" and docs[2]["errors"][0]["field"] == "lang"


def test_spanish_emails(cli, tmp_path: Path, mail_server) -> None:
    clinic = write_clinic(tmp_path / "c.toml", smtp=mail_server.smtp_table())
    doc = run_json(cli, "schedule", "--clinic", clinic, "--patient", "Ana García", "--start", "2027-02-01",
                   "--lang", "es", "--email", "ana@example.org")  # fmt: skip
    assert doc["data"]["delivery"]["sent"] == 1
    [msg] = mail_server.messages()
    body = msg.get_body(("plain",)).get_content()
    assert msg["Subject"] == "Los horarios de sus citas"
    assert "Estimado/a Ana García:" in body and "Sus citas están reservadas:" in body
    assert english_left(body.replace("Test Clinic", ""), "es") == []


def test_english_schedule_does_not_load_babel(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys; sys.argv=['ketaplan','schedule','--patient','X','--start','tomorrow','--dry-run',"
        f"'--html',{str(tmp_path / 'x.html')!r}]\n"
        "from ketaplan.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('babel' in sys.modules, file=sys.stderr)"
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    assert err.strip().splitlines()[-1] == "False", err


@pytest.mark.parametrize("lang", OTHERS)
def test_every_status_and_kind_reads_in_the_language(lang: str) -> None:
    """Attended, missed and cancelled sessions, the consultation and a booster: the PDF,
    the .ics, the invitation, the cancellation and the reminders carry no English."""
    import icalendar

    from ketaplan.formats.imip import invitation, reminder, reminder_text

    plan, clinic = sample(lang)
    ss = list(plan.sessions)
    ss[1], ss[2], ss[3] = (ss[1]._replace(status="attended"), ss[2]._replace(status="no_show"),
                           ss[3]._replace(status="cancelled"))  # fmt: skip
    plan = plan._replace(sessions=tuple(ss))
    assert plan.consultation is not None and plan.boosters
    own = (clinic.name, clinic.address)

    def said(msg: Any) -> str:
        body = msg.get_body(("plain",))
        assert body is not None
        return str(msg["Subject"]) + "\n" + body.get_content()

    def clean(text: str) -> list[str]:
        for x in own:
            text = text.replace(x, "")
        return english_left(text, lang)

    assert clean(pdf_text(plan_pdf(plan, clinic))[1]) == []
    cal = icalendar.Calendar.from_ical(plan_to_ics(plan, clinic))
    assert clean("\n".join(str(e["SUMMARY"]) + "\n" + str(e["DESCRIPTION"]) for e in cal.walk("VEVENT"))) == []
    now = datetime(2026, 11, 25, tzinfo=UTC)
    for kind, change, sessions in (("request", "changed", list(plan.active)), ("cancel", "cancel", [ss[2], ss[3]])):
        msg = invitation(plan, clinic, sender="Desk <d@x.org>", to="a@b.org", kind=kind, change=change,
                         sessions=sessions, now=now)  # fmt: skip
        assert clean(said(msg)) == []
    for s in (plan.consultation, plan.boosters[0]):
        msg = reminder(plan, s, clinic, sender="Desk <d@x.org>", to="a@b.org", now=now)
        assert clean(said(msg)) == []
        assert clean(reminder_text(plan, s, clinic)) == []
