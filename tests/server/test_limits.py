"""Limits on connections and requests (docs/security.md, "Bad input and overload"), through real
sockets against a server run as ``ucs serve`` runs it (``ucs.web.listener``), with the limits
lowered where the defaults would take seconds.

Every wait is bounded; nothing asserts how long something took. Where an answer must come
"before the body is sent", the body is simply never sent.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.server.conftest import Running, serving
from ucs.cli import app as cli

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}
WAIT = 10.0
"""Longest any step waits for the server (a bound, never an assertion)."""


def _port(running: Running) -> int:
    return int(running.url.rsplit(":", 1)[1])


async def _raw(running: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", _port(running))


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes the connection (reading whatever it sends first)."""
    async with asyncio.timeout(WAIT):
        while await reader.read(65536):
            pass
    return True


async def _status(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of an answer (its body to the end of the connection or its
    length)."""
    async with asyncio.timeout(WAIT):
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            None,
        )
        body = await reader.readexactly(length) if length is not None else await reader.read()
    return status, body


async def _ws(running: Running, hello: bool = True) -> ClientConnection:
    ws = await connect(running.url.replace("http", "ws") + "/ws", open_timeout=WAIT)
    if hello:
        await ws.send(json.dumps({"v": 1, "type": "hello"}))
        assert json.loads(await ws.recv())["type"] == "hello"
    return ws


async def _request(ws: ClientConnection, rid: str, method: str, *args: Any) -> dict[str, Any]:
    await ws.send(
        json.dumps({"v": 1, "type": "request", "id": rid, "method": method, "args": list(args)})
    )
    async with asyncio.timeout(WAIT):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg.get("id") == rid:
                return msg


async def _close_code(ws: ClientConnection) -> tuple[int, str]:
    """The code and reason the server closes ``ws`` with (reading what comes before)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(WAIT):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


# --- WebSockets ---------------------------------------------------------------------------------


async def test_a_socket_that_never_says_hello_is_closed_after_the_deadline(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, hello_timeout=0.5) as running:
        silent = await _ws(running, hello=False)
        polite = await _ws(running)
        code, reason = await _close_code(silent)
        assert code == 4408 and "hello" in reason
        # One that said hello stays, past the deadline.
        await polite.send(json.dumps({"v": 1, "type": "ping"}))
        assert json.loads(await polite.recv())["type"] == "pong"
        await polite.close()


async def test_connections_without_a_session_are_capped_per_address(tmp_path: Path) -> None:
    async with serving(tmp_path, pending_per_address=3) as running:
        first, second, third = [await _ws(running) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await _ws(running)
        assert refused.value.response.status_code == 429
        assert b"waiting to log in" in refused.value.response.body
        # Connections that log in no longer count: as many more may come.
        for n, ws in enumerate((first, second)):
            assert (await _request(ws, str(n), "login", "agent1", "agent1-pass"))["type"] == (
                "result"
            )
        fourth, fifth = await _ws(running), await _ws(running)
        with pytest.raises(InvalidStatus):
            await _ws(running)
        await fourth.close()
        await fifth.close()
        # A logout in one tab ends the session of both: both count again, the other one too
        # though it said nothing. With the third, the address is at its cap.
        await _request(first, "2", "logout")
        async with asyncio.timeout(WAIT):
            while json.loads(await second.recv())["type"] != "session.ended":
                pass
        with pytest.raises(InvalidStatus):
            await _ws(running)
        # Connections that go make room.
        await second.close()
        await (await _ws(running)).close()
        for ws in (first, third):
            await ws.close()


async def test_a_session_takes_only_so_many_connections(tmp_path: Path) -> None:
    async with serving(tmp_path, connections_per_session=2) as running:
        tabs = [await _ws(running) for _ in range(2)]
        token = ""
        for n, tab in enumerate(tabs):
            token = (await _request(tab, str(n), "login", "agent1", "agent1-pass"))["result"][
                "token"
            ]
        # A third login is refused with a clear code, and the socket closed; no token.
        third = await _ws(running)
        answer = await _request(third, "9", "login", "agent1", "agent1-pass")
        assert answer["type"] == "error" and answer["code"] == "TOO_MANY_CONNECTIONS"
        assert "2 connections" in answer["message"]
        assert (await _close_code(third))[0] == 4429
        # A third resume with a valid token: closed before it joins.
        resumer = await _ws(running, hello=False)
        await resumer.send(json.dumps({"v": 1, "type": "hello", "resume": {"session": token}}))
        code, reason = await _close_code(resumer)
        assert code == 4429 and "2 connections" in reason
        session = running.server.center.sessions[next(iter(running.server.center.sessions))]
        assert len(session.clients) == 2
        # The two tabs work on; once one goes, another may join.
        await tabs[0].send(json.dumps({"v": 1, "type": "ping"}))
        assert json.loads(await tabs[0].recv())["type"] == "pong"
        await tabs[1].close()
        again = await _ws(running)
        assert (await _request(again, "11", "login", "agent1", "agent1-pass"))["type"] == "result"
        for ws in (tabs[0], again):
            await ws.close()


async def test_call_data_over_16_kib_is_refused_by_dial(running: Running) -> None:
    ws = await _ws(running)
    for rid, (method, *args) in enumerate(
        (("login", "agent1", "agent1-pass"), ("selectIdentifier", "phone1"), ("provision",))
    ):
        assert (await _request(ws, str(rid), method, *args))["type"] == "result"
    big = {"crm": "x" * (16 * 1024)}
    answer = await _request(ws, "d", "dial", "+420601123456", None, None, big)
    assert answer["code"] == "INVALID_ARGUMENT" and "16384 bytes" in answer["message"]
    assert not running.server.center.calls
    await ws.close()


# --- HTTP: heads --------------------------------------------------------------------------------


async def test_a_request_head_that_does_not_arrive_in_time_is_closed(tmp_path: Path) -> None:
    async with serving(tmp_path, head_timeout=0.5, keep_alive=60) as running:
        half, half_writer = await _raw(running)
        half_writer.write(b"GET /healthz HT")
        silent, silent_writer = await _raw(running)
        kept, kept_writer = await _raw(running)
        kept_writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await _status(kept))[0] == 200
        kept_writer.write(b"GET /healthz HTTP/1.1\r\nHo")  # the next head, half sent
        assert await _closed(half) and await _closed(silent) and await _closed(kept)
        for writer in (half_writer, silent_writer, kept_writer):
            writer.close()


async def test_connections_without_a_request_head_are_capped_per_address(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, pending_per_address=3, head_timeout=60) as running:
        waiting = [await _raw(running) for _ in range(3)]
        extra, extra_writer = await _raw(running)
        assert await _closed(extra)  # at once: the head deadline is a minute away
        # Those that send their request are answered; the address has room again.
        for _, writer in waiting:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for reader, _ in waiting:
            assert (await _status(reader))[0] == 200
        async with httpx.AsyncClient(base_url=running.url) as http:
            assert (await http.get("/healthz")).status_code == 200
        for _, writer in [*waiting, (extra, extra_writer)]:
            writer.close()


async def test_a_huge_request_head_is_refused(tmp_path: Path) -> None:
    async with serving(tmp_path) as running:
        reader, writer = await _raw(running)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        status, _ = await _status(reader)
        assert status in (400, 431)
        assert await _closed(reader)
        writer.close()


# --- HTTP: bodies -------------------------------------------------------------------------------


def _post_head(path: str, length: int | None, token: bool) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Content-Type: application/json"]
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    if token:
        lines.append(f"Authorization: {ADMIN['Authorization']}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_huge_body_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    async with serving(tmp_path) as running:
        # 60 MB announced, not one byte of it sent: without the token 401, with it 413.
        for token, expected in ((False, 401), (True, 413)):
            reader, writer = await _raw(running)
            writer.write(_post_head("/api/sim/calls", 60_000_000, token))
            status, body = await _status(reader)
            assert status == expected, body
            assert await _closed(reader)
            writer.close()
        # Sent in chunks: refused once past 1 MiB, without waiting for the rest.
        reader, writer = await _raw(running)
        writer.write(_post_head("/api/sim/calls", None, True))
        chunk = b"[" * 65536
        for _ in range(20):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, body = await _status(reader)
        assert status == 413 and b"1048576 bytes" in body
        writer.close()
        assert not running.server.center.calls


async def test_body_limits_are_per_route_prefix_and_a_slow_body_times_out(tmp_path: Path) -> None:
    limits = {"body_limits": (("/api/sim/", 1000),), "body_timeout": 0.5}
    async with serving(tmp_path, **limits) as running:
        padded = json.dumps({"queue": 1, "from": "+420601123456", "name": "x" * 1000}).encode()
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.post("/api/sim/calls", content=padded)
            assert r.status_code == 413
            agent = {"username": "padded", "password": "p" * 200, "firstname": "x" * 100}
            r = await http.post("/api/agents", content=json.dumps({**agent, "lastname": "y" * 900}))
            assert r.status_code == 422  # past the parser: the default limit applies here
        reader, writer = await _raw(running)
        writer.write(_post_head("/api/agents", 100, True) + b'{"username": ')
        status, body = await _status(reader)
        assert status == 408, body
        writer.close()


async def test_data_over_16_kib_is_refused_and_nothing_is_stored(running: Running) -> None:
    big = {"crm": "x" * (16 * 1024)}
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "601123456", "data": big})
        assert r.status_code == 422 and "16384 bytes" in r.text
        assert not running.server.center.calls
        before = (await http.get("/api/agents/1")).json()
        r = await http.patch("/api/agents/1", json={"data": big, "firstname": "Changed"})
        assert r.status_code == 422
        assert (await http.get("/api/agents/1")).json() == before
        fits = {"crm": "x" * (16 * 1024 - 20)}
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "601123456", "data": fits})
        assert r.status_code == 201


async def test_a_refusal_never_echoes_a_huge_input(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        for path, body in (
            ("/api/sim/calls", {"queue": 1, "from": "601123456", "name": "n" * 900_000}),
            ("/api/aux-reasons", {"reasons": ["r" * 1000] * 500}),
            ("/api/agents", {"username": "u" * 500_000, "password": "p"}),
            ("/api/sim/calls", {"queue": 1, "from": "1", "data": list(range(100_000))}),
        ):
            r = await http.request(
                "PUT" if "reasons" in path else "POST", path, json=body, timeout=WAIT
            )
            assert r.status_code == 422, r.text[:200]
            assert len(r.content) < 4096, (path, len(r.content))
            json.loads(r.text)  # strict JSON


# --- call records -------------------------------------------------------------------------------


async def _records(running: Running, calls: list[dict[str, Any]]) -> list[str]:
    """Make a finished call of each body; their uniqueids, in order."""
    uids = []
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        for body in calls:
            uid = (await http.post("/api/sim/calls", json=body)).json()["uniqueid"]
            assert (await http.post(f"/api/sim/calls/{uid}/hangup")).status_code == 204
            uids.append(uid)
    await asyncio.to_thread(running.server.store.flush)
    return uids


async def test_the_cdr_comes_in_pages_and_its_csv_runs_no_formula(running: Running) -> None:
    caller = {"queue": 1, "from": "+420601123456"}
    calls = [{**caller, "name": f"caller {n}"} for n in range(203)]
    calls[1]["name"] = '=HYPERLINK("http://evil.example","x")'
    calls[2]["name"] = "@SUM(1+1)"
    uids = await _records(running, calls)
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN, timeout=WAIT) as http:
        # One page holds at most 10,000 records, 1000 unless asked; a long one comes whole.
        assert (await http.get("/api/cdr", params={"limit": 10_001})).status_code == 422
        whole = (await http.get("/api/cdr", params={"limit": 10_000})).json()
        assert [r["uniqueid"] for r in whole] == uids
        assert [r["uniqueid"] for r in (await http.get("/api/cdr")).json()] == uids
        paged: list[str] = []
        while page := (
            await http.get("/api/cdr", params={"limit": 90, "offset": len(paged)})
        ).json():
            paged += [r["uniqueid"] for r in page]
        assert paged == uids
        text = (await http.get("/api/cdr", params={"format": "csv", "limit": 5})).text
        assert text.startswith("\ufeff")  # the byte-order mark, once
        rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
        assert [r["uniqueid"] for r in rows] == uids[:5]
        assert rows[1]["caller_name"] == "'" + calls[1]["name"]
        assert rows[2]["caller_name"] == "'@SUM(1+1)"
        assert rows[0]["caller_name"] == "caller 0"
        assert rows[0]["caller_number"] == "'+420601123456"
        assert whole[1]["caller_name"] == calls[1]["name"]  # JSON as it was


async def test_ucs_cdr_fetches_page_after_page(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ucs.web.api.reports

    uids = await _records(running, [{"queue": 1, "from": "+420601123456"}] * 5)
    monkeypatch.setattr(ucs.web.api.reports, "MAX_PAGE", 2)  # the command's page size
    url = ["--url", running.url]
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["cdr", "--csv", "--limit", "4", "--offset", "1", *url]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("\ufeff") == 1  # one header, one byte-order mark
    assert [r["uniqueid"] for r in _csv(result.output)] == uids[1:5]
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["cdr", "--csv", "--limit", "9", *url]
    )
    assert [r["uniqueid"] for r in _csv(result.output)] == uids


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
