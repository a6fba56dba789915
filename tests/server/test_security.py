"""Access: what is protected, tried from outside through the server's sockets.

The admin token, made at the first start, goes to a file readable by its owner alone and never
to the log; the database keeps only digests of bearer tokens; no password, SSO token, session
token or secret appears in anything the server prints; the origin allow-list holds for HTTP and
WebSocket; one agent can neither see nor touch another's calls; the server sets no cookie.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.helpers import free_port
from tests.server.conftest import Running
from ucs.client import Operator, OperatorError
from ucs.core.sso import make_token

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


class Process:
    """``ucs serve`` in a child process, its output (the log) kept."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "server.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("UCS_")}
        cmd = [sys.executable, "-m", "ucs.cli", "serve", "--port", str(self.port), *args]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env={**environ, "PYTHONUNBUFFERED": "1", "UCS_MEDIA": "off", **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("the server did not start: " + self.output())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[Process]:
    p = Process(tmp_path, "--demo", "--access-log", "--db", f"sqlite:///{tmp_path}/ucs.db")
    yield p
    p.stop()


def _database_bytes(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))


async def test_a_new_admin_token_goes_to_a_private_file_and_only_its_digest_is_stored(
    tmp_path: Path,
) -> None:
    db = tmp_path / "fresh.db"
    server = Process(tmp_path, "--db", f"sqlite:///{db}")
    try:
        token_file = tmp_path / "ucs-admin-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32
        async with httpx.AsyncClient(base_url=server.url) as http:
            ok = await http.get("/api/agents", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200
            for wrong in ("", "Bearer demo-admin-token", f"Bearer {token[:-1]}", token):
                refused = await http.get("/api/agents", headers={"Authorization": wrong})
                assert refused.status_code == 401, wrong
        assert str(token_file) in server.output()
    finally:
        server.stop()
    assert token not in server.output()
    assert token.encode() not in _database_bytes(db)
    # The next start keeps the same token (by its digest) and writes no new file.
    token_file.unlink()
    again = Process(tmp_path, "--db", f"sqlite:///{db}")
    try:
        assert not token_file.exists()
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=again.url, headers=headers) as http:
            assert (await http.get("/api/agents")).status_code == 200
    finally:
        again.stop()
    assert "GET /api/agents" not in again.output()  # no access log unless --access-log


async def test_no_password_token_or_secret_reaches_the_log_or_the_database(
    demo_process: Process, tmp_path: Path
) -> None:
    url = demo_process.url
    sso_token = make_token("demo-sso-secret", "agent2", int(time.time()))
    async with Operator(url, reconnect=False) as op:
        welcome = await op.login("agent1", "agent1-pass")
        session_token = welcome["token"]
        await op.logout()
        with pytest.raises(OperatorError):
            await op.login("agent1", "Wrong-Password-123")
        with pytest.raises(OperatorError):
            await op.login("nobody", "Nobody-Password-456")
    async with Operator(url, reconnect=False) as op:
        sso_welcome = await op.sso("agent2", sso_token)
    async with httpx.AsyncClient(base_url=url, headers=ADMIN) as http:
        made = await http.post(
            "/api/agents",
            json={"username": "newbie", "password": "Newbie-Secret-789", "lines": [4]},
        )
        assert made.status_code == 201, made.text
        assert "Newbie-Secret-789" not in made.text and "argon2" not in made.text
        listed = (await http.get("/api/agents")).text
        assert "argon2" not in listed and "password" not in listed
    await asyncio.sleep(0.3)  # the writer commits
    demo_process.stop()
    log = demo_process.output()
    assert "POST /api/agents" in log  # the log is there, and it is the access log
    stored = _database_bytes(tmp_path / "ucs.db")
    secrets = [
        "agent1-pass",
        "Wrong-Password-123",
        "Nobody-Password-456",
        "Newbie-Secret-789",
        sso_token,
        session_token,
        sso_welcome["token"],
        "demo-admin-token",
        "demo-sso-secret",
    ]
    for secret in secrets:
        assert secret not in log, secret
    for secret in secrets[:-1]:  # the SSO secret is kept: it signs the CRM's tokens
        assert secret.encode() not in stored, secret


async def _ws_refused(url: str, origin: str) -> bool:
    try:
        async with connect(url.replace("http", "ws") + "/ws", origin=origin) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"v": 1, "type": "hello"}))
            await ws.recv()
            return False
    except InvalidStatus as err:
        assert err.response.status_code == 403
        return True


async def test_the_origin_allow_list_holds_for_http_and_websocket(tmp_path: Path) -> None:
    server = Process(
        tmp_path,
        "--db",
        f"sqlite:///{tmp_path}/ucs.db",
        UCS_ALLOWED_ORIGINS="https://crm.example.com",
        UCS_ADMIN_TOKEN="an-admin-token-for-this-test",
    )
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            evil = await http.get("/operator/operator.js", headers={"Origin": "https://evil.test"})
            assert evil.status_code == 403
            assert "access-control-allow-origin" not in evil.headers
            good = await http.get(
                "/operator/operator.js", headers={"Origin": "https://crm.example.com"}
            )
            assert good.status_code == 200
            assert good.headers["access-control-allow-origin"] == "https://crm.example.com"
            own = await http.get("/operator/operator.js", headers={"Origin": server.url})
            assert own.status_code == 200
        assert await _ws_refused(server.url, "https://evil.test")
        assert await _ws_refused(server.url, "null")
        assert not await _ws_refused(server.url, "https://crm.example.com")
    finally:
        server.stop()


async def _ready(url: str, user: str, phone: str) -> Operator:
    op = Operator(url, reconnect=False)
    await op.__aenter__()
    await op.login(user, f"{user}-pass")
    await op.select_identifier(phone)
    await op.provision()
    await op.change_status("READY")
    return op


async def test_an_agent_can_neither_see_nor_touch_another_agents_call(running: Running) -> None:
    # agent3 is in Sales only, agent2 in Support only: a Sales call rings agent3 (and agent1,
    # who is not logged in), never agent2.
    a3 = await _ready(running.url, "agent3", "phone3")
    a2 = await _ready(running.url, "agent2", "phone2")
    try:
        seen2 = a2.events()
        ringing = a3.events()
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601555555"})
            uid = r.json()["uniqueid"]
        async with asyncio.timeout(5):
            async for e in ringing:
                if e.type == "call" and e.what == "ringing":
                    break
        await a3.answer()
        state2 = await a2.state()
        assert state2["calls"] == [] and state2["call"] is None
        for method, args in (
            ("answer", ()),
            ("hangup", ()),
            ("hold", ()),
            ("blind_transfer", ("1002",)),
            ("set_account_code", (uid, "STOLEN")),
        ):
            with pytest.raises(OperatorError) as err:
                await getattr(a2, method)(*args)
            assert err.value.code in {"INVALID_STATE", "INVALID_ARGUMENT", "NOT_FOUND"}, (
                method,
                err.value.code,
            )
        state3 = await a3.state()
        assert state3["call"]["uniqueid"] == uid and state3["call"]["state"] == 3
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            await http.post(f"/api/sim/calls/{uid}/hangup")
        await asyncio.sleep(0.3)
        pending: list[Any] = []
        while True:
            try:
                async with asyncio.timeout(0.2):
                    pending.append(await seen2.__anext__())
            except TimeoutError:
                break
        assert all(uid not in json.dumps(e.data, default=str) for e in pending)
    finally:
        await a2.__aexit__(None, None, None)
        await a3.__aexit__(None, None, None)
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        codes = [c for r in (await http.get("/api/cdr")).json() for c in r["account_codes"]]
        assert "STOLEN" not in json.dumps(codes)


async def test_no_route_sets_a_cookie(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        spec = (await http.get("/api/openapi.json")).json()
        paths = [p for p, ops in spec["paths"].items() if "get" in ops and "{" not in p]
        paths += ["/", "/operator/", "/operator/operator.js", "/demo/crm/", "/healthz", "/metrics"]
        for path in paths:
            r = await http.get(path)
            assert r.status_code < 500, path
            assert "set-cookie" not in r.headers, path
        async with Operator(running.url, reconnect=False) as op:
            await op.login("agent1", "agent1-pass")
        assert not http.cookies


async def test_failed_logins_lock_that_username_alone(running: Running) -> None:
    async with Operator(running.url, reconnect=False) as op:
        codes = []
        for _ in range(6):
            with pytest.raises(OperatorError) as err:
                await op.login("agent1", "guess")
            codes.append(err.value.code)
        assert codes == ["UNAUTHORIZED"] * 5 + ["TOO_MANY_ATTEMPTS"]
        with pytest.raises(OperatorError) as err:  # even the right password, for a while
            await op.login("agent1", "agent1-pass")
        assert err.value.code == "TOO_MANY_ATTEMPTS"
        welcome = await op.login("agent2", "agent2-pass")  # same connection, another user
        assert welcome["user"]["id"] == 2


async def test_an_unknown_username_costs_the_same_hashing_as_a_wrong_password(
    running: Running,
) -> None:
    server = running.server
    hashed: list[str] = []
    verify = server._verify

    def counting(stored: str, password: str) -> bool:
        hashed.append(stored)
        return verify(stored, password)

    server._verify = counting  # type: ignore[method-assign]
    async with Operator(running.url, reconnect=False) as op:
        for username in ("nobody-at-all", "agent1"):
            with pytest.raises(OperatorError) as err:
                await op.login(username, "not-the-password")
            assert err.value.code == "UNAUTHORIZED"
    assert len(hashed) == 2 and all(h.startswith("$argon2id$") for h in hashed), hashed


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/agents", '{"username": "x\\ud800", "password": "p"}'),
        ("/api/agents", '{"username": "surrogate", "password": "\\ud800"}'),
        ("/api/sim/calls", '{"queue": 1, "from": "+420601123456", "name": "\\udfff"}'),
        ("/api/sim/calls", '{"queue": 1, "from": "+420601123456", "data": {"x": NaN}}'),
        ("/api/sim/calls", '{"queue": 1, "from": "+420601123456", "data": {"x": 1e400}}'),
        ("/api/sim/calls", '{"queue": 1, "from": "1", "data": ' + "[" * 40 + "]" * 40 + "}"),
    ],
)
async def test_rest_bodies_that_are_not_plain_json_are_refused_and_change_nothing(
    running: Running, path: str, body: str
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        before = ((await http.get("/api/agents")).json(), (await http.get("/api/cdr")).json())
        r = await http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        json.loads(r.text)  # strict JSON, whatever the body carried
        assert not running.server.center.calls
        after = ((await http.get("/api/agents")).json(), (await http.get("/api/cdr")).json())
        assert after == before


async def test_logging_in_again_and_again_keeps_only_the_newest_tokens(running: Running) -> None:
    from ucs.runtime.tokens import MAX_PER_AGENT

    tokens = []
    for _ in range(MAX_PER_AGENT + 4):
        async with Operator(running.url, reconnect=False) as op:
            tokens.append((await op.login("agent1", "agent1-pass"))["token"])

    async def resumes(token: str) -> bool:
        async with connect(running.url.replace("http", "ws") + "/ws") as ws:
            await ws.send(json.dumps({"v": 1, "type": "hello", "resume": {"session": token}}))
            return bool(json.loads(await ws.recv()).get("resumed"))

    assert [await resumes(t) for t in tokens[:4]] == [False] * 4
    assert all([await resumes(t) for t in tokens[4:]])
    await asyncio.sleep(0.3)  # the writer commits
    assert len(running.server.store.tokens()) == MAX_PER_AGENT
