"""Sources that send bad input: what is logged of their malformed datagrams, and how many
failed authentications shut one out for a while. Each remembers a bounded number of source
addresses (hosts, whatever their ports), so no flood of sources grows memory without end.

Both are told the time (``now``, seconds on a monotonic clock) by their owner, the B2BUA.
"""

from __future__ import annotations

import collections
import logging

__all__ = [
    "BLOCK_SECONDS",
    "FAILURE_LIMIT",
    "FAILURE_WINDOW",
    "LINES_PER_WINDOW",
    "LOG_WINDOW",
    "MAX_SOURCES",
    "Complaints",
    "Failures",
]

log = logging.getLogger("ucs.sip")

LOG_WINDOW = 60.0
"""One line per source in this many seconds."""
LINES_PER_WINDOW = 100
"""Lines about malformed datagrams in a window, all sources together; the rest are counted."""
FAILURE_LIMIT = 10
"""Failed authentications from one source within ``FAILURE_WINDOW`` that shut it out."""
FAILURE_WINDOW = 60.0
BLOCK_SECONDS = 300.0
"""How long a source is shut out."""
MAX_SOURCES = 10_000
"""Sources remembered by each (the oldest are forgotten first)."""


class Complaints:
    """Malformed datagrams, logged once per source and window: the next line about a source
    says how many were not logged since its last. Sources beyond ``lines`` a window are only
    counted, and told in one line when the window is over."""

    def __init__(
        self,
        window: float = LOG_WINDOW,
        lines: int = LINES_PER_WINDOW,
        capacity: int = MAX_SOURCES,
    ) -> None:
        self.window, self.lines, self.capacity = window, lines, capacity
        self._sources: collections.OrderedDict[str, list[float]] = collections.OrderedDict()
        """Each source: when its last line was logged, and how many came since (unlogged)."""
        self._window_start = float("-inf")
        self._logged = 0
        self._unlogged = 0
        """Datagrams from sources that found no line left in the window."""

    def __len__(self) -> int:
        """Sources remembered."""
        return len(self._sources)

    def note(self, source: str, why: str, now: float) -> None:
        entry = self._sources.get(source)
        if entry is not None and now - entry[0] < self.window:
            entry[1] += 1
            return
        if now - self._window_start >= self.window:
            if self._unlogged:
                log.warning(
                    "malformed SIP: %d more datagrams from other sources in the last minute",
                    self._unlogged,
                )
            self._window_start, self._logged, self._unlogged = now, 0, 0
        if self._logged >= self.lines:
            self._unlogged += 1
            return
        self._logged += 1
        more = int(entry[1]) if entry is not None else 0
        since = f" ({more} more since the last line)" if more else ""
        log.warning("malformed SIP from %s: %s%s", source, why, since)
        self._sources[source] = [now, 0]
        self._sources.move_to_end(source)
        while len(self._sources) > self.capacity:
            self._sources.popitem(last=False)


class Failures:
    """Failed authentications per source: ``limit`` within ``window`` seconds shut the source
    out for ``block`` seconds (the right password included)."""

    def __init__(
        self,
        limit: int = FAILURE_LIMIT,
        window: float = FAILURE_WINDOW,
        block: float = BLOCK_SECONDS,
        capacity: int = MAX_SOURCES,
    ) -> None:
        self.limit, self.window, self.block, self.capacity = limit, window, block, capacity
        self._counts: collections.OrderedDict[str, tuple[float, int]] = collections.OrderedDict()
        """Each source: when its window started, and its failures in it."""
        self._blocked: collections.OrderedDict[str, float] = collections.OrderedDict()
        """Sources shut out, each until when."""

    def __len__(self) -> int:
        """Sources remembered (counting failures, or shut out)."""
        return len(self._counts) + len(self._blocked)

    def blocked(self, source: str, now: float) -> bool:
        until = self._blocked.get(source)
        if until is None:
            return False
        if now < until:
            return True
        del self._blocked[source]
        return False

    def failed(self, source: str, now: float) -> None:
        """One more failure from ``source``; the one that reaches the limit shuts it out."""
        start, count = self._counts.pop(source, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        count += 1
        if count < self.limit:
            self._counts[source] = (start, count)
            while len(self._counts) > self.capacity:
                self._counts.popitem(last=False)
            return
        self._blocked[source] = now + self.block
        self._blocked.move_to_end(source)
        while len(self._blocked) > self.capacity:
            self._blocked.popitem(last=False)
        log.warning(
            "SIP source %s shut out for %d s after %d failed authentications",
            source,
            self.block,
            count,
        )
