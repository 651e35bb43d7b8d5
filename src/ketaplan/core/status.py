"""How a session's status reads and looks, in one place: the terminal, the printed plans
(PDF and HTML), the day sheet and the .ics all ask here, so no two of them disagree."""

from __future__ import annotations

from typing import NamedTuple


class StatusLook(NamedTuple):
    word: str  # what people read: "booked", "attended", "missed", "cancelled", "planned"
    note: str  # what a printed plan adds after the session: "" while it is still to come
    struck: bool  # drawn struck through: the session no longer holds its time
    ics: str  # the .ics STATUS of its event


_LOOKS: dict[str, StatusLook] = {
    "planned": StatusLook("planned", "", False, "TENTATIVE"),
    "booked": StatusLook("booked", "", False, "CONFIRMED"),
    "attended": StatusLook("attended", "attended", False, "CONFIRMED"),
    "no_show": StatusLook("missed", "missed", True, "CANCELLED"),
    "cancelled": StatusLook("cancelled", "cancelled", True, "CANCELLED"),
}


def look(status: str) -> StatusLook:
    """The look of a status; one this version does not know (a newer ledger's) reads as
    itself, struck through: it is not shown as booked."""
    return _LOOKS.get(status) or StatusLook(status, status, True, "CANCELLED")


def labelled(what: str, status: str) -> str:
    """'Infusion' -> 'Infusion (attended)': a printed session with its status, if any."""
    note = look(status).note
    return f"{what} ({note})" if note else what
