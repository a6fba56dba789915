"""The simulator API (CONTRACT §7): outside callers into queues, and their hangup.

Its two busiest requests (a caller rings in, a caller hangs up) also have a ``FastLane``: at
hundreds of calls a second, FastAPI's routing, dependencies and response model cost more of the
event loop than the calls themselves (docs/performance.md, "A slow day").
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucs.core.directory import QueueType
from ucs.core.effects import Created
from ucs.core.events import TrunkCall
from ucs.core.ids import QueueId, UniqueId
from ucs.media.base import MediaError
from ucs.media.conductor import AUDIO, clip_of
from ucs.web.api.auth import ERRORS, require_admin
from ucs.web.api.plain import Data, PlainModel

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["FastLane", "router"]

RTP = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}:[0-9]{1,5}$")
"""A plain RTP peer of the caller's own: ``IPv4:port``."""

router = APIRouter(
    prefix="/api/sim",
    tags=["simulator"],
    dependencies=[Depends(require_admin)],
    responses=ERRORS,
)


class SimCall(PlainModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    queue: int = Field(gt=0, le=2_147_483_647, description="The incoming queue the caller rings.")
    from_: str = Field(alias="from", min_length=1, max_length=64, pattern=r"^\+?[0-9 ()./-]+$")
    name: str | None = Field(default=None, max_length=128)
    data: Data = Field(default_factory=dict, description="CRM data: at most 16 KiB as JSON.")
    audio: str | None = Field(
        default=None,
        pattern=AUDIO.pattern,
        description="What the caller says, with media: `tone:440` (100–4000 Hz) or `voice`.",
    )
    rtp: str | None = Field(
        default=None,
        pattern=RTP.pattern,
        description="With media, instead of `audio`: the caller's audio is a plain RTP peer of "
        "your own (G.711 μ-law, 20 ms packets) at `IPv4:port` (a load generator); the answer's "
        "`rtp` is where the engine listens for it.",
    )


class Started(BaseModel):
    uniqueid: str
    rtp: str | None = None
    """With ``rtp`` asked: where the engine takes the caller's RTP (``IPv4:port``)."""


@router.post(
    "/calls",
    status_code=status.HTTP_201_CREATED,
    response_model=Started,
    response_model_exclude_none=True,
    responses={
        503: {"description": "`audio` or `rtp` asked for and no media engine (MEDIA_UNAVAILABLE)"}
    },
)
async def start_call(body: SimCall, request: Request) -> Started | JSONResponse:
    """An outside caller rings into an incoming queue."""
    server = request.app.state.server
    peer = _address(body.rtp) if body.rtp is not None else None
    if body.audio is not None and peer is not None:
        raise HTTPException(422, "a caller says `audio` or sends `rtp`, not both")
    if body.audio is not None:
        try:
            clip_of(body.audio)
        except ValueError as err:
            raise HTTPException(422, str(err)) from None
    if (body.audio is not None or peer is not None) and not server.media.available:
        return _media_unavailable()
    uniqueid = _ring(server, body)
    if uniqueid is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incoming queue {body.queue}")
    engine = None
    if (body.audio is not None or peer is not None) and uniqueid in server.center.calls:
        try:
            if peer is not None:
                ip, port = await server.media.connect_far(uniqueid, peer)
                engine = f"{ip}:{port}"
            elif body.audio is not None:
                await server.media.speak(uniqueid, body.audio)
        except MediaError as err:  # the caller gives up: it cannot speak
            server.engine.submit(server.switch.caller_hangup(UniqueId(uniqueid)))
            return _media_unavailable(err.message)
    return Started(uniqueid=uniqueid, rtp=engine)


def _address(rtp: str) -> tuple[str, int]:
    """``IPv4:port`` checked (422 otherwise)."""
    host, _, port = rtp.rpartition(":")
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        raise HTTPException(422, f"rtp must be IPv4:port, not {rtp!r}") from None
    if not 1 <= int(port) <= 65535 or address.is_unspecified or address.is_multicast:
        raise HTTPException(422, f"rtp must be a unicast IPv4:port (1-65535), not {rtp!r}")
    return str(address), int(port)


def _media_unavailable(message: str = "no media engine is running") -> JSONResponse:
    return JSONResponse(
        {"code": "MEDIA_UNAVAILABLE", "detail": message},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


@router.get(
    "/calls/{uniqueid}/heard",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "mono 16-bit WAV, 8 kHz"}},
)
async def heard(uniqueid: Annotated[str, Path(max_length=64)], request: Request) -> Response:
    """What a simulated caller who speaks (`audio`) heard so far: the last 120 s at most."""
    server = request.app.state.server
    wav = server.media.heard_wav(uniqueid)
    if wav is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no speaking simulated caller {uniqueid}")
    return Response(wav, media_type="audio/wav")


def _ring(server: Server, body: SimCall) -> str | None:
    """The caller rings into the queue; its uniqueid, or None when there is no such incoming
    queue."""
    queue = server.center.directory.queues.get(QueueId(body.queue))
    if queue is None or queue.type is not QueueType.INCOMING:
        return None
    event = TrunkCall(number=body.from_, queue=QueueId(body.queue), name=body.name, data=body.data)
    effects = server.engine.submit(event)
    created = next(e for e in effects if isinstance(e, Created))
    return str(created.uniqueid)


@router.post("/calls/{uniqueid}/hangup", status_code=status.HTTP_204_NO_CONTENT)
async def hang_up(uniqueid: Annotated[str, Path(max_length=64)], request: Request) -> None:
    """The outside party of a live call hangs up."""
    server = request.app.state.server
    uid = UniqueId(uniqueid)
    if uid not in server.center.calls:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live call {uniqueid}")
    server.engine.submit(server.switch.caller_hangup(uid))


_CALLS = "/api/sim/calls"
_HANGUP = "/hangup"
_JSON = (b"content-type", b"application/json")


class FastLane:
    """ASGI middleware, innermost in front of FastAPI's routing (behind the origin check, the
    admin token, the body limits and the admission control): ``POST /api/sim/calls`` and
    ``POST /api/sim/calls/{uniqueid}/hangup`` on their way that succeeds. Anything else (a body
    that is not a valid ``SimCall`` in JSON, no such queue or live call, a store refusing new
    calls) goes on to the FastAPI routes above, with the body it read, and is answered by them
    as documented; so the answers are the routes' own, only faster."""

    def __init__(self, app: ASGIApp, *, server: Server) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.startswith(_CALLS):
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        if body is None:
            return  # the client went away before its body came whole: nothing was done
        if self.server.store.refusal() is None:
            if path == _CALLS:
                if _json(scope) and await self._ring(body, send):
                    return
            elif path.endswith(_HANGUP) and await self._hang_up(path, send):
                return
        await self.app(scope, _replay(body, receive), send)

    async def _ring(self, body: bytes, send: Send) -> bool:
        try:
            call = SimCall.model_validate(json.loads(body))
        except (ValueError, RecursionError, ValidationError):  # the route says why (422)
            return False
        if call.audio is not None or call.rtp is not None:  # the route connects its audio
            return False
        uniqueid = _ring(self.server, call)
        if uniqueid is None:
            return False
        answer = json.dumps({"uniqueid": uniqueid}, separators=(",", ":")).encode()
        await _answer(send, 201, answer)
        return True

    async def _hang_up(self, path: str, send: Send) -> bool:
        uid = path[len(_CALLS) + 1 : -len(_HANGUP)]
        if not uid or "/" in uid or len(uid) > 64 or UniqueId(uid) not in self.server.center.calls:
            return False
        self.server.engine.submit(self.server.switch.caller_hangup(UniqueId(uid)))
        await _answer(send, 204, b"")
        return True


def _json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` as it was before the body was read: the body, then the client's own."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


async def _answer(send: Send, status_code: int, body: bytes) -> None:
    headers: list[tuple[bytes, bytes]] = []
    if body:
        headers = [(b"content-length", str(len(body)).encode()), _JSON]
    await send({"type": "http.response.start", "status": status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
