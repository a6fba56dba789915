"""Administration: agents (argon2 password hashes), phones and lines, queues, memberships,
AUX reasons and the SSO secret. Every change is stored, then the core is reconfigured."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, ClassVar, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import Field, StrictBool, model_validator
from sqlalchemy.exc import IntegrityError

from ucs.core.directory import MISSED_CALL, PARTITION_PATTERN, QueueType, Strategy
from ucs.core.events import Reconfigure
from ucs.media.sounds import NAME
from ucs.storage import partitions
from ucs.storage import schema as t
from ucs.web.api.auth import ERRORS, require_admin
from ucs.web.api.conflicts import conflict, integrity_conflict, taken
from ucs.web.api.dispositions import FREE_TEXT, LIST, Dispositions
from ucs.web.api.partition_rule import check_agent, check_membership, check_queue
from ucs.web.api.plain import Data, PlainModel

__all__ = ["router"]

router = APIRouter(
    prefix="/api",
    tags=["administration"],
    dependencies=[Depends(require_admin)],
    responses=ERRORS,
)

_NAME = r"^[A-Za-z0-9._@+-]{1,128}$"
_SOUND = NAME.pattern
MIN_PASSWORD = 8
"""Fewest characters of an agent's password."""
Id = Annotated[int, Path(gt=0, le=2_147_483_647)]
_PARTITION = (
    "The partition (CONTRACT §13; default main): 1 to 32 of a-z, 0-9, - and _. An agent's "
    "queues are all in its partition"
)


class _Model(PlainModel):
    NULLABLE: ClassVar[frozenset[str]] = frozenset()
    """Fields that may be set to null (the others only to a value)."""

    @model_validator(mode="after")
    def _no_null_where_a_value_is_needed(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.NULLABLE:
                raise ValueError(f"{name} cannot be null")
        return self


class Member(_Model):
    """A membership set through ``/api/queues/{queue}/members/{agent}``: the queue comes from
    the path (a ``queue`` in the body must name the same one)."""

    NULLABLE = frozenset({"team_id"})
    queue: int | None = Field(None, gt=0, le=2_147_483_647)
    priority: int = Field(1, ge=0, le=1000)
    supervisor: bool = False
    team_id: int | None = Field(None, ge=0, le=2_147_483_647)


class MembershipIn(Member):
    """A membership in an agent's ``memberships``."""

    queue: int = Field(gt=0, le=2_147_483_647)


class AgentPatch(_Model):
    NULLABLE = frozenset({"external_id", "group_id", "number", "primary_extension"})
    username: str | None = Field(None, pattern=_NAME)
    password: str | None = Field(None, min_length=MIN_PASSWORD, max_length=256)
    firstname: str | None = Field(None, max_length=128)
    lastname: str | None = Field(None, max_length=128)
    displayname: str | None = Field(None, max_length=256)
    email: str | None = Field(None, max_length=256)
    external_id: str | None = Field(None, max_length=128)
    group_id: int | None = Field(None, ge=0, le=2_147_483_647)
    locale: str | None = Field(None, pattern=r"^(en|cs)$")
    number: str | None = Field(None, max_length=64)
    superuser: bool | None = None
    primary_extension: int | None = Field(None, ge=0, le=2_147_483_647)
    data: Data | None = Field(None, description="At most 16 KiB as JSON.")
    memberships: list[MembershipIn] | None = Field(None, max_length=1000)
    lines: list[Annotated[int, Field(gt=0, le=2_147_483_647)]] | None = Field(None, max_length=100)
    partition: str | None = Field(None, pattern=PARTITION_PATTERN, description=_PARTITION)


class AgentIn(AgentPatch):
    username: str = Field(pattern=_NAME)
    password: str = Field(min_length=MIN_PASSWORD, max_length=256)


class LinePatch(_Model):
    identifier: str | None = Field(None, pattern=_NAME)
    extension: str | None = Field(None, pattern=r"^[0-9]{2,8}$")
    name: str | None = Field(None, max_length=128)
    secret: str | None = Field(None, max_length=256)


class LineIn(LinePatch):
    identifier: str = Field(pattern=_NAME)
    extension: str = Field(pattern=r"^[0-9]{2,8}$")


class QueuePatch(_Model):
    NULLABLE = frozenset({"number", "rona_reason", "campaign", "greeting", "music"})
    name: str | None = Field(None, min_length=1, max_length=128)
    type: QueueType | None = None
    strategy: Strategy | None = None
    ring_timeout: float | None = Field(None, ge=0, le=600)
    wrapup: float | None = Field(None, ge=0, le=3600)
    weight: int | None = Field(None, ge=0, le=1000)
    number: str | None = Field(None, pattern=r"^[0-9]{1,16}$")
    rona_reason: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="AUX reason a READY agent is given after letting one of the queue's calls "
        "ring out (ring no answer); null: the agent stays READY",
    )
    campaign: int | None = Field(
        None,
        gt=0,
        le=2_147_483_647,
        description="The outgoing queue (campaign) the queue's callbacks are dialled under",
    )
    callback_retries: int | None = Field(
        None,
        ge=0,
        le=10,
        description="Times a callback whose number does not answer goes back to the queue",
    )
    callback_offer: StrictBool | None = Field(
        None,
        description="A waiting caller may press 1 to leave a callback request, keeping their "
        "place (the greeting and the announcements say so)",
    )
    greeting: str | None = Field(
        None, pattern=_SOUND, description="Sound a caller hears on entering the queue; null: none"
    )
    music: str | None = Field(
        None,
        pattern=_SOUND,
        description="Sound waiting and held callers hear; null: the default music on hold",
    )
    announce_every: float | None = Field(
        None, ge=0, le=3600, description="Seconds between announcements of the place (0: never)"
    )
    announce_wait: bool | None = Field(None, description="Announce the expected wait too")
    language: Literal["en", "cs"] | None = Field(
        None, description="Language of the greeting and the announcements"
    )
    recording: Literal["never", "always", "on_demand"] | None = Field(
        None,
        description="Whether its calls are recorded: never, always (from the answer) or "
        "on_demand (the agent's startRecording())",
    )
    service_level_target: int | None = Field(
        None,
        ge=1,
        le=3600,
        description="Seconds within which an answer counts toward the service level",
    )
    partition: str | None = Field(None, pattern=PARTITION_PATTERN, description=_PARTITION)
    dispositions: Dispositions | None = Field(None, description=LIST)
    free_text_codes: bool | None = Field(None, description=FREE_TEXT)


class QueueIn(QueuePatch):
    name: str = Field(min_length=1, max_length=128)
    rona_reason: str | None = Field(
        MISSED_CALL,
        min_length=1,
        max_length=64,
        description="AUX reason a READY agent is given after letting one of the queue's calls "
        f"ring out (ring no answer); null: the agent stays READY. Left out: {MISSED_CALL!r}, "
        "made an AUX reason if it is none yet",
    )
    type: QueueType = QueueType.INCOMING
    strategy: Strategy = Strategy.LONGEST_IDLE
    ring_timeout: float = Field(15.0, ge=0, le=600)
    wrapup: float = Field(0.0, ge=0, le=3600)


class Reasons(_Model):
    reasons: list[Annotated[str, Field(max_length=256)]] = Field(max_length=100)


class Secret(_Model):
    secret: str = Field(min_length=8, max_length=256)


async def _reconfigure(request: Request) -> None:
    """Load the configuration as stored and give it to the core; in a cluster, tell the other
    nodes, which load it too (``web/cluster.py``)."""
    server = request.app.state.server
    await server.reload_directory()
    if server.lease is not None:
        version = await asyncio.to_thread(partitions.changed_directory, server.store.engine)
        server.directory_version = version


async def _store(call: Any, *args: Any, table: Any = None) -> Any:
    try:
        return await asyncio.to_thread(call, *args)
    except IntegrityError as err:
        raise integrity_conflict(table, err) from err


def invalid(field: str, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own, so that a client shows it beside the field."""
    detail = [{"type": "value_error", "loc": ["body", field], "msg": message}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


async def _unique(request: Request, table: Any, values: dict[str, Any], own: int | None) -> None:
    """Refuse (409, naming the field) a value another record of ``table`` holds."""
    rows = await _store(request.app.state.server.store.rows, table)
    found = taken(table, values, rows, own)
    if found is not None:
        raise found


def _agent_out(server: Any, row: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in row.items() if k != "password_hash"}
    cfg = server.catalog.agents.get(row["id"])
    row["memberships"] = [
        {"queue": m.queue, "priority": m.priority, "supervisor": m.supervisor, "team_id": m.team_id}
        for m in (cfg.memberships if cfg else ())
    ]
    row["lines"] = list(cfg.lines) if cfg else []
    return row


def _check_links(server: Any, body: AgentPatch, agent_id: int | None) -> None:
    d = server.catalog
    queues = [m.queue for m in body.memberships or []]
    if len(set(queues)) != len(queues):
        raise invalid("memberships", "a queue is listed twice")
    for m in body.memberships or []:
        if m.queue not in d.queues:
            raise invalid("memberships", f"no queue {m.queue}")
    for line in body.lines or []:
        if line not in d.lines:
            raise invalid("lines", f"no line {line}")
    given = [m.queue for m in body.memberships] if body.memberships is not None else None
    check_agent(d, agent_id, body.partition, given)


# --- agents ------------------------------------------------------------------------------------


def _end_admin_sessions(request: Request, agent_id: int) -> None:
    """A superuser who is no longer one, renamed, removed or given a new password loses the
    web admin sessions of their login (``ucs.web.api.staff``)."""
    agent = request.app.state.server.catalog.agents.get(agent_id)
    sessions = getattr(request.app.state, "admin_sessions", None)
    if agent is not None and sessions is not None:
        sessions.end_for(agent.username)


@router.get("/agents")
async def list_agents(request: Request) -> list[dict[str, Any]]:
    server = request.app.state.server
    return [_agent_out(server, r) for r in await _store(server.store.rows, t.agents)]


@router.get("/agents/{agent_id}")
async def get_agent(agent_id: Id, request: Request) -> dict[str, Any]:
    server = request.app.state.server
    rows = await _store(lambda: server.store.rows(t.agents, id=agent_id))
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agent {agent_id}")
    return _agent_out(server, rows[0])


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def create_agent(body: AgentIn, request: Request) -> dict[str, Any]:
    server = request.app.state.server
    _check_links(server, body, None)
    values = body.model_dump(exclude={"password", "memberships", "lines"}, exclude_none=True)
    await _unique(request, t.agents, values, None)
    values["password_hash"] = await asyncio.to_thread(server.hasher.hash, body.password)
    values.setdefault("data", {})
    agent_id = await _store(
        server.store.save_agent, None, values, body.memberships, body.lines, table=t.agents
    )
    await _reconfigure(request)
    return await get_agent(agent_id, request)


@router.patch("/agents/{agent_id}")
async def update_agent(agent_id: Id, body: AgentPatch, request: Request) -> dict[str, Any]:
    server = request.app.state.server
    _check_links(server, body, agent_id)
    values = body.model_dump(exclude={"password", "memberships", "lines"}, exclude_unset=True)
    await _unique(request, t.agents, values, agent_id)
    if body.password is not None:
        values["password_hash"] = await asyncio.to_thread(server.hasher.hash, body.password)
    saved = await _store(
        server.store.save_agent, agent_id, values, body.memberships, body.lines, table=t.agents
    )
    if saved is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agent {agent_id}")
    if values.get("superuser") is False or "username" in values or "password_hash" in values:
        _end_admin_sessions(request, agent_id)
    await _reconfigure(request)
    return await get_agent(agent_id, request)


@router.delete("/agents/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(agent_id: Id, request: Request) -> Response:
    server = request.app.state.server
    if server.center.agent_calls.get(agent_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"agent {agent_id} is on a call")
    if not await _store(server.store.delete, t.agents, agent_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agent {agent_id}")
    _end_admin_sessions(request, agent_id)
    await _reconfigure(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- lines and queues --------------------------------------------------------------------------


def _crud(
    name: str,
    table: Any,
    model_in: type[_Model],
    model_patch: type[_Model],
    hide: tuple[str, ...] = (),
    in_use: Any = None,
    check: Any = None,
    prepare: Any = None,
) -> None:
    """The five routes of a table: list, get, create, change, delete. ``in_use(server, id)``
    says why a record cannot be deleted now; ``check(server, values, id)`` refuses values
    that the model alone cannot judge (``id`` None: a new record); ``await prepare(request,
    values)`` makes what the values need, just before they are stored."""

    def out(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in hide}

    async def list_all(request: Request) -> list[dict[str, Any]]:
        return [out(r) for r in await _store(request.app.state.server.store.rows, table)]

    async def get_one(item_id: Id, request: Request) -> dict[str, Any]:
        store = request.app.state.server.store
        rows = await _store(lambda: store.rows(table, id=item_id))
        if not rows:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {name[:-1]} {item_id}")
        return out(rows[0])

    async def create(body: Any, request: Request) -> dict[str, Any]:
        values = body.model_dump(mode="json", exclude_none=True)
        if check:
            check(request.app.state.server, values, None)
        await _unique(request, table, values, None)
        if prepare:
            await prepare(request, values)
        item_id = await _store(request.app.state.server.store.insert, table, values, table=table)
        await _reconfigure(request)
        return await get_one(item_id, request)

    async def update(item_id: Id, body: Any, request: Request) -> dict[str, Any]:
        values = body.model_dump(mode="json", exclude_unset=True)
        if check:
            check(request.app.state.server, values, item_id)
        await _unique(request, table, values, item_id)
        store = request.app.state.server.store
        if prepare and await _store(lambda: store.rows(table, id=item_id)):
            await prepare(request, values)
        if not await _store(store.update, table, item_id, values, table=table):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {name[:-1]} {item_id}")
        await _reconfigure(request)
        return await get_one(item_id, request)

    async def remove(item_id: Id, request: Request) -> Response:
        busy = in_use(request.app.state.server, item_id) if in_use else None
        if busy:
            raise HTTPException(status.HTTP_409_CONFLICT, busy)
        if not await _store(request.app.state.server.store.delete, table, item_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {name[:-1]} {item_id}")
        await _reconfigure(request)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    create.__annotations__["body"] = model_in
    update.__annotations__["body"] = model_patch
    one = name[:-1]
    routes = (
        ("", list_all, "GET", f"List the {name}", 200),
        ("/{item_id}", get_one, "GET", f"Get a {one}", 200),
        ("", create, "POST", f"Create a {one}", 201),
        ("/{item_id}", update, "PATCH", f"Change a {one}", 200),
        ("/{item_id}", remove, "DELETE", f"Delete a {one}", 204),
    )
    for path, endpoint, method, summary, code in routes:
        extra: dict[str, Any] = {"response_class": Response} if code == 204 else {}
        router.add_api_route(
            f"/{name}{path}",
            endpoint,
            methods=[method],
            summary=summary,
            status_code=code,
            name=f"{method.lower()}_{one}{'s' if not path and method == 'GET' else ''}",
            **extra,
        )


def _line_in_use(server: Any, line: int) -> str | None:
    owner = server.center.line_owner.get(line)
    return f"line {line} is the phone of agent {owner}, logged in now" if owner else None


def _queue_in_use(server: Any, queue: int) -> str | None:
    live = sum(1 for c in server.center.calls.values() if queue in (c.queue_id, c.outbound_id))
    return f"queue {queue} has {live} live calls" if live else None


def _queue_values(server: Any, values: dict[str, Any], queue_id: int | None) -> None:
    check_queue(server.catalog, queue_id, values)
    reason = values.get("rona_reason")
    reasons = server.catalog.aux_reasons
    if reason is not None and reason not in reasons and reason != MISSED_CALL:
        listed = ", ".join(reasons) or "none"
        raise invalid("rona_reason", f"{reason!r} is not an AUX reason (they are: {listed})")


_crud("lines", t.lines, LineIn, LinePatch, hide=("secret",), in_use=_line_in_use)


async def _missed_call_reason(request: Request, values: dict[str, Any]) -> None:
    """A queue whose RONA reason is ``MISSED_CALL`` (new queues' default) makes it an AUX
    reason when it is none yet."""
    server = request.app.state.server
    reasons = list(server.catalog.aux_reasons)
    if values.get("rona_reason") == MISSED_CALL and MISSED_CALL not in reasons:
        await _store(server.store.set_aux_reasons, [*reasons, MISSED_CALL])


_crud(
    "queues",
    t.queues,
    QueueIn,
    QueuePatch,
    in_use=_queue_in_use,
    check=_queue_values,
    prepare=_missed_call_reason,
)


# --- memberships, reasons, SSO -----------------------------------------------------------------


@router.put("/queues/{queue_id}/members/{agent_id}")
async def set_member(queue_id: Id, agent_id: Id, body: Member, request: Request) -> dict[str, Any]:
    """Make the agent a member of the queue (or change its priority, supervisor flag, team).
    The queue is the path's; the body need not name it (if it does, the same one)."""
    d = request.app.state.server.catalog
    if body.queue is not None and body.queue != queue_id:
        raise invalid("queue", f"queue {body.queue} in the body is not {queue_id} of the path")
    if queue_id not in d.queues or agent_id not in d.agents:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no queue {queue_id} or agent {agent_id}")
    check_membership(d, queue_id, agent_id)
    await _store(
        request.app.state.server.store.set_membership,
        {
            "agent_id": agent_id,
            "queue_id": queue_id,
            "priority": body.priority,
            "supervisor": body.supervisor,
            "team_id": body.team_id,
        },
    )
    await _reconfigure(request)
    return {**body.model_dump(), "queue": queue_id}


@router.delete("/queues/{queue_id}/members/{agent_id}", status_code=204, response_class=Response)
async def remove_member(queue_id: Id, agent_id: Id, request: Request) -> Response:
    if not await _store(request.app.state.server.store.remove_membership, queue_id, agent_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such membership")
    await _reconfigure(request)
    return Response(status_code=204)


@router.get("/aux-reasons")
async def get_reasons(request: Request) -> Reasons:
    return Reasons(reasons=list(request.app.state.server.catalog.aux_reasons))


@router.put("/aux-reasons")
async def set_reasons(body: Reasons, request: Request) -> Reasons:
    reasons = [r.strip() for r in body.reasons]
    if any(not r or len(r) > 64 for r in reasons) or len(set(reasons)) != len(reasons):
        raise invalid("reasons", "reasons must be distinct, non-empty, at most 64 characters")
    for qid, queue in sorted(request.app.state.server.catalog.queues.items()):
        if queue.rona_reason is not None and queue.rona_reason not in reasons:
            raise conflict(
                "reasons",
                f"{queue.rona_reason!r} is the RONA reason of queue {qid} ({queue.name}): "
                "change the queue's rona_reason first",
            )
    await _store(request.app.state.server.store.set_aux_reasons, reasons)
    await _reconfigure(request)
    return Reasons(reasons=reasons)


@router.put("/settings/sso-secret", status_code=204, response_class=Response)
async def set_sso_secret(body: Secret, request: Request) -> Response:
    """Change the SSO pre-shared secret (tokens made with the old one stop working)."""
    server = request.app.state.server
    await _store(server.store.set_setting, "sso_secret", body.secret)
    server.settings.sso_secret = body.secret
    server.engine.submit(Reconfigure(server.runs(server.catalog), sso_secret=body.secret))
    if server.lease is not None:  # the other nodes of a cluster load it too
        version = await asyncio.to_thread(partitions.changed_directory, server.store.engine)
        server.directory_version = version
    return Response(status_code=204)
