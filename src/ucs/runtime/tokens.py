"""Session tokens: what a connection shows to rejoin its agent's session after a reconnect."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from ucs.core.ids import AgentId

__all__ = ["MAX_PER_AGENT", "Tokens", "token_digest"]

MAX_PER_AGENT = 16
"""Live session tokens an agent may have (tabs, devices); a new login drops the oldest."""


def token_digest(token: str) -> str:
    """What is kept of a bearer token: its SHA-256. The tokens are random (192 bits or more),
    so a plain hash is enough, and a stolen database or log shows none of them."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Tokens:
    """Random bearer tokens, each bound to one agent until that agent logs out. Only their
    digests are kept, here and in the database."""

    _agent: dict[str, AgentId] = field(default_factory=dict)
    """Agent by token digest."""

    def issue(self, agent: AgentId) -> tuple[str, list[str]]:
        """A new token for the agent, and the digests of its oldest tokens dropped to keep it
        within ``MAX_PER_AGENT`` (a client that logs in at every reconnect instead of resuming
        must not grow memory and the database without end)."""
        token = secrets.token_urlsafe(32)
        self._agent[token_digest(token)] = agent
        mine = [d for d, a in self._agent.items() if a == agent]  # oldest first
        dropped = mine[: max(0, len(mine) - MAX_PER_AGENT)]
        for digest in dropped:
            del self._agent[digest]
        return token, dropped

    def adopt(self, digest: str, agent: AgentId) -> None:
        """Take back a token issued before a restart, by its digest."""
        self._agent[digest] = agent

    def agent(self, token: object) -> AgentId | None:
        if not isinstance(token, str) or len(token) > 128:
            return None
        return self._agent.get(token_digest(token))

    def revoke(self, agent: AgentId) -> list[str]:
        """Forget every token of the agent; returns their digests."""
        gone = [d for d, a in self._agent.items() if a == agent]
        for digest in gone:
            del self._agent[digest]
        return gone
