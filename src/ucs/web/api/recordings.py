"""Recorded calls over REST (CONTRACT §10): ``GET /api/recordings`` lists them, ``GET
/api/recordings/{uniqueid}`` is the audio (a stereo WAV: the far party left, the agent's side
right), ``DELETE`` removes one.

Who may: the admin token and superusers (their web-admin session, or their operator session
token) see every recording; a supervisor, with their sign-in's session (``POST
/api/admin/login``) or the session token their component got at login (``Authorization:
Bearer``), sees the recordings of the queues they supervise; nobody else.
The one place that decides is ``rights``: another kind of sign-in plugs in there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from ucs.core.ids import AgentId
from ucs.core.supervision import supervised_queues
from ucs.media.recorder import safe_uniqueid
from ucs.storage import recordings as index
from ucs.web.api.auth import admin_token_ok

__all__ = ["EVERY_QUEUE", "Rights", "rights", "router"]

router = APIRouter(prefix="/api/recordings", tags=["recordings"])

EVERY_QUEUE = None
"""``Rights.queues`` of whoever may see every recording."""
WAIT_FOR_FILE = 30.0
"""Seconds a fetch waits for a call's recording that is still being made."""
UID = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Rights(BaseModel):
    who: str
    queues: frozenset[int] | None
    """The queues whose recordings ``who`` may have; None: every queue (and calls of none)."""

    def covers(self, queue: int | None) -> bool:
        return self.queues is None or (queue is not None and queue in self.queues)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def rights(request: Request) -> Rights:
    """Who is asking and which queues' recordings they may have; 401 for nobody known, 403
    for an agent who supervises nothing."""
    server = request.app.state.server
    token = _bearer(request)
    if admin_token_ok(token, server.settings.admin_token_digest):
        return Rights(who="admin", queues=EVERY_QUEUE)
    sessions = getattr(request.app.state, "admin_sessions", None)
    superuser = sessions.who(token, time.time()) if sessions is not None else None
    if superuser is not None:
        return Rights(who=superuser, queues=EVERY_QUEUE)
    directory = server.center.directory
    agent = server.tokens.agent(token) if token else None
    config = directory.agents.get(AgentId(agent)) if agent is not None else None
    supervisor = sessions.supervisor(token, time.time()) if sessions is not None else None
    if config is None and supervisor is not None:  # a supervisor's sign-in (staff.py)
        config = directory.agent_by_username(supervisor)
    if config is None:
        raise HTTPException(
            401,
            "the admin token or a supervisor's session token is needed",
            headers={"WWW-Authenticate": "Bearer"},
        )
    queues = supervised_queues(server.center.directory, config)
    if queues is not None and not queues:
        raise HTTPException(403, f"{config.username} supervises no queue")
    return Rights(who=config.username, queues=queues)


class RecordingOut(BaseModel):
    uniqueid: str
    agent: str | None
    """The agent whose side was recorded first (the one who answered or placed the call)."""
    agents: list[str]
    """Every agent who was on the call, in order: a transferred call names each of them."""
    queue: int | None
    start: float
    """When the first of it was recorded (Unix time, seconds)."""
    seconds: float
    bytes: int


def _out(row: dict[str, Any]) -> RecordingOut:
    return RecordingOut(
        uniqueid=row["uniqueid"],
        agent=row["agent"],
        agents=index.names(row),
        queue=row["queue_id"],
        start=row["start"],
        seconds=row["seconds"],
        bytes=row["bytes"],
    )


def _moment(value: str | None, name: str, tz: dt.tzinfo | None, end: bool) -> float | None:
    """``YYYY-MM-DD`` (the whole day, in the server's time zone) or Unix seconds."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            422, f"{name} must be YYYY-MM-DD or Unix seconds, not {value!r}"
        ) from None
    if end:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp()


def _engine(request: Request) -> Any:
    return request.app.state.server.store.engine


async def _row(request: Request, uniqueid: str) -> dict[str, Any]:
    allowed = rights(request)
    server = request.app.state.server
    if uniqueid not in server.center.calls:  # a call that has just ended: its file is made
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_FOR_FILE):
                await server.media.recorder.made(uniqueid)
    row = await asyncio.to_thread(index.find, _engine(request), uniqueid)
    if row is None or not allowed.covers(row["queue_id"]):
        # Someone who may not have it is not told it exists.
        raise HTTPException(404, f"no recording of call {uniqueid}")
    return row


@router.get("", response_model=list[RecordingOut])
async def list_recordings(
    request: Request,
    from_: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    to: Annotated[str | None, Query(max_length=32)] = None,
    agent: Annotated[str | None, Query(max_length=64)] = None,
    queue: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[RecordingOut]:
    """Recordings that started from `from` to `to` (days `YYYY-MM-DD` in the server's time
    zone, both inclusive, or Unix seconds), of `agent` (username: any agent who was on the
    call, so a transferred call is found by each of them) and `queue`, oldest first; a
    supervisor gets only those of the queues they supervise (the call's queue, whoever it was
    transferred to)."""
    allowed = rights(request)
    tz = request.app.state.server.center.tz
    rows = await asyncio.to_thread(
        index.search,
        _engine(request),
        since=_moment(from_, "from", tz, end=False),
        until=_moment(to, "to", tz, end=True),
        agent=agent,
        queue=queue,
        queues=allowed.queues,
    )
    return [_out(r) for r in rows]


@router.get(
    "/{uniqueid}",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "The stereo WAV"}},
)
async def get_recording(uniqueid: UID, request: Request) -> Response:
    """The call's recording: WAV, 16-bit PCM at 8 kHz, the far party left and the agent's
    side right. A call that has just ended is waited for while its file is made."""
    row = await _row(request, uniqueid)
    path = request.app.state.server.media.recorder.folder / str(row["path"])
    if not safe_uniqueid(uniqueid) or not path.is_file():
        raise HTTPException(404, f"the recording of call {uniqueid} is missing")
    return FileResponse(path, media_type="audio/wav", filename=f"{uniqueid}.wav")


@router.delete("/{uniqueid}", status_code=204)
async def delete_recording(uniqueid: UID, request: Request) -> Response:
    """Remove the call's recording (file and index): the admin token and superusers only."""
    await _row(request, uniqueid)
    if rights(request).queues is not EVERY_QUEUE:
        raise HTTPException(403, "only an administrator removes recordings")
    await request.app.state.server.media.recorder.delete(uniqueid)
    return Response(status_code=204)
