"""Hypothesis strategies shared by the unit and reliability property tests."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from neuro_sync import ResponseValidationError


def fuzz_settings(max_examples: int) -> settings:
    """No deadline (a loaded CI machine), fixtures shared across examples on purpose."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)  # json.dumps would write NaN, which is not JSON
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "",
            "pending",
            "running",
            "cancelled",
            "2019-08-16T10:11:12+00:00",
            "2019-13-45T99:00:00",
            "ubuntu:",
            "image://alice/x",
            "registry-dev.neu.ro/alice/img:1",
            "storage://alice/data",
            "http://",
            "ssh://",
            "::",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
"""Any JSON value, with strings the client gives meaning to."""


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON document, the empty one (the whole document) first."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


MUTATIONS = ("delete", "replace", "retype", "stringify", "extra")


def mutate(doc: Any, path: tuple[Any, ...], kind: str, new: Any) -> Any:
    """`doc` with the value at `path` changed by `kind` (one of MUTATIONS); `new` as needed."""
    if not path:
        return new if kind != "delete" else {}
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if kind == "delete":
        del parent[last]
    elif kind == "replace":
        parent[last] = new
    elif kind == "retype":  # the same value in another JSON type
        old = parent[last]
        parent[last] = [old] if not isinstance(old, list) else {"x": old}
    elif kind == "stringify":
        parent[last] = json.dumps(parent[last])
    elif kind == "extra" and isinstance(parent[last], dict):
        parent[last]["unexpected-" + str(len(parent[last]))] = new
    return doc


def mutated(documents: Sequence[Any], *, most: int = 4) -> st.SearchStrategy[Any]:
    """One of `documents` with 1 to `most` random mutations (keys dropped, values replaced by
    random JSON or retyped or turned into strings, extra keys)."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        doc = copy.deepcopy(draw(st.sampled_from(list(documents))))
        for _ in range(draw(st.integers(1, most))):
            path = draw(st.sampled_from(list(paths(doc))))
            doc = mutate(doc, path, draw(st.sampled_from(MUTATIONS)), draw(JSON))
            if not isinstance(doc, dict | list):
                break
        return doc

    return build()


def outcome(call: Callable[[], Any]) -> Any:
    """The result of `call`, or None when it raised `ResponseValidationError` (and only that)."""
    try:
        return call()
    except ResponseValidationError:
        return None
