"""The recordings' index (``ucs.storage.recordings``) on SQLite and PostgreSQL: a recording
names every agent of its call, and the agent filter finds it by any of them, by the exact
username (``_`` and ``%`` are not wildcards; an index row from before migration 0017 has its
first agent only)."""

from __future__ import annotations

from ucs.storage import recordings as index
from ucs.storage.schema import agents_cell
from ucs.storage.store import Store


def _row(uid: str, agents: list[tuple[int, str]] | None, start: float) -> dict[str, object]:
    first = agents[0] if agents else (9, "old_agent")
    return {
        "uniqueid": uid,
        "agent_id": first[0],
        "agent": first[1],
        "agents": agents_cell(agents) if agents is not None else None,
        "queue_id": 1,
        "start": start,
        "seconds": 10.0,
        "bytes": 320_044,
        "path": f"{uid}.wav",
    }


def test_the_agent_filter_finds_a_recording_by_any_of_its_agents(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    engine = store.engine
    index.save(engine, _row("1.1", [(1, "agent_1"), (3, "carol%")], 100.0))
    index.save(engine, _row("1.2", [(2, "agentX1")], 200.0))
    index.save(engine, _row("1.3", None, 300.0))  # indexed before migration 0017

    def found(agent: str) -> list[str]:
        return [str(r["uniqueid"]) for r in index.search(engine, agent=agent)]

    assert found("agent_1") == ["1.1"]
    assert found("carol%") == ["1.1"]
    assert found("agentX1") == ["1.2"]
    assert found("old_agent") == ["1.3"]
    assert found("carol") == [] and found("agent") == [] and found("%") == []
    rows = index.search(engine)
    assert [index.names(r) for r in rows] == [["agent_1", "carol%"], ["agentX1"], ["old_agent"]]
    engine.dispose()
