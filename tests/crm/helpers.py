"""What the CRM tests share: a CRM of our own on loopback (lookup and webhook endpoints that
behave well or badly on demand), and an agent READY through the SDK."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers import free_port, ready_agent

__all__ = ["ADMIN", "SCRIPT", "SECRET", "FakeCrm", "fake_crm", "ready_agent", "verify"]

ADMIN = {"Authorization": "Bearer demo-admin-token"}

SECRET = "a-secret-of-the-crm"
"""The webhook's secret in the tests."""

SCRIPT = '<script>window.hacked = true</script><img src=x onerror="window.hacked = true">'


@dataclass
class FakeCrm:
    """A CRM's back end on loopback. Lookups: ``/lookup/{mode}`` where mode is ``ok``,
    ``hang``, ``500``, ``huge`` (10 MB), ``stream`` (10 MB chunked, with no length said first),
    ``invalid`` (not JSON), ``list`` (JSON, no object),
    ``longname`` (10,000 characters), ``script`` (markup in the name), ``unknown`` (a 404
    with a body, as a CRM answers for a number it does not know)."""

    url: str
    crm_url: str = "https://crm/1"
    """The contact page its answers name (``data.crmUrl``)."""
    lookups: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    peers: set[tuple[str, int]] = field(default_factory=set)
    """The client addresses lookups came from: one a TCP connection."""


def _answer(mode: str, number: str, crm_url: str) -> bytes | None:
    base = {"external_id": "c-1", "data": {"company": "Novák & syn", "crmUrl": crm_url}}
    match mode:
        case "ok":
            return json.dumps({"name": f"Caller {number}", **base}).encode()
        case "huge":
            return b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
        case "invalid":
            return b"{name: nope"
        case "list":
            return b'["Jan"]'
        case "longname":
            return json.dumps({"name": "N" * 10_000, **base}).encode()
        case "script":
            return json.dumps({"name": SCRIPT, **base, "external_id": SCRIPT}).encode()
    return None


@contextmanager
def fake_crm(crm_url: str = "https://crm/1") -> Iterator[FakeCrm]:
    port = free_port()
    crm = FakeCrm(f"http://127.0.0.1:{port}", crm_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            crm.lookups.append({"path": parts.path, **query})
            crm.peers.add(self.client_address[:2])
            mode = parts.path.rsplit("/", 1)[-1]
            if mode == "hang":
                crm.release.wait(30)
                return
            if mode == "stream":
                self._stream(b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}')
                return
            body = _answer(mode, query.get("number", ""), crm.crm_url)
            self.send_response(404 if mode == "unknown" else 500 if body is None else 200)
            body = body or b'{"detail": "no such contact"}'

            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # the server hung up on a body too large: as it should
                pass

        def _stream(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for at in range(0, len(body), 65536):
                    chunk = body[at : at + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:  # the server hung up on a body too large: as it should
                pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield crm
    finally:
        crm.release.set()
        httpd.shutdown()
        httpd.server_close()


def verify(line: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """What a CRM does with a POST (docs/api.md): check the signature, then read the body."""
    expected = (
        "sha256=" + hmac.new(secret.encode(), line["body"].encode(), hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(expected, line["signature"])
    event: dict[str, Any] = json.loads(line["body"])
    assert event["id"] == line["event_id"]
    return event
