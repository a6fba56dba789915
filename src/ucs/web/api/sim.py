"""The simulator API (CONTRACT §7): outside callers into queues, and their hangup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ucs.core.directory import QueueType
from ucs.core.effects import Created
from ucs.core.events import TrunkCall
from ucs.core.ids import QueueId, UniqueId
from ucs.media.base import MediaError
from ucs.media.conductor import AUDIO, clip_of
from ucs.web.api.auth import ERRORS, require_admin
from ucs.web.api.plain import Data, PlainModel

__all__ = ["router"]

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


class Started(BaseModel):
    uniqueid: str


@router.post("/calls", status_code=status.HTTP_201_CREATED, response_model=Started)
async def start_call(body: SimCall, request: Request) -> Started:
    """An outside caller rings into an incoming queue."""
    server = request.app.state.server
    queue = server.center.directory.queues.get(QueueId(body.queue))
    if queue is None or queue.type is not QueueType.INCOMING:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incoming queue {body.queue}")
    if body.audio is not None:
        try:
            clip_of(body.audio)
        except ValueError as err:
            raise HTTPException(422, str(err)) from None
        if not server.media.available:
            return _media_unavailable()  # type: ignore[return-value]
    event = TrunkCall(number=body.from_, queue=QueueId(body.queue), name=body.name, data=body.data)
    effects = server.engine.submit(event)
    created = next(e for e in effects if isinstance(e, Created))
    if body.audio is not None and created.uniqueid in server.center.calls:
        try:
            await server.media.speak(created.uniqueid, body.audio)
        except MediaError as err:  # the call goes on, silent; the caller is told why
            server.engine.submit(server.switch.caller_hangup(created.uniqueid))
            return _media_unavailable(err.message)  # type: ignore[return-value]
    return Started(uniqueid=created.uniqueid)


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


@router.post("/calls/{uniqueid}/hangup", status_code=status.HTTP_204_NO_CONTENT)
async def hang_up(uniqueid: Annotated[str, Path(max_length=64)], request: Request) -> None:
    """The outside party of a live call hangs up."""
    server = request.app.state.server
    uid = UniqueId(uniqueid)
    if uid not in server.center.calls:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live call {uniqueid}")
    server.engine.submit(server.switch.caller_hangup(uid))
