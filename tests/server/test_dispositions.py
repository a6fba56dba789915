"""A queue's dispositions over real sockets: set through REST (422 by field for bad ones),
told to the agent on a call of the queue through the SDK, enforced by ``setAccountCode``,
and shown with their labels by ``/api/cdr`` in JSON and CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.helpers import ready_agent
from tests.server.conftest import Running
from ucs.cli import app
from ucs.client import Event, OperatorError
from ucs.client.operator import EventStream

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}
LIST = [{"code": "SALE", "label": "Sale closed"}, {"code": "INFO", "label": "Information only"}]


async def _next(events: EventStream, what: str | None = None) -> Event:
    async with asyncio.timeout(10):
        async for event in events:
            if event.type == "call" and (what is None or event.what == what):
                return event
    raise AssertionError("events ended")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"dispositions": [{"code": "", "label": "Empty"}]}, ["dispositions", 0, "code"]),
        ({"dispositions": [{"code": "X" * 65, "label": "Long"}]}, ["dispositions", 0, "code"]),
        ({"dispositions": [{"code": " SALE", "label": "Spaced"}]}, ["dispositions", 0, "code"]),
        ({"dispositions": [{"code": "A\nB", "label": "Two lines"}]}, ["dispositions", 0, "code"]),
        ({"dispositions": [{"code": "OK", "label": "L" * 129}]}, ["dispositions", 0, "label"]),
        ({"dispositions": [{"code": "OK"}]}, ["dispositions", 0, "label"]),
        ({"dispositions": [*LIST, {"code": "OK", "label": ""}]}, ["dispositions", 2, "label"]),
        ({"dispositions": [*LIST, {"code": "SALE", "label": "Again"}]}, ["dispositions"]),
        (
            {"dispositions": [{"code": f"C{i}", "label": f"L{i}"} for i in range(101)]},
            ["dispositions"],
        ),
        ({"dispositions": "SALE"}, ["dispositions"]),
        ({"dispositions": None}, []),
        ({"free_text_codes": "maybe"}, ["free_text_codes"]),
        ({"free_text_codes": None}, []),
    ],
)
async def test_bad_dispositions_are_refused_by_field_and_change_nothing(
    running: Running, body: dict[str, Any], loc: list[Any]
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        before = (await http.get("/api/queues")).json()
        for r in (
            await http.patch("/api/queues/1", json=body),
            await http.post("/api/queues", json={"name": "Returns", **body}),
        ):
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"] == ["body", *loc]
        assert (await http.get("/api/queues")).json() == before
    assert running.server.center.directory.queues[1].dispositions == ()  # type: ignore[index]


async def test_lists_are_stored_in_order_and_the_demo_queues_have_none(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        queues = (await http.get("/api/queues")).json()
        assert [(q["dispositions"], q["free_text_codes"]) for q in queues] == [([], False)] * 3
        r = await http.post("/api/queues", json={"name": "Returns", "dispositions": LIST[::-1]})
        assert r.status_code == 201
        assert (r.json()["dispositions"], r.json()["free_text_codes"]) == (LIST[::-1], False)
        r = await http.patch("/api/queues/2", json={"dispositions": LIST, "free_text_codes": True})
        assert r.status_code == 200 and r.json()["dispositions"] == LIST
        assert (await http.get("/api/queues/2")).json()["free_text_codes"] is True
        r = await http.patch("/api/queues/2", json={"name": "Sales team"})  # the list stays
        assert r.json()["dispositions"] == LIST
    sales = running.server.center.directory.queues[2]  # type: ignore[index]
    assert [(d.code, d.label) for d in sales.dispositions] == [
        ("SALE", "Sale closed"),
        ("INFO", "Information only"),
    ]
    assert sales.free_text_codes


async def test_set_account_code_follows_the_list_of_the_call_s_queue(running: Running) -> None:
    op = await ready_agent(running.url, 1)
    try:
        events = op.events()
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
            uid = r.json()["uniqueid"]
            ringing = await _next(events, "ringing")
            assert ringing.dispositions == {"queue": 1, "codes": [], "freeText": True}
            await op.answer()
            await _next(events, "connect")
            # The administrator gives Support a list while the call is live: the agent is told.
            r = await http.patch("/api/queues/1", json={"dispositions": LIST})
            assert r.status_code == 200
            told = await _next(events)
            codes = [{"accountCode": d["code"], "label": d["label"]} for d in LIST]
            assert told.dispositions == {"queue": 1, "codes": codes, "freeText": False}
            assert await op.dispositions(uid) == told.dispositions
            with pytest.raises(OperatorError) as refused:
                await op.set_account_code(uid, "FREE-TEXT")
            assert refused.value.code == "INVALID_ARGUMENT"
            assert "SALE, INFO" in refused.value.message
            saved = await op.set_account_code(uid, "SALE", "web")
            assert saved == [
                {"accountCode": "SALE", "subAccountCode": "web", "label": "Sale closed"}
            ]
            await op.hangup()
            await op.set_account_code(uid, "INFO")  # in wrap-up
            await http.patch("/api/queues/1", json={"free_text_codes": True})
            await op.set_account_code(uid, "OWN")  # now allowed besides the list
            await asyncio.to_thread(running.server.store.flush)
            cdr = (await http.get("/api/cdr")).json()
            assert cdr[-1]["uniqueid"] == uid
            assert cdr[-1]["account_codes"] == [
                {"accountCode": "SALE", "subAccountCode": "web", "label": "Sale closed"},
                {"accountCode": "INFO", "subAccountCode": None, "label": "Information only"},
                {"accountCode": "OWN", "subAccountCode": None},
            ]
            text = (await http.get("/api/cdr", params={"format": "csv"})).text
            row = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))[-1]
            assert row["account_codes_text"] == (
                "SALE = Sale closed / web; INFO = Information only; OWN"
            )
            assert '"label": "Sale closed"' in row["account_codes"]
    finally:
        await op.close()


async def _ucs(*args: str) -> tuple[int, str]:
    # A terminal wide enough for the queue table's every column.
    result = await asyncio.to_thread(CliRunner(env={"COLUMNS": "400"}).invoke, app, list(args))
    return result.exit_code, result.output


async def test_the_cli_sets_lists_and_clears_dispositions(running: Running) -> None:
    url = ["--url", running.url]
    code, out = await _ucs(
        "queue", "set", "1", "--disposition", "SALE=Sale closed", "--disposition", "INFO", *url
    )
    assert (code, out.strip()) == (0, "queue 1 changed")
    support = running.server.center.directory.queues[1]  # type: ignore[index]
    assert [(d.code, d.label) for d in support.dispositions] == [
        ("SALE", "Sale closed"),
        ("INFO", "INFO"),
    ]
    assert not support.free_text_codes
    code, out = await _ucs("queue", "list", *url)
    assert code == 0 and "SALE=Sale closed; INFO=INFO" in " ".join(out.split())
    code, out = await _ucs("queue", "list", "--json", *url)
    assert json.loads(out)[0]["dispositions"][0] == {"code": "SALE", "label": "Sale closed"}
    code, out = await _ucs("queue", "set", "1", "--disposition", "=No code", *url)
    assert code == 1 and "422" in out and "dispositions.0.code" in out
    code, out = await _ucs("queue", "set", "1", "--disposition", "A", "--disposition", "A", *url)
    assert code == 1 and "A listed more than once" in out
    assert running.server.center.directory.queues[1] == support  # type: ignore[index]
    code, _ = await _ucs("queue", "set", "1", "--free-text-codes", *url)
    assert code == 0 and running.server.center.directory.queues[1].free_text_codes  # type: ignore[index]
    code, _ = await _ucs("queue", "set", "1", "--no-dispositions", *url)
    assert code == 0 and running.server.center.directory.queues[1].dispositions == ()  # type: ignore[index]
    code, out = await _ucs(
        "queue", "add", "Returns", "--disposition", "RMA=Return authorised", *url
    )
    assert code == 0 and "added with id 4" in out
    returns = running.server.center.directory.queues[4]  # type: ignore[index]
    assert [d.code for d in returns.dispositions] == ["RMA"]
