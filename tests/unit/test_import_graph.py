"""The facade's modules import each other without cycles (issue 20, item 6).

The graph is read from the sources: every `import` at module level, `if TYPE_CHECKING:` blocks
included (a cycle through type-only imports still tangles the modules), imports inside
functions (deliberately deferred, e.g. the generated endpoints) not. The facade and the local
platform (`neuro_sync.local`, the server side, which never imports the facade) are two graphs.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "neuro_sync"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If | ast.Try):
            todo += node.body + node.orelse
            if isinstance(node, ast.Try):
                todo += [s for h in node.handlers for s in h.body] + node.finalbody
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if node.module:  # `from . import x` imports x, not the package's other modules
                found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in modules and m != name}


def package_graph(local: bool) -> dict[str, set[str]]:
    """The import graph of the facade (`local=False`) or of the local platform."""
    files = {
        _module_name(p): p
        for p in PACKAGE.rglob("*.py")
        if ("local" in p.relative_to(PACKAGE).parts) is local
    }
    return {name: _imports(path, name, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_checker_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_facade_has_no_import_cycles() -> None:
    graph = package_graph(local=False)
    assert "neuro_sync._transport" in graph and graph["neuro_sync._transport"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_local_platform_has_no_import_cycles() -> None:
    graph = package_graph(local=True)
    assert "neuro_sync.local.app" in graph and graph["neuro_sync.local.app"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])
