"""SIP INFO bodies as keys pressed (``ucs.switch.sip.dtmf``): both common kinds, the event
numbers some phones send for ``*`` and ``#``, and anything else ignored."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ucs.switch.sip.dtmf import KEYS, digits_of


@given(st.sampled_from(KEYS), st.integers(0, 5000))
def test_dtmf_relay_and_dtmf_bodies_give_the_key(key: str, duration: int) -> None:
    relay = f"Signal={key}\r\nDuration={duration}\r\n"
    assert digits_of("application/dtmf-relay", relay) == key
    assert digits_of("Application/DTMF-Relay; charset=x", f"signal= {key.lower()}\n") == key
    assert digits_of("application/dtmf", f"{key}\r\n") == key


@given(st.integers(0, len(KEYS) - 1))
def test_event_numbers_are_keys(number: int) -> None:
    assert digits_of("application/dtmf-relay", f"Signal={number}\r\n") == KEYS[number]


@given(st.text(max_size=40))
def test_other_bodies_say_no_key(text: str) -> None:
    assert digits_of("application/sdp", f"Signal=1\r\n{text}") is None
    assert digits_of("text/plain", text) is None
    body = text.replace("=", "")
    assert digits_of("application/dtmf-relay", f"Duration=160\r\n{body}") is None


def test_bad_keys_are_no_keys() -> None:
    for bad in ("16", "-1", "E", "11a", "", "12 3"):
        assert digits_of("application/dtmf-relay", f"Signal={bad}\r\n") is None
        assert digits_of("application/dtmf", bad) is None
