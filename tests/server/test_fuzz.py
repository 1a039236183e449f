"""Property tests: malformed input never gets a 5xx, and schemathesis checks the platform
operations of `openapi/jobs.yaml` against the running server.

Generated jobs may really start. So that generated text never runs an existing program, a
command or entrypoint whose first word resolves on `PATH` is replaced with `true` (or the example
is discarded).
"""

from __future__ import annotations

import copy
import json
import shlex
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from neuro_sync.local import LocalPlatform

from .helpers import Api, unique_user

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "jobs.yaml"
PLATFORM_OPERATIONS = ["ping", "get_config", "create_job", "list_jobs", "get_job", "kill_job"]
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Keys the server knows, so that random objects often reach the deeper validators.
KEYS = st.sampled_from(
    [
        "container",
        "name",
        "description",
        "is_preemptible",
        "schedule_timeout",
        "image",
        "command",
        "entrypoint",
        "env",
        "resources",
        "http",
        "ssh",
        "volumes",
        "cpu",
        "memory_mb",
        "gpu",
        "gpu_model",
        "shm",
        "port",
        "health_check_path",
        "requires_auth",
        "src_storage_uri",
        "dst_path",
        "read_only",
    ]
) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**330)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", " ", "16", "0.1", "storage://u/x", "/data", "..", "nvidia-tesla-k80"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)

VALID_BODY: dict[str, Any] = {
    "name": "fuzzed",
    "description": "fuzz",
    "is_preemptible": False,
    "schedule_timeout": 1,
    "container": {
        "image": "ubuntu",
        "command": "true",
        "env": {"A": "1"},
        "resources": {"cpu": 0.1, "memory_mb": 16, "shm": True},
        "http": {"port": 80, "health_check_path": "/", "requires_auth": False},
        "ssh": {"port": 22},
        "volumes": [{"src_storage_uri": "storage://u/x", "dst_path": "/x", "read_only": True}],
    },
}


def runs_a_program(body: Any) -> bool:
    """Whether the job would start an existing program other than `true`."""
    if not isinstance(body, dict) or not isinstance(body.get("container"), dict):
        return False
    container = body["container"]
    words: list[str] = []
    for key in ("entrypoint", "command"):
        value = container.get(key)
        if isinstance(value, str):
            try:
                words += shlex.split(value)
            except ValueError:
                return False
    if not words or words[0] == "true":
        return False
    try:
        return shutil.which(words[0]) is not None
    except (ValueError, OSError):
        return False


def defang(body: Any) -> Any:
    if runs_a_program(body):
        body["container"]["command"] = "true"
        body["container"].pop("entrypoint", None)
    return body


def assert_well_formed(api: Api, status: int, body: bytes) -> None:
    """A 202 carries a job that renders everywhere; a 400 is `{"error": str}`."""
    assert status in (202, 400, 413), body[:500]
    if status == 400:
        error = json.loads(body)
        assert list(error) == ["error"] and isinstance(error["error"], str)
    elif status == 202:
        job = json.loads(body)
        assert job["status"] == "pending"
        assert api.get(f"/jobs/{job['id']}").status_code == 200
        assert api.delete(f"/jobs/{job['id']}").status_code == 204


@pytest.fixture(scope="module")
def fuzzer(platform: LocalPlatform) -> Api:
    user = unique_user()
    return Api(platform.url, platform.issue_token(user), user)


@FUZZ
@given(value=JSON_VALUES)
def test_random_json_bodies(fuzzer: Api, value: Any) -> None:
    assume(not runs_a_program(value))
    response = fuzzer.post(
        "/jobs", data=json.dumps(value).encode(), headers={"Content-Type": "application/json"}
    )
    assert_well_formed(fuzzer, response.status_code, response.content)


# Values at and around the validators' edges, tried more often than random ones.
EDGES: st.SearchStrategy[Any] = st.sampled_from(
    [
        0,
        -1,
        1,
        0.09,
        0.1,
        15,
        16,
        128,
        128.5,
        129,
        65535,
        65536,
        2592000,
        10**400,
        -(10**400),
        1e308,
        float("inf"),
        float("nan"),
        True,
        False,
        None,
        "",
        " ",
        "4096",
        "1e999",
        "\x00",
        "\ud800",
        "a=b",
        "..",
        "/../x",
        "storage:",
        "storage://u/../x",
        "file:///x",
        "x" * 41,
        "abc-",
        [],
        {},
    ]
)
VALUES = st.one_of(EDGES, SCALARS, JSON_VALUES)


def _slots(body: Any) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in the body: the places a mutation can hit."""
    slots: list[tuple[Any, Any]] = []
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        keys = sorted(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            slots.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
    return slots


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    body: Any = copy.deepcopy(VALID_BODY)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        slots = _slots(body)
        if action == "add" or not slots:
            nodes = [body] + [n[k] for n, k in slots if isinstance(n[k], dict | list)]
            node = draw(st.sampled_from(nodes))
            if isinstance(node, dict):
                node[draw(KEYS)] = draw(VALUES)
            else:
                node.append(draw(VALUES))
            continue
        node, key = draw(st.sampled_from(slots))
        if action == "delete":
            del node[key]
        else:
            node[key] = draw(VALUES)
    return body


@FUZZ
@given(body=mutated_bodies())
def test_mutated_valid_bodies(fuzzer: Api, body: Any) -> None:
    assume(not runs_a_program(body))
    response = fuzzer.post(
        "/jobs", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert_well_formed(fuzzer, response.status_code, response.content)


@st.composite
def bodies_with_one_bad_leaf(draw: st.DrawFn) -> Any:
    """A valid body with one scalar replaced: every validator sees every kind of value."""
    body: Any = copy.deepcopy(VALID_BODY)
    leaves = [(n, k) for n, k in _slots(body) if not isinstance(n[k], dict | list)]
    node, key = draw(st.sampled_from(leaves))
    node[key] = draw(st.one_of(EDGES, SCALARS))
    return body


@FUZZ
@given(body=bodies_with_one_bad_leaf())
def test_one_bad_leaf(fuzzer: Api, body: Any) -> None:
    assume(not runs_a_program(body))
    response = fuzzer.post(
        "/jobs", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert_well_formed(fuzzer, response.status_code, response.content)


@FUZZ
@given(
    query=st.lists(
        st.tuples(st.sampled_from(["status", "name", "owner", "hostname", "x"]), st.text()),
        max_size=4,
    )
)
def test_random_list_queries(fuzzer: Api, query: list[tuple[str, str]]) -> None:
    response = fuzzer.get("/jobs", params=query)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert list(body) == (["jobs"] if response.status_code == 200 else ["error"])


@FUZZ
@given(
    job_id=st.text(min_size=1),
    suffix=st.sampled_from(["", "/log", "/top", "/save"]),
    method=st.sampled_from(["GET", "DELETE", "POST"]),
)
def test_random_job_ids(fuzzer: Api, job_id: str, suffix: str, method: str) -> None:
    try:
        path = f"/jobs/{quote(job_id, safe='')}{suffix}"
    except UnicodeEncodeError:  # lone surrogates cannot even be sent
        assume(False)
        raise
    response = fuzzer.request(method, path)
    assert response.status_code in (400, 404, 405), response.text


def test_every_fuzzed_job_still_renders(fuzzer: Api) -> None:
    response = fuzzer.get("/jobs")
    assert response.status_code == 200


# ---------------------------------------------------------------------------- schemathesis


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_path(SPEC).include(operation_id=PLATFORM_OPERATIONS)


def test_schema_selects_the_platform_operations(schema: Any) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.definition.raw["operationId"] for op in operations) == sorted(
        PLATFORM_OPERATIONS
    )
    assert all(op.tags == ["platform"] for op in operations)


def _defang_case(case: Any) -> Any:
    case.body = defang(case.body)
    return case


# ping and get_config take no input that could be made invalid: positive mode only.
SCHEMATHESIS_RUNS = [(op, GenerationMode.POSITIVE) for op in PLATFORM_OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in PLATFORM_OPERATIONS if op not in ("ping", "get_config")
]


@pytest.mark.parametrize(
    ("operation_id", "mode"),
    SCHEMATHESIS_RUNS,
    ids=[f"{op}-{mode.value}" for op, mode in SCHEMATHESIS_RUNS],
)
def test_schemathesis(
    platform: LocalPlatform, schema: Any, operation_id: str, mode: GenerationMode
) -> None:
    (operation,) = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().definition.raw["operationId"] == operation_id
    ]
    user = unique_user()
    api = Api(platform.url, platform.issue_token(user), user)
    strategy = operation.as_strategy(generation_mode=mode)
    if operation_id in ("get_job", "kill_job"):
        # Also hit real jobs of this user, so that 200/204 replies are checked too.
        real = [api.create({"container": _small("true")})["id"] for _ in range(3)]
        strategy = strategy | st.sampled_from(real).flatmap(
            lambda job_id: operation.as_strategy(
                generation_mode=mode, path_parameters={"job_id": job_id}
            )
        )
    strategy = strategy.map(_defang_case)
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    if mode is GenerationMode.POSITIVE:
        checks.append(status_code_conformance)
    statuses: set[int] = set()

    @settings(
        max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call_and_validate(
            base_url=platform.url, headers=api.auth, checks=checks, timeout=30
        )
        statuses.add(response.status_code)

    run()
    assert not any(status >= 500 for status in statuses)
    if mode is GenerationMode.POSITIVE:
        expected = {
            "ping": 200,
            "get_config": 200,
            "create_job": 202,
            "list_jobs": 200,
            "get_job": 200,
            "kill_job": 204,
        }[operation_id]
        assert expected in statuses, statuses


def _small(command: str) -> dict[str, Any]:
    return {"image": "ubuntu", "command": command, "resources": {"cpu": 0.1, "memory_mb": 16}}
