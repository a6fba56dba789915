"""The pure contact-center core: ``Center.handle(event, now) -> effects``.

No asyncio, sockets, SQL, wall clock or randomness: adapters turn the outside world into
``events``, the ``Center`` decides, and the runtime carries out the ``effects``.
"""

from ucs.core.center import Center, next_midnight
from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.errors import (
    ERROR_CODES,
    SWITCH_FAILURE,
    InvalidArgument,
    InvalidState,
    NotFound,
    TooManyAttempts,
    UcsError,
    Unauthorized,
)
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, RequestId, UniqueId
from ucs.core.model import CallState, Cause, Direction, Phase, Status
from ucs.core.session import ALIASES, METHODS

__all__ = [
    "ALIASES",
    "ERROR_CODES",
    "METHODS",
    "SWITCH_FAILURE",
    "AgentConfig",
    "AgentId",
    "CallState",
    "Cause",
    "Center",
    "ClientId",
    "Direction",
    "Directory",
    "InvalidArgument",
    "InvalidState",
    "LineConfig",
    "LineId",
    "Membership",
    "NotFound",
    "Phase",
    "QueueConfig",
    "QueueId",
    "QueueType",
    "RequestId",
    "Status",
    "Strategy",
    "TooManyAttempts",
    "UcsError",
    "Unauthorized",
    "UniqueId",
    "next_midnight",
]
