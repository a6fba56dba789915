"""The public surface is declared once: every module says what it exports, and it exists."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import ucs

CORE = Path(ucs.__file__).parent / "core"
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages([str(Path(ucs.__file__).parent)], prefix="ucs.")
    if not m.name.startswith("ucs.storage.migrations.")  # Alembic's scripts, run by Alembic
)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_its_public_names_and_they_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def test_the_core_imports_no_io_and_reads_no_clock() -> None:
    forbidden = (
        "import asyncio",
        "import socket",
        "import sqlite3",
        "import sqlalchemy",
        "import random",
        "import threading",
        "import subprocess",
        "time.time(",
        "datetime.now(",
        "from asyncio",
        "from random",
    )
    for path in CORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = [f for f in forbidden if f in text]
        assert not found, f"{path.name} uses {found}"
