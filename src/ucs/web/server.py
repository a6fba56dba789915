"""Composition: one function builds the whole server from its settings."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error
from fastapi import FastAPI, WebSocket

from ucs.core.center import Center
from ucs.core.directory import AgentConfig, Directory
from ucs.runtime.engine import Engine
from ucs.runtime.tokens import Tokens
from ucs.switch.simulated import SimulatedSwitch
from ucs.web.api import sim
from ucs.web.hub import Hub
from ucs.web.ws import operator_socket

__all__ = ["Server", "Settings", "create_app", "demo_server"]

log = logging.getLogger("ucs.server")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "sqlite:///ucs.db"
    demo: bool = False
    sso_secret: str = ""
    admin_token: str = ""
    region: str = "CZ"
    allowed_origins: tuple[str, ...] = ()
    tz: tzinfo | None = None


@dataclass
class Server:
    """Everything one running server holds, built once and passed to the routes."""

    settings: Settings
    directory: Directory
    password_hashes: dict[str, str]
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    center: Center = field(init=False)
    switch: SimulatedSwitch = field(init=False)
    hub: Hub = field(init=False)
    engine: Engine = field(init=False)
    tokens: Tokens = field(default_factory=Tokens)

    def __post_init__(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.settings.tz is not None:
            kwargs["tz"] = self.settings.tz
        self.center = Center(
            self.directory,
            time.time(),
            passwords=self.check_password,
            sso_secret=self.settings.sso_secret,
            **kwargs,
        )
        self.switch = SimulatedSwitch(region=self.directory.region)
        self.hub = Hub(self._clients_of)
        self.engine = Engine(self.center, self.switch, clients=self.hub)

    def _clients_of(self, agent: Any) -> set[Any]:
        session = self.center.sessions.get(agent)
        return set(session.clients) if session is not None else set()

    def check_password(self, agent: AgentConfig, password: str) -> bool:
        stored = self.password_hashes.get(agent.username)
        if stored is None:
            return False
        try:
            return self.hasher.verify(stored, password)
        except Argon2Error:
            return False


def demo_server(settings: Settings) -> Server:
    """A server with the demo data of CONTRACT §2 (kept in memory)."""
    from ucs.demo import DEMO_ADMIN_TOKEN, DEMO_PASSWORDS, DEMO_SSO_SECRET, demo_directory

    settings.sso_secret = settings.sso_secret or DEMO_SSO_SECRET
    settings.admin_token = settings.admin_token or DEMO_ADMIN_TOKEN
    hasher = PasswordHasher()
    hashes = {user: hasher.hash(password) for user, password in DEMO_PASSWORDS.items()}
    return Server(settings, demo_directory(settings.region), hashes, hasher)


def create_app(server: Server) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server.engine.start()
        yield
        server.engine.stop()

    app = FastAPI(
        title="ucs",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.server = server

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await operator_socket(websocket, server)

    app.include_router(sim.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "agents": len(server.center.sessions)}

    return app
