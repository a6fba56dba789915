"""Account codes from a queue's list (dispositions): what ``setAccountCode`` takes on a call of
the queue, the list its agent is told of, and a change of the list while calls are live.

The demo center (CONTRACT §2) is given lists by ``Reconfigure``, as the REST API does.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_center
from tests.core.helpers import answered
from ucs.core.call import AccountCode
from ucs.core.directory import Disposition, QueueConfig
from ucs.core.effects import CallRecord
from ucs.core.errors import InvalidArgument, NotFound
from ucs.core.events import Reconfigure
from ucs.core.ids import ClientId, QueueId, UniqueId
from ucs.core.model import CallState
from ucs.virtual import VirtualCenter

SUPPORT, CAMPAIGN = QueueId(1), QueueId(3)
LIST = (Disposition("SALE", "Sale closed"), Disposition("INFO", "Information only"))
OUTSIDE = "+420601123456"


def _lists(vc: VirtualCenter, **queues: tuple[tuple[Disposition, ...], bool]) -> None:
    """Give queues (``q1=…``, ``q3=…``) a list and the free text flag, as an administrator."""
    d = vc.center.directory
    changed = dict(d.queues)
    for key, (codes, free) in queues.items():
        q = QueueId(int(key[1:]))
        changed[q] = dataclasses.replace(d.queues[q], dispositions=codes, free_text_codes=free)
    vc.feed(Reconfigure(dataclasses.replace(d, queues=changed)))


def _told(vc: VirtualCenter, client: ClientId, uid: str) -> dict[str, object]:
    """The dispositions the connection was last told of with the call."""
    told = [m for m in vc.messages(client, "call.changed") if m["call"]["uniqueid"] == uid]
    assert told, f"never told of {uid}"
    dispositions: dict[str, object] = told[-1]["dispositions"]
    return dispositions


CHOICES = {
    "queue": 1,
    "codes": [
        {"accountCode": "SALE", "label": "Sale closed"},
        {"accountCode": "INFO", "label": "Information only"},
    ],
    "freeText": False,
}


def test_a_queue_without_a_list_takes_any_code_and_says_so(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = answered(vc, agent)
    assert _told(vc, agent, uid) == {"queue": 1, "codes": [], "freeText": True}
    assert vc.call(agent, "dispositions", uid) == {"queue": 1, "codes": [], "freeText": True}
    assert vc.call(agent, "setAccountCode", uid, "ANYTHING") == [
        {"accountCode": "ANYTHING", "subAccountCode": None}
    ]


def test_a_code_off_the_list_is_refused_and_nothing_changes(vc: VirtualCenter) -> None:
    _lists(vc, q1=(LIST, False))
    agent = vc.ready(1)
    uid = answered(vc, agent)
    assert _told(vc, agent, uid) == CHOICES
    assert vc.call(agent, "setAccountCode", uid, "SALE", "web") == [
        {"accountCode": "SALE", "subAccountCode": "web", "label": "Sale closed"}
    ]
    before = len(vc.effects)
    with pytest.raises(InvalidArgument, match=r"'sale' is not an account code of queue 1"):
        vc.call(agent, "setAccountCode", uid, "sale", None, True)  # codes are exact
    assert vc.center.calls[uid].account_codes == [AccountCode("SALE", "web", "Sale closed")]
    assert not [e for e in vc.effects[before:] if isinstance(e, CallRecord)]
    vc.call(agent, "hangup")
    # In wrap-up the list still holds; the record keeps the label the agent picked.
    with pytest.raises(InvalidArgument):
        vc.call(agent, "setAccountCode", uid, "OTHER")
    assert vc.call(agent, "dispositions", uid) == CHOICES
    vc.call(agent, "setAccountCode", uid, "INFO")
    assert vc.records[uid].account_codes == (
        AccountCode("SALE", "web", "Sale closed"),
        AccountCode("INFO", None, "Information only"),
    )


def test_free_text_besides_the_list_takes_other_codes_unlabelled(vc: VirtualCenter) -> None:
    _lists(vc, q1=(LIST, True))
    agent = vc.ready(1)
    uid = answered(vc, agent)
    assert _told(vc, agent, uid) == {**CHOICES, "freeText": True}
    assert vc.call(agent, "setAccountCode", uid, "OWN") == [
        {"accountCode": "OWN", "subAccountCode": None}
    ]
    assert vc.call(agent, "setAccountCode", uid, "INFO", None, True) == [
        {"accountCode": "INFO", "subAccountCode": None, "label": "Information only"}
    ]


def test_the_campaign_decides_for_its_calls_and_a_direct_call_takes_any(vc: VirtualCenter) -> None:
    _lists(vc, q1=(LIST, False), q3=((Disposition("CB", "Call back later"),), False))
    agent = vc.ready(1)
    campaign = UniqueId(str(vc.call(agent, "dial", OUTSIDE, int(CAMPAIGN))["uniqueid"]))
    vc.advance(1)
    assert _told(vc, agent, campaign) == {
        "queue": 3,
        "codes": [{"accountCode": "CB", "label": "Call back later"}],
        "freeText": False,
    }
    with pytest.raises(InvalidArgument, match="queue 3"):
        vc.call(agent, "setAccountCode", campaign, "SALE")
    vc.call(agent, "setAccountCode", campaign, "CB")
    vc.call(agent, "hangup")
    direct = UniqueId(str(vc.call(agent, "dial", OUTSIDE, "directCall")["uniqueid"]))
    vc.advance(1)
    assert _told(vc, agent, direct) == {"queue": None, "codes": [], "freeText": True}
    assert vc.call(agent, "setAccountCode", direct, "WHATEVER")[0]["accountCode"] == "WHATEVER"


def test_a_changed_list_reaches_the_agent_on_the_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = answered(vc, agent)
    seen = len(vc.messages(agent, "call.changed"))
    _lists(vc, q1=(LIST, False))
    pushed = vc.messages(agent, "call.changed")[seen:]
    assert [m["dispositions"] for m in pushed] == [CHOICES]
    assert pushed[0]["what"] == "change" and pushed[0]["call"]["state"] == CallState.CONNECTED
    with pytest.raises(InvalidArgument):
        vc.call(agent, "setAccountCode", uid, "ANYTHING")
    # The same list again tells nobody anything.
    _lists(vc, q1=(LIST, False))
    assert len(vc.messages(agent, "call.changed")) == seen + 1


def test_a_joining_tab_is_told_the_lists_of_the_calls(vc: VirtualCenter) -> None:
    _lists(vc, q1=(LIST, False))
    agent = vc.ready(1)
    uid = answered(vc, agent)
    tab = vc.connect()
    snapshot = vc.call(tab, "login", "agent1", "agent1-pass")
    assert snapshot["dispositions"] == {uid: CHOICES}
    assert "dispositions" not in vc.call(tab, "state")  # the state object is the contract's


def test_another_agent_cannot_read_the_list_of_my_call(vc: VirtualCenter) -> None:
    mine = vc.ready(1)
    other = vc.ready(2)
    uid = answered(vc, mine)
    with pytest.raises(NotFound):
        vc.call(other, "dispositions", uid)


_code = st.text(alphabet="ABCab-1", min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    codes=st.lists(_code, max_size=5, unique=True),
    free=st.booleans(),
    tries=st.lists(st.tuples(_code, st.booleans()), min_size=1, max_size=6),
)
def test_set_account_code_takes_exactly_what_the_queue_allows(
    codes: list[str], free: bool, tries: list[tuple[str, bool]]
) -> None:
    vc = make_center()
    _lists(vc, q1=(tuple(Disposition(c, f"Label {c}") for c in codes), free))
    q: QueueConfig = vc.center.directory.queues[SUPPORT]
    agent = vc.ready(1)
    uid = answered(vc, agent)
    expected: list[AccountCode] = []
    for code, override in tries:
        allowed = free or not codes or code in codes
        try:
            vc.call(agent, "setAccountCode", uid, code, None, override)
        except InvalidArgument:
            assert not allowed
        else:
            assert allowed
            label = f"Label {code}" if code in codes else None
            assert q.label_of(code) == label
            new = AccountCode(code, None, label)
            expected = [new] if override else [*expected, new]
        assert vc.center.calls[uid].account_codes == expected
