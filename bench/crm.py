"""``BENCH_CRM=1``: a CRM beside the benchmark's server, in a process of its own: a caller
lookup that answers in 50 ms (a name, a company, a contact page) and a webhook receiver that
counts the events it is sent (``call.ended``, ``agent.status``) and their distinct ids."""

from __future__ import annotations

import http.server
import json
import threading
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["LOOKUP_DELAY", "crm_server"]

LOOKUP_DELAY = 0.05
"""Seconds the lookup takes to answer."""


def crm_server(port: int, pipe: Connection) -> None:
    """Serve until told ``"stop"`` on ``pipe``; answer ``"counts"`` with what was seen."""
    lock = threading.Lock()
    counts: dict[str, Any] = {"lookups": 0, "events": 0, "ids": set(), "types": {}}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return None

        def _reply(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            number = parse_qs(urlsplit(self.path).query).get("number", [""])[0]
            time.sleep(LOOKUP_DELAY)
            with lock:
                counts["lookups"] += 1
            answer = {
                "name": f"Customer {number[-4:]}",
                "external_id": number,
                "data": {"company": "Acme", "crmUrl": f"https://crm.example/c/{number}"},
            }
            self._reply(json.dumps(answer).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            event = json.loads(body)
            with lock:
                counts["events"] += 1
                counts["ids"].add(event["id"])
                counts["types"][event["type"]] = counts["types"].get(event["type"], 0) + 1
            self._reply(b"{}")

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            return None  # a lookup the server gave up on closes its connection: expected

    httpd = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    pipe.send("ready")
    while True:
        command = pipe.recv()
        with lock:
            seen = {**counts, "ids": len(counts["ids"]), "types": dict(counts["types"])}
        pipe.send(seen)
        if command == "stop":
            httpd.shutdown()
            return
