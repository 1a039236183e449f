"""Write the server's reply writers from the spec (`make generate` runs it).

    python openapi/gen_writers.py openapi/jobs.yaml generated/neuro_sync_api/writers.py

The local platform answers with the objects the spec describes (the job object, `/config`).
This step writes, for every object schema reachable from the reply roots (`Job`,
`ServerConfig`), two plain functions, so that a property's wire name, whether it is required,
its type and the dialects that send it are written only in the spec:

* `write_<schema>(dialect, *, <property>=...)`: keyword arguments named as the wire keys,
  typed from the schema (a required property is a required argument; an optional one defaults
  to `OMIT`, which leaves the key out; a nullable one takes None and writes null). `mypy
  --strict` fails a caller that misses a required property or misspells one.
* `copy_<schema>(dialect, value)`: a stored mapping already in the wire shape (the container
  of a job is the validated request) with only that dialect's keys, nested objects and arrays
  of objects by their own schema; `value` itself when it has no other key, so rendering a
  list costs no copies where nothing is dropped (benchmarks/render.py);
* `<SCHEMA>_KEYS[dialect]`: the keys a dialect sends, for a caller that can skip computing
  a value the dialect leaves out.

Either leaves out what the dialect does not send: `x-dialect: D` (the first dialect with the
property) and `x-dialect-until: D` (the last). The dialects, oldest first, are the spec's
`info.x-dialects`. Values are not checked: the server writes what it validated.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

HEADER = '''"""The server's reply writers (the job object, `/config`), key by key from the spec.

Generated from openapi/jobs.yaml by openapi/gen_writers.py: do not edit, change the spec and
run `make generate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final


class Omit:
    """The type of `OMIT`: a property left out of the reply."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = Omit()
'''
ROOTS = ("Job", "ServerConfig")
_PREFIX = "#/components/schemas/"
_PY = {"string": "str", "boolean": "bool", "integer": "int", "number": "float"}


def _snake(name: str) -> str:
    return re.sub(
        r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z])(?=[0-9])", "_", name
    ).lower()


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.dialects: list[str] = [str(d) for d in spec["info"]["x-dialects"]]
        self.order: list[str] = []

    def ref(self, schema: dict[str, Any]) -> str | None:
        ref = schema.get("$ref")
        return None if ref is None else str(ref)[len(_PREFIX) :]

    def visit(self, name: str) -> None:
        if name in self.order:
            return
        self.order.append(name)
        for sub in self.schemas[name].get("properties", {}).values():
            target = self.ref(sub) or self.ref(sub.get("items", {}))
            if target is not None:
                self.visit(target)

    def is_leaf(self, name: str) -> bool:
        """No property of the schema is an object or array of objects of another schema."""
        return not any(
            self.ref(sub) or self.ref(sub.get("items", {}))
            for sub in self.schemas[name].get("properties", {}).values()
        )

    def sent_in(self, sub: dict[str, Any], schema: dict[str, Any]) -> list[str]:
        """The dialects that send a property (within those of its schema)."""
        first = self.dialects.index(
            str(sub.get("x-dialect", schema.get("x-dialect", self.dialects[0])))
        )
        last = self.dialects.index(str(sub.get("x-dialect-until", self.dialects[-1])))
        return self.dialects[first : last + 1]

    def annotation(self, sub: dict[str, Any]) -> str:
        target = self.ref(sub)
        if target is not None:
            return "Mapping[str, Any]"
        types = sub.get("type")
        nullable = isinstance(types, list) and "null" in types
        kind = next(t for t in types if t != "null") if isinstance(types, list) else types
        if kind == "array":
            items = sub.get("items", {})
            inner = (
                "Mapping[str, Any]" if self.ref(items) else _PY.get(str(items.get("type")), "Any")
            )
            py = f"Sequence[{inner}]"
        elif kind == "object":
            py = "Mapping[str, Any]"
        else:
            py = _PY[str(kind)]
        return f"{py} | None" if nullable else py

    def writer(self, name: str) -> str:
        schema = self.schemas[name]
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        params = []
        body = ["    out: dict[str, Any] = {}"]
        group: tuple[str, ...] | None = None  # the dialects of the open `if dialect in` block
        for prop, sub in props.items():
            py = self.annotation(sub)
            dialects = tuple(self.sent_in(sub, schema))
            if prop in required:
                params.append(f"    {prop}: {py},")
            else:
                params.append(f"    {prop}: {py} | Omit = OMIT,")
            # Properties of fewer dialects than all, in a row, share one dialect test.
            if dialects != group:
                group = None if dialects == tuple(self.dialects) else dialects
                if group is not None:
                    body.append(f"    if dialect in {group!r}:")
            indent = "    " if group is None else "        "
            line = f'out["{prop}"] = {prop}'
            if prop in required:
                body.append(f"{indent}{line}")
            else:
                body.append(f"{indent}if {prop} is not OMIT:\n{indent}    {line}")
        body.append("    return out")
        doc = f'    """The `{name}` object of a reply, with the keys `dialect` sends."""'
        return (
            f"def write_{_snake(name)}(\n    dialect: str,\n    *,\n"
            + "\n".join(params)
            + "\n) -> dict[str, Any]:\n"
            + doc
            + "\n"
            + "\n".join(body)
            + "\n"
        )

    def copier(self, name: str) -> str:
        schema = self.schemas[name]
        props: dict[str, Any] = schema.get("properties", {})
        keys = {
            d: frozenset(p for p, sub in props.items() if d in self.sent_in(sub, schema))
            for d in self.dialects
        }
        const = f"{_snake(name).upper()}_KEYS"
        literal = ", ".join(f"{d!r}: frozenset({sorted(k)!r})" for d, k in keys.items())
        lines = [f"{const}: Final[dict[str, frozenset[str]]] = {{{literal}}}\n\n"]
        lines.append(
            f"def copy_{_snake(name)}(\n"
            "    dialect: str, value: Mapping[str, Any]\n"
            ") -> Mapping[str, Any]:\n"
            f'    """A stored `{name}` with only the keys `dialect` sends (nested ones'
            " too):\n    `value` itself when it has no others (the caller must not change the"
            ' result)."""\n'
            f"    keys = {const}[dialect]\n"
            "    out = value if value.keys() <= keys else "
            "{k: v for k, v in value.items() if k in keys}\n"
        )
        for prop, sub in props.items():
            target = self.ref(sub)
            items = self.ref(sub.get("items", {}))
            if target is None and items is None:
                continue
            lines.append(f'    nested = out.get("{prop}")\n')
            ref = str(target or items)
            copy = f"copy_{_snake(ref)}"
            if self.is_leaf(ref):
                # A leaf schema: its keys are checked here, its copier called only to drop some
                # (a function call per object costs more than the check).
                known = f"{_snake(ref).upper()}_KEYS[dialect]"
                if target is not None:
                    lines.append(
                        f"    if nested is not None and not nested.keys() <= {known}:\n"
                        f'        out = {{**out, "{prop}": {copy}(dialect, nested)}}\n'
                    )
                else:
                    lines.append(
                        "    if nested is not None and not all(map("
                        f"{known}.issuperset, nested)):\n"
                        f'        out = {{**out, "{prop}": '
                        f"[{copy}(dialect, item) for item in nested]}}\n"
                    )
            elif target is not None:
                lines.append(
                    "    if nested is not None:\n"
                    f"        copied = {copy}(dialect, nested)\n"
                    "        if copied is not nested:\n"
                    f'            out = {{**out, "{prop}": copied}}\n'
                )
            else:
                lines.append(
                    "    if nested is not None:\n"
                    f"        copies = [{copy}(dialect, item) for item in nested]\n"
                    "        if any(a is not b for a, b in zip(copies, nested, strict=True)):\n"
                    f'            out = {{**out, "{prop}": copies}}\n'
                )
        lines.append("    return out\n")
        return "".join(lines)

    def render(self) -> str:
        for root in ROOTS:
            self.visit(root)
        parts = [HEADER]
        for name in self.order:
            parts.append(self.writer(name))
            parts.append(self.copier(name))
        return "\n\n".join(parts)


def generate(spec_path: Path, out_path: Path) -> None:
    spec = yaml.safe_load(spec_path.read_text())
    out_path.write_text(Generator(spec).render())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    generate(Path(sys.argv[1]), Path(sys.argv[2]))
