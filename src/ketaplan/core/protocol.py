"""The treatment protocol: how many infusions, how far apart, how long. Named profiles."""

from __future__ import annotations

from typing import Any, NamedTuple

from ketaplan.core.errors import ClinicFileError


class Protocol(NamedTuple):
    infusions: int = 6
    window_days: tuple[int, int] = (14, 21)
    min_days_apart: int = 2
    max_days_apart: int = 7
    session_minutes: int = 90
    consultation: bool = True
    consultation_minutes: int = 45
    consultation_days_before: tuple[int, int] = (1, 14)
    maintenance_every_days: int = 28
    maintenance_tolerance_days: int = 7

    @property
    def shortest_span(self) -> int:
        """Calendar days the infusions need at the least (first to last, inclusive)."""
        return (self.infusions - 1) * self.min_days_apart + 1


#: Named starting points; a clinic file picks one with `profile = "..."` and may override keys.
PROFILES: dict[str, Protocol] = {
    # Six infusions over 2-3 weeks, e.g. Mon/Wed/Fri or twice weekly (Murrough 2013).
    "depression-6": Protocol(),
    # Pain protocols: five daily 4-hour infusions on consecutive days.
    "pain-5-day": Protocol(
        infusions=5,
        window_days=(5, 7),
        min_days_apart=1,
        max_days_apart=2,
        session_minutes=240,
    ),
}

_PAIRS = ("window_days", "consultation_days_before")


def protocol_from_table(table: dict[str, Any]) -> Protocol:
    """Build and validate a Protocol from the clinic file's [protocol] table."""
    table = dict(table)
    profile_name = table.pop("profile", "depression-6")
    if profile_name not in PROFILES:
        raise ClinicFileError(
            f"unknown profile {profile_name!r}; known: {', '.join(sorted(PROFILES))}",
            field="protocol.profile",
        )
    known = set(Protocol._fields)
    values: dict[str, Any] = {}
    for key, value in table.items():
        field = f"protocol.{key}"
        if key not in known:
            raise ClinicFileError(f"unknown key {key!r}", field=field)
        if key == "consultation":
            if not isinstance(value, bool):
                raise ClinicFileError("must be true or false", field=field)
            values[key] = value
        elif key in _PAIRS:
            if not isinstance(value, list) or len(value) != 2 or not all(_is_int(v) for v in value):
                raise ClinicFileError("must be a pair of whole numbers, e.g. [14, 21]", field=field)
            values[key] = (value[0], value[1])
        else:
            if not _is_int(value):
                raise ClinicFileError("must be a whole number", field=field)
            values[key] = value
    protocol = PROFILES[profile_name]._replace(**values)
    validate_protocol(protocol)
    return protocol


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate_protocol(p: Protocol) -> None:
    """Refuse protocols no plan could ever satisfy, naming the key at fault."""

    def bad(key: str, message: str) -> ClinicFileError:
        return ClinicFileError(message, field=f"protocol.{key}")

    if not 1 <= p.infusions <= 30:
        raise bad("infusions", "must be between 1 and 30")
    if p.min_days_apart < 1:
        raise bad("min_days_apart", "must be at least 1 (one session a day)")
    if p.max_days_apart < p.min_days_apart:
        raise bad("max_days_apart", f"must be at least min_days_apart ({p.min_days_apart})")
    lo, hi = p.window_days
    if not 1 <= lo <= hi <= 366:
        raise bad("window_days", "must be [shortest, longest] with 1 <= shortest <= longest <= 366")
    if p.shortest_span > hi:
        raise bad(
            "window_days",
            f"{p.infusions} infusions at least {p.min_days_apart} days apart need "
            f"{p.shortest_span} days, longer than the longest window ({hi} days)",
        )
    if not 5 <= p.session_minutes <= 24 * 60:
        raise bad("session_minutes", "must be between 5 and 1440")
    if not 5 <= p.consultation_minutes <= 24 * 60:
        raise bad("consultation_minutes", "must be between 5 and 1440")
    c_lo, c_hi = p.consultation_days_before
    if not 0 <= c_lo <= c_hi <= 366:
        raise bad("consultation_days_before", "must be [fewest, most] days with 0 <= fewest <= most (0: the same day)")
    if p.maintenance_tolerance_days < 0:
        raise bad("maintenance_tolerance_days", "must not be negative")
    if p.maintenance_every_days - p.maintenance_tolerance_days < 1:
        raise bad(
            "maintenance_every_days",
            "minus maintenance_tolerance_days must leave at least 1 day between sessions",
        )
