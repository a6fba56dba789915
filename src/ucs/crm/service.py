"""The CRM integration as the server holds it: the lookup client and the webhook sender, with
their settings, started and stopped with the server."""

from __future__ import annotations

from collections.abc import Callable

from ucs.core.events import Event, LookupSettings
from ucs.crm.lookup import LookupClient
from ucs.crm.settings import LookupConfig, WebhookConfig

__all__ = ["Crm"]


class Crm:
    """Owns the CRM adapters and tells the core what it must know of their settings."""

    def __init__(self, submit: Callable[[Event], object]) -> None:
        self._submit = submit
        self.lookup = LookupClient(submit)
        self.webhook_config: WebhookConfig | None = None

    def set_lookup(self, config: LookupConfig | None) -> None:
        """Lookups on with ``config``, or off; the core learns how long a call may wait."""
        self.lookup.configure(config)
        self._submit(LookupSettings(config.timeout_ms / 1000 if config is not None else None))

    def set_webhook(self, config: WebhookConfig | None) -> None:
        self.webhook_config = config

    async def close(self) -> None:
        await self.lookup.close()
