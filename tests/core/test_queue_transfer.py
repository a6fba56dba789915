"""A transfer to a queue's number (the demo's Sales, 200), on a virtual clock: the caller waits
in that queue as a new caller of it, and the queues' figures of the day count it so."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_center
from ucs.core.ids import ClientId, QueueId, UniqueId
from ucs.core.model import Cause
from ucs.virtual import VirtualCenter

SUPPORT, SALES = QueueId(1), QueueId(2)


def _support_call_sent_to_sales(vc: VirtualCenter) -> tuple[UniqueId, ClientId, ClientId]:
    """agent1 answers a Support caller and sends it to 200 (blind); agent3 is rung."""
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    a3 = vc.agent_ready("agent3", "agent3-pass", "phone3")
    uid = vc.caller(1, "+420601100100")
    vc.advance(3)
    vc.call(a1, "answer")
    vc.advance(30)
    vc.call(a1, "blindTransfer", "200")
    return uid, a1, a3


@settings(max_examples=25, deadline=None)
@given(wait=st.integers(0, 60), answers=st.booleans())
def test_a_caller_transferred_to_a_queue_counts_as_that_queues_caller(
    wait: int, answers: bool
) -> None:
    vc = make_center()
    uid, a1, a3 = _support_call_sent_to_sales(vc)
    days = vc.center.queue_days
    support, sales = days.day(SUPPORT), days.day(SALES)
    assert (support.offered, support.answered, support.open) == (1, 1, 0)
    assert (sales.offered, sales.answered, sales.open) == (1, 0, 1)  # it waits there
    answers = answers and wait < 15  # Sales rings 15 s; then agent3 is not rung again
    vc.advance(wait)
    if answers:
        vc.call(a3, "answer")
        vc.advance(10)
        vc.call(a3, "hangup")
    else:
        vc.caller_hangs_up(uid)
    sales = days.day(SALES)
    assert (sales.offered, sales.open) == (1, 0)
    assert sales.answered == int(answers)
    assert sales.answered_within_target == int(answers and wait <= 20)
    assert sales.abandoned == int(not answers)
    assert days.day(SUPPORT).answered == 1  # unchanged by the second answer
    user1 = vc.user(a1)
    assert (user1["transferred"], user1["transferred_external"]) == (1, 0)
    assert vc.cause_of(uid) is (Cause.CALLED_HANGUP if answers else Cause.CALLER_HANGUP)


def test_a_transfer_to_a_number_of_no_queue_is_an_outside_call(vc: VirtualCenter) -> None:
    """A number no incoming queue (nor phone) has is dialled out, as before."""
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    vc.caller(1, "+420601100100")
    vc.advance(3)
    vc.call(a1, "answer")
    consultation = vc.call(a1, "transfer", "777123456")
    assert consultation["called_name"] is None
    assert vc.center.calls[consultation["uniqueid"]].queue_id is None
