"""The hub's JSON (``ucs.web.hub.encode``): orjson where it writes what the standard library
writes, the standard library elsewhere; the text is the standard library's, but for the
notation of floats below 1e-4 or from 1e16 (the same numbers)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from dataclasses import dataclass
from typing import Any

import pytest
from bench import team
from hypothesis import given, settings
from hypothesis import strategies as st

from ucs.core.effects import Push
from ucs.web import hub
from ucs.web.hub import encode


class Level(enum.IntEnum):
    LOW = 1


class Colour(enum.StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Spot:
    x: int


def _reference(message: dict[str, Any]) -> str:
    """What the standard library alone writes (the hub's encode before orjson)."""
    return hub._standard({"v": hub.PROTOCOL_VERSION, **message}, message)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-6, max_value=1e-3),
    st.floats(min_value=1e14, max_value=1e18),
    st.text(),
    st.sampled_from(["\x7f", "\ud800", "é", "\u2028", "phone1e5", "0.00001", "a\x00b"]),
    st.sampled_from([Level.LOW, Colour.RED, Spot(3), dt.datetime(2026, 12, 3, 10, 0, 1)]),
    st.sampled_from([dt.date(2026, 12, 3), frozenset({1})]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(-5, 5)), inner, max_size=4),
    ),
    max_leaves=20,
)


def _odd_floats(value: Any) -> bool:
    """Whether ``value`` holds a float Python writes in exponent form (orjson: not always)."""
    if isinstance(value, float):
        return math.isfinite(value) and value != 0 and not 1e-4 <= abs(value) < 1e16
    if isinstance(value, dict):
        return any(_odd_floats(k) or _odd_floats(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_odd_floats(v) for v in value)
    return False


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=5))
def test_the_text_is_the_standard_librarys_whatever_the_message(body: dict[str, Any]) -> None:
    message = {"type": "call.changed", **body}
    text, reference = encode(message), _reference(message)
    assert json.loads(text) == json.loads(reference)  # the same values, always
    assert text.isascii()
    if not _odd_floats(message):
        assert text == reference  # and the same text but for such floats' notation


def test_nesting_deeper_than_orjson_takes_is_cut_off_as_before() -> None:
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    message = {"type": "call.changed", "call": {"data": deep, "x": math.nan}}
    assert encode(message) == _reference(message)


def test_the_pushes_of_a_call_are_written_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast way is the one taken for what the core pushes (ASCII text, no odd floats)."""
    vc = team._center(0)
    for i in range(1, 4):
        vc.agent_ready(f"agent{i}", "pw", f"phone{i}")
    vc.effects.clear()
    vc.caller(1, "+420601000001")
    vc.advance(0.1)
    pushes = [e for e in vc.effects if isinstance(e, Push)]
    expected = [_reference({"type": p.type, "seq": 7, **p.body}) for p in pushes]

    def refused(body: dict[str, Any], message: dict[str, Any]) -> str:
        raise AssertionError("written by the standard library")

    monkeypatch.setattr(hub, "_standard", refused)
    assert {p.type for p in pushes} >= {"call.changed", "user.changed"}
    assert [encode({"type": p.type, "seq": 7, **p.body}) for p in pushes] == expected
