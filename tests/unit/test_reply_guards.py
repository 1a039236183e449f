"""Guards of the fast reply mapping: constructors, wire field names, bounded caches."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from typing import Any

import attrs
import pytest
import responses
from neuro_sync_api import readers
from neuro_sync_api.models import (
    ContainerResponse,
    HTTPResponse,
    Job,
    JobHistory,
    ResourcesResponse,
    VolumeResponse,
)
from yarl import URL

import neuro_sync
from neuro_sync import (
    Container,
    HTTPPort,
    JobDescription,
    JobRestartPolicy,
    JobStatus,
    JobStatusHistory,
    RemoteImage,
    Resources,
    ResponseValidationError,
    Volume,
    _mapping,
)
from neuro_sync._mapping import CACHE_SIZE, ReplyContext, _draft
from neuro_sync.parsing import parse_remote_image

from .conftest import BASE, USER, make_job

# --------------------------------------------------------------------------- drafts

SAMPLES: dict[type, dict[str, Any]] = {
    JobDescription: {
        "id": "job-1",
        "owner": "alice",
        "status": JobStatus.RUNNING,
        "history": None,
        "container": None,
        "is_preemptible": True,
        "name": "n",
        "description": "d",
        "http_url": URL("http://a"),
        "ssh_server": URL("ssh://b"),
        "internal_hostname": "h",
        "tags": ("a", "b"),
        "life_span": 600.0,
        "restart_policy": JobRestartPolicy.ALWAYS,
        "preset_name": "cpu-small",
        "pass_config": True,
        "privileged": False,
    },
    JobStatusHistory: {
        "status": JobStatus.FAILED,
        "reason": "r",
        "description": "d",
        "created_at": None,
        "started_at": None,
        "finished_at": None,
        "exit_code": 3,
        "restarts": 2,
        "run_time_seconds": 1.5,
        "transitions": (),
    },
    Container: {
        "image": RemoteImage("ubuntu"),
        "resources": Resources(16, 0.1),
        "entrypoint": "e",
        "command": "c",
        "http": HTTPPort(80),
        "env": {"A": "1"},
        "volumes": [],
        "working_dir": "/w",
        "tty": True,
    },
    Volume: {"storage_path": "storage://a", "container_path": "/a", "read_only": False},
}


def _built(cls: type, fields: dict[str, Any]) -> Any:
    obj: Any = _draft(cls)()
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.__class__ = cls
    return obj


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_a_filled_draft_is_what_the_dataclass_builds(cls: type) -> None:
    fields = SAMPLES[cls]
    assert {f.name for f in dataclasses.fields(cls)} == set(fields)  # every field sampled
    fast = _built(cls, fields)
    slow = cls(**fields)
    assert type(fast) is cls
    assert fast == slow and repr(fast) == repr(slow)
    if cls is not Container:  # its env dict makes it unhashable either way
        assert hash(fast) == hash(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(cls)[0].name, "x")  # still frozen


def test_a_draft_follows_names_not_positions() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Reordered:
        b: int
        a: int

    built: Any = _draft(Reordered)()
    built.a, built.b = 1, 2
    built.__class__ = Reordered
    assert built == Reordered(b=2, a=1)


def test_a_draft_refuses_what_it_would_break() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise ValueError

    for cls in (NoSlots, Checked):
        with pytest.raises(RuntimeError, match=cls.__name__):
            _draft(cls)

    @dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
    class Weak:  # another layout than a twin of its slots: refused at import, not later
        a: int

    with pytest.raises(TypeError):
        _draft(Weak)


@pytest.mark.parametrize("dialect", ["2019", "2022"])
def test_a_mapped_job_has_every_field_set(dialect: str) -> None:
    """The drafts take their slots from the dataclasses; a field added to one and forgotten
    by the mapping stays unset, which this test notices."""
    wire = _full_job() if dialect == "2019" else _job_2022(scheduler_enabled=True)
    job = _mapping.job_from_json(wire, ReplyContext("registry-dev.neu.ro", USER))
    # asdict reads every field of every nested dataclass: an unset slot raises here.
    assert dataclasses.asdict(job)["container"]["volumes"][0]["read_only"] is True


# --------------------------------------------------------------------------- wire names

# Where each generated reply model sits in a job object, to check `_mapping`'s field names
# against the schema: a field the schema requires must be required, an optional one not.
MODEL_PATHS: list[tuple[type, str]] = [
    (Job, ""),
    (JobHistory, "history"),
    (ContainerResponse, "container"),
    (ResourcesResponse, "container.resources"),
    (HTTPResponse, "container.http"),
    (VolumeResponse, "container.volumes.0"),
]


def _full_job() -> dict[str, Any]:
    """A job with every optional field the 2019 server sends."""
    return make_job(
        status="failed",
        exit_code=1,
        reason="Error",
        status_description="d",
        http_port=80,
        name="web",
        description="d",
        env={"A": "1"},
        volumes=[{"src_storage_uri": "storage://alice/a", "dst_path": "/a", "read_only": True}],
        gpu=1,
        gpu_model="m",
        shm=True,
        entrypoint="sh",
        schedule_timeout=5.0,
    )


def _node(job: dict[str, Any], path: str) -> Any:
    node: Any = job
    for key in filter(None, path.split(".")):
        node = node[int(key)] if key.isdigit() else node[key]
    return node


CASES = [
    (model, path, f.name, f.default is attrs.NOTHING)
    for model, path in MODEL_PATHS
    for f in attrs.fields(model)
    if f.name != "additional_properties"
]


@pytest.mark.parametrize(
    ("model", "path", "field", "required"),
    CASES,
    ids=[f"{m.__name__}.{f}" for m, _, f, _ in CASES],
)
def test_required_fields_follow_the_schema(
    model: type, path: str, field: str, required: bool
) -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    job = _full_job()
    _node(job, path).pop(field, None)
    if required:
        with pytest.raises(ResponseValidationError, match=f"missing field '{field}'"):
            _mapping.job_from_json(job, ctx)
    else:
        assert _mapping.job_from_json(job, ctx).id == job["id"]


def _job_2022(**keys: Any) -> dict[str, Any]:
    """A job as a 2022 server (neuro-sdk 22.7.1's) replies: `scheduler_enabled` and
    `preemptible_node` instead of `is_preemptible`, `memory` in bytes instead of `memory_mb`."""
    job = _full_job()
    del job["is_preemptible"]
    resources = job["container"]["resources"]
    resources["memory"] = resources.pop("memory_mb") * 2**20
    job.update(keys)
    return job


@pytest.mark.parametrize("scheduler", [True, False])
def test_a_2022_job_reads_is_preemptible_from_scheduler_enabled(scheduler: bool) -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    job = _job_2022(scheduler_enabled=scheduler, preemptible_node=False)
    assert _mapping.job_from_json(job, ctx).is_preemptible is scheduler


def test_a_2022_job_derives_memory_mb_from_memory_bytes() -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    job = _job_2022(scheduler_enabled=False)
    job["container"]["resources"]["memory"] = 3 * 2**30 + 5  # not a whole MiB: rounded down
    assert _mapping.job_from_json(job, ctx).container.resources.memory_mb == 3072


def test_the_2019_keys_win_when_a_server_sends_both() -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    job = _full_job()
    job.update(is_preemptible=False, scheduler_enabled=True)
    job["container"]["resources"].update(memory_mb=64, memory=128 * 2**20)
    parsed = _mapping.job_from_json(job, ctx)
    assert parsed.is_preemptible is False and parsed.container.resources.memory_mb == 64


@pytest.mark.parametrize(
    ("drop", "field"),
    [("scheduler_enabled", "is_preemptible"), ("memory", "memory_mb")],
)
def test_a_job_with_neither_key_is_still_refused(drop: str, field: str) -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    job = _job_2022(scheduler_enabled=False)
    job.pop(drop, None)
    job["container"]["resources"].pop(drop, None)
    with pytest.raises(ResponseValidationError, match=f"missing field '{field}'"):
        _mapping.job_from_json(job, ctx)


def test_a_2022_memory_of_the_wrong_type_names_the_field() -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    job = _job_2022(scheduler_enabled=False)
    job["container"]["resources"]["memory"] = [1]
    with pytest.raises(ResponseValidationError, match="container.resources.memory"):
        _mapping.job_from_json(job, ctx)


# --------------------------------------------------------------------------- bounded caches


def test_caches_stay_bounded_and_correct() -> None:
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    for i in range(3 * CACHE_SIZE):
        image = f"registry-dev.neu.ro/{USER}/img-{i}:v{i}"
        expected = parse_remote_image(image, registry_host="registry-dev.neu.ro", username=USER)
        assert ctx.image(image) == expected
        assert ctx.url(f"http://job-{i}.jobs") == URL(f"http://job-{i}.jobs")
        assert len(ctx.images) <= CACHE_SIZE and len(ctx.urls) <= CACHE_SIZE
    assert ctx.image(f"registry-dev.neu.ro/{USER}/img-0:v0").tag == "v0"  # evicted, re-parsed


def test_a_long_polling_client_keeps_its_caches_bounded(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    count = 2 * CACHE_SIZE + 5
    wire = [
        make_job(id=f"job-{i}", image=f"img-{i}", memory_mb=16 + i, http_port=80)
        for i in range(count)
    ]
    mocked.get(f"{BASE}/jobs", json={"jobs": wire})
    jobs = client.jobs.list()
    assert [j.container.image.name for j in jobs] == [f"img-{i}" for i in range(count)]
    assert [j.container.resources.memory_mb for j in jobs] == [16 + i for i in range(count)]
    assert [j.http_url.host for j in jobs] == [f"job-{i}.jobs-dev.neu.ro" for i in range(count)]
    ctx = client.jobs._ops._context()
    assert max(len(ctx.images), len(ctx.urls), len(ctx.resources)) <= CACHE_SIZE


def test_a_big_list_reads_each_distinct_value_once(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    """More distinct values than CACHE_SIZE in one list: each is still read once for the whole
    reply (the jobs keep them all anyway), not again each time a shared cache starts over."""
    period = CACHE_SIZE + 3
    count = 2 * period + 5
    wire = [
        make_job(id=f"job-{i}", image=f"img-{i % period}", memory_mb=16 + i % period)
        for i in range(count)
    ]
    mocked.get(f"{BASE}/jobs", json={"jobs": wire})
    jobs = client.jobs.list()
    for i in range(count - period):
        first, again = jobs[i].container, jobs[i + period].container
        assert first.resources is again.resources and first.image is again.image
    ctx = client.jobs._ops._context()
    assert max(len(ctx.images), len(ctx.urls), len(ctx.resources)) <= CACHE_SIZE


def test_resources_cache_keeps_types_apart() -> None:
    ctx = ReplyContext("r", USER)
    ok = make_job(gpu=1, shm=True)
    _mapping.job_from_json(ok, ctx)
    bad = make_job(gpu=1, shm=1)  # type: ignore[arg-type]  # 1 == True, but not a boolean
    with pytest.raises(ResponseValidationError, match="container.resources.shm is not a boolean"):
        _mapping.job_from_json(bad, ctx)


# --------------------------------------------------------------------------- generated readers


@pytest.mark.parametrize(
    "method", [m for m in vars(readers.Target) if not m.startswith("_")], ids=str
)
def test_the_reply_context_takes_what_the_readers_hand_over(method: str) -> None:
    """The readers call the target positionally, in the spec's order: the parameter names of
    each method must be the spec's (mypy checks the count and the types, not the names)."""
    spec = list(inspect.signature(getattr(readers.Target, method)).parameters)
    ours = list(inspect.signature(getattr(ReplyContext, method)).parameters)
    assert ours == spec


def test_a_mapped_job_owns_its_env_and_volumes_and_pickles() -> None:
    """`env` and `volumes` stay a plain dict and list (the 2019 types; picklable), and each
    job of a reply has its own: changing one job's changes no other."""
    ctx = ReplyContext("registry-dev.neu.ro", USER)
    first, second = (_mapping.job_from_json(_full_job(), ctx) for _ in range(2))
    assert type(first.container.env) is dict and type(first.container.volumes) is list
    first.container.env["B"] = "2"
    assert second.container.env == {"A": "1"}
    assert first.container.env is not second.container.env
    assert first.container.volumes is not second.container.volumes
    assert pickle.loads(pickle.dumps(second))  # noqa: S301 - our own bytes == second
    assert dataclasses.replace(second, name="other").container == second.container
