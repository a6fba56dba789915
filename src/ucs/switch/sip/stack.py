"""sippy, started once per process, with the fixes it needs here.

sippy's event loop (``ED2``) is a process-wide singleton of the library: it runs here in one
daemon thread, started the first time a switch needs it, and every SIP object is touched on that
thread only. These fixes are applied from here, never by editing the installed package:

- ``;transport=UDP`` in a URI (baresip and many desk phones write it upper-case) is compared
  case-insensitively: sippy only knows ``udp`` and refused to send to such a contact;
- the probe socket sippy opens to see whether IPv6 works is closed at once (it leaked);
- the event loop's owning thread is this one (ED2 records the thread that imported sippy, and
  printed a warning with a stack trace for every timer started here);
- sippy reads the clock through ctypes (``clock_gettime`` with errno kept), which gives up the
  GIL at every timestamp and was a third of its thread's time under load: ``time.clock_gettime``
  reads the same clocks without letting go of the GIL;
- the UDP server runs one sender and one receiver thread instead of three: with several, the
  order of datagrams to one peer is not kept (a 200 could overtake its 180) and the threads fight
  over the GIL (docs/telephony.md has the figures);
- a datagram that does not parse is the switch's business (``OneWorkerTM``'s ``malformed``,
  which logs it and may answer ``400``): sippy printed a stack trace to stdout for each, answered
  none, and left a transaction behind for a request whose To header did not parse; its other
  prints about bad input (a truncated body "fixed") go to the debug log;
- a response marked ``once`` (a challenge to an INVITE) is sent once and its transaction
  forgotten at once: a final response to an INVITE was retransmitted until an ACK came, so any
  address written in a forged request got several answers to one datagram;
- closing the port stops the timers of the transactions still open;
- at most ``MAX_BACKLOG`` received datagrams wait for sippy's thread (it queued every one);
- sippy tells its own address, port or transport (``MyAddress``: a class attribute ``my``) by
  ``'my' in dir(x)``, which lists and sorts every attribute of ``x`` (a string: 80 names) each
  time a URI, Via or SDP origin is written: a sixth of its thread's time under load. The
  modules that do so (and use ``dir`` for nothing else) get a ``dir`` whose ``in`` asks
  ``hasattr``: the same answer for every object they ask about.
"""

from __future__ import annotations

import collections
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sippy.SdpOrigin as _sdporigin
import sippy.SipConf as _sipconf
import sippy.SipMsg as _sipmsg
import sippy.SipRequest as _siprequest
import sippy.SipTransactionManager as _stm
import sippy.SipURL as _sipurl
import sippy.SipVia as _sipvia
import sippy.SipWWWAuthenticate as _sipauth
import sippy.Time.MonoTime as _monotime
from sippy.Core.EventDispatcher import ED2
from sippy.Network_server import Remote_address
from sippy.SipConf import SipConf
from sippy.SipTransactionManager import SipTransactionManager
from sippy.SipURL import SipURL
from sippy.Udp_server import Udp_server, Udp_server_opts

from ucs.switch.sip.malformed import is_keepalive

__all__ = [
    "MAX_BACKLOG",
    "Malformed",
    "OneWorkerTM",
    "call_in_sip_thread",
    "call_in_sip_thread_sync",
    "ensure_running",
    "once",
]

T = TypeVar("T")

log = logging.getLogger("ucs.sip")

_lock = threading.Lock()
_thread: threading.Thread | None = None


MAX_BACKLOG = 5_000
"""Datagrams received and waiting for sippy's thread, at most (about 1.5 KB each)."""


class _OneWorkerOpts(Udp_server_opts):  # type: ignore[misc]
    nworkers = 1
    direct_dispatch = True  # the receiver thread calls ``handle_read``: see _BoundedUdpServer


class _BoundedUdpServer(Udp_server):  # type: ignore[misc]
    """sippy's UDP server, whose receiver thread queues at most ``MAX_BACKLOG`` datagrams for
    sippy's thread and drops the rest, as a full socket buffer would (sippy queued them all:
    a flood faster than its thread grew memory without end). Each of the two counters is
    written by one thread only, so no count is lost."""

    posted = 0
    """Datagrams queued (the receiver thread's count)."""
    taken = 0
    """Datagrams handed to the transaction manager (sippy's thread's count)."""
    dropped = 0
    _warned = float("-inf")

    def handle_read(self, data: bytes, address: Any, rtime: Any, delayed: bool = False) -> None:
        if self.posted - self.taken >= MAX_BACKLOG:
            self.dropped += 1
            now = time.monotonic()
            if now - self._warned >= 60:
                self._warned = now
                log.warning(
                    "SIP: %d datagrams dropped so far: %d were waiting (a flood?)",
                    self.dropped,
                    MAX_BACKLOG,
                )
            return
        self.posted += 1
        ED2.callFromThread(self._take, data, Remote_address(address, self.transport), rtime)

    def _take(self, data: bytes, address: Any, rtime: Any) -> None:
        self.taken += 1
        Udp_server.handle_read(self, data, address, rtime)


Malformed = Callable[[bytes, tuple[str, int], BaseException], bytes | None]
"""Told of a datagram that does not parse, where it came from and what is wrong with it;
returns the answer to send back to that address, if any."""

_STATUS_LINE = re.compile(r"SIP/2\.0 [1-6][0-9][0-9] ")


class Unparsed(Exception):
    """Raised where sippy's transaction manager would print a stack trace for a datagram
    that does not parse (the original exception is its ``__context__``)."""


def _unparsed(message: str, *args: Any, **kwargs: Any) -> None:
    raise Unparsed(message)


def _quiet_print(*args: object, **kwargs: Any) -> None:
    log.debug("sippy: %s", " ".join(str(a) for a in args))


def _precheck(data: bytes) -> BaseException | None:
    """What is wrong with a datagram before sippy parses it (it would print, or raise where
    nothing catches it)."""
    if len(data) < 32:  # sippy drops these without a word
        return ValueError(f"{len(data)} bytes")
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        return exc
    if text.startswith("SIP/") and not _STATUS_LINE.match(text):
        return ValueError("no status code")
    return None


def once(response: Any) -> Any:
    """Mark a final response to be sent once, never retransmitted (see ``OneWorkerTM``)."""
    response.ucs_once = True
    return response


class OneWorkerTM(SipTransactionManager):  # type: ignore[misc]
    """sippy's transaction manager on a UDP server with a single worker; datagrams that do not
    parse go to ``malformed``, and responses marked ``once`` are sent once."""

    model_udp_server = (_BoundedUdpServer, _OneWorkerOpts)

    def __init__(self, config: dict[str, Any], req_cb: Any, malformed: Malformed) -> None:
        self.malformed = malformed
        super().__init__(config, req_cb)

    def handleIncoming(self, data_in: bytes, ra: Any, server: Any, rtime: Any) -> None:
        if is_keepalive(data_in):
            return
        problem = _precheck(data_in)
        if problem is None:
            try:
                super().handleIncoming(data_in, ra, server, rtime)
                return
            except Unparsed as exc:
                problem = exc.__context__ or exc
            except Exception as exc:
                problem = exc
        answer = self.malformed(data_in, ra.address, problem)
        if answer is not None:
            server.send_to(answer, ra.address)

    def incomingRequest(self, msg: Any, checksum: Any, tids: Any, server: Any) -> None:
        """The headers every response copies are parsed before a transaction is made: one
        that does not parse raises here, and no transaction is left waiting."""
        for name in ("to", "from", "call-id", "cseq"):
            msg.getHFBody(name)
        super().incomingRequest(msg, checksum, tids, server)

    def sendResponse(
        self,
        resp: Any,
        t: Any = None,
        retrans: bool = False,
        ack_cb: Any = None,
        lossemul: int = 0,
    ) -> None:
        super().sendResponse(resp, t, retrans, ack_cb, lossemul)
        if t is not None and getattr(resp, "ucs_once", False) and t.tid is not None:
            # Forget the transaction: no retransmission, no ACK awaited. The same INVITE again
            # (its answer lost) finds the answer in the transaction manager's cache of recent
            # datagrams, and gets it again, once.
            for timer in (t.teA, t.teD):
                if timer is not None:
                    timer.cancel()
            if self.tserver.get(t.tid) is t:
                del self.tserver[t.tid]
            t.cleanup()

    def shutdown(self) -> None:
        """Close the port, and stop the timers of the transactions still open (sippy left them
        running, and each printed a stack trace when it fired on the closed manager)."""
        for t in [*self.tserver.values(), *self.tclient.values()]:
            for name in ("teA", "teB", "teC", "teD", "teE", "teF", "teG"):
                timer = getattr(t, name, None)
                if timer is not None:
                    timer.cancel()
        super().shutdown()


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


class _Attributes:
    """``dir(obj)`` for ``'name' in dir(obj)`` alone: whether ``obj`` has the attribute."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and hasattr(self.obj, name)


_ASKS_DIR = (_sipconf, _sipurl, _sipvia, _sdporigin, _sipauth, _stm)
"""sippy's modules that call ``dir`` only as ``'my' in dir(x)``."""


def ensure_running() -> None:
    """Start sippy's event loop in its thread (once per process)."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _patch_transport_case()
        _stm.socket = _ProbeSockets()
        _stm.dump_exception = _unparsed
        for module in (_stm, _sipmsg, _siprequest):
            module.__dict__["print"] = _quiet_print
        for module in _ASKS_DIR:
            module.__dict__["dir"] = _Attributes
        _monotime.clock_getdtime = time.clock_gettime
        SipConf.my_uaname = "ucs"
        _thread = threading.Thread(target=_loop, name="sippy", daemon=True)
        _thread.start()


def _loop() -> None:
    # ED2 took the importing thread for its own; timers started here would each print a
    # "Timer.go() from wrong thread" warning and a stack trace to stdout.
    ED2.my_ident = threading.get_ident()
    while True:  # an exception escaping a handler must not stop every call of the process
        try:
            ED2.loop()
        except Exception:  # pragma: no cover - sippy reports its own errors
            continue


_posted: collections.deque[tuple[Callable[..., object], tuple[object, ...]]] = collections.deque()
_posted_lock = threading.Lock()
_drain_pending = False


def _drain() -> None:
    global _drain_pending
    with _posted_lock:
        _drain_pending = False
    while _posted:
        fn, args = _posted.popleft()
        try:
            fn(*args)
        except Exception:  # the calls after it must run all the same
            log.exception("%r failed on sippy's thread", fn)


def call_in_sip_thread(fn: Callable[..., object], *args: object) -> None:
    """Run ``fn(*args)`` on sippy's thread, in the order posted. Calls posted while the thread
    has not yet run the previous ones wake it only once (waking it is a ctypes call that gives
    up the GIL)."""
    global _drain_pending
    _posted.append((fn, args))
    with _posted_lock:
        if _drain_pending:
            return
        _drain_pending = True
    ED2.callFromThread(_drain)


def call_in_sip_thread_sync(fn: Callable[..., T], *args: object) -> T:
    result: T = ED2.callFromThreadSync(fn, *args)
    return result


quiet_logger = _quiet_logger
