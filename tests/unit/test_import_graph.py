"""The import graph: no cycles (issue 20, item 6) and the layering rules (item 1, house rules).

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


# ---------------------------------------------------------------------------- layering rules
# Unlike the cycle check, these count every import, deferred ones inside functions too: a
# deferred import still loads the module.

# The transport: URL, token, redirects, retries, deadlines, size cap, error classes.
TRANSPORT = (
    "neuro_sync._transport",
    "neuro_sync._session",
    "neuro_sync._retry",
    "neuro_sync._deadlines",
    "neuro_sync._failures",
    "neuro_sync._urllib3_hooks",
    "neuro_sync._redaction",
)
# What knows the job schema or maps replies: none of it below the operations.
SCHEMA = (
    "neuro_sync._mapping",
    "neuro_sync._joblist",
    "neuro_sync._schemas",
    "neuro_sync._validation",
    "neuro_sync._operations",
    "neuro_sync.models",
    "neuro_sync_api.models",
    "neuro_sync_api.readers",
    "neuro_sync_api.validation",
    "neuro_sync_api.api",
)
# The modules users see: they reach `requests` and the generated code through the layers.
PUBLIC = (
    "neuro_sync",
    "neuro_sync.client",
    "neuro_sync.jobs",
    "neuro_sync.models",
    "neuro_sync.errors",
    "neuro_sync.config",
    "neuro_sync.parsing",
)


def all_imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it, as absolute names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def _files() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reachable(start: tuple[str, ...]) -> set[str]:
    """Every module `start` loads, directly or through the package's modules."""
    files = _files()
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in files:
            todo += [m for m in all_imports(files[name]) if m not in seen]
    return seen


def test_the_transport_knows_no_job_schema() -> None:
    loaded = reachable(TRANSPORT)
    assert "neuro_sync.errors" in loaded  # the check sees through the layers
    assert sorted(m for m in loaded if _within(m, SCHEMA)) == []


def test_public_modules_reach_requests_and_generated_code_only_through_the_layers() -> None:
    files = _files()
    for name in PUBLIC:
        direct = all_imports(files[name])
        assert (
            sorted(m for m in direct if _within(m, ("requests", "urllib3", "neuro_sync_api"))) == []
        )


def test_the_local_platform_never_imports_the_facade() -> None:
    files = _files()
    local = [name for name in files if _within(name, ("neuro_sync.local",))]
    assert "neuro_sync.local.store" in local
    for name in local:
        facade = [
            m
            for m in all_imports(files[name])
            if _within(m, ("neuro_sync",)) and not _within(m, ("neuro_sync.local",))
        ]
        assert facade == [], f"{name} imports {facade}"


def test_the_rule_checks_see_a_violation() -> None:
    assert _within("neuro_sync_api.models.job", SCHEMA)
    assert not _within("neuro_sync_api.client", SCHEMA)
    assert not _within("neuro_sync.local.app", ("neuro_sync.loc",))
    assert "neuro_sync._transport" in reachable(("neuro_sync._operations",))
