"""The tones of a phone's keys (``ucs.media.keypad``): each key's two frequencies, nothing
else, and keys a phone does not have refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.media.audio import band_share, read_wav
from ucs.media.keypad import FREQUENCIES, KEY_SECONDS, key_wav
from ucs.switch.sip.dtmf import KEYS


def test_every_key_of_a_phone_has_its_tones() -> None:
    assert sorted(FREQUENCIES) == sorted(KEYS)
    assert len(set(FREQUENCIES.values())) == len(KEYS)


@settings(deadline=None, max_examples=16)
@given(st.sampled_from(KEYS))
def test_a_keys_sound_is_its_two_tones_then_silence(key: str) -> None:
    samples, rate = read_wav(key_wav(key))
    n = round(KEY_SECONDS * rate)
    tones, pause = samples[:n], samples[n:]
    low, high = FREQUENCIES[key]
    assert band_share(tones, rate, low) > 0.4 and band_share(tones, rate, high) > 0.4
    assert np.max(np.abs(tones)) < 1.0 and len(pause) > 0 and not np.any(pause)


@pytest.mark.parametrize("bad", ["E", "", "10", "x"])
def test_other_keys_are_refused(bad: str) -> None:
    with pytest.raises(KeyError):
        key_wav(bad)
