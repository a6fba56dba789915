"""Events to the CRM survive kill -9 (CONTRACT §12): of the server (the outbox is in the
database, written with the call records) and of the CRM's receiver (retried until it takes
them). Every call in the call records is delivered, once after de-duplication by
``X-Ucs-Event-Id``, with a valid signature."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.crm.helpers import SECRET, verify
from tests.crm.receiver import received
from tests.helpers import free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"Authorization": "Bearer demo-admin-token"}


def _receiver(port: int, path: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crm.receiver", str(port), str(path)], cwd=ROOT
    )
    for _ in range(500):
        try:
            httpx.post(f"http://127.0.0.1:{port}/ping", content=b"{}", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.02)
    raise AssertionError("the receiver did not start")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _events(path: Path) -> list[dict[str, Any]]:
    """The POSTs of events the receiver got (its own start-up ping has no event id)."""
    return [x for x in received(path) if x["event_id"] and "call.ended" in x["body"]]


def _calls(url: str, n: int) -> list[str]:
    """``n`` callers into Sales (nobody takes them) who hang up: ``n`` finished calls."""
    uids = []
    with httpx.Client(base_url=url, headers=ADMIN) as http:
        for i in range(n):
            r = http.post("/api/sim/calls", json={"queue": 2, "from": f"+4206011234{i:02d}"})
            uid = r.json()["uniqueid"]
            assert http.post(f"/api/sim/calls/{uid}/hangup").status_code < 300
            uids.append(uid)
    return uids


def _committed(url: str, uids: list[str]) -> None:
    """Once the call records of ``uids`` are in the database (the server answers before it
    commits; a busy writer may take longer than the test's next step)."""
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=url, headers=ADMIN) as http:
        while not set(uids) <= {c["uniqueid"] for c in http.get("/api/cdr").json()}:
            assert time.monotonic() < deadline, "the call records were not written"
            time.sleep(0.1)


def test_every_call_is_delivered_across_kill_9_of_the_server_and_the_receiver(
    tmp_path: Path,
) -> None:
    db, port, hook_port = f"sqlite:///{tmp_path}/ucs.db", free_port(), free_port()
    path = tmp_path / "received.jsonl"
    hook = _receiver(hook_port, path)
    ucs = start_server(db, port)
    url = f"http://127.0.0.1:{port}"
    try:
        hook_url = f"http://127.0.0.1:{hook_port}/hook"
        r = httpx.put(
            f"{url}/api/settings/webhook",
            json={"url": hook_url, "secret": SECRET},
            headers=ADMIN,
        )
        assert r.status_code == 200
        uids = _calls(url, 5)
        _kill(hook)  # the CRM goes away: its events wait in the outbox
        uids += _calls(url, 5)
        _committed(url, uids)  # the records are in; their events wait for the CRM
        _kill(ucs)  # and so does the server, events still pending
        ucs = start_server(db, port)
        uids += _calls(url, 5)
        hook = _receiver(hook_port, path)
        # Wait until what the CRM got and the call records agree (the receiver's backlog is
        # retried after growing pauses; the records of a call hung up just before the kill
        # may still be on their way to the database).
        deadline = time.monotonic() + 150
        with httpx.Client(base_url=url, headers=ADMIN) as http:
            while True:
                cdr = [c["uniqueid"] for c in http.get("/api/cdr").json()]
                got = {verify(x)["data"]["uniqueid"] for x in _events(path)}
                if (got == set(cdr) and set(uids) <= got) or (time.monotonic() > deadline):
                    break
                time.sleep(0.2)
            metrics = http.get("/metrics").text
    finally:
        _kill(ucs)
        _kill(hook)
    lines = [x for x in received(path) if x["event_id"]]  # the receiver's own ping has none
    events = {}
    for line in lines:
        event = verify(line)  # every POST is signed
        events.setdefault(event["id"], event)
    ended = [e["data"]["uniqueid"] for e in events.values() if e["type"] == "call.ended"]
    assert sorted(ended) == sorted(set(ended))  # once each, after de-duplication by id
    assert set(uids) <= set(cdr)
    assert set(ended) == set(cdr)  # every call in the records, and nothing else
    assert "ucs_crm_webhook_delivered_total" in metrics
