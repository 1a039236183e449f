"""Write the reply readers of the job object from the spec (`make generate` runs it).

    python openapi/gen_readers.py openapi/jobs.yaml generated/neuro_sync_api/readers.py

openapi-python-client's models check and copy every reply into wire objects that the client
then copies again into its own dataclasses; for a list of 10,000 jobs that double copy cost
more than the transfer. This step writes, from the response schemas reachable from `Job`, one
plain function per schema (`read_job`, `read_job_history`, ...) that checks the JSON value
against the schema (object, required keys, strings, booleans, nullable, arrays, string maps;
unknown keys are ignored) and hands every property, in the spec's order, to a `Target` method of
the same schema (`Target.job(...)`), which builds what the caller wants. `Target` is written
too, as a Protocol whose parameters carry the wire names: a property added to the spec becomes
a new parameter of its method, so a target that does not take it fails `mypy --strict` and
every call, never silently drops it. The arguments are positional (a keyword call of fifteen
arguments costs three times as much, and these run per object of a 10,000-job list); a test of
the target compares its parameter names with the Protocol's.

The readers serve both dialects: a property marked `x-dialect: "2022"` is read too, always as
optional (a 2019 server never sends it, and a 2022 reply must not fail for a missing one),
so a target reads a 2022 job whole and a 2019 job as it always has.

Numbers (integer, number) are handed over unchecked: the target decides what it coerces (the
2019 server sent some as strings or integral floats). A required 2019 property marked
`x-or: other` may be missing when its 2022 replacement `other` is there (a 2022 server sends
`scheduler_enabled` for `is_preemptible`, `memory` in bytes for `memory_mb`): it is handed
over as None and the target derives it. Errors are `KeyError` (a missing
required key) and `TypeError` naming the field by its path from the job.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

HEADER = '''"""Readers of the job object of a reply: checked JSON in, a `Target`'s objects out.

Generated from openapi/jobs.yaml by openapi/gen_readers.py: do not edit, change the spec and
run `make generate`.
"""

from __future__ import annotations

from typing import Any, Protocol

_STR_ONLY = frozenset({str})
'''
ROOT = "Job"
_PREFIX = "#/components/schemas/"
_PY = {"string": "str", "boolean": "bool", "integer": "Any", "number": "Any"}
_CLASS = {"string": "str", "boolean": "bool", "array": "list", "object": "dict"}
_JSON = {"string": "a string", "boolean": "a boolean"}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.order: list[str] = []  # schema names, the root first
        self.labels: dict[str, str] = {}  # schema name -> its path in error messages

    def ref(self, schema: dict[str, Any]) -> str | None:
        ref = schema.get("$ref")
        return None if ref is None else str(ref)[len(_PREFIX) :]

    def properties(self, name: str) -> dict[str, Any]:
        """The properties of an object schema (both dialects), in the spec's order."""
        props: dict[str, Any] = self.schemas[name].get("properties", {})
        return props

    def kind(self, schema: dict[str, Any]) -> tuple[str, bool]:
        """(JSON type, nullable) of a property schema."""
        types = schema.get("type")
        if isinstance(types, list):
            rest = [t for t in types if t != "null"]
            if len(rest) != 1:
                raise ValueError(f"unsupported type list: {types}")
            return rest[0], "null" in types
        if types is None:
            raise ValueError(f"a response property needs a type or a $ref: {schema}")
        return str(types), False

    def visit(self, name: str, label: str) -> None:
        if name in self.labels:
            return
        self.labels[name] = label
        self.order.append(name)
        for prop, sub in self.properties(name).items():
            child = self.ref(sub)
            if child is None and sub.get("type") == "array":
                child = self.ref(sub["items"])
            if child is not None:
                self.visit(child, prop if name == ROOT else f"{label}.{prop}")

    # ------------------------------------------------------------------ code

    def reader(self, name: str) -> tuple[str, str]:
        """(the reader function, the Target method) of one object schema."""
        schema = self.schemas[name]
        label = self.labels[name]
        where = "job" if name == ROOT else label
        required = set(schema.get("required", []))
        func = f"read_{_snake(name)}"
        body = [
            f"def {func}(d: Any, to: Target) -> Any:",
            f'    """`{name}`: checked, then built by `to.{_snake(name)}`."""',
            "    if type(d) is not dict:",
            f'        raise TypeError("{where} is not a JSON object")',
        ]
        params: list[str] = []
        args: list[str] = []
        for prop, sub in self.properties(name).items():
            path = prop if name == ROOT else f"{label}.{prop}"
            var = f"{prop}_"
            # A later dialect's property is never required: a 2019 server does not send it.
            is_required = prop in required and "x-dialect" not in sub
            # `x-or: other`: a 2019 key a 2022 server may replace by `other`; one must be there.
            alternative = sub.get("x-or") if is_required else None
            if alternative is not None:
                is_required = False
            read = f'd["{prop}"]' if is_required else f'get("{prop}")'
            optional = "" if is_required else " | None"
            child = self.ref(sub)
            if child is not None:
                reader = f"read_{_snake(child)}"
                if is_required:
                    body.append(f"    {var} = {reader}({read}, to)")
                else:
                    body.append(f"    {var} = {read}")
                    body.append(f"    if {var} is not None:")
                    body.append(f"        {var} = {reader}({var}, to)")
                params.append(f"{prop}: Any")
            else:
                kind, nullable = self.kind(sub)
                optional = " | None" if nullable or not is_required else ""
                body.append(f"    {var} = {read}")
                test = f"type({var}) is not {_CLASS.get(kind)}"
                if optional:
                    test = f"{var} is not None and {test}"
                if kind in _JSON:
                    body.append(f"    if {test}:")
                    body.append(f'        raise TypeError("{path} is not {_JSON[kind]}")')
                    params.append(f"{prop}: {_PY[kind]}{optional}")
                elif kind in _PY:  # a number: the target coerces
                    params.append(f"{prop}: Any{optional}")
                elif kind == "array" and sub["items"].get("type") == "string":
                    body.append(f"    if {test}:")
                    body.append(f'        raise TypeError("{path} is not a list")')
                    body.append(f"    if {var} and not _STR_ONLY.issuperset(map(type, {var})):")
                    body.append(f'        raise TypeError("{path} items must be strings")')
                    params.append(f"{prop}: list[str]{optional}")
                elif kind == "array":
                    item = self.ref(sub["items"])
                    if item is None:
                        raise ValueError(f"{name}.{prop}: only arrays of $ref objects or strings")
                    body.append(f"    if {test}:")
                    body.append(f'        raise TypeError("{path} is not a list")')
                    # The parsed list (the caller's alone) is filled in place: no second list.
                    body.append(f"    if {var}:")
                    body.append(f"        for i, item in enumerate({var}):")
                    body.append(f"            {var}[i] = read_{_snake(item)}(item, to)")
                    params.append(f"{prop}: list[Any]{optional}")
                elif kind == "object":
                    values = sub.get("additionalProperties")
                    if not isinstance(values, dict) or values.get("type") != "string":
                        raise ValueError(f"{name}.{prop}: only maps of strings inline")
                    body.append(f"    if {test}:")
                    body.append(f'        raise TypeError("{path} is not a JSON object")')
                    body.append(
                        f"    if {var} and not _STR_ONLY.issuperset(map(type, {var}.values())):"
                    )
                    body.append(f'        raise TypeError("{path} values must be strings")')
                    params.append(f"{prop}: dict[str, str]{optional}")
                else:
                    raise ValueError(f"{name}.{prop}: unsupported type {kind}")
            if alternative is not None:
                body.append(f'    if {var} is None and "{alternative}" not in d:')
                body.append(f'        raise KeyError("{prop}")')
            args.append(var)
        if any(prop not in required for prop in self.properties(name)):
            body.insert(4, "    get = d.get")
        body.append(f"    return to.{_snake(name)}({', '.join(args)})")
        doc = schema.get("description", "").strip().replace("\n", " ")
        method = [f"    def {_snake(name)}(self, {', '.join(params)}, /) -> Any:"]
        method.append(f'        """`{name}`{": " + doc if doc else ""}"""')
        method.append("        ...")
        return "\n".join(body) + "\n", "\n".join(method) + "\n"

    def render(self) -> str:
        self.visit(ROOT, "job")
        readers, methods = zip(*(self.reader(name) for name in self.order), strict=True)
        target = (
            "class Target(Protocol):\n"
            '    """Builds the value of each object schema from its checked properties."""\n\n'
            + "\n".join(methods)
        )
        parts = [HEADER, target, *readers]
        return "\n\n".join(parts)


def generate(spec_path: Path, out_path: Path) -> None:
    spec = yaml.safe_load(spec_path.read_text())
    out_path.write_text(Generator(spec).render())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    generate(Path(sys.argv[1]), Path(sys.argv[2]))
