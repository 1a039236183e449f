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

With `--structs`, it writes the fast path of the same readers instead: one `msgspec.Struct`
per schema (the list reply `JobList` and every schema reachable from `Job`), with the types
the readers above check (strings, booleans, nullable, arrays, string maps; numbers `Any`;
unknown keys ignored), and `read_*` functions that hand a decoded Struct's properties to the
same `Target` methods in the same order. msgspec's compiled decoder checks the types while it
parses, so a valid reply is read without a per-key check in Python. It reports a bad reply
in its own words; the caller then reads that reply again with the readers above, which name
the field as they always have (a bad reply is rare, so it may be slow). The Structs are at
least as strict as those readers (the same types, the same required keys), so whatever they
accept the readers accept too, and both hand the target the same values (a test compares
them); untracked by the garbage collector (`gc=False`: they hold no cycles).
"""

from __future__ import annotations

import keyword
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


STRUCTS_HEADER = '''"""Job reply Structs (msgspec) and their readers: the fast path of `readers`.

Generated from openapi/jobs.yaml by openapi/gen_readers.py --structs: do not edit, change the
spec and run `make generate`. A reply these Structs refuse is read again with `readers`, whose
errors name the field.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .readers import Target

UNSET = msgspec.UNSET
'''
STRUCT_ROOT = "JobList"


class StructGenerator(Generator):
    """The Structs and their readers (see the module docstring)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec)
        # Properties that an `x-or` names: their absence (not only null) is seen (UNSET).
        self.alternatives: dict[str, set[str]] = {}

    def struct(self, name: str) -> str:
        schema = self.schemas[name]
        required = set(schema.get("required", []))
        lines = [f"class {name}(msgspec.Struct, kw_only=True, gc=False):"]
        doc = schema.get("description", "").strip().replace("\n", " ")
        lines.append(f'    """`{name}`{": " + doc if doc else ""}"""\n')
        for prop, sub in self.properties(name).items():
            if prop.startswith("_") or not prop.isidentifier() or keyword.iskeyword(prop):
                raise ValueError(f"{name}.{prop}: not usable as a Struct field name")
            is_required = prop in required and "x-dialect" not in sub and "x-or" not in sub
            if "x-or" in sub and prop in required:
                self.alternatives.setdefault(name, set()).add(str(sub["x-or"]))
            child = self.ref(sub)
            if child is not None:
                kind, nullable, py = "object", False, child
            else:
                kind, nullable = self.kind(sub)
                if kind in _JSON:
                    py = _PY[kind]
                elif kind in _PY:
                    py = "Any"
                elif kind == "array":
                    item = self.ref(sub["items"])
                    py = f"list[{item or 'str'}]"
                elif kind == "object":
                    py = "dict[str, str]"
                else:
                    raise ValueError(f"{name}.{prop}: unsupported type {kind}")
            if is_required:
                lines.append(f"    {prop}: {py}{' | None' if nullable and py != 'Any' else ''}")
            elif prop in self.alternatives.get(name, ()):
                lines.append(f"    {prop}: {py} | None | msgspec.UnsetType = UNSET")
            elif py == "Any":
                lines.append(f"    {prop}: Any = None")
            else:
                lines.append(f"    {prop}: {py} | None = None")
        return "\n".join(lines) + "\n"

    def flat(self, name: str) -> bool:
        """No nested objects and no `x-or`: its target call fits in one expression."""
        return not any(
            self.ref(sub) or sub.get("type") == "array" and "$ref" in sub["items"] or "x-or" in sub
            for sub in self.properties(name).values()
        )

    def inline(
        self, name: str, src: str, out: str, pad: str, body: list[str], prefix: str = ""
    ) -> None:
        """Statements that set `out` to the target's value of the Struct in `src`, nested
        objects inlined (a Python call less per object: they run per job of a list); the
        names of the variables of its properties start with `prefix`."""
        required = set(self.schemas[name].get("required", []))
        props = self.properties(name)
        for prop, sub in props.items():
            alternative = sub.get("x-or") if prop in required else None
            if alternative is not None:
                # `x-or`: the alternative's absence is seen before it becomes None below.
                body.append(f"{pad}if {src}.{prop} is None and {src}.{alternative} is UNSET:")
                body.append(f'{pad}    raise KeyError("{prop}")')
        args: list[str] = []
        for prop, sub in props.items():
            var = f"{prefix}{prop}_"
            is_required = prop in required and "x-dialect" not in sub
            child = self.ref(sub)
            if child is None and sub.get("type") == "array" and "$ref" in sub["items"]:
                item = str(self.ref(sub["items"]))
                body.append(f"{pad}{var} = {src}.{prop}")
                body.append(f"{pad}if {var}:")
                if self.flat(item):
                    fields = ", ".join(f"i.{p}" for p in self.properties(item))
                    body.append(f"{pad}    {var}make = to.{_snake(item)}")
                    body.append(f"{pad}    {var} = [{var}make({fields}) for i in {var}]")
                else:
                    body.append(f"{pad}    {var} = [read_{_snake(item)}(i, to) for i in {var}]")
            elif child is not None and is_required:
                body.append(f"{pad}{var}s = {src}.{prop}")
                self.inline(child, f"{var}s", var, pad, body, var)
            elif child is not None:
                body.append(f"{pad}{var} = {src}.{prop}")
                body.append(f"{pad}if {var} is not None:")
                self.inline(child, var, var, pad + "    ", body, var)
            elif prop in self.alternatives.get(name, ()):
                body.append(f"{pad}{var} = {src}.{prop}")
                body.append(f"{pad}if {var} is UNSET:")
                body.append(f"{pad}    {var} = None")
            else:
                args.append(f"{src}.{prop}")
                continue
            args.append(var)
        body.append(f"{pad}{out} = to.{_snake(name)}({', '.join(args)})")

    def struct_reader(self, name: str) -> str:
        body = [
            f"def read_{_snake(name)}(s: {name}, to: Target) -> Any:",
            f'    """`{name}`: a decoded Struct, built by `to.{_snake(name)}`."""',
        ]
        self.inline(name, "s", "value", "    ", body)
        body.append("    return value")
        return "\n".join(body) + "\n"

    def render(self) -> str:
        self.visit(STRUCT_ROOT, "jobs")
        structs = [self.struct(name) for name in reversed(self.order)]
        # `read_job`, and the readers of array items that are not inlined.
        items = {
            str(self.ref(sub["items"]))
            for name in self.order
            for sub in self.properties(name).values()
            if sub.get("type") == "array" and "$ref" in sub.get("items", {})
        }
        roots = [n for n in self.order if n == ROOT or n in items and not self.flat(n)]
        readers = [self.struct_reader(name) for name in roots if name != STRUCT_ROOT]
        decoders = (
            "# The decoders of a single job reply and of a list reply.\n"
            "JOB_DECODER = msgspec.json.Decoder(Job)\n"
            f"LIST_DECODER = msgspec.json.Decoder({STRUCT_ROOT})\n"
        )
        return "\n\n".join([STRUCTS_HEADER, *structs, *readers, decoders])


def generate(spec_path: Path, out_path: Path, *, structs: bool = False) -> None:
    spec = yaml.safe_load(spec_path.read_text())
    generator = StructGenerator(spec) if structs else Generator(spec)
    out_path.write_text(generator.render())


if __name__ == "__main__":
    argv = sys.argv[1:]
    fast = argv[:1] == ["--structs"]
    if fast:
        argv = argv[1:]
    if len(argv) != 2:
        sys.exit(__doc__)
    generate(Path(argv[0]), Path(argv[1]), structs=fast)
