"""What supervisors watching their team cost the core (issue 18): call_load's 200 calls/s for
1,000 agents on the virtual clock, with 0 and with 50 supervisors (superusers: each sees every
agent and queue) logged in, comparing the core's CPU time and counting the pushes.

    .venv/bin/python -m bench.team [seconds]

Prints the figures; the core runs on a virtual clock, so the ratio holds on a busy machine too
(CPU time, not wall time). ``bench.run`` runs it and puts it in the report.
"""

from __future__ import annotations

import heapq
import itertools
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.effects import Push, Ring
from ucs.core.ids import AgentId, ClientId, LineId, QueueId
from ucs.virtual import VirtualCenter

__all__ = ["compare", "run"]

AGENTS = 1000
RATE = 200.0
TALK = 3.0
ANSWER_AFTER = 0.5


def _center(supervisors: int) -> VirtualCenter:
    n = AGENTS + supervisors
    lines = {LineId(i): LineConfig(LineId(i), f"phone{i}", f"{1000 + i}") for i in range(1, n + 1)}
    agents = {
        AgentId(i): AgentConfig(
            id=AgentId(i),
            username=f"agent{i}",
            memberships=(Membership(QueueId(1)),) if i <= AGENTS else (),
            superuser=i > AGENTS,
            lines=(LineId(i),),
        )
        for i in range(1, n + 1)
    }
    queue = QueueConfig(QueueId(1), "Support", QueueType.INCOMING, Strategy.LONGEST_IDLE, 15.0)
    directory = Directory(agents=agents, lines=lines, queues={QueueId(1): queue})
    return VirtualCenter(
        directory, start=1_800_000_000.0, passwords={f"agent{i}": "pw" for i in range(1, n + 1)}
    )


def run(supervisors: int, seconds: float) -> dict[str, Any]:
    vc = _center(supervisors)
    clients: dict[AgentId, ClientId] = {}
    for i in range(1, AGENTS + supervisors + 1):
        clients[AgentId(i)] = vc.agent_ready(f"agent{i}", "pw", f"phone{i}")
    todo: list[tuple[float, int, Callable[[], None]]] = []
    seq = itertools.count()
    client_of_line = {LineId(i): clients[AgentId(i)] for i in range(1, AGENTS + 1)}

    def react(start: int) -> None:
        for effect in vc.effects[start:]:
            if isinstance(effect, Ring) and effect.line in client_of_line:
                client = client_of_line[effect.line]
                heapq.heappush(todo, (vc.now + ANSWER_AFTER, next(seq), lambda c=client: answer(c)))

    def answer(client: ClientId) -> None:
        try:
            vc.call(client, "answer")
        except Exception:  # the caller went elsewhere meanwhile
            return
        heapq.heappush(todo, (vc.now + TALK, next(seq), lambda: hang_up(client)))

    def hang_up(client: ClientId) -> None:
        try:
            vc.call(client, "hangup")
        except Exception:
            return

    vc.effects.clear()
    pushed = {"n": 0, "bytes": 0, "bodies": 0, "cpu": 0.0}
    last: list[object] = [None, 0]

    def count(start: int) -> None:
        """Not the core's work: its CPU time is taken out of the figure."""
        t0 = time.process_time()
        for effect in vc.effects[start:]:
            if isinstance(effect, Push) and effect.type == "team.changed":
                pushed["n"] += 1
                if effect.body is not last[0]:  # the hub encodes a shared body once
                    last[:] = [effect.body, len(json.dumps(effect.body, separators=(",", ":")))]
                    pushed["bodies"] += 1
                pushed["bytes"] += int(last[1])  # type: ignore[call-overload]
        pushed["cpu"] += time.process_time() - t0

    cpu0 = time.process_time()
    end = vc.now + seconds
    next_call = vc.now
    calls = 0
    while vc.now < end:
        step = min(next_call, todo[0][0] if todo else end, end)
        mark = len(vc.effects)
        vc.advance(max(0.0, step - vc.now))
        if todo and todo[0][0] <= vc.now:
            heapq.heappop(todo)[2]()
        elif vc.now >= next_call:
            vc.caller(1, f"+42060{calls:07d}")
            calls += 1
            next_call += 1 / RATE
        react(mark)
        count(mark)
        if len(vc.effects) > 200_000:  # keep the run's memory flat
            del vc.effects[: len(vc.effects) - 1000]
            vc.inbox.clear()
    cpu = time.process_time() - cpu0 - pushed["cpu"]
    return {
        "supervisors": supervisors,
        "calls": calls,
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_call": round(1000 * cpu / max(calls, 1), 3),
        "team_pushes_per_s": round(pushed["n"] / seconds, 1),
        "team_bodies_encoded_per_s": round(pushed["bodies"] / seconds, 1),
        "team_push_kb_per_s": round(pushed["bytes"] / seconds / 1024, 1),
    }


def compare(seconds: float) -> dict[str, Any]:
    """The run without and with 50 supervisors, and the ratio of the core's CPU time."""
    plain = run(0, seconds)
    watched = run(50, seconds)
    ratio = watched["cpu_s"] / max(plain["cpu_s"], 1e-9)
    return {"plain": plain, "watched": watched, "cpu_ratio": round(ratio, 2)}


def main() -> int:
    print(json.dumps(compare(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
