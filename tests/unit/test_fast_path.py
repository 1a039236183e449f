"""The compiled decoder of job replies (`neuro_sync_api.structs`) against the readers.

A valid reply is read by the Structs generated from the spec; a reply they refuse is read
again by the generated readers, whose errors name the field. For that to change nothing, the
Structs must accept only what the readers accept, and hand the target the same values: these
tests check both, on real-shaped jobs of both dialects and on random mutations of them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from neuro_sync_api import readers, structs

from benchmarks.stub_server import make_jobs
from neuro_sync import _mapping
from neuro_sync._joblist import array_items
from tests.support.strategies import fuzz_settings, mutated
from tests.support.wire import REGISTRY, USER, make_job

from .test_mapping import MALFORMED_JOBS
from .test_reply_guards import _job_2022


def _job_2022_whole() -> dict[str, Any]:
    """A 2022 job (`scheduler_enabled` and `memory` in place of `is_preemptible` and
    `memory_mb`: `x-or` in the spec) with every 2022 property, those the client drops too."""
    wire = _job_2022(scheduler_enabled=True, status="cancelled", tags=["a", "b"])
    wire.update(max_run_time_minutes=3, restart_policy="on-failure", preset_name="cpu-small")
    wire.update(pass_config=True, uri="job://default/alice/job-1", total_price_credits="1.5")
    wire["statuses"] = [
        {"status": "pending", "transition_time": "2019-08-01T10:00:00+00:00"},
        {"status": "cancelled", "transition_time": "2019-08-01T10:00:02", "exit_code": 137},
    ]
    wire["history"].update(restarts=2, run_time_seconds=12.5)
    wire["container"].update(working_dir="/w", tty=True)
    return wire


DOCUMENTS: list[dict[str, Any]] = [
    make_job(),
    make_job(status="running"),
    _job_2022_whole(),
    *make_jobs(40, user=USER, shape="varied"),
    *make_jobs(3, user=USER, shape="full"),
    *make_jobs(3, user=USER, shape="minimal"),
]


def _ctx() -> _mapping.ReplyContext:
    return _mapping.ReplyContext(REGISTRY, USER)


def _careful(doc: Any) -> Any:
    """What the readers make of `doc` (on a copy: they fill lists in place), or the error."""
    try:
        return readers.read_job(copy.deepcopy(doc), _ctx())
    except _mapping.MALFORMED as err:
        return err


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[d["id"] for d in DOCUMENTS])
def test_a_valid_job_is_read_by_the_decoder_as_by_the_readers(doc: dict[str, Any]) -> None:
    fast = _mapping.fast_job(json.dumps(doc).encode(), _ctx())
    assert fast is not None  # the fast path is taken: a fallback would hide a broken one
    assert fast == _careful(doc)


def test_a_valid_list_is_read_by_the_decoder_as_item_by_item() -> None:
    body = json.dumps({"jobs": DOCUMENTS, "next": None}).encode()
    fast = _mapping.fast_jobs(body, _ctx())
    ctx = _ctx()
    careful = [_mapping.map_job(item, ctx) for item in array_items((body,))]
    assert fast is not None
    assert fast == careful
    # each job's own env dict and volumes list, as the readers give them
    assert fast[3].container.env is not fast[4].container.env
    assert len({id(job.container.volumes) for job in fast}) == len(fast)


@pytest.mark.parametrize(
    "wire", [case[1] for case in MALFORMED_JOBS], ids=[case[0] for case in MALFORMED_JOBS]
)
def test_every_malformed_job_is_refused_by_the_decoder(wire: Any) -> None:
    """Refused, so the readers read it again and raise the error that names the field."""
    assert _mapping.fast_job(json.dumps(wire).encode(), _ctx()) is None


@pytest.mark.parametrize(
    "body",
    [b'{"jobs": [], "x": 1} tail', b'{"jobs": [NaN]}', b"\xff", b'{"jobs": {}}', b"[]"],
)
def test_a_list_body_the_decoder_refuses_goes_to_the_readers(body: bytes) -> None:
    assert _mapping.fast_jobs(body, _ctx()) is None


@fuzz_settings(300)
@given(doc=mutated(DOCUMENTS[:3] + DOCUMENTS[3:9]))
def test_what_the_decoder_accepts_the_readers_accept_alike(doc: Any) -> None:
    fast = _mapping.fast_job(json.dumps(doc).encode(), _ctx())
    if fast is not None:
        assert fast == _careful(doc)


def test_the_structs_are_generated_from_the_same_schemas_as_the_readers() -> None:
    """One schema: each object schema the readers read has a Struct of the same properties."""
    for name in ("Job", "JobHistory", "ContainerResponse", "ResourcesResponse", "VolumeResponse"):
        struct = getattr(structs, name)
        method = getattr(readers.Target, _snake(name))
        names = method.__code__.co_varnames[1 : method.__code__.co_argcount]
        assert tuple(struct.__struct_fields__) == names, name


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
