"""The per-source memories of the SIP switch stay bounded whatever the sources (pure objects,
time passed in; the socket-level behaviour is in ``test_sip_attacks.py``)."""

from __future__ import annotations

import logging

import pytest

from ucs.switch.sip.guard import Complaints, Failures


def test_failures_shut_a_source_out_for_a_while_and_remember_few_sources() -> None:
    failures = Failures(limit=3, window=60, block=300, capacity=100)
    for t in (0, 1):
        failures.failed("192.0.2.1", t)
    assert not failures.blocked("192.0.2.1", 2)
    failures.failed("192.0.2.1", 61)  # a new window: one failure in it
    assert not failures.blocked("192.0.2.1", 62)
    for t in (62, 63):
        failures.failed("192.0.2.1", t)
    assert failures.blocked("192.0.2.1", 64) and not failures.blocked("192.0.2.9", 64)
    assert failures.blocked("192.0.2.1", 362) and not failures.blocked("192.0.2.1", 364)
    for i in range(10_000):
        failures.failed(f"10.0.{i // 256}.{i % 256}", 400)
    assert len(failures) <= 100


def test_complaints_log_a_line_per_source_and_minute_and_few_lines_in_all(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="ucs.sip")
    complaints = Complaints(window=60, lines=5, capacity=50)
    for _ in range(100):
        complaints.note("192.0.2.1", "ValueError", 0)
    for i in range(1_000):
        complaints.note(f"10.0.{i // 256}.{i % 256}", "ValueError", 1)
    assert len(caplog.records) == 5 and len(complaints) <= 50
    complaints.note("192.0.2.1", "ValueError", 61)
    lines = [r.getMessage() for r in caplog.records[5:]]
    assert "996 more datagrams from other sources" in lines[0]
    assert "malformed SIP from 192.0.2.1" in lines[1] and "99 more" in lines[1]
