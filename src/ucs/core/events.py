"""Everything that can happen to the core: the input of ``Center.handle(event, now)``.

Adapters make these: the operator protocol (a client connected, sent a command), the switch (a
caller arrived, a phone answered, a party hung up), and administration (new configuration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ucs.core.directory import Directory
from ucs.core.effects import (
    Hangup,
    Hold,
    Mute,
    Originate,
    PickUp,
    Redirect,
    Ring,
    StopRinging,
    SwitchEffect,
    Transfer,
    Unhold,
)
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, RequestId, UniqueId
from ucs.core.lookup import Answer
from ucs.core.model import Cause

__all__ = [
    "KEYS",
    "OPERATION_OF",
    "SECRET_METHODS",
    "Answered",
    "Attach",
    "AudioAnchored",
    "CallbackRequested",
    "Command",
    "Connect",
    "Disconnect",
    "Dtmf",
    "Event",
    "HungUp",
    "Kept",
    "LookedUp",
    "LookupSettings",
    "MediaStatus",
    "MonitorLeft",
    "Operation",
    "PhoneCall",
    "PhoneHeld",
    "Reconfigure",
    "Registration",
    "Registrations",
    "RemoteAnswered",
    "RemoteFailed",
    "RemoteRinging",
    "SwitchFailed",
    "Transferred",
    "TrunkCall",
    "operation_of",
]


@dataclass(frozen=True, slots=True)
class Connect:
    """A component or SDK connection opened; it starts in CREDENTIALS."""

    client: ClientId


@dataclass(frozen=True, slots=True)
class Disconnect:
    """A connection closed. The agent's session and calls go on."""

    client: ClientId


@dataclass(frozen=True, slots=True)
class Attach:
    """A connection proved (by a session token the adapter checked) that it is this agent's."""

    client: ClientId
    agent: AgentId


SECRET_METHODS = frozenset({"login", "sso"})
"""Methods whose arguments carry a secret (a password, an SSO token): never shown in a log."""


@dataclass(frozen=True, slots=True)
class Command:
    """A method of ``window.ucsOperator`` called by a client."""

    client: ClientId
    request: RequestId
    method: str
    args: Sequence[Any] | Mapping[str, Any] = ()

    def __repr__(self) -> str:
        # Never a password or an SSO token in a log line that shows the command.
        args = "<hidden>" if self.method in SECRET_METHODS else repr(self.args)
        return (
            f"Command(client={self.client}, request={self.request!r}, "
            f"method={self.method!r}, args={args})"
        )


@dataclass(frozen=True, slots=True)
class TrunkCall:
    """A call from outside arrives, into a queue or to an extension."""

    number: str
    queue: QueueId | None = None
    extension: str | None = None
    name: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    channel: str | None = None
    uniqueid: UniqueId | None = None
    """Set by the simulator when it wants to know the id in advance; else the core picks one."""


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """A phone of ours dialled a number itself (handset): the line's own outgoing call, to an
    extension, a queue's number or an outside number. The switch already has the phone's leg
    (off-hook); the core decides where the call goes, as for ``dial`` from that line."""

    line: LineId
    number: str
    uniqueid: UniqueId | None = None
    """The id the switch chose for the call; else the core picks one (see ``Created``)."""
    channel: str | None = None
    """The switch's name for the phone's leg (``SIP/phone1-0000001a``)."""


@dataclass(frozen=True, slots=True)
class Answered:
    """The phone on ``line`` picked the call up (by command, auto-answer or handset)."""

    uniqueid: UniqueId
    line: LineId


@dataclass(frozen=True, slots=True)
class RemoteRinging:
    """The outside number an agent dialled (or a call was sent to) is ringing."""

    uniqueid: UniqueId


@dataclass(frozen=True, slots=True)
class RemoteAnswered:
    """The outside number answered."""

    uniqueid: UniqueId


@dataclass(frozen=True, slots=True)
class RemoteFailed:
    """The outside number could not be reached (busy, invalid, rejected, no answer)."""

    uniqueid: UniqueId
    cause: Cause


@dataclass(frozen=True, slots=True)
class HungUp:
    """A party hung up: the phone on ``line``, or the outside party when ``line`` is None."""

    uniqueid: UniqueId
    line: LineId | None = None


@dataclass(frozen=True, slots=True)
class Transferred:
    """The switch carried out a transfer of the call: joined it with the consultation's far
    party (attended), or sent its far party to the number asked for (blind: no consultation)."""

    uniqueid: UniqueId
    consultation: UniqueId | None = None


class Operation(StrEnum):
    """What the core asked of the switch (one kind of ``SwitchEffect`` each), as
    ``SwitchFailed`` names it and the agents' error message says it."""

    RING = "ring"  # Ring: a phone rings with a call
    ANSWER = "answer"  # PickUp: the ringing phone answers (the agent pressed answer)
    ORIGINATE = "originate"  # Originate: an agent's phone calls a number
    HOLD = "hold"  # Hold
    UNHOLD = "unhold"  # Unhold
    MUTE = "mute"  # Mute (and unmute)
    TRANSFER = "transfer"  # Transfer: the caller joined with the consultation's far party
    BLIND_TRANSFER = "blind_transfer"  # Redirect: the far party sent to a number
    STOP_RINGING = "stop_ringing"  # StopRinging
    HANGUP = "hangup"  # Hangup: the whole call ends


OPERATION_OF: Mapping[type, Operation] = {
    Ring: Operation.RING,
    PickUp: Operation.ANSWER,
    Originate: Operation.ORIGINATE,
    Hold: Operation.HOLD,
    Unhold: Operation.UNHOLD,
    Mute: Operation.MUTE,
    Transfer: Operation.TRANSFER,
    Redirect: Operation.BLIND_TRANSFER,
    StopRinging: Operation.STOP_RINGING,
    Hangup: Operation.HANGUP,
}
"""The operation each kind of switch effect asks for."""


def operation_of(effect: SwitchEffect) -> Operation:
    """The operation a switch effect asks for (a switch failing it says so with this)."""
    return OPERATION_OF[type(effect)]


@dataclass(frozen=True, slots=True)
class SwitchFailed:
    """The switch could not carry out an operation the core asked for."""

    uniqueid: UniqueId
    operation: Operation
    reason: str = ""
    line: LineId | None = None
    """For ``ring``: the phone that could not be rung (the call's other offers go on)."""


@dataclass(frozen=True, slots=True)
class MediaStatus:
    """The media engine came up (``available``) or went away: the softphone may be paired
    only while it is up (``ucs.media``). ``recording``: calls can be recorded (the media
    plane decided at its start that the tools that make recordings are installed)."""

    available: bool
    recording: bool = True
    phones: bool = False
    """The switch anchors its phones' audio in the engine (``--switch sip``): a desk phone's
    calls are heard, muted, held with music and recorded there as a softphone's are."""


@dataclass(frozen=True, slots=True)
class AudioAnchored:
    """A desk phone's call (``--switch sip``): whether its audio is in the media engine.
    ``True`` once both its sides (the agent's phone and the far party) are in the call's
    room; ``False`` when it cannot be (an SDP without G.711, the engine refused a leg): its
    audio then flows between the endpoints and it is neither recorded nor monitored."""

    uniqueid: UniqueId
    anchored: bool


@dataclass(frozen=True, slots=True)
class MonitorLeft:
    """The supervisor's desk phone called for a monitoring of ``uniqueid`` hung up, or could
    not be reached: the monitoring ends (the call goes on)."""

    uniqueid: UniqueId
    line: LineId


@dataclass(frozen=True, slots=True)
class Registrations:
    """The switch knows which phones can be rung (a SIP registrar), and these are: from now
    on only registered phones are offered queue calls. Without it (the simulated switch) every
    phone can be rung."""

    lines: frozenset[LineId]


@dataclass(frozen=True, slots=True)
class Registration:
    """A phone registered (it can be rung) or went away (unregistered, or its registration
    expired)."""

    line: LineId
    registered: bool


@dataclass(frozen=True, slots=True)
class Reconfigure:
    """Administration changed agents, lines, queues, memberships, AUX reasons, or (when given)
    the SSO secret."""

    directory: Directory
    sso_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """Someone asked to be called back by an agent of the queue (CONTRACT §12)."""

    queue: QueueId
    number: str
    name: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    uniqueid: UniqueId | None = None


KEYS = "0123456789*#ABCD"
"""The keys of a phone, in the order of their RFC 4733 event numbers (0-15)."""


@dataclass(frozen=True, slots=True)
class Dtmf:
    """The outside party of a call pressed keys on its phone (DTMF: ``0``-``9``, ``*``,
    ``#``, ``A``-``D``), as the switch or the media engine got them (RFC 4733 events)."""

    uniqueid: UniqueId
    digits: str


@dataclass(frozen=True, slots=True)
class PhoneHeld:
    """A phone on a call held it with its own button (``held``), or took it off hold: with
    SIP, a re-INVITE whose media is ``sendonly`` or ``inactive`` (or at address 0.0.0.0), then
    ``sendrecv`` again. The call goes HELD (CONNECTED) as by the agent's ``hold()``
    (``unhold()``)."""

    uniqueid: UniqueId
    line: LineId
    held: bool


@dataclass(frozen=True, slots=True)
class LookedUp:
    """The CRM answered a ``Lookup`` (``answer`` None: it failed, or said nothing usable)."""

    uniqueid: UniqueId
    number: str
    answer: Answer | None


@dataclass(frozen=True, slots=True)
class Kept:
    """The store kept the records that ``Keep`` asked about: these calls may ring now."""

    uniqueids: tuple[UniqueId, ...]


@dataclass(frozen=True, slots=True)
class LookupSettings:
    """Caller lookup turned on (``timeout``: seconds a call may wait for it) or off (None)."""

    timeout: float | None


Event = (
    Connect
    | Disconnect
    | Attach
    | Command
    | TrunkCall
    | PhoneCall
    | Answered
    | RemoteRinging
    | RemoteAnswered
    | RemoteFailed
    | HungUp
    | Transferred
    | SwitchFailed
    | MediaStatus
    | AudioAnchored
    | MonitorLeft
    | Registrations
    | Registration
    | Reconfigure
    | LookedUp
    | Kept
    | LookupSettings
    | CallbackRequested
    | Dtmf
    | PhoneHeld
)
