"""A small scriptable SIP endpoint on a loopback UDP port, for the tests: it plays a phone or
the trunk, and the test decides every answer. Plain RFC 3261 messages, no stack."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import secrets
import socket
from dataclasses import dataclass, field

__all__ = ["SDP", "Msg", "Peer", "free_udp_port"]

SDP = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Msg:
    first: str
    headers: list[tuple[str, str]]
    body: str = ""

    @classmethod
    def parse(cls, data: bytes) -> Msg:
        text = data.decode(errors="replace")  # a 400 copies bytes that were not UTF-8
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((_long(name.strip().lower()), value.strip()))
        return cls(lines[0], headers, body)

    def get(self, name: str) -> str | None:
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]

    @property
    def method(self) -> str | None:
        return None if self.first.startswith("SIP/2.0") else self.first.split()[0]

    @property
    def code(self) -> int | None:
        return int(self.first.split()[1]) if self.first.startswith("SIP/2.0") else None

    @property
    def cseq_method(self) -> str:
        return (self.get("cseq") or " ").split()[1]

    @property
    def call_id(self) -> str:
        return self.get("call-id") or ""

    def __str__(self) -> str:
        hs = "".join(f"{n}: {v}\r\n" for n, v in self.headers)
        return f"{self.first}\r\n{hs}Content-Length: {len(self.body.encode())}\r\n\r\n{self.body}"


_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
}


def _long(name: str) -> str:
    return _COMPACT.get(name, name)


def _uri(header: str) -> str:
    m = re.search(r"<([^>]+)>", header)
    return m.group(1) if m else header.split(";")[0].strip()


def _sent_by(via: str) -> tuple[str, int]:
    """Where a response goes (RFC 3261 18.2.2, RFC 3581): the top Via's address, its
    ``received`` and ``rport`` when there."""
    top = via.split(",")[0]
    m = re.match(r"SIP/2.0/UDP\s+([^;:\s]+)(?::(\d+))?", top)
    assert m is not None, via
    params = dict(re.findall(r";\s*(\w+)=([^;\s]+)", top))
    host = params.get("received") or m.group(1)
    return host, int(params.get("rport") or m.group(2) or 5060)


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


@dataclass
class Dialog:
    call_id: str
    local: str
    remote: str
    """From / To as this peer sends them (with tags)."""
    remote_target: str
    cseq: int = 1


@dataclass
class Peer(asyncio.DatagramProtocol):
    user: str
    server: tuple[str, int]
    port: int = field(default_factory=free_udp_port)
    inbox: asyncio.Queue[Msg] = field(default_factory=asyncio.Queue)
    transport: asyncio.DatagramTransport | None = None
    _branch: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    contact_port: int | None = None
    """The port our Contact names when it is not ours (a phone registered for another program,
    such as a sipp UAS)."""
    host: str = "127.0.0.1"
    """The loopback address we send from (``127.0.0.2``…: another source address)."""
    sent_authorization: str | None = None
    """The Authorization header of our last authenticated REGISTER (what an eavesdropper
    would capture)."""

    async def open(self) -> Peer:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, self.port))
        return self

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        msg = Msg.parse(data)
        self.inbox.put_nowait(msg)

    def send(self, msg: Msg) -> None:
        self.send_raw(str(msg).encode())

    def send_raw(self, data: bytes) -> None:
        """Any datagram, SIP or not."""
        assert self.transport is not None
        self.transport.sendto(data, self.server)

    @property
    def sdp(self) -> str:
        return SDP.format(port=self.port + 1000)

    # --- waiting ---------------------------------------------------------------------------

    async def expect(self, what: str | int, wait: float = 5.0) -> Msg:
        """The next message that is this request (method) or a final/provisional response
        (code) — skipping retransmissions and 100 Trying."""
        async with asyncio.timeout(wait):
            while True:
                msg = await self.inbox.get()
                if msg.code == 100:
                    continue
                if isinstance(what, int) and msg.code == what:
                    return msg
                if isinstance(what, str) and msg.method == what:
                    return msg
                if msg.method is not None and msg.method not in ("ACK",) and what != msg.method:
                    # an unexpected request: answer it so the server is not left waiting
                    if msg.method in ("BYE", "CANCEL", "OPTIONS"):
                        self.respond(msg, 200)
        raise AssertionError("unreachable")

    async def response(self, wait: float = 5.0) -> Msg:
        """The next final response (>= 200), skipping provisional ones."""
        async with asyncio.timeout(wait):
            while True:
                msg = await self.inbox.get()
                if msg.code is not None and msg.code >= 200:
                    return msg

    # --- sending ---------------------------------------------------------------------------

    def _via(self) -> str:
        return f"SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bK{secrets.token_hex(6)};rport"

    def request(
        self,
        method: str,
        uri: str,
        d: Dialog,
        body: str = "",
        extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
        content_type: str = "application/sdp",
    ) -> Msg:
        headers = [
            ("via", self._via()),
            ("max-forwards", "70"),
            ("from", d.local),
            ("to", d.remote),
            ("call-id", d.call_id),
            ("cseq", f"{d.cseq} {method}"),
            ("contact", f"<sip:{self.user}@{self.host}:{self.contact_port or self.port}>"),
            *extra,
        ]
        if body:
            headers.append(("content-type", content_type))
        msg = Msg(f"{method} {uri} SIP/2.0", headers, body)
        self.send(msg)
        return msg

    def respond(self, req: Msg, code: int, reason: str = "", body: str = "") -> Msg:
        to = req.get("to") or ""
        if code > 100 and ";tag=" not in to:
            to += f";tag={self.tag}"
        headers = [(n, v) for n, v in req.headers if n in ("via", "from", "call-id", "cseq")]
        headers.insert(2, ("to", to))
        if code < 300 and req.method == "INVITE":
            headers.append(("contact", f"<sip:{self.user}@{self.host}:{self.port}>"))
        if body:
            headers.append(("content-type", "application/sdp"))
        msg = Msg(f"SIP/2.0 {code} {reason or _REASONS.get(code, 'OK')}", headers, body)
        assert self.transport is not None
        self.transport.sendto(str(msg).encode(), _sent_by(req.get("via") or ""))
        return msg

    def ack(self, resp: Msg, d: Dialog, body: str = "") -> None:
        d.remote = resp.get("to") or d.remote
        contact = resp.get("contact")
        if contact:
            d.remote_target = _uri(contact)
        headers = [
            ("via", self._via()),
            ("max-forwards", "70"),
            ("from", d.local),
            ("to", d.remote),
            ("call-id", d.call_id),
            ("cseq", f"{d.cseq} ACK"),
        ]
        if body:
            headers.append(("content-type", "application/sdp"))
        self.send(Msg(f"ACK {d.remote_target} SIP/2.0", headers, body))

    # --- whole transactions -----------------------------------------------------------------

    def authorization(
        self,
        challenge: str,
        method: str,
        uri: str,
        password: str,
        nc: int = 1,
        qop: bool = True,
    ) -> str:
        """The Authorization value answering ``challenge`` (a WWW- or Proxy-Authenticate
        value); ``nc`` is the nonce count, ``qop=False`` the RFC 2069 form without one."""
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
        ha1 = _md5(f"{self.user}:{params['realm']}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        head = (
            f'Digest username="{self.user}", realm="{params["realm"]}", '
            f'nonce="{params["nonce"]}", uri="{uri}"'
        )
        if not qop:
            plain = _md5(f"{ha1}:{params['nonce']}:{ha2}")
            return f'{head}, response="{plain}", algorithm=MD5'
        cnonce, count = secrets.token_hex(4), f"{nc:08x}"
        resp = _md5(f"{ha1}:{params['nonce']}:{count}:{cnonce}:auth:{ha2}")
        return f'{head}, response="{resp}", qop=auth, nc={count}, cnonce="{cnonce}", algorithm=MD5'

    async def register(self, password: str, expires: int = 600, d: Dialog | None = None) -> Msg:
        """REGISTER (answering the challenge); ``d`` to send it with a given Call-ID and CSeq
        (the CSeq goes up by one for the authenticated request)."""
        host, port = self.server
        uri = f"sip:{host}:{port}"
        d = d or self.registration()
        extra = [("expires", str(expires))]
        self.request("REGISTER", uri, d, extra=extra)
        resp = await self.response()
        if resp.code == 401:
            d.cseq += 1
            challenge = resp.get("www-authenticate") or ""
            auth = self.authorization(challenge, "REGISTER", uri, password)
            self.sent_authorization = auth
            self.request("REGISTER", uri, d, extra=[*extra, ("authorization", auth)])
            resp = await self.response()
        return resp

    def registration(self) -> Dialog:
        """A new REGISTER dialog (its own Call-ID)."""
        host, port = self.server
        return Dialog(
            secrets.token_hex(8),
            f"<sip:{self.user}@{host}>;tag={self.tag}",
            f"<sip:{self.user}@{host}>",
            f"sip:{host}:{port}",
        )

    def dialog_to(self, number: str) -> Dialog:
        host, port = self.server
        return Dialog(
            secrets.token_hex(8),
            f'"Caller" <sip:{self.user}@{self.host}:{self.port}>;tag={self.tag}',
            f"<sip:{number}@{host}:{port}>",
            f"sip:{number}@{host}:{port}",
        )

    def invite(self, d: Dialog, password: str | None = None, auth: str | None = None) -> Msg:
        extra = [("proxy-authorization", auth)] if auth else []
        return self.request("INVITE", d.remote_target, d, self.sdp, extra)

    async def call(self, number: str, password: str | None = None) -> tuple[Dialog, Msg]:
        """INVITE ``number``; return the dialog and the first final response (ACKed when not 2xx;
        a 2xx is for the test to ACK)."""
        d = self.dialog_to(number)
        self.invite(d)
        resp = await self.response(wait=10)
        if resp.code == 407 and password is not None:
            self._ack_failure(resp, d)
            d.cseq += 1
            auth = self.authorization(
                resp.get("proxy-authenticate") or "", "INVITE", d.remote_target, password
            )
            self.invite(d, auth=auth)
            resp = await self.response(wait=10)
        if resp.code is not None and resp.code >= 300:
            self._ack_failure(resp, d)
        return d, resp

    async def dial(self, number: str, password: str) -> tuple[Dialog, Msg]:
        """A phone's own call (handset): INVITE ``number``, answer the 407 challenge, and
        return the dialog and the INVITE at once (the responses that follow are for the test
        to expect)."""
        d = self.dialog_to(number)
        self.invite(d)
        challenge = await self.expect(407)
        self._ack_failure(challenge, d)
        d.cseq += 1
        auth = self.authorization(
            challenge.get("proxy-authenticate") or "", "INVITE", d.remote_target, password
        )
        return d, self.invite(d, auth=auth)

    def _ack_failure(self, resp: Msg, d: Dialog) -> None:
        via = next(v for n, v in resp.headers if n == "via")
        headers = [
            ("via", via),
            ("from", d.local),
            ("to", resp.get("to") or d.remote),
            ("call-id", d.call_id),
            ("cseq", f"{d.cseq} ACK"),
        ]
        self.send(Msg(f"ACK {d.remote_target} SIP/2.0", headers))

    def bye(self, d: Dialog) -> None:
        d.cseq += 1
        self.request("BYE", d.remote_target, d)

    def cancel(self, d: Dialog, invite_via: str) -> None:
        headers = [
            ("via", invite_via),
            ("max-forwards", "70"),
            ("from", d.local),
            ("to", d.remote),
            ("call-id", d.call_id),
            ("cseq", f"{d.cseq} CANCEL"),
        ]
        self.send(Msg(f"CANCEL {d.remote_target} SIP/2.0", headers))

    def dialog_of(self, invite: Msg) -> Dialog:
        """The dialog an INVITE we received starts, seen from our side (after we answer)."""
        contact = _uri(invite.get("contact") or "")
        to = invite.get("to") or ""
        if ";tag=" not in to:
            to += f";tag={self.tag}"
        return Dialog(invite.call_id, to, invite.get("from") or "", contact, cseq=1000)


_REASONS = {
    180: "Ringing",
    200: "OK",
    404: "Not Found",
    407: "Proxy Authentication Required",
    480: "Temporarily Unavailable",
    486: "Busy Here",
    487: "Request Terminated",
    603: "Decline",
}
