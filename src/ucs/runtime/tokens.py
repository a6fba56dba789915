"""Session tokens: what a connection shows to rejoin its agent's session after a reconnect."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from ucs.core.ids import AgentId

__all__ = ["Tokens", "token_digest"]


def token_digest(token: str) -> str:
    """What is kept of a bearer token: its SHA-256. The tokens are random (192 bits or more),
    so a plain hash is enough, and a stolen database or log shows none of them."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Tokens:
    """Random bearer tokens, each bound to one agent until that agent logs out."""

    _agent: dict[str, AgentId] = field(default_factory=dict)

    def issue(self, agent: AgentId) -> str:
        token = secrets.token_urlsafe(32)
        self._agent[token] = agent
        return token

    def adopt(self, token: str, agent: AgentId) -> None:
        """Take back a token issued before a restart."""
        self._agent[token] = agent

    def agent(self, token: object) -> AgentId | None:
        if not isinstance(token, str) or len(token) > 128:
            return None
        return self._agent.get(token)

    def revoke(self, agent: AgentId) -> list[str]:
        """Forget every token of the agent; returns them."""
        gone = [t for t, a in self._agent.items() if a == agent]
        for token in gone:
            del self._agent[token]
        return gone
