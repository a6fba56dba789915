"""What an offer says of hold (``ucs.media.sdp.holds``), and what the engine's answers
never offer (RFC 4733 events, which the engine drops)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ucs.media.sdp import DIRECTIONS, audio_of, engine_sdp, holds, with_direction

OFFER = (
    "v=0\r\no=phone 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
)


@given(st.sampled_from(DIRECTIONS))
def test_sendonly_and_inactive_hold(how: str) -> None:
    assert holds(with_direction(OFFER, how)) is (how in ("sendonly", "inactive"))


def test_the_address_0_0_0_0_holds_the_old_way() -> None:
    old_style = OFFER.replace("c=IN IP4 10.0.0.5", "c=IN IP4 0.0.0.0")
    assert holds(old_style) and holds(with_direction(old_style, "sendrecv"))
    assert audio_of(old_style) is None  # (no address to send to: the old one is kept)
    assert not holds(OFFER.replace("c=IN IP4 10.0.0.5", "c=IN IP4 10.0.0.0"))


@given(st.sampled_from([0, 8]), st.integers(1, 65535), st.sampled_from(DIRECTIONS))
def test_the_engines_answer_offers_no_telephone_event(payload: int, port: int, how: str) -> None:
    answer = engine_sdp(("198.18.0.2", port), payload, how)
    assert "telephone-event" not in answer and "a=fmtp" not in answer
    audio = audio_of(answer)
    assert audio is not None and (audio.port, audio.payload) == (port, payload)
    assert f"m=audio {port} RTP/AVP {payload}\r\n" in answer
