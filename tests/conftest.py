"""Shared fixtures: a demo contact center on a virtual clock."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ucs.demo import DEMO_PASSWORDS, DEMO_SSO_SECRET, demo_directory
from ucs.virtual import VirtualCenter

# The suite runs many servers at once on two cores: their event loops lag from the machine's
# load, not their own, so `ucs serve` started by a test sheds no REST request for lag
# (tests/server/test_pressure.py turns it on where it is the point).
os.environ.setdefault("UCS_SHED_LAG", "0")
# Nor does it start a media engine (Janus, and the default sounds' encoding) in every server
# process it starts: tests/media turn media on where it is the point.
os.environ.setdefault("UCS_MEDIA", "off")

PRAGUE = ZoneInfo("Europe/Prague")
MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=PRAGUE).timestamp()
"""Tuesday 24 November 2026, 08:00 in Prague: where every virtual day starts."""


def make_center(start: float = MORNING, *, rona: bool = True) -> VirtualCenter:
    """The demo center at ``start``; ``rona=False``: its queues without their RONA reason, so
    that an agent who lets an offer ring out stays READY."""
    directory = demo_directory()
    if not rona:
        queues = {q: dataclasses.replace(c, rona_reason=None) for q, c in directory.queues.items()}
        directory = dataclasses.replace(directory, queues=queues)
    return VirtualCenter(
        directory,
        start=start,
        passwords=DEMO_PASSWORDS,
        sso_secret=DEMO_SSO_SECRET,
        tz=PRAGUE,
    )


@pytest.fixture
def vc() -> VirtualCenter:
    """The demo center (CONTRACT §2) at 08:00, nobody logged in."""
    return make_center()


@pytest.fixture
def vc_no_rona() -> VirtualCenter:
    """The demo center at 08:00 with its queues' RONA reason off: an agent who lets an offer
    ring out stays READY and is offered it again."""
    return make_center(rona=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """A failed browser test shows what its pages' consoles said (tests/browser/conftest.py)."""
    report = yield
    from tests.browser.conftest import BROWSER_LOG

    log = item.stash.get(BROWSER_LOG, None)
    if log and report.failed:
        report.sections.append(("browser console", "\n".join(log[-200:])))
    return report
