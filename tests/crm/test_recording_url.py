"""The webhook's ``call.ended`` carries the recording's address when the call was recorded
(CONTRACT §12), and none otherwise."""

from __future__ import annotations

import json

from ucs.core.effects import CallRecord
from ucs.storage.outbox import OutboxPolicy, rows


def _ended(recorded: bool) -> CallRecord:
    call = {"uniqueid": "1700000000.7", "recorded": recorded, "disconnected": 1700000060.0}
    return CallRecord(call, (), 1)


def test_a_recorded_calls_event_carries_the_recordings_url() -> None:
    policy = OutboxPolicy(enabled=True, base_url="http://ucs.example:8080")
    recorded, plain = rows([_ended(True), _ended(False)], policy)
    data = json.loads(recorded["body"])["data"]
    assert data["recording_url"] == "http://ucs.example:8080/api/recordings/1700000000.7"
    assert "recording_url" not in json.loads(plain["body"])["data"]
