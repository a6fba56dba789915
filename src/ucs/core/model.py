"""The vocabulary of the API document: enums, call parties, and the exact field names of the
Call, User and Queue objects as the component and the SDK receive them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

from ucs.core.ids import AgentId, LineId

__all__ = [
    "CALL_FIELDS",
    "QUEUE_FIELDS",
    "RINGING_SOUNDS",
    "STATE_FIELDS",
    "THEMES",
    "USER_FIELDS",
    "CallState",
    "Cause",
    "Direction",
    "Party",
    "PartyType",
    "Phase",
    "Side",
    "Status",
]


class Phase(StrEnum):
    """The component's state (not to be confused with the agent's availability)."""

    CREDENTIALS = "CREDENTIALS"  # nobody logged in
    IDENTIFY = "IDENTIFY"  # logged in, no phone chosen
    DEVICE = "DEVICE"  # phone chosen, not yet confirmed
    READY = "READY"  # phone confirmed, component working


class Status(StrEnum):
    """The agent's availability."""

    OFFLINE = "OFFLINE"  # logged out of the queues
    READY = "READY"  # available for queue calls
    AUX = "AUX"  # not ready, with a reason (Lunch, Break …)
    ACW = "ACW"  # after-call work (wrap-up)


class CallState(IntEnum):
    """A call's state as the document numbers it."""

    NEW = 0  # just created
    CONNECTING = 1  # connection in progress (dialling, or waiting in a queue)
    RINGING = 2  # invitation: a phone is ringing
    CONNECTED = 3  # the parties talk
    SUSPENDED = 4  # the caller waits while the agent consults about a transfer
    HELD = 5  # on hold (the document's "tribute")


class Cause(IntEnum):
    """Why a call ended."""

    NOT_SET = -1  # not hung up yet
    UNKNOWN = 0  # unknown (for instance ended by a server restart)
    BUSY = 1  # occupied
    INVALID_NUMBER = 2  # invalid number
    CALLER_HANGUP = 3  # the caller hung up
    CALLED_HANGUP = 4  # the called party hung up
    REJECTED = 5  # rejected
    UNAVAILABLE = 6  # unavailable (no answer)
    PICKUP = 7  # picked up elsewhere
    TRANSFER = 8  # transferred


class Direction(StrEnum):
    INCOMING = "INCOMING"
    OUTGOING = "OUTGOING"


class Side(StrEnum):
    """Where an agent is on a call (``Call.side_of``)."""

    CALLER = "caller"  # placed the call (dialled, or its phone did)
    CONNECTED = "connected"  # the called party: answered a queue call, or was called directly
    OFFERED = "offered"  # a queue call rings the agent's phone


class PartyType(StrEnum):
    LINE = "line"  # a telephone of ours
    TRUNK = "trunk"  # the outside world


RINGING_SOUNDS = ("default", "christmas", "lovingYou", "quest", "rush")
THEMES = ("default", "dark")


@dataclass(frozen=True, slots=True)
class Party:
    """One end of a call."""

    type: PartyType
    number: str
    number_norm: str | None = None
    name: str | None = None
    line_id: LineId | None = None
    extension: str | None = None
    user_id: AgentId | None = None
    username: str | None = None
    group_id: int | None = None
    channel: str | None = None
    muted: bool = False

    @property
    def internal(self) -> bool:
        return self.type is PartyType.LINE

    def with_muted(self, muted: bool) -> Party:
        return replace(self, muted=muted)

    def wire(self, prefix: str) -> dict[str, object]:
        """The party's fields of the Call object; only the caller has an ``_extension``."""
        wire: dict[str, object] = {
            f"{prefix}_channel": self.channel,
            f"{prefix}_group_id": self.group_id,
            f"{prefix}_internal": self.internal,
            f"{prefix}_line_id": self.line_id,
            f"{prefix}_muted": self.muted,
            f"{prefix}_name": self.name,
            f"{prefix}_number": self.number,
            f"{prefix}_number_norm": self.number_norm,
            f"{prefix}_type": self.type.value,
            f"{prefix}_user_id": self.user_id,
            f"{prefix}_username": self.username,
        }
        if prefix == "caller":
            wire["caller_extension"] = self.extension
        return wire


def _party_fields(prefix: str) -> tuple[str, ...]:
    names = (
        "channel group_id internal line_id muted name number number_norm type user_id username"
    ).split()
    return tuple(f"{prefix}_{n}" for n in names)


CALL_FIELDS: frozenset[str] = (
    frozenset(
        (
            "called_name called_number called_number_norm caller_extension cause connected "
            "created data "
            "direction disconnected external_id id name now number outbound_id recorded state "
            "subcalls uniqueid"
        ).split()
    )
    | frozenset(_party_fields("caller"))
    | frozenset(_party_fields("connected"))
)
"""Every field of the document's Call object, and no other."""

USER_FIELDS: frozenset[str] = frozenset(
    (
        "acwtime auxtime auxtimes data displayname email external_id firstname group_id id "
        "idletime in_calls_answered in_calls_unanswered in_ringtime in_talktime lastname lines "
        "locale number out_calls_answered out_calls_unanswered out_ringtime out_talktime "
        "primary_extension queues readytime ringtime status superuser talktime transferred "
        "transferred_external"
    ).split()
)
"""Every field of the document's User object, and no other."""

QUEUE_FIELDS: frozenset[str] = frozenset(
    (
        "answered priorities queue_id ringtime supervisor suspended suspendtime talktime team_id "
        "transferred transferred_external type unanswered"
    ).split()
)
"""Every field of the document's Queue object (an agent's membership), and no other."""

STATE_FIELDS: frozenset[str] = frozenset(
    "state user calls call identifier line ringingSound theme auxReasons".split()
)
"""The keys of the state object (CONTRACT §5)."""
