"""What an attacker tried on the SIP port (issue 12), each through real packets on loopback.

- A REGISTER's Authorization header, captured once, was accepted again from another address
  with another Call-ID and Contact, and the next trunk call to 1001 rang the attacker.
- Malformed datagrams printed a stack trace each and got no answer.
- Guessing a phone's password was never slowed down.
- An unauthenticated INVITE was answered by a 407 retransmitted over and over (a reflector).
- A new call the engine refused (its storage down) left the caller's INVITE hanging.

Other loopback addresses (``127.0.0.2``…) play other sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port
from tests.sip.conftest import SipRunning
from tests.sip.peer import Dialog, Msg, Peer, free_udp_port
from ucs.core.errors import StorageUnavailable
from ucs.core.events import Event, PhoneCall, TrunkCall
from ucs.switch.sip import stack
from ucs.switch.sip.b2bua import B2BUA
from ucs.switch.sip.digest import NONCE_TTL

pytestmark = pytest.mark.anyio


def _b2bua(running: SipRunning) -> B2BUA:
    assert running.server.sip is not None and running.server.sip.b2bua is not None
    return running.server.sip.b2bua


def _nonce(header: str | None) -> str:
    m = re.search(r'nonce="([^"]+)"', header or "")
    assert m is not None, header
    return m.group(1)


def _register_uri(running: SipRunning) -> str:
    host, port = running.sip
    return f"sip:{host}:{port}"


async def _all(peer: Peer, wait: float) -> list[Msg]:
    """Everything that reaches ``peer`` within ``wait`` seconds."""
    got: list[Msg] = []
    try:
        async with asyncio.timeout(wait):
            while True:
                got.append(await peer.inbox.get())
    except TimeoutError:
        return got


async def _challenge(peer: Peer, running: SipRunning, d: Dialog) -> str:
    """An unauthenticated REGISTER's 401 challenge (a WWW-Authenticate value)."""
    peer.request("REGISTER", _register_uri(running), d, extra=[("expires", "600")])
    resp = await peer.response()
    assert resp.code == 401
    return resp.get("www-authenticate") or ""


# --- digest replay ------------------------------------------------------------------------------


async def test_a_captured_register_replayed_elsewhere_is_refused_and_the_phone_keeps_its_calls(
    sip_server: SipRunning,
) -> None:
    registrar = _b2bua(sip_server).registrar
    phone = await Peer("phone1", sip_server.sip).open()
    thieves = [
        await Peer("phone1", sip_server.sip, host="127.0.0.2").open(),  # another address
        await Peer("phone1", sip_server.sip).open(),  # the phone's address, another port
    ]
    try:
        assert (await phone.register("phone1-secret")).code == 200
        captured = phone.sent_authorization
        assert captured is not None
        for thief in thieves:
            d = thief.registration()  # another Call-ID; its Contact is the thief's address
            extra = [("expires", "600"), ("authorization", captured)]
            thief.request("REGISTER", _register_uri(sip_server), d, extra=extra)
            refused = await thief.response()
            assert refused.code == 401, "a replayed Authorization header is worth nothing"
            assert _nonce(refused.get("www-authenticate")) != _nonce(captured)
        where = registrar.where("phone1")
        assert where is not None and (where.host, where.port) == ("127.0.0.1", phone.port)
        trunk = sip_server.trunk
        trunk.invite(trunk.dialog_to("1001"))
        ring = await phone.expect("INVITE")
        phone.respond(ring, 180)
        assert all(t.inbox.empty() for t in thieves)
    finally:
        phone.close()
        for thief in thieves:
            thief.close()


async def test_each_nonce_count_is_accepted_once_and_must_grow(sip_server: SipRunning) -> None:
    """With qop=auth a phone may reuse a nonce with a higher nc (baresip does, to refresh);
    the same (nonce, nc) again, or a lower nc, is a replay. Without qop a nonce is good once."""
    phone = await Peer("phone1", sip_server.sip).open()
    uri = _register_uri(sip_server)
    try:
        d = phone.registration()
        challenge = await _challenge(phone, sip_server, d)

        async def send(nc: int, qop: bool = True) -> Msg:
            d.cseq += 1
            auth = phone.authorization(challenge, "REGISTER", uri, "phone1-secret", nc, qop)
            phone.request("REGISTER", uri, d, extra=[("expires", "600"), ("authorization", auth)])
            return await phone.response()

        assert (await send(1)).code == 200
        assert (await send(1)).code == 401  # a new cnonce, the same count
        assert (await send(3)).code == 200  # counts may skip
        assert (await send(2)).code == 401  # but never go back
        challenge = await _challenge(phone, sip_server, d)
        assert (await send(1, qop=False)).code == 200
        assert (await send(1, qop=False)).code == 401
    finally:
        phone.close()


async def test_a_nonce_past_its_time_gets_a_stale_challenge(sip_server: SipRunning) -> None:
    """A phone refreshing with its old nonce is asked again with ``stale=true`` (no password
    prompt), and registers with the new one."""
    digest = _b2bua(sip_server).phones.digest
    phone = await Peer("phone1", sip_server.sip).open()
    uri = _register_uri(sip_server)
    try:
        d = phone.registration()
        challenge = await _challenge(phone, sip_server, d)
        for nc, later in ((1, 0.0), (2, NONCE_TTL + 1)):
            digest.clock = lambda later=later: time.time() + later
            d.cseq += 1
            auth = phone.authorization(challenge, "REGISTER", uri, "phone1-secret", nc)
            phone.request("REGISTER", uri, d, extra=[("expires", "600"), ("authorization", auth)])
            resp = await phone.response()
        assert resp.code == 401
        again = resp.get("www-authenticate") or ""
        assert "stale=true" in again and _nonce(again) != _nonce(challenge)
        d.cseq += 1
        auth = phone.authorization(again, "REGISTER", uri, "phone1-secret")
        phone.request("REGISTER", uri, d, extra=[("expires", "600"), ("authorization", auth)])
        assert (await phone.response()).code == 200
    finally:
        phone.close()


async def test_a_nonce_use_forgotten_to_bound_memory_is_never_good_again(
    sip_server: SipRunning,
) -> None:
    """At most ``capacity`` uses are remembered; the nonces of those forgotten are stale."""
    digest = _b2bua(sip_server).phones.digest
    digest.capacity = 2
    phone = await Peer("phone1", sip_server.sip).open()
    try:
        sent: list[str] = []
        for _ in range(3):
            assert (await phone.register("phone1-secret")).code == 200
            assert phone.sent_authorization is not None
            sent.append(phone.sent_authorization)
        assert digest.remembered() == 2
        for auth in sent:
            d = phone.registration()
            extra = [("expires", "600"), ("authorization", auth)]
            phone.request("REGISTER", _register_uri(sip_server), d, extra=extra)
            assert (await phone.response()).code == 401
        assert digest.remembered() == 2
    finally:
        phone.close()


# --- malformed datagrams --------------------------------------------------------------------------


_TO = "To: <sip:phone1@127.0.0.1>"


def _request(method: str, call_id: str, port: int, server: tuple[str, int]) -> str:
    host, sport = server
    return (
        f"{method} sip:1001@{host}:{sport} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.2:{port};branch=z9hG4bK{call_id};rport\r\n"
        "From: <sip:phone1@127.0.0.1>;tag=abc\r\n"
        f"{_TO}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n"
        f"Contact: <sip:phone1@127.0.0.2:{port}>\r\n"
        "Content-Length: 0\r\n\r\n"
    )


def _malformed(port: int, server: tuple[str, int]) -> tuple[dict[str, bytes], list[bytes]]:
    """Datagrams that do not parse: those with a request line and a Via to answer to (by
    Call-ID), and those that can only be dropped."""

    def req(method: str, call_id: str, old: str, new: str) -> bytes:
        return _request(method, call_id, port, server).replace(old, new).encode()

    answerable = {
        "no-from": req("REGISTER", "no-from", "From: <sip:phone1@127.0.0.1>;tag=abc\r\n", ""),
        "bad-cseq": req("REGISTER", "bad-cseq", "CSeq: 1 REGISTER", "CSeq: abc"),
        "bad-to-register": req("REGISTER", "bad-to-register", _TO, "To: <sip:x@"),
        "bad-to-invite": req("INVITE", "bad-to-invite", _TO, "To: <sip:x@"),
        "bad-to-options": req("OPTIONS", "bad-to-options", _TO, "To: <sip:x@"),
        "short-body": req("INVITE", "short-body", "Content-Length: 0", "Content-Length: 500"),
        "bad-uri": req("REGISTER", "bad-uri", "REGISTER sip:1001", "REGISTER ::::"),
        "bad-expires": req("REGISTER", "bad-expires", "Contact: <", "Expires: soon\r\nContact: <"),
        "not-utf8": _request("REGISTER", "not-utf8", port, server)
        .replace("From: <", 'From: "Ren\xe9" <')
        .encode("latin-1"),
    }
    dropped = [
        b"hello, this is no SIP at all and never was one",
        _request("OPTIONS", "no-via", port, server).split("\r\n", 2)[0].encode()
        + b"\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: no-via\r\n\r\n",
        b"SIP/2.0 0 Odd\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1"
        b"\r\nTo: <sip:a@b>\r\nCall-ID: odd\r\nCSeq: 1 INVITE\r\n\r\n",
        b"SIP/2.0 200 OK\r\nnothing that parses follows the status line\r\n\r\n",
        req("ACK", "bad-to-ack", _TO, "To: <sip:x@"),
    ]
    return answerable, dropped


@contextlib.contextmanager
def _ucs_serve(tmp_path: Path) -> Iterator[tuple[tuple[str, int], Path]]:
    """``ucs serve --switch sip`` as a process of its own (what it prints is what an
    administrator reads): its SIP address and the file its output goes to."""
    port, sip_port = free_port(), free_udp_port()
    out = tmp_path / "ucs.out"
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--switch", "sip"]
    cmd += ["--db", f"sqlite:///{tmp_path}/ucs.db", "--port", str(port)]
    cmd += ["--sip-port", str(sip_port), "--sip-trunk", f"127.0.0.1:{free_udp_port()}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with out.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, out.read_text()
            time.sleep(0.1)
        yield ("127.0.0.1", sip_port), out
    finally:
        proc.terminate()
        proc.wait(10)


async def test_malformed_sip_gets_400_or_is_dropped_and_one_log_line(tmp_path: Path) -> None:
    with _ucs_serve(tmp_path) as (sip, out):
        junk = await Peer("junk", sip, host="127.0.0.2").open()
        phone = await Peer("phone1", sip).open()
        try:
            answerable, dropped = _malformed(junk.port, sip)
            for data in [*answerable.values(), *dropped]:
                junk.send_raw(data)
            got = [await junk.response() for _ in answerable]
            assert await _all(junk, 0.3) == [], "the others get nothing"
            assert sorted(m.call_id for m in got) == sorted(answerable)
            assert {m.code for m in got} == {400}
            vias = {m.call_id: m.get("via") or "" for m in got}
            assert all(f"branch=z9hG4bK{cid}" in via for cid, via in vias.items())
            for burst in range(20):  # a flood: each its 400, nothing more in the log
                for i in range(25):
                    flood = f"flood{burst}-{i}".encode()
                    junk.send_raw(answerable["bad-cseq"].replace(b"bad-cseq", flood))
                async with asyncio.timeout(5):
                    assert [(await junk.inbox.get()).code for _ in range(25)] == [400] * 25
            assert (await phone.register("phone1-secret")).code == 200, "the port serves on"
        finally:
            junk.close()
            phone.close()
    printed = out.read_text(errors="replace")
    assert "Traceback" not in printed and "can't parse" not in printed
    assert [line for line in printed.splitlines() if "127.0.0.2" in line] == [
        next(line for line in printed.splitlines() if "malformed SIP from 127.0.0.2" in line)
    ]


async def test_the_next_line_about_a_source_counts_what_was_not_logged(
    sip_server: SipRunning, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ucs.sip")
    b2bua = _b2bua(sip_server)
    junk = await Peer("junk", sip_server.sip, host="127.0.0.2").open()
    try:
        for _ in range(30):
            junk.send_raw(b"hello, this is no SIP at all and never was one")
        await asyncio.sleep(0.3)
        b2bua.clock = lambda: time.monotonic() + 61
        junk.send_raw(b"hello again, this is still no SIP at all")
        await asyncio.sleep(0.3)
        lines = [
            r.getMessage()
            for r in caplog.records
            if r.name.startswith("ucs.sip") and "127.0.0.2" in r.getMessage()
        ]
        assert len(lines) == 2 and "29 more" in lines[1], lines
    finally:
        junk.close()


async def test_datagrams_waiting_for_the_sip_thread_are_bounded(
    sip_server: SipRunning, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood faster than the switch queued every datagram in memory; now at most
    ``MAX_BACKLOG`` wait, the rest are dropped as a full socket buffer would drop them."""
    monkeypatch.setattr(stack, "MAX_BACKLOG", 5)
    peer = await Peer("phone1", sip_server.sip, host="127.0.0.2").open()
    try:
        stack.call_in_sip_thread(time.sleep, 0.5)  # the switch is busy for a while
        await asyncio.sleep(0.1)
        for i in range(40):
            peer.request(
                "OPTIONS", "sip:127.0.0.1", Dialog(f"busy{i}", "<sip:a@b>;tag=1", "<sip:b@c>", "")
            )
        answered = [await peer.response()]
        answered += [m for m in await _all(peer, 0.5) if m.code == 200]
        assert 1 <= len(answered) <= 6, len(answered)
        peer.request(
            "OPTIONS", "sip:127.0.0.1", Dialog("after", "<sip:a@b>;tag=1", "<sip:b@c>", "")
        )
        assert (await peer.response()).code == 200
    finally:
        peer.close()


# --- guessing passwords, reflection --------------------------------------------------------------


async def test_a_source_that_keeps_failing_is_shut_out_and_others_are_not(
    sip_server: SipRunning,
) -> None:
    guesser = await Peer("phone2", sip_server.sip, host="127.0.0.2").open()
    phone = await Peer("phone2", sip_server.sip).open()
    try:
        for i in range(10):
            assert (await guesser.register(f"guess-{i}")).code == 401
        assert (await guesser.register("phone2-secret")).code == 403, "the right one too, now"
        d = guesser.dialog_to("1001")
        guesser.invite(d)
        assert (await guesser.response()).code == 403
        assert await _all(guesser, 0.7) == [], "sent once"
        assert (await phone.register("phone2-secret")).code == 200
    finally:
        guesser.close()
        phone.close()


async def test_an_unauthenticated_invite_is_challenged_once_not_retransmitted(
    sip_server: SipRunning,
) -> None:
    stranger = await Peer("phone1", sip_server.sip, host="127.0.0.2").open()
    try:
        invite = stranger.invite(stranger.dialog_to("1002"))
        # an INVITE server transaction retransmits its final response at 0.5 s, 1.5 s, 3.5 s…
        got = [await stranger.response()]
        got += [m for m in await _all(stranger, 1.7) if m.code != 100]
        assert [m.code for m in got] == [407]
        stranger.send(invite)  # the INVITE again (its 407 lost): answered again, once
        again = [await stranger.response()]
        again += [m for m in await _all(stranger, 0.7) if m.code != 100]
        assert [m.code for m in again] == [407]
        assert again[0].get("proxy-authenticate") == got[0].get("proxy-authenticate")
    finally:
        stranger.close()


# --- the engine refuses a new call ----------------------------------------------------------------


async def test_a_new_call_the_engine_refuses_gets_503(
    sip_server: SipRunning, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sip_server.server.engine
    submit = engine.submit

    def refusing(event: Event) -> list[object]:
        if isinstance(event, TrunkCall | PhoneCall):
            raise StorageUnavailable("the database and its journal both fail")
        return submit(event)  # type: ignore[return-value]

    monkeypatch.setattr(engine, "submit", refusing)
    phone = await Peer("phone1", sip_server.sip).open()
    try:
        trunk = sip_server.trunk
        trunk.invite(trunk.dialog_to("100"))
        assert (await trunk.response(wait=3)).code == 503
        assert (await phone.register("phone1-secret")).code == 200
        await phone.dial("1002", "phone1-secret")
        assert (await phone.response(wait=3)).code == 503
        assert not _b2bua(sip_server).calls, "nothing is left of either call"
    finally:
        phone.close()
