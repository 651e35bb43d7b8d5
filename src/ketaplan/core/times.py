"""Time helpers every layer uses: the wall clock of an instant, minutes as HH:MM."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def local(dt: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time an instant really has in `zone` (normalises non-existent times)."""
    return dt.astimezone(UTC).astimezone(zone)


def hm(minutes: int) -> str:
    """Minutes after midnight as HH:MM (24:00 for a closing at midnight)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
