"""The ``ucs`` command against a running server."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner, Result

from tests.helpers import free_port
from tests.server.conftest import Running
from ucs.cli import app
from ucs.core.sso import ReplayMemory, verify_token
from ucs.storage import schema
from ucs.storage.store import Store
from ucs.web.server import Settings, build_server, password_hasher

pytestmark = pytest.mark.anyio


async def _ucs(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    return result.exit_code, result.output


async def test_admin_commands_through_the_api(running: Running) -> None:
    url = ["--url", running.url]
    code, out = await _ucs("queue", "add", "Returns", "--strategy", "ringall", *url)
    assert code == 0 and "queue Returns added with id 4" in out
    code, out = await _ucs(
        "queue", "add", "Callbacks", "--campaign", "3", "--callback-retries", "2",
        "--callback-offer", *url,
    )  # fmt: skip
    assert code == 0 and "queue Callbacks added with id 5" in out
    callbacks = running.server.center.directory.queues[5]  # type: ignore[index]
    assert (callbacks.campaign, callbacks.callback_retries, callbacks.callback_offer) == (
        3,
        2,
        True,
    )
    code, out = await _ucs("queue", "set", "5", "--no-callback-offer", *url)
    assert code == 0 and not running.server.center.directory.queues[5].callback_offer  # type: ignore[index]
    code, out = await _ucs("phone", "add", "desk5", "1005", *url)
    assert code == 0 and "added as line 5" in out
    code, out = await _ucs("agent", "add", "erin", "--password", "erin-pass", "--queue", "4", *url)
    assert code == 0 and "agent erin added" in out
    code, out = await _ucs("agent", "list", *url)
    assert code == 0 and "erin" in out and "agent1" in out
    code, out = await _ucs("queue", "member", "4", "1", "--priority", "2", *url)
    assert code == 0
    code, out = await _ucs("sim", "call", "4", "--from", "+420601555555", *url)
    assert code == 0 and "." in out.strip()
    code, out = await _ucs("sim", "hangup", out.strip(), *url)
    assert code == 0
    code, out = await _ucs("cdr", "--csv", *url)
    assert code == 0 and out.startswith("\ufeffuniqueid,created,")
    code, out = await _ucs("agent", "passwd", "999", "--password", "x-pass-123", *url)
    assert code == 1 and "404" in out


def test_sso_token_is_accepted_by_the_core() -> None:
    result = CliRunner().invoke(app, ["sso-token", "agent1", "--secret", "s3cret"])
    assert result.exit_code == 0
    import time

    verify_token("s3cret", "agent1", result.output.strip(), time.time(), ReplayMemory())


# --- demo credentials at start (issue 12, item 7) ---------------------------------------------

_NO_UCS_ENV = {k: None for k in os.environ if k.startswith("UCS_")}
_DEMO_VALUES = (
    "demo-admin-token",
    "demo-sso-secret",
    "agent1-pass",
    "supervisor-pass",
    "phone1-secret",
)
"""The demo credentials themselves, which nothing the server prints may show."""


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database that ``--demo`` filled, made once: its file is copied for each test."""
    folder = tmp_path_factory.mktemp("demo-db")
    settings = Settings(
        demo=True, db=f"sqlite:///{folder}/ucs.db", admin_token_file=str(folder / "token")
    )
    build_server(settings).store.stop()
    return folder / "ucs.db"


@pytest.fixture
def demo_db(demo_database: Path, tmp_path: Path) -> str:
    shutil.copy(demo_database, tmp_path / "ucs.db")
    return f"sqlite:///{tmp_path}/ucs.db"


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ucs serve`` in this process must refuse before it serves: if it got as far as
    serving, it fails at once instead of blocking the test (and leaves the collector alone)."""

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server started")

    monkeypatch.setattr(uvicorn, "run", started)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(gc, "set_threshold", lambda *a: None)


def _serve(db: str, *args: str, **env: str | None) -> Result:
    port = str(free_port())
    environ = {**_NO_UCS_ENV, **env}
    return CliRunner().invoke(app, ["serve", "--db", db, "--port", port, *args], env=environ)


def test_a_demo_database_without_demo_refuses_to_start_and_names_each_credential(
    demo_db: str, no_serving: None
) -> None:
    result = _serve(demo_db)
    assert result.exit_code == 2, result.output
    out = result.output
    for said in (
        "admin token",
        "UCS_ADMIN_TOKEN",
        "SSO secret",
        "UCS_SSO_SECRET",
        "ucs agent passwd 1",
        "ucs agent passwd 4",
        "supervisor",
        "phone4",
        "PATCH /api/lines/4",
        "--allow-demo-credentials",
        "UCS_ALLOW_DEMO_CREDENTIALS=1",
    ):
        assert said in out, said
    for value in _DEMO_VALUES:
        assert value not in out, value


def test_credentials_changed_are_no_longer_named(demo_db: str, no_serving: None) -> None:
    store = Store(demo_db)
    agents = {a["username"]: a["id"] for a in store.rows(schema.agents)}
    hasher = password_hasher()
    store.update(schema.agents, agents["agent1"], {"password_hash": hasher.hash("x" * 12)})
    for line in store.rows(schema.lines):
        store.update(schema.lines, line["id"], {"secret": "a-secret-of-our-own"})
    result = _serve(demo_db, UCS_ADMIN_TOKEN="an-admin-token-of-our-own")
    assert result.exit_code == 2, result.output
    assert "admin token" not in result.output and "phone" not in result.output
    assert "agent1" not in result.output and "agent2" in result.output
    assert "SSO secret" in result.output
    for username in ("agent2", "agent3", "supervisor"):
        store.update(schema.agents, agents[username], {"password_hash": hasher.hash("x" * 12)})
    store.engine.dispose()
    result = _serve(demo_db, UCS_ADMIN_TOKEN="our-own", UCS_SSO_SECRET="our-own-sso-secret")
    assert "demo" not in result.output, result.output
    assert str(result.exception) == "the server started"  # nothing left to refuse


class _Serving:
    """``ucs serve`` in a child process; what it printed."""

    def __init__(self, cwd: Path, db: str, *args: str, **env: str) -> None:
        self.port = free_port()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("UCS_")}
        cmd = [sys.executable, "-m", "ucs.cli", "serve", "--port", str(self.port), "--db", db]
        self.log = cwd / "serve.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*cmd, *args],
                cwd=cwd,
                env={**environ, "PYTHONUNBUFFERED": "1", "UCS_MEDIA": "off", **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def serves(self) -> bool:
        deadline = time.monotonic() + 60  # a start-up took 27 s on a machine loaded to 18
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success
            except httpx.HTTPError:
                time.sleep(0.1)
        return False

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(10)
        return self.log.read_text(errors="replace")


def test_told_so_or_in_demo_mode_it_starts_with_a_warning_naming_them(
    demo_database: Path, tmp_path: Path
) -> None:
    ways: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
        "flag": (("--allow-demo-credentials",), {}),
        "environment": ((), {"UCS_ALLOW_DEMO_CREDENTIALS": "1"}),
        "demo": (("--demo",), {}),
    }
    servers: dict[str, _Serving] = {}
    try:
        for name, (args, env) in ways.items():  # started side by side: one wait for all
            (tmp_path / name).mkdir()
            shutil.copy(demo_database, tmp_path / name / "ucs.db")
            db = f"sqlite:///{tmp_path / name / 'ucs.db'}"
            servers[name] = _Serving(tmp_path / name, db, *args, **env)
        started = {name: server.serves() for name, server in servers.items()}
    finally:
        outputs = {name: server.stop() for name, server in servers.items()}
    for name, out in outputs.items():
        assert started[name], out
        warning = [line for line in out.splitlines() if "demo credentials" in line]
        assert len(warning) == 1, out
        for said in ("admin token", "SSO secret", "agent1", "supervisor", "phone1"):
            assert said in warning[0], (name, said)
        for value in _DEMO_VALUES:
            assert value not in out, (name, value)


def _children(pid: int) -> list[str]:
    """The command lines of the processes ``pid`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_ucs_serve_writes_from_a_child_process_that_ends_with_it(tmp_path: Path) -> None:
    from tests.helpers import start_server

    port = free_port()
    proc = start_server(f"sqlite:///{tmp_path}/ucs.db", port)
    try:
        writers = [c for c in _children(proc.pid) if "ucs.storage.committer" in c]
        assert len(writers) == 1, _children(proc.pid)
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/sim/calls",
            json={"queue": 1, "from": "+420601000001"},
            headers={"Authorization": "Bearer demo-admin-token"},
        )
        assert r.status_code == 201
        hung = httpx.post(
            f"http://127.0.0.1:{port}/api/sim/calls/{r.json()['uniqueid']}/hangup",
            headers={"Authorization": "Bearer demo-admin-token"},
        )
        assert hung.status_code == 204
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for _ in range(100):  # the child ends when the server's end of the pipe closes
        if not [c for c in _children(proc.pid) if "ucs.storage.committer" in c]:
            break
        time.sleep(0.1)
    store = Store(f"sqlite:///{tmp_path}/ucs.db")
    assert [c["uniqueid"] for c in store.cdr()] == [r.json()["uniqueid"]]
    store.stop()
