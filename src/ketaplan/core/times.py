"""Time helpers every layer uses: the wall clock of an instant, minutes as HH:MM."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


def local(dt: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time an instant really has in `zone` (normalises non-existent times)."""
    return _local(dt, dt.fold, zone)


# Every named check asks this of every session, and a batch checks thousands of plans: the
# answer is remembered. `fold` is part of the key because two times of one zone that
# differ only by fold (01:30 before and after the clocks go back) compare and hash equal.
@lru_cache(maxsize=8192)
def _local(dt: datetime, fold: int, zone: ZoneInfo) -> datetime:
    return dt.astimezone(UTC).astimezone(zone)


def hm(minutes: int) -> str:
    """Minutes after midnight as HH:MM (24:00 for a closing at midnight)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
