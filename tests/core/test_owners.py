"""Every piece of the core's state has one owner (DESIGN.md §15): no module reaches into
another object's ``_private`` attributes, the ``Center`` holds its owners instead of inheriting
from one, and the core's modules import one another without a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ucs.core
from ucs.core.center import Center

CORE = Path(ucs.core.__file__).parent
_REACH = re.compile(r"\b([a-z_][a-z0-9_]*)\._[a-z][a-z0-9_]*")


def test_no_core_module_reads_or_writes_another_objects_private_attributes() -> None:
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(CORE.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(m.group(1) not in ("self", "cls") for m in _REACH.finditer(line))
    ]
    assert found == []


def test_the_center_has_no_base_class() -> None:
    assert Center.__bases__ == (object,)


def _module_level_imports(path: Path) -> set[str]:
    """The ``ucs.core`` modules a module imports when it is loaded (not those imported only
    for type checking, under ``if TYPE_CHECKING:``, nor inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == "ucs.core":
                found.update(f"ucs.core.{a.name}" for a in node.names)
            elif node.module.startswith("ucs.core."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ucs.core."))
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, if it has any."""
    state: dict[str, int] = {}  # 1: on the path being explored, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_core_modules_import_one_another_without_a_cycle() -> None:
    graph = {
        f"ucs.core.{path.stem}": _module_level_imports(path)
        for path in CORE.glob("*.py")
        if path.stem != "__init__"
    }
    assert len(graph) > 20
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_owners_do_not_know_the_center_even_for_type_checking() -> None:
    """The owners the ``Center`` holds, and the helpers that take values, not the aggregate,
    import nothing of it (the command and event handlers are the ``Center``'s own operations
    split by subject, and take it)."""
    owners = [
        "callbook",
        "distribution",
        "figures",
        "outbox",
        "publish",
        "restore",
        "timers",
        "views",
    ]
    for name in owners:
        text = (CORE / f"{name}.py").read_text(encoding="utf-8")
        imported = {
            node.module
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert "ucs.core.center" not in imported, name
