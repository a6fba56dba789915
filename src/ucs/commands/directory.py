"""``ucs agent``, ``ucs phone``, ``ucs queue``, ``ucs aux``, ``ucs settings``: the directory of
the contact center through the REST API (docs/admin.md), one command per route."""

from __future__ import annotations

import json
from typing import Any

import typer

from ucs.commands import dispositions
from ucs.commands.dispositions import DISPOSITION, FREE_TEXT, NO_DISPOSITIONS
from ucs.commands.rest import JSON, TOKEN, URL, api, show

__all__ = ["agent_app", "aux_app", "phone_app", "queue_app", "settings_app"]

agent_app = typer.Typer(help="Agents.", no_args_is_help=True)
phone_app = typer.Typer(help="Phones (lines).", no_args_is_help=True)
queue_app = typer.Typer(help="Queues and memberships.", no_args_is_help=True)
aux_app = typer.Typer(help="AUX reasons (not ready, with a reason).", no_args_is_help=True)
settings_app = typer.Typer(help="Server settings.", no_args_is_help=True)


def _given(**values: Any) -> dict[str, Any]:
    """The options that were given (None: not given)."""
    return {k: v for k, v in values.items() if v is not None}


# --- agents ------------------------------------------------------------------------------------

_AGENT_COLUMNS = [
    "id",
    "username",
    "firstname",
    "lastname",
    "superuser",
    "partition",
    "queues",
    "lines",
]
_PARTITION = typer.Option(
    None,
    help="The partition (default main): in a cluster, the node that runs it. An agent's queues "
    "are all in its partition.",
)


def _agent_row(row: dict[str, Any]) -> dict[str, Any]:
    marked = (str(m["queue"]) + ("*" if m["supervisor"] else "") for m in row["memberships"])
    queues = ",".join(marked)
    return {**row, "queues": queues, "lines": ",".join(str(i) for i in row["lines"])}


@agent_app.command("list")
def agent_list(url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """List the agents (queues: the queue ids, * where a supervisor)."""
    rows = api(url, token, "GET", "/api/agents")
    show(rows if as_json else [_agent_row(r) for r in rows], _AGENT_COLUMNS, as_json)


@agent_app.command("show")
def agent_show(agent_id: int, url: str = URL, token: str = TOKEN) -> None:
    """Print an agent as JSON."""
    show(api(url, token, "GET", f"/api/agents/{agent_id}"), [], True)


_PASSWORD = typer.Option(
    ...,
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="UCS_AGENT_PASSWORD",
    help="At least 8 characters (asked for when not given).",
)


@agent_app.command("add")
def agent_add(
    username: str,
    password: str = _PASSWORD,
    firstname: str = "",
    lastname: str = "",
    email: str = "",
    superuser: bool = typer.Option(False, "--superuser", help="May supervise every queue."),
    queue: list[int] = typer.Option([], "--queue", help="Member of this queue (repeatable)."),
    phone: list[int] = typer.Option([], "--phone", help="Owns this line id (repeatable)."),
    partition: str | None = _PARTITION,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Add an agent (the password has at least 8 characters)."""
    body = {
        "username": username,
        "password": password,
        "firstname": firstname,
        "lastname": lastname,
        "email": email,
        "superuser": superuser,
        "memberships": [{"queue": q} for q in queue],
        "lines": phone,
        **_given(partition=partition),
    }
    row = api(url, token, "POST", "/api/agents", body)
    typer.echo(f"agent {row['username']} added with id {row['id']}")


@agent_app.command("set")
def agent_set(
    agent_id: int,
    username: str | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    displayname: str | None = None,
    email: str | None = None,
    locale: str | None = typer.Option(None, help="en or cs."),
    superuser: bool | None = typer.Option(None, "--superuser/--no-superuser"),
    phone: list[int] | None = typer.Option(
        None, "--phone", help="The agent's line ids, all of them (repeatable)."
    ),
    partition: str | None = _PARTITION,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Change an agent: only the options given."""
    body = _given(
        username=username,
        firstname=firstname,
        lastname=lastname,
        displayname=displayname,
        email=email,
        locale=locale,
        superuser=superuser,
        lines=phone or None,
        partition=partition,
    )
    if not body:
        raise typer.BadParameter("nothing to change: give at least one option")
    api(url, token, "PATCH", f"/api/agents/{agent_id}", body)
    typer.echo(f"agent {agent_id} changed")


@agent_app.command("passwd")
def agent_passwd(
    agent_id: int,
    password: str = _PASSWORD,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Set an agent's password (at least 8 characters)."""
    api(url, token, "PATCH", f"/api/agents/{agent_id}", {"password": password})
    typer.echo(f"password of agent {agent_id} changed")


@agent_app.command("remove")
def agent_remove(agent_id: int, url: str = URL, token: str = TOKEN) -> None:
    """Remove an agent."""
    api(url, token, "DELETE", f"/api/agents/{agent_id}")
    typer.echo(f"agent {agent_id} removed")


# --- phones ------------------------------------------------------------------------------------


@phone_app.command("list")
def phone_list(url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """List the phones (their SIP passwords are never shown)."""
    show(api(url, token, "GET", "/api/lines"), ["id", "identifier", "extension", "name"], as_json)


@phone_app.command("show")
def phone_show(line_id: int, url: str = URL, token: str = TOKEN) -> None:
    """Print a phone as JSON."""
    show(api(url, token, "GET", f"/api/lines/{line_id}"), [], True)


@phone_app.command("add")
def phone_add(
    identifier: str,
    extension: str,
    name: str = "",
    secret: str = typer.Option("", help="SIP password of the phone."),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Add a phone."""
    body = {"identifier": identifier, "extension": extension, "name": name, "secret": secret}
    row = api(url, token, "POST", "/api/lines", body)
    typer.echo(f"phone {row['identifier']} added as line {row['id']}")


@phone_app.command("set")
def phone_set(
    line_id: int,
    identifier: str | None = None,
    extension: str | None = None,
    name: str | None = None,
    secret: str | None = typer.Option(None, help="SIP password of the phone."),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Change a phone: only the options given."""
    body = _given(identifier=identifier, extension=extension, name=name, secret=secret)
    if not body:
        raise typer.BadParameter("nothing to change: give at least one option")
    api(url, token, "PATCH", f"/api/lines/{line_id}", body)
    typer.echo(f"phone {line_id} changed")


@phone_app.command("remove")
def phone_remove(line_id: int, url: str = URL, token: str = TOKEN) -> None:
    """Remove a phone."""
    api(url, token, "DELETE", f"/api/lines/{line_id}")
    typer.echo(f"phone {line_id} removed")


# --- queues ------------------------------------------------------------------------------------

_QUEUE_COLUMNS = (
    "id name type strategy ring_timeout wrapup weight number rona_reason greeting music "
    "announce_every language service_level_target recording campaign callback_retries "
    "callback_offer partition dispositions free_text_codes"
).split()
_GREETING = typer.Option(None, help='Sound a caller hears on entering the queue ("": none).')
_MUSIC = typer.Option(None, help='Sound waiting and held callers hear ("": the default).')
_ANNOUNCE_EVERY = typer.Option(
    None, help="Seconds between announcements of a waiting caller's place (0: never)."
)
_ANNOUNCE_WAIT = typer.Option(
    None, "--announce-wait/--no-announce-wait", help="Announce the expected wait too."
)
_CALLBACK_OFFER = typer.Option(
    None,
    "--callback-offer/--no-callback-offer",
    help="A waiting caller may press 1 to leave a callback request, keeping their place.",
)
_LANGUAGE = typer.Option(None, help="en or cs: the language of the greeting and announcements.")
_RECORDING = typer.Option(
    None, help="never, always (every call, from its answer) or on_demand (startRecording())."
)
_TARGET = typer.Option(
    None, help="Seconds within which an answer counts toward the service level (default 20)."
)
_STRATEGY = "ringall, longest-idle, round-robin, fewest-calls or priority"


@queue_app.command("list")
def queue_list(url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """List the queues (type 1 incoming, 0 outgoing campaign)."""
    rows = api(url, token, "GET", "/api/queues")
    show(rows if as_json else [dispositions.shown(r) for r in rows], _QUEUE_COLUMNS, as_json)


@queue_app.command("show")
def queue_show(queue_id: int, url: str = URL, token: str = TOKEN) -> None:
    """Print a queue as JSON."""
    show(api(url, token, "GET", f"/api/queues/{queue_id}"), [], True)


@queue_app.command("add")
def queue_add(
    name: str,
    outgoing: bool = typer.Option(False, "--outgoing", help="A campaign, for dial()."),
    strategy: str = typer.Option("longest-idle", help=_STRATEGY),
    ring_timeout: float = 15.0,
    wrapup: float = 0.0,
    weight: int = 0,
    number: str | None = None,
    rona_reason: str | None = typer.Option(
        None,
        help="AUX reason for an agent who lets a call ring out (one of `ucs aux list`; "
        'default "Missed call", made an AUX reason if it is none; "": none).',
    ),
    greeting: str | None = _GREETING,
    music: str | None = _MUSIC,
    announce_every: float | None = _ANNOUNCE_EVERY,
    announce_wait: bool | None = _ANNOUNCE_WAIT,
    language: str | None = _LANGUAGE,
    recording: str | None = _RECORDING,
    service_level_target: int | None = _TARGET,
    campaign: int | None = typer.Option(
        None, help="The outgoing queue the queue's callback requests are dialled under."
    ),
    callback_retries: int | None = typer.Option(
        None, help="Times a callback whose number does not answer goes back (default 1)."
    ),
    callback_offer: bool | None = _CALLBACK_OFFER,
    partition: str | None = _PARTITION,
    disposition: list[str] | None = DISPOSITION,
    free_text_codes: bool | None = FREE_TEXT,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Add a queue."""
    body = {
        "name": name,
        "type": 0 if outgoing else 1,
        "strategy": strategy,
        "ring_timeout": ring_timeout,
        "wrapup": wrapup,
        "weight": weight,
        "number": number,
        "rona_reason": rona_reason,
        "greeting": greeting or None,
        "music": music or None,
        "announce_every": announce_every,
        "announce_wait": announce_wait,
        "language": language,
        "recording": recording,
        "service_level_target": service_level_target,
        "campaign": campaign,
        "callback_retries": callback_retries,
        "callback_offer": callback_offer,
        "partition": partition,
        "dispositions": dispositions.parse(disposition),
        "free_text_codes": free_text_codes,
    }
    given = _given(**body)
    if rona_reason == "":
        given["rona_reason"] = None  # explicitly none: the agent stays READY
    row = api(url, token, "POST", "/api/queues", given)
    typer.echo(f"queue {row['name']} added with id {row['id']}")


@queue_app.command("set")
def queue_set(
    queue_id: int,
    name: str | None = None,
    strategy: str | None = typer.Option(None, help=_STRATEGY),
    ring_timeout: float | None = None,
    wrapup: float | None = None,
    weight: int | None = None,
    number: str | None = typer.Option(None, help='The queue\'s number ("": none).'),
    rona_reason: str | None = typer.Option(
        None, help='AUX reason after a call rang out ("": none, the agent stays READY).'
    ),
    greeting: str | None = _GREETING,
    music: str | None = _MUSIC,
    announce_every: float | None = _ANNOUNCE_EVERY,
    announce_wait: bool | None = _ANNOUNCE_WAIT,
    language: str | None = _LANGUAGE,
    recording: str | None = _RECORDING,
    service_level_target: int | None = _TARGET,
    campaign: int | None = typer.Option(
        None, help="The outgoing queue callbacks are dialled under (0: none)."
    ),
    callback_retries: int | None = typer.Option(
        None, help="Times a callback whose number does not answer goes back."
    ),
    callback_offer: bool | None = _CALLBACK_OFFER,
    partition: str | None = _PARTITION,
    disposition: list[str] | None = DISPOSITION,
    no_dispositions: bool = NO_DISPOSITIONS,
    free_text_codes: bool | None = FREE_TEXT,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Change a queue: only the options given."""
    body: dict[str, Any] = _given(
        name=name,
        strategy=strategy,
        ring_timeout=ring_timeout,
        wrapup=wrapup,
        weight=weight,
        announce_every=announce_every,
        announce_wait=announce_wait,
        language=language,
        recording=recording,
        service_level_target=service_level_target,
        callback_retries=callback_retries,
        callback_offer=callback_offer,
        partition=partition,
        dispositions=dispositions.parse(disposition, no_dispositions),
        free_text_codes=free_text_codes,
    )
    if campaign is not None:
        body["campaign"] = campaign or None
    for key, value in (
        ("number", number),
        ("rona_reason", rona_reason),
        ("greeting", greeting),
        ("music", music),
    ):
        if value is not None:
            body[key] = value or None
    if not body:
        raise typer.BadParameter("nothing to change: give at least one option")
    api(url, token, "PATCH", f"/api/queues/{queue_id}", body)
    typer.echo(f"queue {queue_id} changed")


@queue_app.command("remove")
def queue_remove(queue_id: int, url: str = URL, token: str = TOKEN) -> None:
    """Remove a queue (refused while it has live calls)."""
    api(url, token, "DELETE", f"/api/queues/{queue_id}")
    typer.echo(f"queue {queue_id} removed")


@queue_app.command("members")
def queue_members(queue_id: int, url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """List the members of a queue."""
    api(url, token, "GET", f"/api/queues/{queue_id}")  # 404 for an unknown queue
    rows = []
    for agent in api(url, token, "GET", "/api/agents"):
        for m in agent["memberships"]:
            if m["queue"] == queue_id:
                rows.append({"agent": agent["id"], "username": agent["username"], **m})
    show(rows, ["agent", "username", "priority", "supervisor", "team_id"], as_json)


@queue_app.command("member")
def queue_member(
    queue_id: int,
    agent_id: int,
    priority: int = 1,
    supervisor: bool = False,
    team: int | None = None,
    remove: bool = typer.Option(False, "--remove", help="Take the agent out of the queue."),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Make an agent a member of a queue (or change or remove the membership)."""
    path = f"/api/queues/{queue_id}/members/{agent_id}"
    if remove:
        api(url, token, "DELETE", path)
        typer.echo(f"agent {agent_id} left queue {queue_id}")
        return
    body = {"priority": priority, "supervisor": supervisor, "team_id": team}
    api(url, token, "PUT", path, body)
    typer.echo(f"agent {agent_id} is a member of queue {queue_id}")


# --- AUX reasons -------------------------------------------------------------------------------


def _reasons(url: str, token: str) -> list[str]:
    reasons: list[str] = api(url, token, "GET", "/api/aux-reasons")["reasons"]
    return reasons


def _put_reasons(url: str, token: str, reasons: list[str]) -> None:
    api(url, token, "PUT", "/api/aux-reasons", {"reasons": reasons})
    typer.echo("AUX reasons: " + (", ".join(reasons) or "none"))


@aux_app.command("list")
def aux_list(url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """List the AUX reasons agents choose from, in their order."""
    reasons = _reasons(url, token)
    if as_json:
        show(reasons, [], True)
    else:
        for reason in reasons:
            typer.echo(reason)


@aux_app.command("set")
def aux_set(reasons: list[str], url: str = URL, token: str = TOKEN) -> None:
    """Replace the AUX reasons by these, in this order."""
    _put_reasons(url, token, list(reasons))


@aux_app.command("add")
def aux_add(reason: str, url: str = URL, token: str = TOKEN) -> None:
    """Add an AUX reason at the end."""
    _put_reasons(url, token, [*_reasons(url, token), reason])


@aux_app.command("remove")
def aux_remove(reason: str, url: str = URL, token: str = TOKEN) -> None:
    """Remove an AUX reason (refused while a queue uses it as its RONA reason)."""
    reasons = _reasons(url, token)
    if reason not in reasons:
        typer.echo(f"ucs: no AUX reason {reason!r} (they are: {', '.join(reasons)})", err=True)
        raise typer.Exit(code=1)
    _put_reasons(url, token, [r for r in reasons if r != reason])


# --- settings ----------------------------------------------------------------------------------


@settings_app.command("sso-secret")
def settings_sso_secret(
    secret: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Change the SSO pre-shared secret (at least 8 characters; old tokens stop working)."""
    api(url, token, "PUT", "/api/settings/sso-secret", {"secret": secret})
    typer.echo("SSO secret changed")


@settings_app.command("get")
def settings_get(name: str, url: str = URL, token: str = TOKEN) -> None:
    """Print a setting as JSON (GET /api/settings/NAME)."""
    show(api(url, token, "GET", f"/api/settings/{name}"), [], True)


@settings_app.command("set")
def settings_set(
    name: str,
    value: str = typer.Argument(..., help="The setting as JSON, e.g. '{\"url\": null}'."),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Change a setting (PUT /api/settings/NAME with VALUE, a JSON object)."""
    try:
        body = json.loads(value)
    except ValueError as err:
        raise typer.BadParameter(f"not JSON: {err}", param_hint="VALUE") from err
    answer = api(url, token, "PUT", f"/api/settings/{name}", body)
    if answer is not None:
        show(answer, [], True)
    typer.echo(f"setting {name} changed")
