"""The CRM integration's adapters (CONTRACT §12): what talks to the CRM over HTTP.

- ``lookup``: caller lookup, an async HTTP client with a pooled connection that answers the
  core's ``Lookup`` effects with ``LookedUp`` events, never blocking the event loop;
- ``settings``: the lookup and webhook settings as stored and as the REST API takes them;
- ``demo``: the demo CRM's contacts and its lookup endpoint (``--demo``).

The core decides (``ucs.core.lookup``); these only carry its requests out.
"""

__all__: list[str] = []
