"""The administration's rule of partitions (CONTRACT §13): an agent's queues are all in its
partition, and so is a queue's campaign. A change that would break it is refused (422, naming
the field), and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import HTTPException, status

from ucs.core.directory import DEFAULT_PARTITION, Directory
from ucs.core.ids import AgentId, QueueId

__all__ = ["check_agent", "check_membership", "check_queue"]

_RULE = "an agent's queues are all in its partition (docs/admin.md, 'Partitions')"


def _refused(field: str, message: str) -> HTTPException:
    detail = [{"type": "value_error", "loc": ["body", field], "msg": message}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def check_agent(
    catalog: Directory,
    agent_id: int | None,
    partition: str | None,
    memberships: Iterable[int] | None,
) -> None:
    """An agent created (``agent_id`` None) or changed: ``partition`` and the queues of
    ``memberships`` as given (None: as they are)."""
    existing = catalog.agents.get(AgentId(agent_id)) if agent_id is not None else None
    if partition is None:
        partition = existing.partition if existing is not None else DEFAULT_PARTITION
    if memberships is not None:
        field, queues = "memberships", list(memberships)
    else:
        field = "partition"
        queues = [m.queue for m in existing.memberships] if existing is not None else []
    for queue_id in queues:
        queue = catalog.queues.get(QueueId(queue_id))
        if queue is not None and queue.partition != partition:
            raise _refused(
                field,
                f"queue {queue_id} ({queue.name}) is in partition {queue.partition!r}, the "
                f"agent in {partition!r}: {_RULE}",
            )


def check_membership(catalog: Directory, queue_id: int, agent_id: int) -> None:
    """An agent made a member of a queue (``PUT /api/queues/{queue}/members/{agent}``)."""
    queue = catalog.queues.get(QueueId(queue_id))
    agent = catalog.agents.get(AgentId(agent_id))
    if queue is not None and agent is not None and queue.partition != agent.partition:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"partition: agent {agent_id} ({agent.username}) is in partition "
            f"{agent.partition!r}, queue {queue_id} ({queue.name}) in {queue.partition!r}: "
            f"{_RULE}",
        )


def check_queue(catalog: Directory, queue_id: int | None, values: Mapping[str, Any]) -> None:
    """A queue created (``queue_id`` None) or changed with ``values``: its members, its
    campaign, and the queues whose campaign it is stay in its partition."""
    existing = catalog.queues.get(QueueId(queue_id)) if queue_id is not None else None
    partition = values.get("partition")
    if partition is None:
        partition = existing.partition if existing is not None else DEFAULT_PARTITION
    if existing is not None and partition != existing.partition:
        others = sorted(
            a.username
            for a in catalog.agents.values()
            if a.membership(existing.id) is not None and a.partition != partition
        )
        if others:
            raise _refused(
                "partition",
                f"{', '.join(others)} {'is a member' if len(others) == 1 else 'are members'} "
                f"of queue {queue_id} and in another partition than {partition!r}: {_RULE} "
                "(move the agents with the queue: take them out of it first)",
            )
        users = sorted(q.id for q in catalog.queues.values() if q.campaign == existing.id)
        if users:
            raise _refused(
                "partition",
                f"queue {queue_id} is the campaign of queues {', '.join(map(str, users))}, "
                f"which are in partition {existing.partition!r}",
            )
    campaign_id = (
        values["campaign"] if "campaign" in values else getattr(existing, "campaign", None)
    )
    campaign = catalog.queues.get(QueueId(campaign_id)) if campaign_id is not None else None
    if campaign is not None and campaign.partition != partition:
        raise _refused(
            "campaign" if "campaign" in values else "partition",
            f"the campaign, queue {campaign_id} ({campaign.name}), is in partition "
            f"{campaign.partition!r}, the queue in {partition!r}: a queue's callbacks are "
            "dialled in its own partition",
        )
