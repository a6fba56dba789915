"""Shared fixtures: a demo contact center on a virtual clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def make_center(start: float = MORNING) -> VirtualCenter:
    return VirtualCenter(
        demo_directory(),
        start=start,
        passwords=DEMO_PASSWORDS,
        sso_secret=DEMO_SSO_SECRET,
        tz=PRAGUE,
    )


@pytest.fixture
def cluster_db() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL for the nodes of a cluster (dropped
    afterwards); the tests that use it are skipped without ``UCS_TEST_POSTGRES_URL``."""
    from tests.helpers import fresh_postgres

    with fresh_postgres() as url:
        yield url


@pytest.fixture
def vc() -> VirtualCenter:
    """The demo center (CONTRACT §2) at 08:00, nobody logged in."""
    return make_center()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """A failed browser test shows what its pages' consoles said (tests/browser/conftest.py)."""
    report = yield
    from tests.browser.conftest import BROWSER_LOG

    log = item.stash.get(BROWSER_LOG, None)
    if log and report.failed:
        report.sections.append(("browser console", "\n".join(log[-200:])))
    return report
