"""Administration changed the configuration: agents, lines, queues, memberships, AUX reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core.agent import Agent
from ucs.core.directory import Disposition, QueueConfig
from ucs.core.effects import Push
from ucs.core.events import Reconfigure
from ucs.core.model import Cause

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["on_reconfigure"]


def _codes(q: QueueConfig | None) -> tuple[tuple[Disposition, ...], bool] | None:
    return (q.dispositions, q.free_text_codes) if q is not None else None


def on_reconfigure(c: Center, ev: Reconfigure) -> None:
    d = ev.directory
    reasons_before = c.directory.aux_reasons
    queues_before = c.directory.queues
    c.set_directory(d)
    for call in list(c.calls.values()):  # their agents see the account codes they may give
        q = call.home_queue
        if q is not None and _codes(queues_before.get(q)) != _codes(d.queues.get(q)):
            c.book.touch(call)
    if d.aux_reasons != reasons_before:  # the state's auxReasons, in every open component
        for agent in sorted(c.sessions):
            c.out.effects.append(Push(agent, "reasons.changed", {"reasons": list(d.aux_reasons)}))
    if ev.sso_secret is not None:
        c.sso_secret = ev.sso_secret
    for cfg in d.agents.values():
        a = c.agents.get(cfg.id)
        if a is None:
            c.agents[cfg.id] = Agent(
                config=cfg, since=c.now, status_since=c.now, available_since=c.now
            )
        else:
            a.config = cfg
            a.suspended &= {m.queue for m in cfg.memberships}
        c.out.agents_touched.add(cfg.id)
    for agent in [a for a in c.agents if a not in d.agents]:
        if agent in c.sessions and not c.agent_calls.get(agent):
            c.end_session(agent)
        if agent not in c.sessions:
            del c.agents[agent]
            c.out.agents_touched.discard(agent)
    for call in list(c.calls.values()):
        if call.queue_id is not None and call.queue_id not in d.queues and call.waiting:
            c.book.end_call(call, Cause.UNAVAILABLE)
