"""The call records as a spreadsheet opens them (issue 17, item 12): a byte-order mark, ISO
8601 times, durations, cause names, true/false, no formulas; filters by agent and by ISO dates."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.helpers import ready_agent
from tests.server.conftest import Running
from ucs.client import Operator

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _answered_and_abandoned(running: Running, http: httpx.AsyncClient) -> tuple[str, str]:
    """agent3 (queue 2 alone) answers a caller named like a formula and hangs up; then a
    caller to queue 1, where nobody is ready, gives up. Their uniqueids."""
    op = await ready_agent(running.url, 3)
    try:
        events = op.events()
        body = {"queue": 2, "from": "+420601123456", "name": '=HYPERLINK("http://x.test","y")'}
        answered = (await http.post("/api/sim/calls", json=body)).json()["uniqueid"]
        async with asyncio.timeout(10):
            async for e in events:
                if e.type == "call" and e.what == "ringing":
                    break
        await op.answer()
        await op.hangup()
    finally:
        await op.close()
    body = {"queue": 1, "from": "+420601999888", "name": "Nováková"}
    abandoned = (await http.post("/api/sim/calls", json=body)).json()["uniqueid"]
    assert (await http.post(f"/api/sim/calls/{abandoned}/hangup")).status_code == 204
    await asyncio.to_thread(running.server.store.flush)
    return answered, abandoned


def _rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_the_csv_opens_well_in_a_spreadsheet_and_runs_no_formula(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        answered, abandoned = await _answered_and_abandoned(running, http)
        r = await http.get("/api/cdr", params={"format": "csv"})
        assert r.headers["content-type"].startswith("text/csv")
        rows = {row["uniqueid"]: row for row in _rows(r.content)}
        records = {c["uniqueid"]: c for c in (await http.get("/api/cdr")).json()}
    talk, gone = rows[answered], rows[abandoned]
    record = records[answered]
    # ISO 8601 times with the offset, the same moments as the JSON's Unix seconds.
    for key in ("created", "connected", "disconnected"):
        assert datetime.fromisoformat(talk[key]).timestamp() == pytest.approx(record[key], abs=1)
        assert datetime.fromisoformat(talk[key]).utcoffset() is not None
    assert gone["connected"] == ""  # never answered
    # Durations in whole seconds that add up.
    assert int(talk["wait_seconds"]) + int(talk["talk_seconds"]) in (
        int(talk["duration_seconds"]),
        int(talk["duration_seconds"]) + 1,
        int(talk["duration_seconds"]) - 1,
    )
    assert gone["talk_seconds"] == "" and gone["wait_seconds"] == gone["duration_seconds"]
    # Causes by number and by name; booleans as true/false.
    assert (talk["cause"], talk["cause_name"]) == ("4", "called_hangup")
    assert (gone["cause"], gone["cause_name"]) == ("3", "caller_hangup")
    assert talk["recorded"] == "false" and talk["caller_internal"] == "false"
    assert talk["connected_internal"] == "true"
    # No formula: the caller's name and number are text; the JSON keeps them as they were.
    assert talk["caller_name"] == "'" + record["caller_name"]
    assert talk["caller_number"] == "'+420601123456"
    assert gone["caller_name"] == "Nováková"
    assert record["caller_name"].startswith("=")
    assert talk["connected_username"] == "agent3"


async def test_records_filtered_by_agent_and_by_iso_dates(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        answered, abandoned = await _answered_and_abandoned(running, http)
        everything = [c["uniqueid"] for c in (await http.get("/api/cdr")).json()]
        assert everything == [answered, abandoned]
        mine = (await http.get("/api/cdr", params={"agent": 3})).json()
        assert [c["uniqueid"] for c in mine] == [answered]
        r = await http.get("/api/cdr", params={"agent": 3, "format": "csv"})
        assert [row["uniqueid"] for row in _rows(r.content)] == [answered]
        assert (await http.get("/api/cdr", params={"agent": 1})).json() == []
        # ISO dates and times, in the server's time zone or with an offset, and Unix seconds.
        today = datetime.now(UTC).date()
        tomorrow = today + timedelta(days=1)
        for since, until in (
            (today.isoformat(), tomorrow.isoformat()),
            (f"{today}T00:00:00+00:00", f"{tomorrow}T00:00Z"),
            ("0", str(datetime.now(UTC).timestamp() + 60)),
        ):
            r = await http.get("/api/cdr", params={"since": since, "until": until})
            assert [c["uniqueid"] for c in r.json()] == everything, (since, until)
        r = await http.get("/api/cdr", params={"since": tomorrow.isoformat()})
        assert r.json() == []
        r = await http.get("/api/cdr", params={"until": today.isoformat()})
        assert r.json() == []
        for bad in ("yesterday", "2026-13-01", "1e400", "-5"):
            r = await http.get("/api/cdr", params={"since": bad})
            assert r.status_code == 422, bad
            assert "since" in r.text
        assert (await http.get("/api/cdr", params={"agent": 0})).status_code == 422


async def test_a_transferred_call_names_every_agent_and_is_found_by_each(
    running: Running,
) -> None:
    async with (
        Operator(running.url) as op1,
        Operator(running.url) as op2,
        httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http,
    ):
        await op1.login("agent1", "agent1-pass")
        await op1.select_identifier("phone1")
        await op1.provision()
        await op1.change_status("READY")
        await op2.login("agent2", "agent2-pass")
        await op2.select_identifier("phone2")
        await op2.provision()
        rings1, rings2 = op1.events(), op2.events()
        body = {"queue": 1, "from": "+420601123456"}
        uid = (await http.post("/api/sim/calls", json=body)).json()["uniqueid"]
        async with asyncio.timeout(10):
            async for e in rings1:
                if e.type == "call" and e.what == "ringing":
                    break
        await op1.answer()
        await op1.blind_transfer("1002")  # agent1 sends the caller on to agent2's phone
        async with asyncio.timeout(10):
            async for e in rings2:
                if e.type == "call" and e.what == "ringing" and e.call["uniqueid"] == uid:
                    break
        await op2.answer()
        await op2.hangup()
        await asyncio.to_thread(running.server.store.flush)
        r = await http.get("/api/cdr", params={"format": "csv"})
        (row,) = [row for row in _rows(r.content) if row["uniqueid"] == uid]
        assert row["agents"] == "agent1 agent2"
        assert row["connected_username"] == "agent2"  # the Call object: its last party
        for agent in (1, 2):
            found = (await http.get("/api/cdr", params={"agent": agent})).json()
            assert uid in [c["uniqueid"] for c in found], agent
            assert all("agents" not in c for c in found)  # the JSON: Call objects, exactly
        assert (await http.get("/api/cdr", params={"agent": 3})).json() == []
