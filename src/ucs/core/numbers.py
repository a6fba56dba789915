"""Phone numbers: what the agent typed, what it means, and its E.164 form (phonenumbers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from ucs.core.errors import InvalidArgument

__all__ = ["Dialable", "normalize", "parse_dialable"]

_FORMATTING = re.compile(r"[\s\-().\/]")
_MAX_LEN = 64


@dataclass(frozen=True, slots=True)
class Dialable:
    """A number an agent asked to dial, cleaned of formatting."""

    raw: str
    """What was asked, stripped of surrounding blanks."""
    digits: str
    """The number without formatting characters (a leading ``+`` is kept)."""
    e164: str | None
    """E.164 form when the number is a valid number for the region, else ``None``."""


def normalize(number: str | None, region: str) -> str | None:
    """The E.164 form of ``number`` for ``region``, or ``None`` when it is not a valid number."""
    if not number:
        return None
    return _normalize(number, region)


@lru_cache(maxsize=4096)
def _normalize(number: str, region: str) -> str | None:
    """``normalize``, remembered for the last few thousand numbers: phonenumbers takes about
    30 µs a number, and a call's number is normalized more than once (the simulator checks it,
    the call book keeps it), a returning caller's again."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_dialable(value: object, region: str) -> Dialable:
    """Validate a ``number`` argument: a string (or a non-negative integer) with digits in it.

    Raises ``InvalidArgument`` when there are no digits at all or the value is not text.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidArgument(f"number must be a string, not {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(f"number must not be negative: {value}")
        value = str(value)
    raw = value.strip()
    if len(raw) > _MAX_LEN:
        raise InvalidArgument(f"number is longer than {_MAX_LEN} characters")
    if not any(ch.isdigit() for ch in raw):
        raise InvalidArgument(f"number has no digits: {raw!r}")
    digits = _FORMATTING.sub("", raw)
    return Dialable(raw=raw, digits=digits, e164=normalize(digits, region))
