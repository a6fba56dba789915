"""The phones' side of the registrar: digest authentication of REGISTER and INVITE, and
REGISTER itself (bindings in ``registrar.py``, each change told to ``registered``).

A binding moves only with fresh credentials: each nonce is good from the address it was sent
to, and each (nonce, count) once (``digest.py``), so a captured header is worth nothing. A
source whose credentials keep failing is shut out for a while (``guard.Failures``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sippy.SipHeader import SipHeader

from ucs.core.directory import Directory, LineConfig
from ucs.switch.sip.digest import Credentials, Digest, Verdict
from ucs.switch.sip.guard import Failures
from ucs.switch.sip.registrar import Binding, Registrar

__all__ = ["Auth", "Phones", "parse_hostport", "source_of"]

log = logging.getLogger("ucs.sip")

_EXPIRES = re.compile(r";\s*expires\s*=\s*(\d+)", re.IGNORECASE)


def parse_hostport(text: str, default_port: int = 5060) -> tuple[str, int]:
    """``HOST[:PORT]`` as a (host, port) pair."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        return text.strip(), default_port
    return host, int(port)


def source_of(req: Any) -> tuple[str, int]:
    """The address a request came from."""
    host, port = req.getSource()
    return str(host), int(port)


@dataclass(frozen=True, slots=True)
class Auth:
    """What a request's credentials prove."""

    line: LineConfig | None
    """The phone; None when not proven."""
    stale: bool = False
    """The right password with a nonce that cannot be used (again): challenge with
    ``stale=true``, so that a phone asks anew without asking its user."""
    failed: bool = False
    """Credentials given and wrong (password, user or realm): counted against the source."""


class Phones:
    """Who a request is from, and where each phone is."""

    def __init__(
        self,
        directory: Callable[[], Directory],
        secret: Callable[[str], str | None],
        realm: str,
        registered: Callable[[LineConfig, Binding | None], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        proxies: frozenset[tuple[str, int]] = frozenset(),
    ) -> None:
        self.directory = directory
        self.secret = secret
        self.digest = Digest(realm)
        self.registrar = Registrar()
        self.failures = Failures()
        self.clock = clock
        """For ``failures`` (monotonic seconds)."""
        self.registered = registered or (lambda line, binding: None)
        """Told of every REGISTER that binds (the binding) or unbinds (None) a phone."""
        self.proxies = proxies
        """The SIP proxies in front (Kamailio, ``--sip-proxy``): a request from one of them
        comes from the address its ``X-UCS-Source`` header names."""

    def origin(self, req: Any) -> tuple[str, int]:
        """Where a request comes from: its source, or behind one of our proxies the address
        the proxy names (so that a nonce is good from one phone's address, and failures shut
        out that phone's host, not the proxy every phone's requests come through)."""
        source = source_of(req)
        if source not in self.proxies or req.countHFs("x-ucs-source") == 0:
            return source
        try:
            return parse_hostport(str(req.getHFBody("x-ucs-source")))
        except ValueError:  # the proxy's own header, not a phone's: cannot be, but is no source
            return source

    def credentials(self, req: Any, header: str) -> Credentials | None:
        if req.countHFs(header) == 0:
            return None
        h = req.getHFBody(header)
        if not h.username or not h.nonce or not h.response:
            return None
        return Credentials(
            username=h.username,
            realm=h.realm or "",
            nonce=h.nonce,
            uri=h.uri or "",
            response=h.response,
            qop=h.qop,
            nc=h.nc,
            cnonce=h.cnonce,
        )

    def authenticate(self, req: Any, header: str) -> Auth:
        """What the credentials in ``header`` (Authorization, Proxy-Authorization) prove."""
        creds = self.credentials(req, header)
        if creds is None:
            return Auth(None)  # none given: the usual first request, challenged
        if creds.realm != self.digest.realm:
            return Auth(None, failed=True)
        line = self.directory().line_by_identifier(creds.username)
        password = self.secret(creds.username) if line is not None else None
        if line is None or not password:
            return Auth(None, failed=True)
        host, port = self.origin(req)
        verdict = self.digest.verify(creds, req.getMethod(), password, f"{host}:{port}")
        if verdict is Verdict.OK:
            return Auth(line)
        # A replay cannot guess a password, and a phone whose nonce is from before a restart
        # (or was sent to the address it had before its NAT changed) must not count against
        # the others behind the same address: only a wrong response is a failure.
        return Auth(None, stale=verdict is not Verdict.WRONG, failed=verdict is Verdict.WRONG)

    def admit(
        self, req: Any, header: str, code: int, user: str | None = None
    ) -> tuple[LineConfig | None, Any]:
        """The phone ``req`` proves it comes from (``user`` when given: a phone registers
        itself only), or None and the response that refuses it: ``403`` to a source shut out,
        else a new challenge (``code`` 401 or 407; ``header`` holds the credentials)."""
        host, _ = self.origin(req)
        now = self.clock()
        if self.failures.blocked(host, now):
            return None, req.genResponse(403, "Forbidden")
        auth = self.authenticate(req, header)
        if auth.line is not None and user is not None and auth.line.identifier != user:
            auth = Auth(None, failed=True)
        if auth.line is not None:
            return auth.line, None
        if auth.failed:
            self.failures.failed(host, now)
        reply = "www-authenticate" if code == 401 else "proxy-authenticate"
        return None, self.challenge(req, code, reply, auth.stale)

    def challenge(self, req: Any, code: int, header: str, stale: bool) -> Any:
        host, port = self.origin(req)
        resp = req.genResponse(
            code, "Unauthorized" if code == 401 else "Proxy Authentication Required"
        )
        value = self.digest.challenge(f"{host}:{port}", stale=stale)
        resp.appendHeader(SipHeader(name=header, bodys=value))
        return resp

    def register(self, req: Any) -> Any:
        # What is parsed before authentication (a header that does not parse is a 400).
        user = req.getHFBody("to").getUrl().username
        default = 3600
        if req.countHFs("expires") > 0:
            default = int(req.getHFBody("expires").getNum())
        contact = req.getHFBody("contact") if req.countHFs("contact") > 0 else None
        if contact is not None and not getattr(contact, "asterisk", False):
            contact.getUrl()
        line, refusal = self.admit(req, "authorization", 401, user)
        if line is None:
            return refusal
        resp = req.genResponse(200, "OK")
        if contact is None:
            return resp  # a query: nothing changes
        call_id = str(req.getHFBody("call-id"))
        cseq = int(req.getHFBody("cseq").getCSeqNum())
        if not self.registrar.in_order(line.identifier, call_id, cseq):
            log.info("phone %s: REGISTER out of order (CSeq %d) refused", line.identifier, cseq)
            return req.genResponse(500, "Out of Order")
        if getattr(contact, "asterisk", False):
            self.registrar.bind(line.identifier, "", 0, "", 0, time.time())
            self.registered(line, None)
            return resp
        text = str(contact)
        m = _EXPIRES.search(text)
        expires = int(m.group(1)) if m else default
        url = contact.getUrl()
        host, port = str(url.host), int(url.port or 5060)
        uri = str(url)
        granted = self.registrar.bind(line.identifier, host, port, uri, expires, time.time())
        if granted:
            resp.appendHeader(SipHeader(name="contact", bodys=f"<{uri}>;expires={granted}"))
        self.registered(line, self.registrar.bindings.get(line.identifier) if granted else None)
        log.info("phone %s registered at %s:%d for %d s", line.identifier, host, port, granted)
        return resp
