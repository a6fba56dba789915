"""deploy/: the Grafana dashboard names only metrics the server has, the per-queue and per-status
metrics it draws count what happened, the systemd unit is valid and hardened, and the
Prometheus configuration scrapes /metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.helpers import ready_agent
from tests.server.conftest import Running
from ucs.core.ids import QueueId

pytestmark = pytest.mark.anyio

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ADMIN = {"Authorization": "Bearer demo-admin-token"}
_NAME = re.compile(r"\b((?:ucs|process)_[a-z0-9_]+)\b")


def _families(text: str) -> set[str]:
    """The sample names ``/metrics`` can have: every family, and a histogram's series."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names.update(f"{name}_{end}" for end in ("bucket", "sum", "count"))
    return names


def _value(text: str, metric: str, **labels: str) -> float:
    want = {f'{k}="{v}"' for k, v in labels.items()}
    for line in text.splitlines():
        if line.startswith((metric + "{", metric + " ")):
            head, _, value = line.rpartition(" ")
            inside = head[head.find("{") + 1 : head.rfind("}")] if "{" in head else ""
            if want <= set(inside.split(",")) - {""}:
                return float(value)
    raise AssertionError(f"no {metric}{labels} in /metrics")


async def test_the_dashboard_names_only_metrics_the_server_has(running: Running) -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ] + [v["query"] for v in dashboard["templating"]["list"]]
    named = {m for e in exprs for m in _NAME.findall(e)}
    assert len(named) >= 20
    async with httpx.AsyncClient(base_url=running.url) as http:
        have = _families((await http.get("/metrics")).text)
    assert named - have == set()


async def test_queue_and_status_metrics_count_what_happened(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        first = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601000001"})
        uid = first.json()["uniqueid"]
        text = (await http.get("/metrics")).text
        assert _value(text, "ucs_callers_waiting", queue="1") == 1
        assert _value(text, "ucs_queue_offered_total", queue="1") == 1
        await http.post(f"/api/sim/calls/{uid}/hangup")  # nobody answered: abandoned
        text = (await http.get("/metrics")).text
        assert _value(text, "ucs_queue_abandoned_total", queue="1") == 1
        assert _value(text, "ucs_longest_wait_seconds", queue="1") == 0
        assert _value(text, "ucs_agents", status="READY") == 0

        op = await ready_agent(running.url, 1)
        try:
            events = op.events()
            r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601000002"})
            async for e in events:
                if e.type == "call" and e.what == "ringing":
                    break
            await op.answer()
            text = (await http.get("/metrics")).text
            assert _value(text, "ucs_agents", status="READY") == 1
            assert _value(text, "ucs_queue_offered_total", queue="1") == 2
            await http.post(f"/api/sim/calls/{r.json()['uniqueid']}/hangup")
            text = (await http.get("/metrics")).text
            assert _value(text, "ucs_queue_answered_total", queue="1") == 1
            assert _value(text, "ucs_queue_abandoned_total", queue="1") == 1
            name = running.server.center.directory.queues[QueueId(1)].name
            assert _value(text, "ucs_queue_answered_total", queue="1", name=name) == 1
            assert _value(text, "ucs_build_info") == 1
        finally:
            await op.close()


async def test_a_code_set_in_wrap_up_counts_the_call_once(running: Running) -> None:
    """An account code set after the call writes its final record again: the queue's
    counters count the call once."""
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        op = await ready_agent(running.url, 3)  # Sales: no wrap-up, so no call waits on it
        try:
            events = op.events()
            r = await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601000003"})
            uid = r.json()["uniqueid"]
            async for e in events:
                if e.type == "call" and e.what == "ringing":
                    break
            await op.answer()
            await op.hangup()
            await op.set_account_code(uid, "SALE")
            await op.set_account_code(uid, "FOLLOW-UP")
            text = (await http.get("/metrics")).text
            assert _value(text, "ucs_queue_offered_total", queue="2") == 1
            assert _value(text, "ucs_queue_answered_total", queue="2") == 1
        finally:
            await op.close()


async def test_campaign_metrics_count_dialled_and_answered_calls(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        op = await ready_agent(running.url, 2)  # Support and Campaign
        try:
            events = op.events()
            first = (await op.dial("+420777123456", 3))["uniqueid"]  # answers after 1 s
            async for e in events:
                if e.type == "call" and e.call["state"] == 3:
                    break
            text = (await http.get("/metrics")).text
            assert _value(text, "ucs_campaign_dialled_total", queue="3", name="Campaign") == 1
            await op.hangup()
            await op.set_account_code(first, "CALLED")  # its final record again
            busy = (await op.dial("+420777120001", 3))["uniqueid"]
            async for e in events:
                if e.type == "call" and e.call["uniqueid"] == busy and e.what == "hangup":
                    break
            text = (await http.get("/metrics")).text
            assert _value(text, "ucs_campaign_dialled_total", queue="3") == 2
            assert _value(text, "ucs_campaign_answered_total", queue="3") == 1
            assert "ucs_queue_offered_total{" not in text  # nobody called into a queue
        finally:
            await op.close()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_unit_is_valid_and_hardened(tmp_path: Path) -> None:
    unit = (DEPLOY / "ucs.service").read_text()
    ucs = Path(sys.executable).parent / "ucs"  # the unit's ExecStart, as installed here
    path = tmp_path / "ucs.service"
    path.write_text(unit.replace("/opt/ucs/bin/ucs", str(ucs)))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    level = re.search(r"Overall exposure level for ucs.service: ([0-9.]+)", security.stdout)
    assert level is not None, security.stdout + security.stderr
    assert float(level[1]) <= 2.0  # systemd calls up to 2.0 "OK"


def test_prometheus_scrapes_the_metrics_path() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"]
