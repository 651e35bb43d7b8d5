"""The patient's papers in the patient's language: gettext catalogs for the texts
(`data/locale/<lang>.po`, written by hand, read directly), Babel (CLDR) for dates,
weekdays and times. English is the source language: it needs neither, so Babel is imported only
when another language is used. The terminal, errors, JSON and the coordinator's sheets
stay English.

A text is looked up by its English wording with `w("...")`, always a literal string (a
test reads them out of the source and checks each catalog has every one)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any

from ketaplan.core.clinic import LANGUAGES, Clinic, Instructions

ENGLISH = "en"
#: How each language is named in its own words (the README, `--lang` errors).
NAMES = {"en": "English", "es": "español", "fr": "français", "de": "Deutsch"}
_MONDAY = date(2024, 1, 1)


class Words:
    """One language's texts and date forms for the patient's papers."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.catalog: dict[str, str] = {} if lang == ENGLISH else _catalog(lang)

    def __call__(self, text: str, **values: Any) -> str:
        found = self.catalog.get(text) or text
        return found.format(**values) if values else found

    def long_date(self, clinic: Clinic, day: date, weekday: bool = False) -> str:
        """A date as the patient reads it: the clinic's date_format in English, the
        language's own long form elsewhere ("lunes, 1 de febrero de 2027")."""
        if self.lang == ENGLISH:
            return clinic.date_text(day, weekday)
        from babel.dates import format_date

        return str(format_date(day, "full" if weekday else "long", locale=self.lang))

    def short_date(self, clinic: Clinic, day: date) -> str:
        """A date in a table column ("1 feb 2027", "01.02.2027")."""
        if self.lang == ENGLISH:
            return clinic.date_text(day)
        from babel.dates import format_date

        return str(format_date(day, "medium", locale=self.lang))

    def clock(self, moment: datetime | time) -> str:
        """A time of day: 24-hour "08:45" in English (the papers' own style), the
        language's CLDR short form elsewhere ("8:45" in Spanish, "08:45" in French)."""
        if self.lang == ENGLISH:
            return f"{moment:%H:%M}"
        from babel.dates import format_time

        return str(format_time(moment, "short", locale=self.lang))

    def weekday(self, day: date) -> str:
        if self.lang == ENGLISH:
            return f"{day:%a}"
        from babel.dates import format_date

        return str(format_date(day, "EEE", locale=self.lang))

    def weekdays(self) -> tuple[str, ...]:
        """Monday to Sunday, short, for a calendar's head."""
        return tuple(self.weekday(_MONDAY + timedelta(days=i)) for i in range(7))

    def day_month(self, day: date) -> str:
        """'Dec 1', '1 dic', '1. Dez.': a calendar cell's label."""
        if self.lang == ENGLISH:
            return f"{day:%b} {day.day}"
        from babel.dates import format_skeleton

        return str(format_skeleton("MMMd", day, locale=self.lang))

    def instructions(self, clinic: Clinic) -> tuple[Instructions, list[str]]:
        """The clinic's instructions in this language, and the keys that had to stay in
        the clinic's own language (no [instructions.<lang>] text for them)."""
        ins = clinic.instructions
        own = clinic.translated.get(self.lang, {})
        default = Instructions()
        texts: dict[str, str] = {}
        missing: list[str] = []
        for key in ("fasting", "escort", "emergency"):
            value = getattr(ins, key)
            if key in own:
                texts[key] = own[key]
            elif value == getattr(default, key):  # ketaplan's own wording: translated here
                texts[key] = self(value)
            elif self.lang == clinic.language:  # the clinic's own text, in its own language
                texts[key] = value
            else:
                texts[key] = value
                missing.append(key)
        return ins._replace(fasting=texts["fasting"], escort=texts["escort"], emergency=texts["emergency"]), missing


def words(lang: str | None, clinic: Clinic | None = None) -> Words:
    """A plan's language (None: the clinic's)."""
    return _words(lang or (clinic.language if clinic else ENGLISH))


@cache
def _words(lang: str) -> Words:
    if lang not in LANGUAGES:
        raise ValueError(lang)
    return Words(lang)


def _catalog(lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    with resources.files("ketaplan.data").joinpath(f"locale/{lang}.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
