"""Write marshmallow schemas for the request side of an OpenAPI spec (`make generate` runs it).

    python openapi/gen_validation.py openapi/jobs.yaml generated/neuro_sync_api/validation.py

openapi-python-client makes models, not validation, and cannot add a module through templates,
so this small step turns the request-body schemas and query parameters into marshmallow schemas
that the client and the local platform share. The output is `validation_runtime.py` (the
fixed part: strict JSON types, rules, error flattening) followed by one class per object schema
and one field factory per named value schema. Output order follows the spec, so it is stable.

Supported: type (with "null", or oneOf/anyOf with a null branch), required, default, pattern
(whole value), minLength/maxLength, minimum/maximum and their exclusive forms, enum,
additionalProperties (false, or a value schema for maps), propertyNames, dependentRequired,
minItems/maxItems, minProperties/maxProperties (of maps), items, allOf (rules applied in
order), $ref to components, and the extensions `x-error`, `x-error-standalone`, `x-unique-by`
and `x-dialect` (a property or query parameter that exists only from that dialect on: listed in
the class's `since_dialect`, which `validation_runtime.for_dialect` reads; see the spec's
description). Anything else in a request schema is an error rather than silently unchecked.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HEADER = '''"""Validation rules of the request bodies and query parameters of the jobs API.

Generated from openapi/jobs.yaml by openapi/gen_validation.py: do not edit, change the spec and
run `make generate`.
"""

'''
RUNTIME = Path(__file__).with_name("validation_runtime.py")
_HANDLED = {
    "type",
    "required",
    "default",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "enum",
    "additionalProperties",
    "propertyNames",
    "dependentRequired",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "properties",
    "$ref",
    "x-error",
    "x-error-standalone",
    "x-unique-by",
    "x-dialect",
    "description",
    "format",
}
_SCALARS = {"string": "String", "integer": "Integer", "number": "Number", "boolean": "Boolean"}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.components: dict[str, Any] = spec.get("components", {}).get("schemas", {})
        self.spec = spec
        self.classes: dict[str, str] = {}  # class name -> source, in dependency order
        self.factories: dict[str, str] = {}

    # ------------------------------------------------------------------ schema helpers

    def resolve(self, schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        ref = schema.get("$ref")
        if ref is None:
            return None, schema
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix) or len(schema) != 1:
            raise ValueError(f"unsupported $ref use: {schema}")
        name = ref[len(prefix) :]
        return name, self.components[name]

    def split_null(self, schema: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(nullable, the schema without its null alternative)."""
        types = schema.get("type")
        if isinstance(types, list):
            rest = [t for t in types if t != "null"]
            if len(rest) != 1:
                raise ValueError(f"unsupported type list: {types}")
            return "null" in types, {**schema, "type": rest[0]}
        for key in ("oneOf", "anyOf"):
            if key in schema:
                branches = schema[key]
                others: list[dict[str, Any]] = [b for b in branches if b != {"type": "null"}]
                if len(others) != 1 or len(branches) != 2:
                    raise ValueError(f"unsupported {key}: only X-or-null is")
                if set(schema) - {key, "description"}:
                    raise ValueError(f"{key} next to other keywords is not supported")
                return True, others[0]
        return False, schema

    def type_of(self, schema: dict[str, Any]) -> str:
        _, schema = self.resolve(schema)
        if "type" in schema:
            return str(schema["type"])
        for sub in schema.get("allOf", []):
            return self.type_of(sub)
        raise ValueError(f"no type in {schema}")

    def rules(self, schema: dict[str, Any]) -> Iterator[str]:
        """Validator expressions of a schema: allOf parts first, then its own keywords."""
        _, schema = self.resolve(schema)
        unknown = set(schema) - _HANDLED
        if unknown:
            raise ValueError(f"unsupported keywords {sorted(unknown)} in {schema}")
        for sub in schema.get("allOf", []):
            yield from self.rules(sub)
        error = schema.get("x-error")
        message = "" if error is None else f", error={error!r}"
        if schema.get("x-error-standalone"):
            message += ", standalone=True"
        low = schema.get("minLength", schema.get("minItems"))
        high = schema.get("maxLength", schema.get("maxItems"))
        if low is not None or high is not None:
            yield f"Length({low!r}, {high!r})"
        if "pattern" in schema:
            pattern = schema["pattern"]
            if not (pattern.startswith("^") and pattern.endswith("$")):
                # Whole-value patterns mean the same under JSON Schema's search semantics.
                raise ValueError(f"pattern {pattern!r} must be written ^...$")
            yield f"Pattern({pattern!r}{message})"
        bounds = [
            f"{arg}={schema[key]!r}"
            for key, arg in (
                ("minimum", "minimum"),
                ("maximum", "maximum"),
                ("exclusiveMinimum", "exclusive_minimum"),
                ("exclusiveMaximum", "exclusive_maximum"),
            )
            if key in schema
        ]
        if bounds:
            yield f"Range({', '.join(bounds)})"
        if "enum" in schema:
            yield f"OneOf({tuple(schema['enum'])!r}{message})"
        if "x-unique-by" in schema:
            yield f"UniqueBy({schema['x-unique-by']!r}{message})"

    # ------------------------------------------------------------------ fields

    def field(self, schema: dict[str, Any], owner: str, *, required: bool = False) -> str:
        """A field expression for `schema`; `owner` names inline object classes."""
        nullable, schema = self.split_null(schema)
        kwargs: list[str] = []
        if required:
            kwargs.append("required=True")
        if nullable:
            kwargs.append("allow_none=True")
        if "default" in schema:
            kwargs.append(f"load_default={schema['default']!r}")
        name, target = self.resolve(schema)
        if name is not None and target.get("type") in _SCALARS:
            return f"{self.factory(name)}({', '.join(kwargs)})"
        return self.build(schema, owner, kwargs)

    def build(self, schema: dict[str, Any], owner: str, kwargs: list[str]) -> str:
        name, target = self.resolve(schema)
        kind = self.type_of(schema)
        if kind == "object":
            cls = self.object_class(name or owner, target)
            return f"Nested({cls}{''.join(', ' + k for k in kwargs)})"
        rules = list(self.rules(schema))
        if rules:
            kwargs = [f"validate=[{', '.join(rules)}]", *kwargs]
        if kind == "array":
            items = self.field(target["items"], f"{owner}Item")
            return f"List({items}{''.join(', ' + k for k in kwargs)})"
        if kind not in _SCALARS:
            raise ValueError(f"unsupported type {kind}")
        return f"{_SCALARS[kind]}({', '.join(kwargs)})"

    def factory(self, name: str) -> str:
        func = _snake(name)
        if func not in self.factories:
            schema = self.components[name]
            self.factories[func] = ""  # reserve the name (and the order) first
            kind = _SCALARS[schema["type"]]
            doc = f'    """{name}: a fresh field (extra field arguments pass through)."""\n'
            self.factories[func] = (
                f"def {func}(**kwargs: Any) -> {kind}:\n{doc}"
                f"    return {self.build(schema, name, ['**kwargs'])}\n"
            )
        return func

    def object_class(self, name: str, schema: dict[str, Any], base: str = "Object") -> str:
        cls = _pascal(name)
        if cls in self.classes:
            return cls
        if "properties" not in schema:  # a map: string keys, one value schema
            values = schema.get("additionalProperties")
            if not isinstance(values, dict):
                raise ValueError(f"{name}: an object needs properties or a value schema")
            raise ValueError(f"{name}: a named map schema is not supported, inline it")
        self.classes[cls] = ""  # reserve (recursion and order)
        if schema.get("additionalProperties", True) is not False and base == "Object":
            raise ValueError(f"{name}: request objects must say additionalProperties: false")
        required = set(schema.get("required", []))
        lines = [f"class {cls}({base}):"]
        if "description" in schema:
            lines.append(f'    """{schema["description"].strip()}"""')
            lines.append("")
        dependent = schema.get("dependentRequired")
        if dependent:
            pairs = ", ".join(f"{k!r}: {tuple(v)!r}" for k, v in dependent.items())
            kind = "ClassVar[dict[str, tuple[str, ...]]]"
            lines.append(f"    dependent_required: {kind} = {{{pairs}}}")
        since = {
            prop: str(sub["x-dialect"])
            for prop, sub in schema["properties"].items()
            if isinstance(sub, dict) and "x-dialect" in sub
        }
        if since:
            pairs = ", ".join(f"{k!r}: {v!r}" for k, v in since.items())
            lines.append(f"    since_dialect: ClassVar[dict[str, str]] = {{{pairs}}}")
        for prop, sub in schema["properties"].items():
            if not prop.isidentifier() or keyword.iskeyword(prop):
                raise ValueError(f"{name}.{prop}: not an identifier")
            expr = self.map_field(sub, f"{cls}{_pascal(prop)}", prop in required)
            lines.append(f"    {prop} = {expr}")
        self.classes.pop(cls)
        self.classes[cls] = "\n".join(lines) + "\n"
        return cls

    def map_field(self, schema: dict[str, Any], owner: str, required: bool) -> str:
        _, target = self.resolve(self.split_null(schema)[1])
        if target.get("type") == "object" and "properties" not in target:
            nullable, _ = self.split_null(schema)
            keys = self.field(target.get("propertyNames", {"type": "string"}), f"{owner}Key")
            values = self.field(target["additionalProperties"], f"{owner}Value")
            kwargs = "".join(
                f", {k}=True" for k, on in (("required", required), ("allow_none", nullable)) if on
            )
            low, high = target.get("minProperties"), target.get("maxProperties")
            if low is not None or high is not None:
                kwargs += f", validate=[Size({low!r}, {high!r})]"
            return f"Dict(keys={keys}, values={values}{kwargs})"
        return self.field(schema, owner, required=required)

    # ------------------------------------------------------------------ operations

    def operations(self) -> None:
        for path_item in self.spec.get("paths", {}).values():
            for op in path_item.values():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                if body is not None:
                    name, schema = self.resolve(body["schema"])
                    self.object_class(name or f"{op['operationId']}_body", schema)
                query = [p for p in op.get("parameters", []) if p.get("in") == "query"]
                if query:
                    self.object_class(
                        f"{op['operationId']}_query",
                        {
                            "additionalProperties": False,
                            "description": f"Query parameters of {op['operationId']}.",
                            "required": [p["name"] for p in query if p.get("required")],
                            "properties": {p["name"]: _with_dialect(p) for p in query},
                        },
                        base="Query",
                    )

    def render(self) -> str:
        self.operations()
        runtime = RUNTIME.read_text()
        parts = [HEADER + runtime.rstrip() + "\n"]
        parts.append("# " + "-" * 75 + " from the spec\n")
        parts.extend(self.factories.values())
        parts.extend(self.classes.values())
        return "\n\n".join(parts)


def _with_dialect(parameter: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema, carrying the parameter's `x-dialect`."""
    schema: dict[str, Any] = parameter["schema"]
    if "x-dialect" not in parameter:
        return schema
    if "$ref" in schema:
        return {"allOf": [schema], "x-dialect": parameter["x-dialect"]}
    return {**schema, "x-dialect": parameter["x-dialect"]}


def generate(spec_path: Path, out_path: Path) -> None:
    spec = yaml.safe_load(spec_path.read_text())
    out_path.write_text(Generator(spec).render())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    generate(Path(sys.argv[1]), Path(sys.argv[2]))
