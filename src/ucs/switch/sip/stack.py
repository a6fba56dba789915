"""sippy, started once per process, with the two fixes the issue names.

sippy's event loop (``ED2``) is a process-wide singleton of the library: it runs here in one
daemon thread, started the first time a switch needs it, and every SIP object is touched on that
thread only. Two fixes are applied from here, never by editing the installed package:

- ``;transport=UDP`` in a URI (baresip and many desk phones write it upper-case) is compared
  case-insensitively: sippy only knows ``udp`` and refused to send to such a contact;
- the probe socket sippy opens to see whether IPv6 works is closed at once (it leaked);
- the UDP server runs one sender and one receiver thread instead of three: with several, the
  order of datagrams to one peer is not kept (a 200 could overtake its 180) and the threads fight
  over the GIL; one keeps 200 calls/s.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sippy.SipTransactionManager as _stm
from sippy.Core.EventDispatcher import ED2
from sippy.SipConf import SipConf
from sippy.SipTransactionManager import SipTransactionManager
from sippy.SipURL import SipURL
from sippy.Udp_server import Udp_server, Udp_server_opts

__all__ = ["OneWorkerTM", "call_in_sip_thread", "call_in_sip_thread_sync", "ensure_running"]

T = TypeVar("T")

_lock = threading.Lock()
_thread: threading.Thread | None = None


class _OneWorkerOpts(Udp_server_opts):  # type: ignore[misc]
    nworkers = 1


class OneWorkerTM(SipTransactionManager):  # type: ignore[misc]
    """sippy's transaction manager on a UDP server with a single worker."""

    model_udp_server = (Udp_server, _OneWorkerOpts)


def _patch_transport_case() -> None:
    if getattr(SipURL, "_ucs_patched", False):
        return
    original = SipURL.setParams

    def set_params(self: Any, params: Any) -> None:
        original(self, params)
        if isinstance(self.transport, str):
            self.transport = self.transport.lower()

    SipURL.setParams = set_params
    SipURL._ucs_patched = True


class _ProbeSockets:
    """``socket`` as sippy's transaction manager sees it: sockets it makes there are only ever
    probes (our listening address is fixed), so they are closed as soon as they exist."""

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)

    @staticmethod
    def socket(*args: Any, **kwargs: Any) -> socket.socket:
        s = socket.socket(*args, **kwargs)
        s.close()
        return s


def _quiet_logger() -> Any:
    class Quiet:
        def write(self, *args: Any, **kwargs: Any) -> None:
            return None

    return Quiet()


def ensure_running() -> None:
    """Start sippy's event loop in its thread (once per process)."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _patch_transport_case()
        _stm.socket = _ProbeSockets()
        SipConf.my_uaname = "ucs"
        _thread = threading.Thread(target=_loop, name="sippy", daemon=True)
        _thread.start()


def _loop() -> None:
    while True:  # an exception escaping a handler must not stop every call of the process
        try:
            ED2.loop()
        except Exception:  # pragma: no cover - sippy reports its own errors
            continue


def call_in_sip_thread(fn: Callable[..., object], *args: object) -> None:
    ED2.callFromThread(fn, *args)


def call_in_sip_thread_sync(fn: Callable[..., T], *args: object) -> T:
    result: T = ED2.callFromThreadSync(fn, *args)
    return result


quiet_logger = _quiet_logger
