"""An on-disk cache of public holidays for the command line.

The `holidays` package imports every country's module on first use (about 150 ms here),
which would dominate a `schedule` run. Holiday dates for a given package version never
change, so they are kept as small JSON files in the user cache dir, keyed by the
installed package's file stamp: a new `holidays` release makes a fresh cache."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path


def holidays_from_package(code: str, year: int) -> dict[date, str]:
    """Public holidays of a country ("US") or subdivision ("US-CA") for one year."""
    import holidays  # a large package: only when a plan needs it

    country, _, subdiv = code.partition("-")
    cal = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    return dict(cal.items())


@lru_cache(maxsize=1)
def _stamp() -> str:
    spec = find_spec("holidays")
    origin = spec.origin if spec and spec.origin else ""
    try:
        return str(os.stat(origin).st_mtime_ns)
    except OSError:
        return "unknown"


def cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("ketaplan", appauthor=False) / "holidays"


def _cached_on_disk(code: str, year: int) -> dict[date, str]:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", code)
    path = cache_dir() / f"{safe}-{year}-{_stamp()}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {date.fromisoformat(k): v for k, v in raw.items()}
    except (OSError, ValueError):
        pass
    found = holidays_from_package(code, year)  # raises for unknown codes: nothing is cached
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({d.isoformat(): name for d, name in found.items()}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time
    return found


class PackageHolidays:
    """Holidays straight from the package (tests, benchmarks): remembered per code and year."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int], dict[date, str]] = {}

    def _look_up(self, code: str, year: int) -> dict[date, str]:
        return holidays_from_package(code, year)

    def names(self, code: str, year: int) -> dict[date, str]:
        key = (code, year)
        if key not in self._known:
            self._known[key] = self._look_up(code, year)
        return self._known[key]

    def check(self, code: str) -> None:
        from datetime import datetime

        self.names(code, datetime.now().year)  # any year tells whether the code is known


class CachedHolidays(PackageHolidays):
    """Holidays from the package, kept on disk between runs (the command line): a plan
    looks up a year or two, which the package would take ~150 ms to import for."""

    def _look_up(self, code: str, year: int) -> dict[date, str]:
        return _cached_on_disk(code, year)


#: One of each for the process: a clinic compares equal to itself loaded twice.
FROM_PACKAGE = PackageHolidays()
CACHED = CachedHolidays()
