"""The operator protocol's media requests (docs/protocol.md, "Media"): the softphone's audio.

``media.offer`` (args ``{"uniqueid", "sdp"}``): the component's WebRTC offer for the agent's
side of a call it answered or placed on the softphone; the result is ``{"sdp": answer}``. The
component talks only to ucs, never to the media engine. Refused with ``INVALID_STATE`` (no
softphone, not the agent's connected call), ``INVALID_ARGUMENT`` or ``MEDIA_UNAVAILABLE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ucs.core.errors import InvalidArgument, InvalidState, UcsError, Unauthorized
from ucs.core.ids import ClientId, UniqueId
from ucs.core.model import CallState, Side
from ucs.core.softphone import is_softphone
from ucs.media.base import Party
from ucs.web.hub import Connection, encode

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["MEDIA_METHODS", "is_media", "media_request"]

MEDIA_METHODS = frozenset({"media.offer"})
MAX_SDP = 16 * 1024
_NO_ID = "request needs an id (a string or number)"


def is_media(method: object) -> bool:
    """Whether a request's ``method`` (any JSON value) is a media request."""
    return isinstance(method, str) and method in MEDIA_METHODS


async def media_request(server: Server, conn: Connection, msg: dict[str, Any]) -> None:
    """Carry out a media request and answer it (``result`` or ``error``). The softphone's
    audio changes no state of the core, so it is not kept for replay like other requests."""
    rid = msg.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int) or len(str(rid)) > 64:
        conn.send(encode({"type": "error", "code": "INVALID_ARGUMENT", "message": _NO_ID}))
        return
    try:
        answer = await _offer(server, conn.id, msg.get("args"))
    except UcsError as err:
        conn.send(encode({"type": "error", "id": rid, "code": err.code, "message": err.message}))
        return
    conn.send(encode({"type": "result", "id": rid, "result": {"sdp": answer}}))


async def _offer(server: Server, client: ClientId, args: Any) -> str:
    if isinstance(args, list) and len(args) == 1:
        args = args[0]
    if not isinstance(args, dict):
        raise InvalidArgument("media.offer takes an object {uniqueid, sdp}")
    uid, sdp, party = args.get("uniqueid"), args.get("sdp"), args.get("party", "agent")
    if not isinstance(uid, str) or not uid or len(uid) > 64:
        raise InvalidArgument(f"uniqueid must be a call's uniqueid, not {uid!r}")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
        raise InvalidArgument(f"sdp must be an SDP offer of at most {MAX_SDP} characters")
    if party not in ("agent", "supervisor", "coach"):
        raise InvalidArgument(f'party must be "agent", "supervisor" or "coach", not {party!r}')
    center = server.center
    agent = center.agent_of(client)
    if agent is None:
        raise Unauthorized("log in first")
    session = center.sessions.get(agent)
    if session is None or not is_softphone(session.line):
        raise InvalidState("the softphone is not this agent's phone")
    monitored = center.monitors.get(agent)
    if party == "supervisor" or (party == "coach" and monitored is not None):
        # A supervisor's browser joins the call they listen to, or the coach room they
        # whisper in.
        if monitored is None or monitored.uniqueid != uid:
            raise InvalidState(f"you are not listening to call {uid}")
        if party == "coach" and monitored.mode != "whisper":
            raise InvalidState(f"you are not whispering on call {uid}")
        which: Party = "supervisor" if party == "supervisor" else "coach-supervisor"
        return await server.media.connect_softphone(uid, sdp, which)
    call = center.calls.get(UniqueId(uid))
    if call is None or call.side_of(agent) not in (Side.CONNECTED, Side.CALLER):
        raise InvalidState(f"{uid} is not one of your calls")
    if call.state not in (CallState.CONNECTED, CallState.CONNECTING, CallState.RINGING):
        raise InvalidState(f"call {uid} has no audio now ({call.state.name})")
    if party == "coach":  # the agent's second connection: hears a whispering supervisor
        if not any(m.uniqueid == uid and m.mode == "whisper" for m in center.monitors.values()):
            raise InvalidState(f"nobody whispers on call {uid}")
        return await server.media.connect_softphone(uid, sdp, "coach-agent")
    return await server.media.connect_softphone(uid, sdp)
