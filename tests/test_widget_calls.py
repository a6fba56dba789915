"""The component names call states as the server numbers them, and picks the call its buttons
act on (``focus()``) as the server does (``CallBook.focus``): both run here on the same calls."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import ucs
from ucs.core.call import Call, Offer
from ucs.core.callbook import CallBook
from ucs.core.ids import AgentId, LineId, UniqueId
from ucs.core.model import CallState, Direction, Party, PartyType, Side
from ucs.core.outbox import Outbox
from ucs.core.timers import Timers
from ucs.demo import demo_directory

CALLS_JS = Path(ucs.__file__).parent / "widget" / "calls.js"
ME = AgentId(1)
NOW = 1_000_000.0


def test_the_components_call_states_are_the_servers() -> None:
    block = CALLS_JS.read_text(encoding="utf-8").split("CALL_STATE = Object.freeze({", 1)[1]
    states = dict(re.findall(r"(\w+): (\d+),", block.split("});", 1)[0]))
    assert {k: int(v) for k, v in states.items()} == {s.name: int(s) for s in CallState}


def _party(agent: AgentId | None, line: int) -> Party:
    return Party(type=PartyType.LINE, number=f"100{line}", line_id=LineId(line), user_id=agent)


def _call(book: CallBook, n: int, side: Side, state: CallState, created: float) -> Call:
    outside = Party(type=PartyType.TRUNK, number="+420601123456")
    origin = Direction.OUTGOING if side is Side.CALLER else Direction.INCOMING
    caller = _party(ME, 1) if side is Side.CALLER else outside
    call = Call(UniqueId(f"{int(NOW)}.{n}"), n, origin, created, caller, "1001", state=state)
    if side is Side.CONNECTED:
        call.connected_party = _party(ME, 1)
    elif side is Side.OFFERED:
        call.offers[ME] = Offer(ME, LineId(1), _party(ME, 1), created, None)
    elif state not in (CallState.NEW, CallState.CONNECTING):
        call.connected_party = outside
    book.calls[call.uniqueid] = call
    book.agent_calls.setdefault(ME, set()).add(call.uniqueid)
    return call


def _scenarios(rng: random.Random, count: int) -> list[tuple[str | None, list[dict[str, object]]]]:
    """Random sets of an agent's calls: the server's focus and the calls as the agent sees them."""
    found = []
    for _ in range(count):
        book = CallBook(
            directory=demo_directory(),
            agents={},
            line_owner={},
            out=Outbox(),
            timers=Timers(),
            wrap_up=lambda agent, call: None,
            now=NOW,
        )
        created = rng.sample(range(1, 1000), rng.randint(0, 4))
        for n, when in enumerate(created, 1):
            side = rng.choice(list(Side))
            state = rng.choice(
                [CallState.NEW, CallState.CONNECTING, CallState.RINGING]
                if side is Side.OFFERED
                else list(CallState)
            )
            _call(book, n, side, state, NOW - when)
        focus = book.focus(ME)
        views = [book.view(c, ME) for c in book.calls_of(ME)]
        rng.shuffle(views)  # the component keeps them in the order it heard of them
        found.append((focus.uniqueid if focus is not None else None, views))
    return found


def test_the_components_focus_is_the_servers(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the component's JavaScript")
    module = tmp_path / "calls.mjs"
    shutil.copy(CALLS_JS, module)
    scenarios = _scenarios(random.Random(13), 500)
    script = (
        f"import {{ focusOf }} from {json.dumps(module.as_uri())};\n"
        "const input = JSON.parse(require_input());\n"
        "console.log(JSON.stringify(input.map((calls) => focusOf(calls)?.uniqueid ?? null)));\n"
    ).replace(
        "require_input()",
        '(await import("node:fs")).readFileSync(0, "utf-8")',
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps([views for _, views in scenarios]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    component = json.loads(done.stdout)
    server = [focus for focus, _ in scenarios]
    assert component == server
    assert sum(f is not None for f in server) > 300  # most scenarios have calls to choose from
