"""Reports over time through real sockets (CONTRACT §11, docs/reports.md): a simulated morning
whose every figure is known to the second, a midnight and a DST change, CSV for spreadsheets,
and bad periods.

The calls are made by the core on a virtual clock (``VirtualCenter``, the demo center in
Prague); its call records and status log go through the server's own writer into the
server's database, and the figures are read back over HTTP.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import MORNING, PRAGUE, make_center
from tests.server.conftest import serving
from ucs.core.effects import CallRecord, Effect, StatusRecord
from ucs.virtual import VirtualCenter
from ucs.web.server import Server

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}
DAY = "2026-11-24"  # MORNING's day


def _recording(start: float) -> tuple[VirtualCenter, list[Effect]]:
    """The demo center on a virtual clock from ``start``, keeping its call records and status
    log (what the server's writer stores); its queues without their RONA reason, so that an
    agent who lets a call ring out stays READY, as the morning below has it."""
    records: list[Effect] = []
    vc = make_center(start)
    vc.store = lambda e: records.append(e) if isinstance(e, CallRecord | StatusRecord) else None
    return vc, records


def _store(server: Server, records: list[Effect]) -> None:
    server.store.deliver_all(records)
    server.store.flush()


def _clock(vc: VirtualCenter, base: float) -> Callable[[float], None]:
    def at(t: float) -> None:
        vc.advance(base + t - vc.now)

    return at


def a_morning() -> list[Effect]:
    """08:00-09:30 in Prague. Support (1): longest idle first, rings 15 s, 10 s wrap-up, target
    20 s. Sales (2): rings all, no wrap-up. Times in seconds after 08:00."""
    vc, records = _recording(MORNING)
    at = _clock(vc, MORNING)
    a1, a2, a3 = vc.ready(1), vc.ready(2), vc.ready(3)  # READY at 0
    # A, Support, 60: agent1 answers at 65 (wait 5), talks 120 s, wrap-up 185-195.
    at(60)
    call_a = vc.caller(1, "+420601000001")
    at(65)
    vc.call(a1, "answer")
    at(185)
    vc.caller_hangs_up(call_a)
    # B, Support, 300: rings agent2 (idle longest), who lets it ring out at 315 (missed);
    # agent1 answers at 325 (wait 25, over the target), hangs up at 400; wrap-up 400-410.
    at(300)
    vc.caller(1, "+420601000002")
    at(325)
    vc.call(a1, "answer")
    at(400)
    vc.call(a1, "hangup")
    # C, Support, 500: rings agent2; the caller hangs up at 503 (abandoned within 5 s:
    # out of the service level; agent2's offer ended unanswered: missed).
    at(500)
    call_c = vc.caller(1, "+420601000003")
    at(503)
    vc.caller_hangs_up(call_c)
    # D, Support, 600: rings agent1 600-615 (missed; agent2 was offered C at 500, so agent1
    # has been free longest), agent2 615-628, whose offer ends when the caller hangs up at
    # 628 (missed): abandoned after 28 s.
    at(600)
    call_d = vc.caller(1, "+420601000004")
    at(628)
    vc.caller_hangs_up(call_d)
    # E, Sales, 700: rings agent1 and agent3; agent3 answers at 712 (wait 12; agent1's ring
    # is picked up elsewhere: not missed), the caller hangs up at 772 (talk 60).
    at(700)
    call_e = vc.caller(2, "+420601000005")
    at(712)
    vc.call(a3, "answer")
    at(772)
    vc.caller_hangs_up(call_e)
    # agent1 at lunch 1000-2800.
    at(1000)
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    at(2800)
    vc.call(a1, "changeStatus", "READY")
    # F, Sales, 4200 (09:10): rings agent1 and agent3, neither answers in 15 s (both
    # missed at 4215); it rings them again and agent3 answers at 4225 (wait 25); the caller
    # hangs up at 4325.
    at(4200)
    call_f = vc.caller(2, "+420601000006")
    at(4225)
    vc.call(a3, "answer")
    at(4325)
    vc.caller_hangs_up(call_f)
    # Everyone logs out at 5400 (09:30).
    at(5400)
    for client in (a1, a2, a3):
        vc.call(client, "logout")
    return records


def _by(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


async def test_a_morning_of_reports_adds_up_to_the_second(tmp_path: Path) -> None:
    async with serving(tmp_path, tz=PRAGUE) as running:
        _store(running.server, a_morning())
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            hours = (await http.get(f"/api/reports/queues?from={DAY}&to={DAY}")).json()
            days = (await http.get(f"/api/reports/queues?from={DAY}&to={DAY}&interval=day")).json()
            agents = (await http.get(f"/api/reports/agents?from={DAY}&to={DAY}")).json()

    assert len(hours) == 3 * 24 and len(days) == 3  # every queue, every hour of the day
    eight = "2026-11-24T08:00:00+01:00"
    support = _by(hours, queue_id=1, start=eight)
    assert support == {
        "queue_id": 1,
        "name": "Support",
        "start": eight,
        "end": "2026-11-24T09:00:00+01:00",
        "offered": 4,  # A, B, C, D
        "answered": 2,  # A, B
        "abandoned": 2,  # C, D
        "answered_within_target": 1,  # A (5 s); B waited 25 s
        "service_level": 33.3,  # 1 of 3: C hung up within 5 s, left out
        "asa": 15.0,  # (5 + 25) / 2
        "aht": 107.5,  # (A: 120 + 10 wrap-up, B: 75 + 10) / 2
        "max_wait": 28.0,  # D
    }
    sales_8 = _by(hours, queue_id=2, start=eight)
    assert (sales_8["offered"], sales_8["answered"], sales_8["answered_within_target"]) == (1, 1, 1)
    assert (sales_8["service_level"], sales_8["asa"], sales_8["aht"]) == (100.0, 12.0, 60.0)
    sales_9 = _by(hours, queue_id=2, start="2026-11-24T09:00:00+01:00")
    assert (sales_9["service_level"], sales_9["asa"], sales_9["aht"]) == (0.0, 25.0, 100.0)
    assert sales_9["max_wait"] == 25.0
    quiet = _by(hours, queue_id=1, start="2026-11-24T10:00:00+01:00")
    assert (quiet["offered"], quiet["service_level"], quiet["asa"], quiet["aht"]) == (
        0,
        None,
        None,
        None,
    )
    sales_day = _by(days, queue_id=2)
    assert sales_day["start"] == "2026-11-24T00:00:00+01:00"
    assert sales_day["end"] == "2026-11-25T00:00:00+01:00"
    assert (sales_day["offered"], sales_day["service_level"], sales_day["asa"]) == (2, 50.0, 18.5)
    assert (sales_day["aht"], sales_day["max_wait"]) == (80.0, 25.0)

    agent1 = _by(agents, username="agent1")
    assert agent1 == {
        "id": 1,
        "username": "agent1",
        "displayname": agent1["displayname"],
        "answered": 2,  # A, B
        "missed": 2,  # D at 615, F at 4215
        "talktime": 195,  # A 120, B 75
        "acwtime": 20,  # 185-195, 400-410
        "auxtime": 1800,
        "auxtimes": {"Lunch": 1800},
        "readytime": 3580,  # 5400 logged in - 1800 - 20
        "loggedtime": 5400,
        "occupancy": 4.0,  # (195 + 20) / 5400
    }
    agent2 = _by(agents, username="agent2")
    assert (agent2["answered"], agent2["missed"], agent2["talktime"]) == (0, 3, 0)  # B, C, D
    assert (agent2["readytime"], agent2["occupancy"]) == (5400, 0.0)
    agent3 = _by(agents, username="agent3")
    assert (agent3["answered"], agent3["missed"], agent3["talktime"]) == (2, 1, 160)
    assert agent3["occupancy"] == 3.0  # 160 / 5400
    idle = _by(agents, username="supervisor")
    assert (idle["loggedtime"], idle["occupancy"]) == (0, None)


async def test_a_changed_target_judges_the_calls_already_counted(tmp_path: Path) -> None:
    """The service level is judged by the queue's target as it is set when the report is asked
    for (docs/reports.md): after PATCH /api/queues/1 raises Support's from 20 s to 30 s, B
    (answered after 25 s) counts within it; back to 20 s, it does not."""
    async with serving(tmp_path, tz=PRAGUE) as running:
        _store(running.server, a_morning())
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            figures = []
            for target in (30, 20):
                patched = await http.patch("/api/queues/1", json={"service_level_target": target})
                assert patched.status_code == 200, patched.text
                rows = (await http.get(f"/api/reports/queues?from={DAY}&to={DAY}")).json()
                support = _by(rows, queue_id=1, start="2026-11-24T08:00:00+01:00")
                figures.append((support["answered_within_target"], support["service_level"]))
    assert figures == [(2, 66.7), (1, 33.3)]


def a_night_over_the_dst_change() -> list[Effect]:
    """Saturday 24 October 2026 23:00 (CEST) to Sunday 25 October 04:00 (CET) in Prague,
    where 02:00-03:00 comes twice: Sales calls at 23:59:50 (answered at 00:00:05), at 02:30
    CEST and at 02:30 CET."""
    start = datetime(2026, 10, 24, 23, 0, tzinfo=PRAGUE).timestamp()
    vc, records = _recording(start)
    at = _clock(vc, start)
    a3 = vc.ready(3)
    for t, answer, end in ((3590, 3605, 3665), (3 * 3600 + 1800, 3 * 3600 + 1810, 3 * 3600 + 1900)):
        at(t)
        call = vc.caller(2, "+420601000100")
        at(answer)
        vc.call(a3, "answer")
        at(end)
        vc.caller_hangs_up(call)
    at(4 * 3600 + 1800)  # 02:30 CET, an hour after 02:30 CEST
    call = vc.caller(2, "+420601000200")
    at(4 * 3600 + 1803)
    vc.caller_hangs_up(call)  # abandoned within 5 s
    at(6 * 3600)
    return records


async def test_hours_across_midnight_and_the_dst_change(tmp_path: Path) -> None:
    async with serving(tmp_path, tz=PRAGUE) as running:
        _store(running.server, a_night_over_the_dst_change())
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            query = "/api/reports/queues?from=2026-10-24&to=2026-10-25"
            hours = (await http.get(query)).json()
            days = (await http.get(query + "&interval=day")).json()
            sunday = (await http.get("/api/reports/queues?from=2026-10-25&to=2026-10-25")).json()

    sales = [r for r in hours if r["queue_id"] == 2]
    assert len(sales) == 24 + 25 and len([r for r in sunday if r["queue_id"] == 2]) == 25
    twice = [r for r in sales if r["start"][:16] == "2026-10-25T02:00"]
    assert [r["start"][-6:] for r in twice] == ["+02:00", "+01:00"]
    assert [(r["offered"], r["answered"], r["abandoned"]) for r in twice] == [(1, 1, 0), (1, 0, 1)]
    late = _by(sales, start="2026-10-24T23:00:00+02:00")  # counted where it came in
    assert (late["offered"], late["asa"], late["aht"]) == (1, 15.0, 60.0)
    assert _by(sales, start="2026-10-25T00:00:00+02:00")["offered"] == 0
    saturday, sunday_row = (r for r in days if r["queue_id"] == 2)
    assert (saturday["start"], saturday["end"]) == (
        "2026-10-24T00:00:00+02:00",
        "2026-10-25T00:00:00+02:00",
    )
    assert (sunday_row["start"], sunday_row["end"]) == (
        "2026-10-25T00:00:00+02:00",
        "2026-10-26T00:00:00+01:00",
    )
    assert (saturday["offered"], sunday_row["offered"]) == (1, 2)
    assert sunday_row["service_level"] == 100.0  # the 3-second caller is left out


async def test_csv_opens_in_a_spreadsheet_with_names_as_written(tmp_path: Path) -> None:
    async with serving(tmp_path, tz=PRAGUE) as running:
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            await http.patch("/api/queues/2", json={"name": 'Prodej, "VIP" =1+1'})
            await http.patch("/api/queues/3", json={"name": "=SUM(A1)"})
            await http.patch("/api/agents/1", json={"displayname": "Jana Nováková, ml."})
            _store(running.server, a_morning())
            queues = await http.get(
                f"/api/reports/queues?from={DAY}&to={DAY}&interval=day&format=csv"
            )
            agents = await http.get(f"/api/reports/agents?from={DAY}&to={DAY}&format=csv")
    assert queues.headers["content-type"].startswith("text/csv")
    assert "attachment" in queues.headers["content-disposition"]
    text = queues.content.decode("utf-8")
    assert text.startswith("\ufeffqueue_id,name,start,end,offered,")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    sales = next(r for r in rows if r["queue_id"] == "2")
    assert sales["name"] == 'Prodej, "VIP" =1+1' and sales["service_level"] == "50.0"
    campaign = next(r for r in rows if r["queue_id"] == "3")
    assert campaign["service_level"] == "" and campaign["offered"] == "0"
    assert campaign["name"] == "'=SUM(A1)"  # text, never a formula
    people = list(
        csv.DictReader(io.StringIO(agents.content.decode("utf-8").removeprefix("\ufeff")))
    )
    jana = next(r for r in people if r["username"] == "agent1")
    assert jana["displayname"] == "Jana Nováková, ml."
    assert jana["aux:Lunch"] == "1800" and jana["occupancy"] == "4.0"
    assert [k for k in jana if k.startswith("aux:")] == ["aux:Lunch"]  # reasons someone took


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("from=2026-13-01", "from: '2026-13-01' is not a date"),
        ("from=24.11.2026", "is not a date YYYY-MM-DD"),
        ("from=2026-11-24&to=2026-11-23", "from 2026-11-24 is after to 2026-11-23"),
        ("from=2025-01-01&to=2026-01-02", "a report covers at most 366"),
        ("interval=week", "'week' is neither hour nor day"),
    ],
)
async def test_a_bad_period_is_refused_with_its_reason(running: Any, query: str, says: str) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        answer = await http.get(f"/api/reports/queues?{query}")
        agents = await http.get(f"/api/reports/agents?{query.replace('interval=week', 'to=x')}")
    assert answer.status_code == 422 and agents.status_code == 422
    assert answer.json()["code"] == "INVALID_ARGUMENT" and says in answer.json()["detail"]


async def test_a_whole_year_is_one_report(running: Any) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        answer = await http.get("/api/reports/queues?from=2025-01-01&to=2025-12-31&interval=day")
        today = await http.get("/api/reports/queues")
    assert answer.status_code == 200 and len(answer.json()) == 3 * 365
    assert today.status_code == 200 and len(today.json()) in (3 * 23, 3 * 24, 3 * 25)
