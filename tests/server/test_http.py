"""Reports, metrics, health and the origin allow-list, over HTTP."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pytest

from tests.helpers import ready_agent
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def test_cdr_and_statistics_after_a_call(running: Running) -> None:
    op = await ready_agent(running.url, 2)
    try:
        events = op.events()
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.post("/api/sim/calls", json={"queue": 1, "from": "601 123 456"})
            uid = r.json()["uniqueid"]
            async with asyncio.timeout(5):
                async for e in events:
                    if e.type == "call" and e.what == "ringing":
                        break
            await op.answer()
            await op.set_account_code(uid, "SALES", "renewal")
            await op.hangup()
            await asyncio.to_thread(running.server.store.flush)
            cdr = (await http.get("/api/cdr")).json()
            assert [c["uniqueid"] for c in cdr] == [uid]
            record = cdr[0]
            assert record["cause"] == 4 and record["caller_number_norm"] == "+420601123456"
            assert record["account_codes"] == [
                {"accountCode": "SALES", "subAccountCode": "renewal"}
            ]
            text = (await http.get("/api/cdr", params={"format": "csv"})).text
            rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
            assert rows[0]["uniqueid"] == uid and "SALES" in rows[0]["account_codes"]
            agents = (await http.get("/api/stats/agents")).json()
            agent2 = next(u for u in agents if u["id"] == 2)
            assert agent2["in_calls_answered"] == 1 and agent2["status"] == "ACW"
            queues = {q["queue_id"]: q for q in (await http.get("/api/stats/queues")).json()}
            assert queues[1]["answered"] == 1 and queues[1]["waiting"] == 0
            assert queues[1]["logged_in"] == 1
            metrics = (await http.get("/metrics")).text
            assert "ucs_sessions 1.0" in metrics
            assert "ucs_agents_free 0.0" in metrics  # agent2 is in wrap-up
            assert "ucs_phones_registered" not in metrics  # the simulated switch does not tell
            assert 'ucs_command_seconds_count{method="answer"} 1.0' in metrics
    finally:
        await op.close()


async def test_reports_need_the_admin_token(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        for path in ("/api/cdr", "/api/stats/agents", "/api/stats/queues"):
            assert (await http.get(path)).status_code == 401
        bad = {"Authorization": "Bearer wrong"}
        assert (await http.get("/api/cdr", headers=bad)).status_code == 401
        assert (await http.get("/healthz")).json()["status"] == "ok"
        assert (await http.get("/api/openapi.json")).status_code == 200
        assert (await http.get("/api/cdr?limit=0", headers=ADMIN)).status_code == 422


async def test_cors_and_private_network_preflight_for_an_allowed_origin(running: Running) -> None:
    crm = "https://crm.example.com"
    async with httpx.AsyncClient(base_url=running.url) as http:
        r = await http.options(
            "/api/sim/calls",
            headers={
                "Origin": crm,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Private-Network": "true",
            },
        )
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == crm
        assert r.headers["access-control-allow-private-network"] == "true"
        r = await http.get("/healthz", headers={"Origin": crm})
        assert r.headers["access-control-allow-origin"] == crm


async def test_an_origin_not_on_the_list_is_refused(running: Running) -> None:
    from ucs.web.origins import OriginPolicy, own_origins

    policy = OriginPolicy(
        lambda *a: None,  # type: ignore[arg-type,return-value]
        ["https://crm.example.com"],
        own_origins("ucs.local", 8080),
    )
    scope = {"type": "http", "scheme": "http", "headers": [(b"host", b"rebind.evil:8080")]}
    assert policy.permits("https://crm.example.com", scope)
    assert policy.permits("http://ucs.local:8080", scope)  # the server's own pages
    assert not policy.permits("https://evil.example.com", scope)
    assert not policy.permits("http://rebind.evil:8080", scope)  # Host is not proof


async def test_the_api_docs_are_served_without_any_cdn(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        page = (await http.get("/api/docs")).text
        assert "/api/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            assert (await http.get(f"/api/docs/assets/{asset}")).status_code == 200
        spec = (await http.get("/api/openapi.json")).json()
        assert spec["paths"]["/api/lines"]["post"]["summary"] == "Create a line"
