"""Tests share helper modules (``tests/helpers.py``, ``tests/core/helpers.py``,
``tests/sip/helpers.py``, ``tests/browser/helpers.py``, ``tests/crm/helpers.py``,
``VirtualCenter``): no test imports
another test module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def test_no_test_imports_another_test_modules_privates() -> None:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(_parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private:
                    found.append(f"{path.relative_to(TESTS)}: {node.module} {private}")
    assert found == []


def _parse(source: str) -> ast.Module:
    """``ast.parse``, again when CPython 3.11's shared recursion counter was disturbed by
    another thread of this process (gh-106905: "AST constructor recursion depth mismatch",
    seen after the SIP tests' threads ran in the same worker)."""
    for _ in range(3):
        try:
            return ast.parse(source)
        except SystemError:
            continue
    return ast.parse(source)
