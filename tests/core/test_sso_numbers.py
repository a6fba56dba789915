"""SSO tokens (CONTRACT §4) and phone numbers (E.164 for the configured region, CONTRACT §6-7).

Tokens are computed here independently of ``ucs.core.sso``:
``base64(sha1(secret + username + timestamp) + username + timestamp)`` with the raw 20-byte
digest, the timestamp in whole Unix seconds as decimal digits, all UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucs.core import numbers, sso
from ucs.core.errors import InvalidArgument, Unauthorized
from ucs.core.numbers import Dialable, normalize, parse_dialable
from ucs.core.sso import DEFAULT_WINDOW, ReplayMemory, make_token, verify_token

SECRET = "demo-sso-secret"
TS = 1_700_000_000
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def reference_token(secret: str, username: str, timestamp: int) -> str:
    ts = str(timestamp).encode()
    name = username.encode("utf-8")
    digest = hashlib.sha1(secret.encode("utf-8") + name + ts).digest()
    return base64.b64encode(digest + name + ts).decode("ascii")


def raw_token(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def accept(token: object, username: str = "agent1", now: float = TS, **kw: Any) -> None:
    verify_token(kw.pop("secret", SECRET), username, token, now, kw.pop("replay", ReplayMemory()))


# --------------------------------------------------------------------------- make_token


def test_default_window_is_five_minutes() -> None:
    assert DEFAULT_WINDOW == 300


@pytest.mark.parametrize(
    ("secret", "username", "timestamp"),
    [
        (SECRET, "agent1", TS),
        (SECRET, "agent1", 0),
        ("tajné heslo", "Žofie Nováková", 1_764_000_000),
        ("s", "user@example.com", 4_102_444_800),
    ],
)
def test_token_bytes_are_exactly_the_contracts(secret: str, username: str, timestamp: int) -> None:
    token = make_token(secret, username, timestamp)
    assert token == reference_token(secret, username, timestamp)
    raw = base64.b64decode(token, validate=True)
    name = username.encode("utf-8")
    assert len(raw) == 20 + len(name) + len(str(timestamp))
    assert raw[:20] == hashlib.sha1((secret + username + str(timestamp)).encode()).digest()
    assert raw[20:] == name + str(timestamp).encode()


def test_known_token_of_the_demo_secret() -> None:
    digest = hashlib.sha1(b"demo-sso-secretagent11700000000").digest()
    expected = base64.b64encode(digest + b"agent11700000000").decode()
    assert make_token("demo-sso-secret", "agent1", 1700000000) == expected


def test_make_then_verify_round_trip() -> None:
    replay = ReplayMemory()
    verify_token(SECRET, "agent1", make_token(SECRET, "agent1", TS), TS, replay)
    assert len(replay) == 1


def test_a_token_computed_independently_is_accepted() -> None:
    accept(reference_token(SECRET, "Žofie", TS), "Žofie")


# --------------------------------------------------------------------------- the clock window


@pytest.mark.parametrize("offset", [0, 1, 299, 300, -1, -300])
def test_token_within_300_s_of_the_clock_is_accepted(offset: int) -> None:
    accept(make_token(SECRET, "agent1", TS), now=TS + offset)


@pytest.mark.parametrize("offset", [301, -301, 3600, -86400, TS])
def test_token_more_than_300_s_from_the_clock_is_refused(offset: int) -> None:
    with pytest.raises(Unauthorized):
        accept(make_token(SECRET, "agent1", TS), now=TS + offset)


def test_the_window_is_configurable() -> None:
    token = make_token(SECRET, "agent1", TS)
    verify_token(SECRET, "agent1", token, TS + 10, ReplayMemory(), window=10)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent1", token, TS + 11, ReplayMemory(), window=10)


# --------------------------------------------------------------------------- replay


def test_the_same_token_twice_is_a_replay() -> None:
    replay = ReplayMemory()
    token = make_token(SECRET, "agent1", TS)
    verify_token(SECRET, "agent1", token, TS, replay)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent1", token, TS + 1, replay)
    assert len(replay) == 1


def _respelled(token: str) -> str:
    """The same bytes in another base64 spelling: the unused low bits of the last character
    before the padding set differently (decoders ignore them)."""
    assert token.endswith("=") and not token.endswith("==")
    last = _B64.index(token[-2])
    other = token[:-2] + _B64[last ^ 0b01] + "="
    assert other != token
    assert base64.b64decode(other, validate=True) == base64.b64decode(token, validate=True)
    return other


def test_another_spelling_of_the_same_token_is_a_replay() -> None:
    # 20 + len("agent") + 10 = 35 bytes: one "=" of padding, two unused bits before it.
    token = make_token(SECRET, "agent", TS)
    other = _respelled(token)
    replay = ReplayMemory()
    verify_token(SECRET, "agent", token, TS, replay)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent", other, TS, replay)


def test_the_original_spelling_after_another_is_a_replay() -> None:
    token = make_token(SECRET, "agent", TS)
    replay = ReplayMemory()
    verify_token(SECRET, "agent", _respelled(token), TS, replay)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent", token, TS, replay)


def test_a_refused_token_is_not_remembered() -> None:
    replay = ReplayMemory()
    with pytest.raises(Unauthorized):
        verify_token("wrong", "agent1", make_token(SECRET, "agent1", TS), TS, replay)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent2", make_token(SECRET, "agent1", TS), TS, replay)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent1", make_token(SECRET, "agent1", TS), TS + 301, replay)
    assert len(replay) == 0
    verify_token(SECRET, "agent1", make_token(SECRET, "agent1", TS), TS, replay)


def test_replay_memory_forgets_only_tokens_that_can_no_longer_pass_the_clock() -> None:
    replay = ReplayMemory()
    token = make_token(SECRET, "agent1", TS)
    verify_token(SECRET, "agent1", token, TS, replay)
    replay.prune(TS + 300)
    assert len(replay) == 1
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent1", token, TS + 300, replay)
    replay.prune(TS + 301)
    assert len(replay) == 0
    with pytest.raises(Unauthorized):  # forgotten, but too old anyway
        verify_token(SECRET, "agent1", token, TS + 301, replay)


def test_tokens_of_different_users_or_moments_are_independent() -> None:
    replay = ReplayMemory()
    verify_token(SECRET, "agent1", make_token(SECRET, "agent1", TS), TS, replay)
    verify_token(SECRET, "agent1", make_token(SECRET, "agent1", TS + 1), TS, replay)
    verify_token(SECRET, "agent2", make_token(SECRET, "agent2", TS), TS, replay)
    assert len(replay) == 3


# --------------------------------------------------------------------------- refusals

_DIGEST = hashlib.sha1(b"demo-sso-secretagent11700000000").digest()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(123, id="int"),
        pytest.param(b"YWJj", id="bytes"),
        pytest.param("!!!!", id="not-base64"),
        pytest.param("abc", id="bad-padding"),
        pytest.param("YWJj ZA==", id="blank-inside"),
        pytest.param("žluťoučký", id="not-ascii"),
        pytest.param("A" * 4100, id="too-long"),
        pytest.param(raw_token(b"short"), id="shorter-than-a-digest"),
        pytest.param(raw_token(_DIGEST), id="digest-only"),
        pytest.param(raw_token(_DIGEST + b"agent1"), id="no-timestamp"),
        pytest.param(raw_token(_DIGEST + b"agent11700x00000"), id="timestamp-not-digits"),
        pytest.param(raw_token(_DIGEST + b"agent1-1700000000"), id="negative-timestamp"),
        pytest.param(raw_token(_DIGEST + b"agent1 1700000000"), id="blank-in-timestamp"),
        pytest.param(raw_token(_DIGEST + b"agent11700000000\n"), id="newline-after"),
        pytest.param(raw_token(_DIGEST + b"agent21700000000"), id="other-username"),
        pytest.param(raw_token(_DIGEST + b"AGENT11700000000"), id="username-case"),
        pytest.param(raw_token(b"\0" * 20 + b"agent11700000000"), id="zero-digest"),
        pytest.param(
            raw_token(hashlib.sha1(b"demo-sso-secretagent11700000000").hexdigest().encode()),
            id="hex-digest-instead-of-raw",
        ),
        pytest.param(
            raw_token(
                hashlib.sha1(b"demo-sso-secretagent11700000000").hexdigest().encode()
                + b"agent11700000000"
            ),
            id="hex-digest-with-name",
        ),
    ],
)
def test_malformed_tokens_are_unauthorized(token: object) -> None:
    replay = ReplayMemory()
    with pytest.raises(Unauthorized):
        verify_token(SECRET, "agent1", token, TS, replay)
    assert len(replay) == 0


def test_the_reference_digest_is_accepted() -> None:
    # The refusals above differ from this only in what they name.
    accept(raw_token(_DIGEST + b"agent11700000000"))


def test_wrong_secret_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        accept(make_token("another-secret", "agent1", TS))
    with pytest.raises(Unauthorized):
        accept(make_token(SECRET, "agent1", TS), secret="another-secret")


@pytest.mark.parametrize("position", [0, 7, 19])
def test_one_changed_bit_of_the_digest_is_unauthorized(position: int) -> None:
    raw = bytearray(base64.b64decode(make_token(SECRET, "agent1", TS)))
    raw[position] ^= 0x01
    with pytest.raises(Unauthorized):
        accept(raw_token(bytes(raw)))


def test_username_or_timestamp_changed_after_signing_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        accept(raw_token(_DIGEST + b"agent21700000000"), "agent2")
    with pytest.raises(Unauthorized):
        accept(raw_token(_DIGEST + b"agent11700000001"), now=TS + 1)


def test_digest_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(sso.hmac, "compare_digest", spy)
    accept(make_token(SECRET, "agent1", TS))
    assert (_DIGEST, _DIGEST) in calls
    calls.clear()
    with pytest.raises(Unauthorized):
        accept(make_token("other", "agent1", TS))
    assert calls, "a wrong digest must be found by the constant-time compare"


@pytest.mark.parametrize("secret", ["", None])
def test_no_secret_configured_refuses_every_token(secret: Any) -> None:
    with pytest.raises(Unauthorized):
        verify_token(secret, "agent1", make_token("", "agent1", TS), TS, ReplayMemory())
    with pytest.raises(Unauthorized):
        verify_token(secret, "agent1", make_token(SECRET, "agent1", TS), TS, ReplayMemory())


def test_token_of_a_longer_username_does_not_log_in_its_prefix() -> None:
    # "agent1" + "0" + "1700000000" is the very byte string "agent10" + "1700000000", so the
    # digest is the same; read as agent1's token its timestamp would be "01700000000", which is
    # not the timestamp's decimal digits (CONTRACT §4). A token for agent10 must not be agent1's.
    token = make_token(SECRET, "agent10", TS)
    with pytest.raises(Unauthorized):
        accept(token, "agent1")
    accept(token, "agent10")


def test_timestamp_with_a_leading_zero_is_refused() -> None:
    ts = b"0" + str(TS).encode()
    digest = hashlib.sha1(SECRET.encode() + b"agent1" + ts).digest()
    with pytest.raises(Unauthorized):
        accept(raw_token(digest + b"agent1" + ts))


@settings(max_examples=300, deadline=None)
@given(
    # 256 characters is the most the username argument of sso takes.
    username=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=256),
    timestamp=st.integers(min_value=0, max_value=4_102_444_800),
    secret=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=64),
)
def test_any_token_is_accepted_once_then_refused(
    username: str, timestamp: int, secret: str
) -> None:
    token = make_token(secret, username, timestamp)
    assert token == reference_token(secret, username, timestamp)
    replay = ReplayMemory()
    verify_token(secret, username, token, float(timestamp), replay)
    with pytest.raises(Unauthorized):
        verify_token(secret, username, token, float(timestamp), replay)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("601 123 456", "+420601123456"),
        ("601123456", "+420601123456"),
        ("+420601123456", "+420601123456"),
        ("+420 601 123 456", "+420601123456"),
        ("00420601123456", "+420601123456"),
        ("601-123-456", "+420601123456"),
        ("+421 905 123 456", "+421905123456"),
        ("123", None),
        ("1001", None),
        ("+420 123", None),
        ("60112345678901234", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_gives_e164_for_the_czech_region(number: str | None, e164: str | None) -> None:
    assert normalize(number, "CZ") == e164


def test_normalize_depends_on_the_region() -> None:
    assert normalize("0905 123 456", "SK") == "+421905123456"
    assert normalize("+420601123456", "SK") == "+420601123456"
    assert normalize("0905 123 456", "CZ") is None  # the same number, remembered per region


_e164 = numbers._normalize.__wrapped__
"""What phonenumbers says, asked afresh (``normalize`` remembers its answers)."""


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.from_regex(r"\+?[0-9 ]{1,16}", fullmatch=True), st.text(max_size=12)),
            st.sampled_from(["CZ", "SK", "US", "GB"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_remembered_numbers_are_what_phonenumbers_says_each_time(
    asked: list[tuple[str, str]],
) -> None:
    for number, region in asked + asked:  # each asked again: the remembered answer
        assert normalize(number, region) == (_e164(number, region) if number else None)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("abc", id="letters"),
        pytest.param("+-() ./", id="formatting-only"),
        pytest.param(None, id="none"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(1.5, id="float"),
        pytest.param(-1, id="negative"),
        pytest.param(-601123456, id="negative-number"),
        pytest.param("1" * 65, id="65-chars"),
        pytest.param(["601123456"], id="list"),
        pytest.param({"number": "601123456"}, id="dict"),
        pytest.param(b"601123456", id="bytes"),
    ],
)
def test_parse_dialable_rejects(value: object) -> None:
    with pytest.raises(InvalidArgument):
        parse_dialable(value, "CZ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (601123456, Dialable("601123456", "601123456", "+420601123456")),
        (0, Dialable("0", "0", None)),
        (1001, Dialable("1001", "1001", None)),
        (" 601 123 456 ", Dialable("601 123 456", "601123456", "+420601123456")),
        ("(601) 123-456", Dialable("(601) 123-456", "601123456", "+420601123456")),
        ("+420 601/123.456", Dialable("+420 601/123.456", "+420601123456", "+420601123456")),
        ("1002", Dialable("1002", "1002", None)),
        ("1" * 64, Dialable("1" * 64, "1" * 64, None)),
        ("800 123 456", Dialable("800 123 456", "800123456", "+420800123456")),
        # The document's example: dialable, though not a valid Czech number (no trunk 0).
        ("0800123456", Dialable("0800123456", "0800123456", None)),
    ],
)
def test_parse_dialable_accepts(value: object, expected: Dialable) -> None:
    assert parse_dialable(value, "CZ") == expected


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from("abcdef"), st.integers(0, 100)),
        max_size=60,
    )
)
def test_pruning_forgets_exactly_the_expired_tokens(steps: list[tuple[bool, str, int]]) -> None:
    """Remembering (a token again with a new time, too) and pruning, against a plain dict."""
    replay, model = ReplayMemory(), dict[str, float]()
    for prune, token, t in steps:
        if prune:
            replay.prune(float(t))
            model = {k: v for k, v in model.items() if v >= t}
        else:
            replay.remember(token, float(t))
            model[token] = float(t)
        assert len(replay) == len(model)
        assert all(k in replay for k in model)
