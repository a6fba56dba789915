"""The CRM settings as stored (one ``settings`` row each, JSON) and checked.

``lookup``: ``{"url", "timeout_ms"}`` or null (off). ``webhook``: ``{"url", "secret"}`` or null.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "LOOKUP_KEY",
    "WEBHOOK_KEY",
    "LookupConfig",
    "WebhookConfig",
    "check_url",
    "dump",
    "load_lookup",
    "load_webhook",
]

LOOKUP_KEY = "crm_lookup"
WEBHOOK_KEY = "crm_webhook"


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, else ``ValueError`` naming it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise ValueError(f"url must be an absolute http or https URL; got {url[:100]!r}")
    return url


@dataclass(frozen=True, slots=True)
class LookupConfig:
    url: str
    timeout_ms: int = 800
    """How long a call waits for the CRM's answer at most."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    secret: str


def dump(config: LookupConfig | WebhookConfig | None) -> str:
    return json.dumps(asdict(config) if config is not None else None)


def _load(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def load_lookup(raw: str | None) -> LookupConfig | None:
    value = _load(raw)
    try:
        return LookupConfig(check_url(value["url"]), int(value["timeout_ms"])) if value else None
    except (KeyError, TypeError, ValueError):
        return None


def load_webhook(raw: str | None) -> WebhookConfig | None:
    value = _load(raw)
    try:
        return WebhookConfig(check_url(value["url"]), str(value["secret"])) if value else None
    except (KeyError, TypeError, ValueError):
        return None
