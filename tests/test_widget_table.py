"""The browser component and the server share one method table (CONTRACT §5)."""

from __future__ import annotations

import re
from pathlib import Path

import ucs
from ucs.core.model import RINGING_SOUNDS, THEMES
from ucs.core.session import ALIASES, METHODS

WIDGET = Path(ucs.__file__).parent / "widget" / "methods.js"


def test_the_javascript_method_table_is_the_servers() -> None:
    text = WIDGET.read_text(encoding="utf-8")
    names = {"ANY": ["CREDENTIALS", "IDENTIFY", "DEVICE", "READY"], "READY": ["READY"]}
    table: dict[str, set[str]] = {}
    block = text.split("export const METHODS = {", 1)[1].split("};", 1)[0]
    for name, states in re.findall(r"(\w+): (\[[^\]]*\]|ANY|READY),", block):
        listed = names[states] if states in names else re.findall(r'"(\w+)"', states)
        table[name] = set(listed)
    assert table == {m: {p.value for p in spec.allowed} for m, spec in METHODS.items()}
    aliases = dict(re.findall(r'(\w+): "(\w+)"', text.split("export const ALIASES", 1)[1]))
    assert {k: v for k, v in aliases.items() if k in ALIASES} == ALIASES
    assert re.findall(r'"(\w+)"', text.split("RINGING_SOUNDS = ", 1)[1].split(";")[0]) == list(
        RINGING_SOUNDS
    )
    assert re.findall(r'"(\w+)"', text.split("THEMES = ", 1)[1].split(";")[0]) == list(THEMES)
