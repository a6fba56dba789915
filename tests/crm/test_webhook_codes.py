"""The webhook's ``call.ended`` carries the call's account codes as ``/api/cdr`` does: a code
from the list of the call's queue (its dispositions) with its label, another without."""

from __future__ import annotations

import json

from ucs.core.call import AccountCode
from ucs.core.effects import CallRecord
from ucs.storage.outbox import OutboxPolicy, rows


def test_the_ended_call_names_its_codes_and_their_labels() -> None:
    call = {"uniqueid": "1700000000.8", "recorded": False, "disconnected": 1700000060.0}
    codes = (AccountCode("SALE", "web", "Sale closed"), AccountCode("OWN"))
    policy = OutboxPolicy(enabled=True, base_url="http://ucs.example:8080")
    (event,) = rows([CallRecord(call, codes, 1)], policy)
    assert json.loads(event["body"])["data"]["account_codes"] == [
        {"accountCode": "SALE", "subAccountCode": "web", "label": "Sale closed"},
        {"accountCode": "OWN", "subAccountCode": None},
    ]
