"""Configuration the core decides with: agents, lines, queues, memberships and AUX reasons.

The storage layer loads it; the core only reads it. Lookups are indexed once per directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any

from ucs.core.ids import AgentId, LineId, QueueId

__all__ = [
    "DEFAULT_PARTITION",
    "DISPOSITIONS_MAX",
    "DISPOSITION_CODE_MAX",
    "DISPOSITION_LABEL_MAX",
    "MISSED_CALL",
    "PARTITION_PATTERN",
    "RECORDING_MODES",
    "AgentConfig",
    "Directory",
    "Disposition",
    "LineConfig",
    "Membership",
    "QueueConfig",
    "QueueType",
    "Strategy",
]

RECORDING_MODES = ("never", "always", "on_demand")
"""A queue's ``recording``: whether its calls are recorded (CONTRACT §10)."""


DEFAULT_PARTITION = "main"
"""The partition of queues and agents that name none (CONTRACT §13)."""
PARTITION_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
"""A partition's name: 1 to 32 lower-case letters, digits, ``-`` and ``_``, not starting with
either of those two."""
MISSED_CALL = "Missed call"
"""The AUX reason a queue created without one of its own puts an agent in who let one of its
calls ring out (its ``rona_reason``); made an AUX reason with the queue when it is none yet."""


DISPOSITIONS_MAX = 100
"""Most dispositions (account codes to choose from) a queue may list."""
DISPOSITION_CODE_MAX = 64
"""Longest disposition code: the longest ``accountCode`` ``setAccountCode`` takes."""
DISPOSITION_LABEL_MAX = 128
"""Longest disposition label (what the agent reads and picks)."""


@dataclass(frozen=True, slots=True)
class Disposition:
    """An account code an agent may give a call of the queue (``setAccountCode``)."""

    code: str
    """What is saved on the call, e.g. ``SALE``; unique within the queue."""
    label: str
    """What the agent reads, e.g. ``Sale closed``."""


class QueueType(IntEnum):
    OUTGOING = 0  # a campaign, used by dial()
    INCOMING = 1  # callers wait and are distributed to agents


class Strategy(StrEnum):
    """How an incoming queue picks the agent to ring."""

    RING_ALL = "ringall"  # hunt group: every available agent rings at once
    LONGEST_IDLE = "longest-idle"  # the agent free for the longest time
    ROUND_ROBIN = "round-robin"  # members in turn, remembering where the last call went
    FEWEST_CALLS = "fewest-calls"  # the agent who answered fewest calls of this queue today
    PRIORITY = "priority"  # best (lowest) priority number first, then longest idle


@dataclass(frozen=True, slots=True)
class QueueConfig:
    id: QueueId
    name: str
    type: QueueType = QueueType.INCOMING
    strategy: Strategy = Strategy.LONGEST_IDLE
    ring_timeout: float = 15.0
    """Seconds an offer rings one agent before the next is tried."""
    wrapup: float = 0.0
    """Seconds of automatic ACW after a call of this queue (0: none)."""
    weight: int = 0
    """Callers of heavier queues are served first when queues share agents."""
    number: str | None = None
    """The number callers dial to reach the queue (shown as ``called_number``)."""
    rona_reason: str | None = None
    """Ring no answer: a READY agent who lets one of the queue's calls ring out (its ring
    timeout) is put in AUX with this reason, so that callers are not offered to an empty desk.
    None (the default): the agent stays READY."""
    campaign: QueueId | None = None
    """The outgoing queue (campaign) the queue's callbacks are dialled under; None: none."""
    callback_retries: int = 1
    """How many times a callback whose number does not answer goes back to the queue before
    it ends with its cause."""
    callback_offer: bool = False
    """A waiting caller may press 1 to leave a callback request instead of waiting, keeping
    their place (the greeting and the announcements say so; needs media to be heard)."""
    greeting: str | None = None
    """The sound a caller hears on entering the queue (CONTRACT §10); None: none."""
    music: str | None = None
    """The sound a waiting (or held) caller hears after the greeting; None: the default
    music on hold, silence while waiting."""
    announce_every: float = 0.0
    """Seconds between announcements of a waiting caller's place (0: never)."""
    announce_wait: bool = False
    """Announcements also tell the expected wait, once one can be estimated."""
    language: str = "en"
    """The language of the greeting and the announcements: ``en`` or ``cs``."""
    recording: str = "never"
    """Whether its calls are recorded (CONTRACT §10): ``never``, ``always`` (every call, from
    its answer) or ``on_demand`` (``startRecording()``); ``RECORDING_MODES``."""
    service_level_target: int = 20
    """Seconds within which an answer counts toward the queue's service level (1..3600)."""
    partition: str = DEFAULT_PARTITION
    """The partition the queue belongs to (CONTRACT §13): in a cluster, the node that runs it."""
    dispositions: tuple[Disposition, ...] = ()
    """The account codes its calls may be given, in the order agents see them; ()
    (the default): any code, as typed."""
    free_text_codes: bool = False
    """Besides the list, agents may also give codes of their own. Only matters while the
    queue has a list: a queue with none always takes any code."""

    def takes_code(self, code: str) -> bool:
        """Whether ``setAccountCode`` may give one of its calls ``code``."""
        return self.free_text_codes or not self.dispositions or self.label_of(code) is not None

    def label_of(self, code: str) -> str | None:
        """The label of ``code`` on the queue's list (None: not on it)."""
        for d in self.dispositions:
            if d.code == code:
                return d.label
        return None

    @property
    def plays_to_waiting(self) -> bool:
        """Callers waiting in this queue hear something (the server answers them at once)."""
        return bool(self.greeting or self.music or self.announce_every or self.callback_offer)


@dataclass(frozen=True, slots=True)
class Membership:
    queue: QueueId
    priority: int = 1
    """Lower is preferred by the ``priority`` strategy."""
    supervisor: bool = False
    """A supervisor watches the queue and is not offered its calls."""
    team_id: int | None = None


@dataclass(frozen=True, slots=True)
class LineConfig:
    id: LineId
    identifier: str
    """What the agent types to pair the phone (``phone1``)."""
    extension: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    id: AgentId
    username: str
    firstname: str = ""
    lastname: str = ""
    displayname: str = ""
    email: str = ""
    external_id: str | None = None
    group_id: int | None = None
    locale: str = "en"
    number: str | None = None
    superuser: bool = False
    primary_extension: int | None = None
    memberships: tuple[Membership, ...] = ()
    lines: tuple[LineId, ...] = ()
    """The agent's own phones, listed first when choosing one (any phone may be paired)."""
    data: Mapping[str, Any] = field(default_factory=dict)
    partition: str = DEFAULT_PARTITION
    """The partition the agent belongs to, the one of all its queues (CONTRACT §13)."""

    @property
    def name(self) -> str:
        full = f"{self.firstname} {self.lastname}".strip()
        return self.displayname or full or self.username

    def membership(self, queue: QueueId) -> Membership | None:
        for m in self.memberships:
            if m.queue == queue:
                return m
        return None


@dataclass(frozen=True)
class Directory:
    agents: Mapping[AgentId, AgentConfig]
    lines: Mapping[LineId, LineConfig]
    queues: Mapping[QueueId, QueueConfig]
    aux_reasons: tuple[str, ...] = ("Lunch", "Break", "Meeting", "Training")
    region: str = "CZ"
    _by_username: Mapping[str, AgentConfig] = field(init=False, repr=False)
    _by_identifier: Mapping[str, LineConfig] = field(init=False, repr=False)
    _by_extension: Mapping[str, LineConfig] = field(init=False, repr=False)
    _members: Mapping[QueueId, tuple[AgentId, ...]] = field(init=False, repr=False)
    _member_sets: Mapping[QueueId, frozenset[AgentId]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        members: dict[QueueId, list[AgentId]] = {q: [] for q in self.queues}
        for a in sorted(self.agents.values(), key=lambda a: a.id):
            for m in a.memberships:
                if m.queue in members and not m.supervisor:
                    members[m.queue].append(a.id)
        indices: dict[str, Mapping[Any, Any]] = {
            "_by_username": {a.username: a for a in self.agents.values()},
            "_by_identifier": {ln.identifier: ln for ln in self.lines.values()},
            "_by_extension": {ln.extension: ln for ln in self.lines.values()},
            "_members": {q: tuple(v) for q, v in members.items()},
            "_member_sets": {q: frozenset(v) for q, v in members.items()},
        }
        for name, index in indices.items():
            object.__setattr__(self, name, MappingProxyType(dict(index)))

    def agent_by_username(self, username: str) -> AgentConfig | None:
        return self._by_username.get(username)

    def line_by_identifier(self, identifier: str) -> LineConfig | None:
        return self._by_identifier.get(identifier)

    def line_by_extension(self, extension: str) -> LineConfig | None:
        return self._by_extension.get(extension)

    def incoming_queue_by_number(self, number: str) -> QueueConfig | None:
        """The incoming queue a caller reaches at ``number`` (the first by id)."""
        return next(
            (
                q
                for q in sorted(self.queues.values(), key=lambda q: q.id)
                if q.number and q.number == number and q.type is QueueType.INCOMING
            ),
            None,
        )

    def members(self, queue: QueueId) -> tuple[AgentId, ...]:
        """Agents who take calls of ``queue`` (supervisors excluded), by id."""
        return self._members.get(queue, ())

    def member_set(self, queue: QueueId) -> frozenset[AgentId]:
        """``members`` as a set, to ask "is this agent one?" at once."""
        return self._member_sets.get(queue, frozenset())

    def only(self, partition: str) -> Directory:
        """The part of the directory one partition runs: its agents and queues (phones and
        AUX reasons are everyone's). A node of a cluster runs that and nothing else."""
        return replace(
            self,
            agents={k: a for k, a in self.agents.items() if a.partition == partition},
            queues={k: q for k, q in self.queues.items() if q.partition == partition},
        )
