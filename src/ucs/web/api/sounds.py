"""Sounds callers hear (CONTRACT §10): ``GET /api/sounds`` lists them, ``PUT
/api/sounds/{name}`` stores a WAV file as one (a bad file: 422, nothing stored)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ucs.media.sounds import NAME, SoundError, tools_installed
from ucs.web.api.auth import ERRORS, require_admin

__all__ = ["MAX_SOUND_BYTES", "router"]

MAX_SOUND_BYTES = 64 * 1024 * 1024
"""Largest WAV upload: ten minutes of 48 kHz stereo is 110 MB, so long music is sent at a
lower rate (the engine plays 8 kHz to callers anyway)."""

router = APIRouter(
    prefix="/api/sounds",
    tags=["sounds"],
    dependencies=[Depends(require_admin)],
    responses=ERRORS,
)


class SoundOut(BaseModel):
    name: str
    languages: list[str]
    """Languages with a version of their own; "" is the version for every language."""
    seconds: float
    bytes: int


def _wire(sound: Any) -> SoundOut:
    return SoundOut(
        name=sound.name,
        languages=list(sound.languages),
        seconds=sound.seconds,
        bytes=sound.bytes,
    )


@router.get("", response_model=list[SoundOut])
async def list_sounds(request: Request) -> list[SoundOut]:
    """The sounds the server has: the default set (at least `music` and `welcome`) and uploads."""
    return [_wire(s) for s in request.app.state.server.media.sounds.list()]


@router.put(
    "/{name}",
    response_model=SoundOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_sound(
    name: Annotated[str, Path(pattern=NAME.pattern, max_length=32)], request: Request
) -> Any:
    """Store a WAV file (PCM, 8–48 kHz, mono or stereo, up to 600 s) as the sound
    `name`, replacing one of that name. Refused with 422 and nothing stored otherwise."""
    if not tools_installed():
        return JSONResponse(
            {"code": "MEDIA_UNAVAILABLE", "detail": "opusenc and espeak-ng are not installed"},
            status_code=503,
        )
    data = await request.body()
    try:
        sound = await request.app.state.server.media.sounds.put(name, data)
    except SoundError as err:
        raise HTTPException(422, str(err)) from None
    return _wire(sound)
