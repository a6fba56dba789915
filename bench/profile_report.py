"""Sum py-spy's collapsed stacks (``--format raw``) into the hottest functions.

    .venv/bin/python -m bench.profile_report bench/results/profile-call_load.txt [top]

Prints, for the top functions, the share of samples spent in the function itself (self) and in
it or anything it called (total), as ``file:function``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

__all__ = ["summarize"]

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_PREFIXES = ("/site-packages/", "/lib/python3.11/", "/src/")


def _short(path: str) -> str:
    for prefix in _PREFIXES:
        if prefix in path:
            return path.split(prefix, 1)[1]
    return path


def _frame(text: str) -> str:
    m = _FRAME.match(text.strip())
    if m is None:
        return text.strip()
    return f"{_short(m['file'])}:{m['func']}"


def _thread(frames: list[str]) -> str:
    """``main`` (the event loop) or the thread's target (the store's writer, to_thread …)."""
    if frames and frames[0].endswith("Thread._bootstrap"):
        for f in frames:
            if not f.startswith(("threading.py:", "concurrent/futures/thread.py:_worker")):
                return f
        return "thread"
    return "main"


def summarize(path: Path, top: int = 25) -> str:
    own: dict[str, Counter[str]] = {}
    total: dict[str, Counter[str]] = {}
    samples: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        thread = _thread(frames)
        samples[thread] += n
        own.setdefault(thread, Counter())[frames[-1]] += n
        for f in set(frames):
            total.setdefault(thread, Counter())[f] += n
    if not samples:
        return f"{path}: no samples"
    all_samples = sum(samples.values())
    out = [f"{path}: {all_samples} samples"]
    for thread, count in samples.most_common():
        out.append(f"  {100 * count / all_samples:5.1f} %  {thread}")
    main = "main"
    n_main = samples[main]
    if not n_main:
        return "\n".join(out)
    out += ["", "event loop thread only (% of its samples):", "self %  total %  function"]
    for func, n in own[main].most_common(top):
        out.append(f"{100 * n / n_main:6.1f}  {100 * total[main][func] / n_main:7.1f}  {func}")
    out += ["", "total %  function (inclusive, event loop thread)"]
    for func, n in total[main].most_common(top * 2):
        out.append(f"{100 * n / n_main:7.1f}  {func}")
    return "\n".join(out)


def main() -> int:
    path = Path(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    print(summarize(path, top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
