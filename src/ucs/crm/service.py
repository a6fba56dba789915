"""The CRM integration as the server holds it: the lookup client and the webhook sender, with
their settings, started and stopped with the server."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from ucs.core.events import Event, LookupSettings
from ucs.crm.lookup import LookupClient
from ucs.crm.settings import LookupConfig, WebhookConfig
from ucs.crm.webhook import WebhookSender
from ucs.storage.outbox import OutboxPolicy

__all__ = ["Crm"]


class Crm:
    """Owns the CRM adapters and tells the core, and the store's writer, what they must know
    of the settings: how long a call may wait for a lookup, and whether events are kept for
    a webhook."""

    def __init__(
        self, submit: Callable[[Event], object], database: Engine, policy: OutboxPolicy
    ) -> None:
        self._submit = submit
        self._policy = policy
        self.lookup = LookupClient(submit)
        self.webhook = WebhookSender(database)

    def set_lookup(self, config: LookupConfig | None) -> None:
        """Lookups on with ``config``, or off; the core learns how long a call may wait."""
        self.lookup.configure(config)
        self._submit(LookupSettings(config.timeout_ms / 1000 if config is not None else None))

    def set_webhook(self, config: WebhookConfig | None) -> None:
        """Events to ``config``'s URL from now on (those pending too), or none kept."""
        self._policy.enabled = config is not None
        self.webhook.configure(config)

    def start(self) -> None:
        self.webhook.start()

    async def close(self) -> None:
        await self.lookup.close()
        await self.webhook.close()
