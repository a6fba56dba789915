"""The demo CRM's "Ring the Support queue" button (``--demo`` only): a simulated caller who,
with a media engine, speaks (``"audio": "voice"``), so that an agent on "This browser" hears
a call at once. Not part of the API: a real CRM never makes calls ring."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ucs.core.effects import Created
from ucs.core.events import TrunkCall
from ucs.core.ids import QueueId
from ucs.media.base import MediaError

__all__ = ["CALLER", "router"]

router = APIRouter(include_in_schema=False)

CALLER = "+420602234567"
"""Eva Dvořáková, one of the demo CRM's contacts (her screen pops)."""
SUPPORT = QueueId(1)


@router.post("/demo/crm/ring")
async def ring_support(request: Request) -> dict[str, object]:
    server = request.app.state.server
    event = TrunkCall(number=CALLER, queue=SUPPORT, name="Eva Dvořáková")
    created = next(e for e in server.engine.submit(event) if isinstance(e, Created))
    speaks = False
    if server.media.available and created.uniqueid in server.center.calls:
        try:
            await server.media.speak(created.uniqueid, "voice")
            speaks = True
        except MediaError:
            pass  # the call rings all the same, silent
    return {"uniqueid": created.uniqueid, "speaks": speaks}
