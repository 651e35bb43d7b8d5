"""A patient's email address and phone number as typed, validated and normalised by
well-kept libraries (email-validator, phonenumbers), imported only when a contact is
given. Errors name the field, never the value: contact details are patient data."""

from __future__ import annotations

from ketaplan.core.errors import InputError
from ketaplan.core.model import Contact

#: Longer than any real address (RFC 5321 allows 254) or number: refused before parsing.
MOST_CHARACTERS = 254


def parse_email(text: str, *, field: str = "--email") -> str:
    """The address, normalised (the domain lower-cased, Unicode NFC); no DNS lookup."""
    from email_validator import EmailNotValidError, validate_email

    value = _plain(text, field)
    try:
        found = validate_email(value, check_deliverability=False, allow_quoted_local=False)
    except EmailNotValidError:
        raise InputError("not a valid email address (name@example.org)", field=field) from None
    return str(found.normalized)


def parse_phone(text: str, region: str | None, *, field: str = "--phone") -> str:
    """The number in E.164 (+15550100199). A number without a country code is read in
    `region` (the clinic's country, from its holidays), else it needs one."""
    import phonenumbers

    value = _plain(text, field)
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        hint = "" if region else " with its country code (+1 555 0100)"
        raise InputError(f"not a phone number{hint}", field=field) from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        where = f" in {region}" if region and not value.startswith("+") else ""
        raise InputError(f"not a valid phone number{where}", field=field)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def parse_contact(email: str | None, phone: str | None, region: str | None) -> Contact | None:
    """Both fields as given (None: not given; an empty text clears it)."""
    if email is None and phone is None:
        return None
    return Contact(
        parse_email(email) if email else None,
        parse_phone(phone, region) if phone else None,
    )


def clinic_region(holidays: str | None) -> str | None:
    """The clinic's country ("US" of "US-CA"), the default region of a phone number."""
    return holidays.split("-", 1)[0].upper() if holidays else None


def _plain(text: str, field: str) -> str:
    value = text.strip()
    if len(value) > MOST_CHARACTERS:
        raise InputError(f"too long (at most {MOST_CHARACTERS} characters)", field=field)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):  # CR/LF: no header injection, ever
        raise InputError("has a line break or a control character", field=field)
    return value
