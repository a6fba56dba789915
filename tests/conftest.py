"""Shared fixtures: a demo contact center on a virtual clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ucs.demo import DEMO_PASSWORDS, DEMO_SSO_SECRET, demo_directory
from ucs.virtual import VirtualCenter

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
def vc() -> VirtualCenter:
    """The demo center (CONTRACT §2) at 08:00, nobody logged in."""
    return make_center()
