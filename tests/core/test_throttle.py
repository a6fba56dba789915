"""Login throttling against a flood of throwaway usernames (docs/security.md, Logins).

Per-username state is kept for the directory's usernames only; failures for unknown names
share one bucket with a rate. A flood of unknown names must neither grow the throttle nor
reset a real username's failures, must never refuse a real username's right password, and
must not tell which usernames exist by its answers.
"""

from __future__ import annotations

import pytest

from ucs.core.effects import LoginLocked
from ucs.core.errors import TooManyAttempts, Unauthorized
from ucs.core.ids import ClientId
from ucs.core.session import Throttle
from ucs.virtual import VirtualCenter

FLOOD = 100_000


def wrong(vc: VirtualCenter, client: ClientId, username: str) -> str:
    """A failed login: the code it was refused with."""
    with pytest.raises((Unauthorized, TooManyAttempts)) as err:
        vc.call(client, "login", username, "guess")
    return str(err.value.code)


def test_a_flood_of_unknown_names_keeps_a_real_names_failures_and_memory_bounded() -> None:
    t = Throttle()
    now = 1_000.0
    for _ in range(2):
        t.check("agent1", now, known=True)
        t.failed("agent1", now, known=True)
    for i in range(FLOOD):  # 100,000 failed logins, each for a name of its own, in 100 s
        now += 0.001
        name = f"throwaway{i}"
        try:
            t.check(name, now, known=False)
        except TooManyAttempts:
            continue
        t.failed(name, now, known=False)
        assert len(t) <= 1
    for _ in range(3):
        t.check("agent1", now, known=True)
        try:
            t.failed("agent1", now, known=True)
        except TooManyAttempts:
            pass  # the flood's answer; the failure counted all the same
    with pytest.raises(TooManyAttempts):
        t.check("agent1", now, known=True)  # five failures within five minutes: locked
    assert t.take_locks() == [("agent1", t.lockout)]
    assert len(t) == 1


def test_the_flood_goes_through_the_login_command_and_never_locks_a_real_password(
    vc: VirtualCenter,
) -> None:
    attacker = vc.connect()
    codes = [wrong(vc, attacker, f"throwaway{i}") for i in range(2_000)]
    burst = int(vc.center.throttle.burst)
    assert codes[:burst] == ["UNAUTHORIZED"] * burst
    assert set(codes[burst:]) == {"TOO_MANY_ATTEMPTS"}  # the flood is slowed
    assert len(vc.center.throttle) == 0
    agent = vc.connect()
    vc.call(agent, "login", "agent1", "agent1-pass")  # in the middle of the flood


def test_known_and_unknown_names_get_the_same_answers_in_and_out_of_a_flood(
    vc: VirtualCenter,
) -> None:
    client = vc.connect()
    assert wrong(vc, client, "agent2") == wrong(vc, client, "nobody") == "UNAUTHORIZED"
    for i in range(int(vc.center.throttle.burst)):
        wrong(vc, client, f"throwaway{i}")
    assert wrong(vc, client, "agent2") == wrong(vc, client, "nobody") == "TOO_MANY_ATTEMPTS"
    vc.advance(vc.center.throttle.burst / vc.center.throttle.rate)  # the bucket has drained
    assert wrong(vc, client, "agent2") == wrong(vc, client, "nobody") == "UNAUTHORIZED"
    vc.call(client, "login", "agent2", "agent2-pass")


def test_a_lockout_is_told_once_when_it_starts_and_forgotten_when_it_ends(
    vc: VirtualCenter,
) -> None:
    client = vc.connect()
    mark = len(vc.effects)
    for _ in range(7):
        wrong(vc, client, "agent1")
    locks = [e for e in vc.effects[mark:] if isinstance(e, LoginLocked)]
    assert locks == [LoginLocked("agent1", 300.0)]
    assert "guess" not in repr(locks)
    vc.advance(301)
    wrong(vc, client, "nobody")  # any attempt after the lock has ended prunes it
    assert len(vc.center.throttle) == 0
    vc.call(client, "login", "agent1", "agent1-pass")


def test_unknown_names_have_no_state_of_their_own() -> None:
    t = Throttle(limit=2, burst=1_000.0)
    for _ in range(10):
        t.check("nobody", 0.0, known=False)
        t.failed("nobody", 0.0, known=False)
    assert len(t) == 0
    assert t.take_locks() == []
