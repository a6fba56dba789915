"""The phones' side of the registrar: digest authentication of REGISTER and INVITE, and
REGISTER itself (bindings in ``registrar.py``, each change told to ``registered``)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from sippy.SipHeader import SipHeader

from ucs.core.directory import Directory, LineConfig
from ucs.switch.sip.digest import Credentials, Digest
from ucs.switch.sip.registrar import Binding, Registrar

__all__ = ["Phones"]

log = logging.getLogger("ucs.sip")

_EXPIRES = re.compile(r";\s*expires\s*=\s*(\d+)", re.IGNORECASE)


class Phones:
    """Who a request is from, and where each phone is."""

    def __init__(
        self,
        directory: Callable[[], Directory],
        secret: Callable[[str], str | None],
        realm: str,
        registered: Callable[[LineConfig, Binding | None], None] | None = None,
    ) -> None:
        self.directory = directory
        self.secret = secret
        self.digest = Digest(realm)
        self.registrar = Registrar()
        self.registered = registered or (lambda line, binding: None)
        """Told of every REGISTER that binds (the binding) or unbinds (None) a phone."""

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

    def authenticate(self, req: Any, header: str) -> tuple[LineConfig | None, bool]:
        """The phone whose valid credentials the request carries; and whether stale."""
        creds = self.credentials(req, header)
        if creds is None or creds.realm != self.digest.realm:
            return None, False
        line = self.directory().line_by_identifier(creds.username)
        password = self.secret(creds.username) if line is not None else None
        if line is None or not password:
            return None, False
        if not self.digest.check(creds, req.getMethod(), password):
            return None, False
        if not self.digest.fresh(creds.nonce):
            return None, True
        return line, False

    def challenge(self, req: Any, code: int, header: str, stale: bool) -> Any:
        resp = req.genResponse(
            code, "Unauthorized" if code == 401 else "Proxy Authentication Required"
        )
        resp.appendHeader(SipHeader(name=header, bodys=self.digest.challenge(stale=stale)))
        return resp

    def register(self, req: Any) -> Any:
        line, stale = self.authenticate(req, "authorization")
        user = req.getHFBody("to").getUrl().username
        if line is None or line.identifier != user:
            return self.challenge(req, 401, "www-authenticate", stale)
        default = 3600
        if req.countHFs("expires") > 0:
            default = int(req.getHFBody("expires").getNum())
        resp = req.genResponse(200, "OK")
        if req.countHFs("contact") == 0:
            return resp  # a query: nothing changes
        call_id = str(req.getHFBody("call-id"))
        cseq = int(req.getHFBody("cseq").getCSeqNum())
        if not self.registrar.in_order(line.identifier, call_id, cseq):
            log.info("phone %s: REGISTER out of order (CSeq %d) refused", line.identifier, cseq)
            return req.genResponse(500, "Out of Order")
        contact = req.getHFBody("contact")
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
