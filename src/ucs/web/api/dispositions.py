"""A queue's dispositions in the REST API: the account codes its calls may be given (code and
label, in order, unique codes) and whether agents may also type codes of their own.

The fields of ``QueuePatch`` and ``QueueIn`` (``ucs.web.api.admin``); the core judges calls by
them (``ucs.core.dispositions``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from ucs.core.directory import DISPOSITION_CODE_MAX, DISPOSITION_LABEL_MAX, DISPOSITIONS_MAX
from ucs.web.api.plain import PlainModel

__all__ = ["FREE_TEXT", "LIST", "Disposition", "Dispositions"]

_TEXT = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
"""Printable, without spaces at either end."""


class Disposition(PlainModel):
    code: str = Field(
        min_length=1,
        max_length=DISPOSITION_CODE_MAX,
        pattern=_TEXT,
        description="What setAccountCode saves on the call, e.g. SALE (unique in the queue)",
    )
    label: str = Field(
        min_length=1,
        max_length=DISPOSITION_LABEL_MAX,
        pattern=_TEXT,
        description="What the agent reads and picks, e.g. Sale closed",
    )


def _unique(items: list[Disposition]) -> list[Disposition]:
    codes = [d.code for d in items]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValueError(f"codes must be unique: {', '.join(twice)} listed more than once")
    return items


Dispositions = Annotated[
    list[Disposition], Field(max_length=DISPOSITIONS_MAX), AfterValidator(_unique)
]

LIST = (
    "The account codes the queue's calls may be given, in the order agents see them "
    f"(at most {DISPOSITIONS_MAX}, unique codes); []: any code"
)
FREE_TEXT = "Agents may also give codes not on the list (a queue with no list takes any code)"
