"""A CRM's webhook endpoint for the tests: every POST is appended to a file (one JSON line:
the event-id and signature headers and the body, fsynced) before it is answered 200. Run as a
process of its own (``python -m tests.crm.receiver PORT FILE``) so that a test can kill -9 it,
or in a thread (``serve``). ``fail_first`` answers 500 to the first requests; ``tries``, when
given, gets the monotonic time of every POST, answered 500 or not."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers import free_port

__all__ = ["received", "receiving", "serve"]


def serve(
    port: int, path: Path, fail_first: int = 0, tries: list[float] | None = None
) -> http.server.ThreadingHTTPServer:
    lock = threading.Lock()
    failures = [fail_first]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                if tries is not None:
                    tries.append(time.monotonic())
                fail = failures[0] > 0
                failures[0] -= 1
                if not fail:
                    line = {
                        "event_id": self.headers.get("X-Ucs-Event-Id"),
                        "signature": self.headers.get("X-Ucs-Signature"),
                        "body": body.decode(),
                    }
                    with path.open("a", encoding="utf-8") as f:
                        f.write(json.dumps(line) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    return httpd


@contextmanager
def receiving(
    folder: Path, fail_first: int = 0, tries: list[float] | None = None
) -> Iterator[tuple[str, Path]]:
    """A receiver in a thread on a free loopback port: its webhook URL and its file."""
    port, path = free_port(), folder / "received.jsonl"
    httpd = serve(port, path, fail_first, tries)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook", path
    finally:
        httpd.shutdown()
        httpd.server_close()


def received(path: Path) -> list[dict[str, Any]]:
    """What the receiver got, in order (a line cut short by a kill is left out)."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2])).serve_forever()
