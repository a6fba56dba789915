"""The answers kept for requests sent again (``ucs.web.replay``): bounded in number and bytes,
the newest kept, large ones compressed and given back as they were."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ucs.web import replay
from ucs.web.replay import Answers


def test_an_answer_kept_is_given_back_as_it_was_large_or_small() -> None:
    kept = Answers()
    small = json.dumps({"type": "result", "id": "1", "result": {"call": "x" * 900}})
    large = json.dumps({"type": "result", "id": "2", "result": ["é", 7] * 3000})
    kept.keep('"1"', small)
    kept.keep('"2"', large)
    assert kept.get('"1"') == small and kept.get('"2"') == large
    assert kept.get('"3"') is None
    assert kept.size < len(small) + len(large) // 10  # the large one is kept compressed


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 9000)), max_size=400))
def test_the_newest_answers_are_kept_within_the_bounds(requests: list[tuple[int, int]]) -> None:
    kept = Answers()
    texts: dict[str, str] = {}
    for rid, length in requests:
        text = "a" * length
        kept.keep(str(rid), text)
        texts[str(rid)] = text  # a second answer under an id replaces the first
    assert len(kept) <= replay.KEPT
    assert kept.size <= replay.KEPT_BYTES or len(kept) == 1
    order = list(dict.fromkeys(str(rid) for rid, _ in reversed(requests)))  # newest first
    present = [key for key in order if kept.get(key) is not None]
    assert present == order[: len(present)]  # what is gone is older than what stays
    assert all(kept.get(key) == texts[key] for key in present)
    if requests:
        assert present  # the newest is always kept
