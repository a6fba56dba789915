"""Answers kept a short while (``ucs.core.recent``), against a model, on a virtual clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ucs.core.recent import Recent

KEYS = st.sampled_from("abcde")
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), KEYS, st.integers(0, 99), st.none() | st.floats(-1, 3)),
        st.tuples(st.just("get"), KEYS),
        st.tuples(st.just("forget"), st.none() | KEYS),
        st.tuples(st.just("wait"), st.floats(0, 2)),
    ),
    max_size=60,
)


@given(STEPS, st.floats(0, 2))
def test_an_answer_is_kept_until_its_deadline_and_not_after(steps: list[tuple], ttl: float) -> None:
    recent: Recent[str, int] = Recent(ttl)
    model: dict[str, tuple[float, int]] = {}
    now = 0.0
    for step in steps:
        if step[0] == "put":
            _, key, value, life = step
            recent.put(key, value, now, life)
            span = ttl if life is None else min(life, ttl)
            model.pop(key, None)
            if span > 0:
                model[key] = (now + span, value)
        elif step[0] == "get":
            kept = model.get(step[1])
            expected = (kept[1],) if kept is not None and now < kept[0] else None
            assert recent.get(step[1], now) == expected
        elif step[0] == "forget":
            recent.forget(step[1])
            if step[1] is None:
                model.clear()
            else:
                model.pop(step[1], None)
        else:
            now += step[1]


@given(st.lists(st.tuples(KEYS, st.floats(0, 1)), max_size=40), st.integers(1, 3))
def test_never_more_than_its_size_and_the_newest_stays(
    puts: list[tuple[str, float]], size: int
) -> None:
    recent: Recent[str, int] = Recent(1.0, size)
    now = 0.0
    for i, (key, wait) in enumerate(puts):
        now += wait
        recent.put(key, i, now)
        assert len(recent) <= size
        assert recent.get(key, now) == (i,)


def test_a_time_to_live_below_zero_or_no_room_is_refused() -> None:
    with pytest.raises(ValueError):
        Recent(-1.0)
    with pytest.raises(ValueError):
        Recent(1.0, 0)
