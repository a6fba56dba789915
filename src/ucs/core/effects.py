"""What the core decides: the output of ``Center.handle``. The runtime carries them out.

Three families: answers and messages to clients, commands to the switch, records to storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ucs.core.call import AccountCode
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, RequestId, UniqueId
from ucs.core.model import Cause, Direction, Party, Phase, Status

__all__ = [
    "AgentRecord",
    "Announce",
    "CallRecord",
    "CallbackTaken",
    "Created",
    "Effect",
    "Greet",
    "Hangup",
    "Hold",
    "Keep",
    "LoginLocked",
    "Lookup",
    "MediaEffect",
    "Monitor",
    "Mute",
    "Originate",
    "PickUp",
    "Push",
    "Record",
    "Redirect",
    "Refuse",
    "Reply",
    "Ring",
    "Send",
    "SessionRecord",
    "StatusRecord",
    "StopRinging",
    "SwitchEffect",
    "Transfer",
    "Unhold",
    "Unrecorded",
]


# --- clients -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """The result of a client's request."""

    client: ClientId
    request: RequestId
    result: Any = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """A request refused with a wire code; nothing changed."""

    client: ClientId
    request: RequestId
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Push:
    """A message for every connection of an agent's session (all its tabs and scripts)."""

    agent: AgentId
    type: str
    """``user.changed``, ``call.changed``, ``session.changed``, ``session.ended``,
    ``reasons.changed``, ``error``."""
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Send:
    """A message for one connection."""

    client: ClientId
    type: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LoginLocked:
    """Failed logins locked a username (docs/security.md, Logins): for the log, since the
    core does no IO. Only usernames of the directory are ever locked."""

    username: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Created:
    """The core gave a new outside call this uniqueid (the switch maps its channel to it)."""

    uniqueid: UniqueId
    channel: str | None


# --- switch --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ring:
    """Ring the phone on ``line`` with the call; ``caller`` is what its display shows."""

    uniqueid: UniqueId
    line: LineId
    caller: Party


@dataclass(frozen=True, slots=True)
class StopRinging:
    uniqueid: UniqueId
    line: LineId
    cause: Cause


@dataclass(frozen=True, slots=True)
class PickUp:
    """Make the ringing phone on ``line`` answer (auto-answer)."""

    uniqueid: UniqueId
    line: LineId


@dataclass(frozen=True, slots=True)
class Originate:
    """Call from the phone on ``line`` to ``number``: to ``target`` when it is one of our lines;
    with ``queue``, the number is that queue's: the call waits in it (the core offers it to
    the queue's agents, ``Ring``), and the switch dials nothing beyond the agent's phone."""

    uniqueid: UniqueId
    line: LineId
    number: str
    target: LineId | None = None
    queue: QueueId | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    uniqueid: UniqueId
    line: LineId
    phone: bool = False
    """The line's phone held the call itself (its own button, ``PhoneHeld``): the switch has
    nothing to do; the media engine plays the music as for any hold."""


@dataclass(frozen=True, slots=True)
class Unhold:
    uniqueid: UniqueId
    line: LineId
    phone: bool = False
    """The line's phone took the call off hold itself (``PhoneHeld``): as ``Hold.phone``."""


@dataclass(frozen=True, slots=True)
class Mute:
    uniqueid: UniqueId
    line: LineId
    muted: bool


@dataclass(frozen=True, slots=True)
class Transfer:
    """Join the far party of ``uniqueid`` (suspended) with the far party of ``consultation``;
    the agent's phone leaves both. Confirmed by ``Transferred`` or ``SwitchFailed``."""

    uniqueid: UniqueId
    consultation: UniqueId
    line: LineId


@dataclass(frozen=True, slots=True)
class Redirect:
    """Blind transfer: send the far party of the call to ``number`` (``target``: our line);
    the agent's phone on ``line`` leaves the call. With ``queue`` (the number is that queue's)
    the switch dials nothing: the far party stays, and waits in the queue."""

    uniqueid: UniqueId
    line: LineId
    number: str
    target: LineId | None = None
    queue: QueueId | None = None


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the whole call."""

    uniqueid: UniqueId
    cause: Cause


SwitchEffect = (
    Ring | StopRinging | PickUp | Originate | Hold | Unhold | Mute | Transfer | Redirect | Hangup
)


# --- the CRM (CONTRACT §12) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lookup:
    """Ask the CRM who ``number`` is (answered by ``LookedUp``; an incoming call waits for it,
    until the lookup's deadline at most)."""

    uniqueid: UniqueId
    number: str
    """E.164 when the number is valid, else as it came."""
    direction: Direction
    """INCOMING: the caller's number; OUTGOING: the number an agent dialled."""
    queue: int | None = None


# --- storage -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Keep:
    """Tell the core (``Kept``) once the records of this step are kept: committed to the
    database, or in the journal while it is away. Until then the call rings nobody
    (``keeping.py``)."""

    uniqueid: UniqueId


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call for the call records (CDR): finished, or still ``live`` (kept so that a call
    in progress when the server dies is still recorded after the restart)."""

    call: Mapping[str, Any]
    account_codes: tuple[AccountCode, ...]
    queue_id: int | None
    live: bool = False
    agents: tuple[tuple[int, str], ...] = ()
    """Every agent who has been on the call (id, username), in order (``Call.agents_on_record``)."""
    enqueued: float | None = None
    """When the caller started waiting in its queue (None: never queued)."""
    handled_by: int | None = None
    """The agent who answered it from its queue."""
    missed: tuple[tuple[int, float], ...] = ()
    """Agents whose offer of it rang and ended unanswered (agent id, when), in order."""
    again: bool = False
    """The final record of a call already recorded final, written again (an account code set
    after the end): what counts calls counts it no more (the store writes it over the last,
    and keeps nothing of this)."""


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent's availability, suspensions and today's statistics, to restore after a
    restart (``Agent.to_state``)."""

    agent: AgentId
    state: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """The agent's availability changed (the status log)."""

    agent: AgentId
    status: Status
    reason: str | None
    at: float
    by: AgentId | None = None
    """The supervisor who set it (``setAgentStatus``, ``logoutAgent``); None: the agent, or
    the server (wrap-up, RONA, a restart)."""
    wrapped: tuple[str, float] | None = None
    """The automatic wrap-up this change ended: the call's uniqueid and its seconds."""
    previous: tuple[Status, str | None, float] | None = None
    """The status this change ended, its reason and since when (None: OFFLINE): the span
    the reports add up without reading the log row by row."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """The agent's session changed: phase and phone (``phase`` None: logged out)."""

    agent: AgentId
    phase: Phase | None
    identifier: str | None
    line: LineId | None
    last_identifier: str | None = None
    ringing_sound: str = "default"
    theme: str = "default"


# --- media: what should be heard (ucs.media carries it out, when there is an engine) ------


@dataclass(frozen=True, slots=True)
class Greet:
    """A caller entered a queue whose waiting callers hear something: the ``greeting``, then
    the ``music`` (names of sounds), in ``language``; with ``callback``, after the greeting,
    that pressing 1 leaves a callback request (the queue's ``callback_offer``)."""

    uniqueid: UniqueId
    greeting: str | None
    music: str | None
    language: str
    callback: bool = False


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell a waiting caller its ``place`` in the queue and, when known, the expected
    ``wait`` in seconds; with ``callback``, that pressing 1 leaves a callback request."""

    uniqueid: UniqueId
    place: int
    wait: float | None
    language: str
    callback: bool = False


@dataclass(frozen=True, slots=True)
class CallbackTaken:
    """A waiting caller pressed 1 and left a callback request: tell them it is taken, in
    ``language``, before the server hangs up (``callback.GOODBYE`` seconds later)."""

    uniqueid: UniqueId
    language: str


@dataclass(frozen=True, slots=True)
class Record:
    """Record the call's audio from now on (``on``), or pause its recording (CONTRACT §10).
    A recording resumed after a pause goes on in the same file; ``agent`` (id, username) is
    the agent whose side is recorded, ``queue`` the call's queue, for the recordings' index."""

    uniqueid: UniqueId
    on: bool
    agent: tuple[int, str]
    queue: int | None


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """A call of an ``always`` queue was answered and cannot be recorded: ``reason`` is
    ``no_tools`` (the server cannot make recordings: its conversion tools are missing) or
    ``no_audio`` (the agent's side is not the softphone, or no media engine runs). Its
    ``recorded`` stays false; the media plane logs a warning and ``/metrics`` counts it."""

    uniqueid: UniqueId
    queue: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Monitor:
    """A supervisor's phone joins the call's audio as a listener (``listen``: hears both
    sides, heard by nobody), or is heard by both (``barge``); None: it leaves the call."""

    uniqueid: UniqueId
    supervisor: int
    mode: str | None
    line: LineId | None = None
    """The supervisor's desk phone (``--switch sip``), which the switch calls at the start of
    the monitoring and hangs up at its end; None: the supervisor's softphone (the browser
    joins the call's audio itself)."""


MediaEffect = Greet | Announce | CallbackTaken | Record | Unrecorded | Monitor


Effect = (
    Created
    | LoginLocked
    | Reply
    | Refuse
    | Push
    | Send
    | SwitchEffect
    | Lookup
    | CallRecord
    | Keep
    | AgentRecord
    | StatusRecord
    | SessionRecord
    | MediaEffect
)
