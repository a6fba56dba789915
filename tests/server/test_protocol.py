"""The operator protocol on the wire: ids, retries, bad messages, resume, slow connections."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.server.conftest import Running
from ucs.core.effects import Push
from ucs.core.ids import AgentId, ClientId
from ucs.web.hub import Connection, Hub

pytestmark = pytest.mark.anyio


async def _ws(running: Running) -> ClientConnection:
    ws = await connect(running.url.replace("http", "ws") + "/ws")
    await ws.send(json.dumps({"v": 1, "type": "hello"}))
    hello = json.loads(await ws.recv())
    assert hello == {"v": 1, "type": "hello", "protocol": 1, "resumed": False}
    return ws


async def _answer(ws: ClientConnection, rid: str) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg.get("id") == rid:
                return msg


async def _request(ws: ClientConnection, rid: str, method: str, *args: Any) -> dict[str, Any]:
    await ws.send(
        json.dumps({"v": 1, "type": "request", "id": rid, "method": method, "args": list(args)})
    )
    return await _answer(ws, rid)


async def test_a_retried_request_is_answered_again_but_carried_out_once(running: Running) -> None:
    ws = await _ws(running)
    await _request(ws, "1", "login", "agent1", "agent1-pass")
    await _request(ws, "2", "selectIdentifier", "phone1")
    await _request(ws, "3", "provision")
    first = await _request(ws, "4", "dial", "+420601123456")
    again = await _request(ws, "4", "dial", "+420601123456")
    assert first == again and first["type"] == "result"
    assert len(running.server.center.calls) == 1
    refused = await _request(ws, "5", "dial", "+420601123456")
    assert refused["code"] == "INVALID_STATE"
    await ws.close()


async def test_malformed_messages_get_clear_errors_and_the_connection_lives_on(
    running: Running,
) -> None:
    ws = await _ws(running)
    for bad in (
        "not json",
        "[1, 2]",
        json.dumps({"type": "shout"}),
        json.dumps({"type": "request", "method": "login"}),
        json.dumps({"type": "request", "id": "9", "method": 5}),
        "x" * 70_000,
    ):
        await ws.send(bad)
        msg = json.loads(await ws.recv())
        assert msg["type"] == "error" and msg["code"] == "INVALID_ARGUMENT", bad[:40]
    unknown = await _request(ws, "10", "selfDestruct")
    assert unknown["code"] == "INVALID_ARGUMENT" and "selfDestruct" in unknown["message"]
    wrong = await _request(ws, "11", "login", "agent1", 42)
    assert wrong["code"] == "INVALID_ARGUMENT"
    await ws.send(json.dumps({"v": 1, "type": "ping"}))
    assert json.loads(await ws.recv())["type"] == "pong"
    await ws.close()


async def test_resume_with_an_unknown_token_ends_the_session(running: Running) -> None:
    ws = await connect(running.url.replace("http", "ws") + "/ws")
    await ws.send(json.dumps({"v": 1, "type": "hello", "resume": {"session": "nope", "seq": 3}}))
    assert json.loads(await ws.recv())["resumed"] is False
    assert json.loads(await ws.recv())["type"] == "session.ended"
    await ws.close()


async def test_resume_replays_what_the_connection_missed(running: Running) -> None:
    ws = await _ws(running)
    login = await _request(ws, "1", "login", "agent3", "agent3-pass")
    token = login["result"]["token"]
    await _request(ws, "2", "selectIdentifier", "phone3")
    await _request(ws, "3", "provision")
    seq = max(running.server.hub.seq.values())
    await ws.close()
    other = await _ws(running)
    await _request(other, "1", "login", "agent3", "agent3-pass")
    await _request(other, "2", "changeStatus", "AUX", "Training")
    await other.close()
    back = await connect(running.url.replace("http", "ws") + "/ws")
    await back.send(json.dumps({"v": 1, "type": "hello", "resume": {"session": token, "seq": seq}}))
    assert json.loads(await back.recv())["resumed"] is True
    seen = []
    async with asyncio.timeout(5):
        while True:
            msg = json.loads(await back.recv())
            seen.append(msg)
            if msg["type"] == "session.joined":
                break
    replayed = [m["seq"] for m in seen if "seq" in m]
    assert replayed == list(range(seq + 1, seq + 1 + len(replayed))) and replayed
    assert any(m["type"] == "user.changed" and m["user"]["status"] == "AUX" for m in seen)
    assert seen[-1]["session"]["status"] == "AUX"
    await back.close()


def test_a_slow_connection_is_closed_and_never_holds_up_the_others() -> None:
    clients = {AgentId(1): [ClientId(1), ClientId(2)]}

    async def scenario() -> None:
        hub = Hub(lambda agent: clients[agent], queue_limit=5)
        slow, quick = hub.open(), hub.open()
        for n in range(20):
            hub.deliver(Push(AgentId(1), "user.changed", {"n": n}))
            while not quick.queue.empty():
                quick.queue.get_nowait()
        assert slow.closed and slow.overflowed
        assert not quick.closed
        assert hub.missed(AgentId(1), hub.current(AgentId(1)) - 5) is not None

    asyncio.run(scenario())


def test_one_body_pushed_to_many_agents_is_sent_as_each_push_alone_would_be() -> None:
    clients = {AgentId(n): [ClientId(n)] for n in range(1, 4)}

    async def scenario() -> None:
        hub = Hub(lambda agent: clients[agent])
        conns = [hub.open() for _ in range(3)]
        shared = {"queues": [{"queue_id": 1, "name": "Žluťoučký"}], "agents": []}
        for n in (1, 2, 3, 3):
            hub.deliver(Push(AgentId(n), "team.changed", shared))
        hub.deliver(Push(AgentId(3), "team.changed", {"queues": [], "agents": [1]}))
        hub.deliver(Push(AgentId(3), "x", {"seq": "mine", "nan": float("nan")}))
        sent = [json.loads(t) for c in conns for t in _drain(c)]
        assert [m["seq"] - hub.base for m in sent[:5]] == [1, 1, 1, 2, 3]
        for m in sent[:4]:
            assert m == {"v": 1, "type": "team.changed", "seq": m["seq"], **shared}
        assert sent[4]["agents"] == [1]
        assert (sent[5]["seq"], sent[5]["nan"]) == ("mine", None)  # as a plain encode has it

    asyncio.run(scenario())


def _drain(conn: Connection) -> list[str]:
    texts = []
    while not conn.queue.empty():
        text = conn.queue.get_nowait()
        assert text is not None
        texts.append(text)
    return texts


async def test_passwords_are_checked_off_the_loop_and_not_kept(running: Running) -> None:
    calls: list[str] = []
    original = running.server._verify

    def spy(stored: str, password: str) -> bool:
        import threading

        calls.append(threading.current_thread().name)
        return original(stored, password)

    running.server._verify = spy  # type: ignore[method-assign]
    ws = await _ws(running)
    wrong = await _request(ws, "1", "login", "agent1", "nope")
    assert wrong["code"] == "UNAUTHORIZED"
    right = await _request(ws, "2", "login", "agent1", "agent1-pass")
    assert right["type"] == "result"
    assert len(calls) == 2 and all(name != "MainThread" for name in calls)
    assert running.server._verified == {}
    await ws.close()


async def test_retries_after_a_reconnect_are_not_carried_out_twice(running: Running) -> None:
    ws = await _ws(running)
    login = await _request(ws, "1", "login", "agent1", "agent1-pass")
    token = login["result"]["token"]
    await _request(ws, "2", "selectIdentifier", "phone1")
    await _request(ws, "3", "provision")
    first = await _request(ws, "4", "dial", "+420601123456")
    await ws.close()
    back = await connect(running.url.replace("http", "ws") + "/ws")
    await back.send(json.dumps({"v": 1, "type": "hello", "resume": {"session": token, "seq": 0}}))
    again = await _request(back, "4", "dial", "+420601123456")
    assert again == first and len(running.server.center.calls) == 1
    other_tab = await _ws(running)
    await _request(other_tab, "1", "login", "agent1", "agent1-pass")
    own = await _request(other_tab, "4", "state")  # the same id in another tab is its own
    assert own["type"] == "result" and own["result"]["state"] == "READY"
    await back.close()
    await other_tab.close()


async def test_a_deleted_agents_token_opens_nothing(running: Running) -> None:
    import httpx

    admin = {"Authorization": "Bearer demo-admin-token"}
    async with httpx.AsyncClient(base_url=running.url, headers=admin) as http:
        r = await http.post("/api/agents", json={"username": "temp", "password": "temp-pass"})
        temp = r.json()["id"]
        ws = await _ws(running)
        token = (await _request(ws, "1", "login", "temp", "temp-pass"))["result"]["token"]
        await ws.close()
        assert (await http.delete(f"/api/agents/{temp}")).status_code == 204
        r = await http.post("/api/agents", json={"username": "newhire", "password": "newhire-pass"})
        assert r.json()["id"] != temp  # ids are never reused
    back = await connect(running.url.replace("http", "ws") + "/ws")
    await back.send(json.dumps({"v": 1, "type": "hello", "resume": {"session": token, "seq": 0}}))
    assert json.loads(await back.recv())["resumed"] is False
    await back.close()


async def test_a_flood_is_refused_and_others_are_not_slowed(running: Running) -> None:
    flood = await _ws(running)
    calm = await _ws(running)
    ping = json.dumps({"v": 1, "type": "ping"})
    for _ in range(260):
        await flood.send(ping)
    answers = []
    async with asyncio.timeout(5):
        while len(answers) < 260:
            answers.append(json.loads(await flood.recv())["type"])
    assert answers.count("pong") >= 190 and "error" in answers  # the burst, then refusals
    await calm.send(ping)
    assert json.loads(await calm.recv())["type"] == "pong"
    await flood.close()
    await calm.close()
