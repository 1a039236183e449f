"""The pure parts of the podman runtime: job record -> `podman run` argv, image names, stats.

No podman needed: these run in every `make unit`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local.files import NotBeneath, open_dir_beneath
from neuro_sync.local.podman_cli import (
    LABEL_JOB,
    LABEL_OWNER,
    Usage,
    bind_source,
    container_name,
    env_file_text,
    image_candidates,
    parse_duration,
    parse_size,
    parse_stats,
    resolve_image,
    run_argv,
)
from neuro_sync.local.podman_runtime import oom_killed_container
from neuro_sync.local.store import JobRecord

JOB_ID = "job-0b6c4a7e-7d0f-4a7a-9a52-2f5a3c1e9d11"


def job(**container: Any) -> JobRecord:
    c: dict[str, Any] = {
        "image": "ubuntu",
        "resources": {"cpu": 0.5, "memory_mb": 128},
        "env": {},
        "volumes": [],
    }
    c.update(container)
    return JobRecord(id=JOB_ID, owner="alice", container=c, created_at="2019-01-01T00:00:00+00:00")


def argv(record: JobRecord, tmp_path: Path) -> list[str]:
    return run_argv(
        record,
        image="docker.io/library/ubuntu:latest",
        data_dir=tmp_path,
        env_file=tmp_path / "env",
    )


def option(args: list[str], name: str) -> list[str]:
    """Every value given to option `name` before the image."""
    head = args[: args.index("--")]
    return [head[i + 1] for i, a in enumerate(head) if a == name]


def tail(args: list[str]) -> list[str]:
    """The image and what follows it."""
    return args[args.index("--") + 1 :]


def test_limits_labels_and_isolation(tmp_path: Path) -> None:
    args = argv(job(), tmp_path)
    assert args[0] == "run"
    assert option(args, "--name") == [container_name(JOB_ID)]
    assert option(args, "--label") == [f"{LABEL_JOB}={JOB_ID}", f"{LABEL_OWNER}=alice"]
    assert option(args, "--memory") == ["128m"]
    assert option(args, "--memory-swap") == ["128m"]
    assert option(args, "--cpus") == ["0.5"]
    assert option(args, "--network") == ["none"]
    assert option(args, "--pull") == ["never"]
    assert option(args, "--env-file") == [str(tmp_path / "env")]
    assert option(args, "--shm-size") == []
    assert option(args, "--entrypoint") == []
    assert tail(args) == ["docker.io/library/ubuntu:latest"]  # the image's own CMD


def test_shm_grows_to_the_memory_limit(tmp_path: Path) -> None:
    record = job(resources={"cpu": 1, "memory_mb": 300, "shm": True})
    assert option(argv(record, tmp_path), "--shm-size") == ["300m"]
    assert option(argv(record, tmp_path), "--cpus") == ["1"]


def test_command_replaces_cmd_only(tmp_path: Path) -> None:
    args = argv(job(command="sh -c 'echo \"a b\"; exit 3'"), tmp_path)
    assert option(args, "--entrypoint") == []
    assert tail(args)[1:] == ["sh", "-c", 'echo "a b"; exit 3']


def test_entrypoint_replaces_entrypoint_and_drops_cmd(tmp_path: Path) -> None:
    args = argv(job(entrypoint="python -u"), tmp_path)
    assert [json.loads(e) for e in option(args, "--entrypoint")] == [["python", "-u"]]
    assert tail(args) == ["docker.io/library/ubuntu:latest"]
    args = argv(job(entrypoint="python -u", command="-c 'print(1)'"), tmp_path)
    assert tail(args)[1:] == ["-c", "print(1)"]


def test_an_option_like_command_is_not_read_by_podman(tmp_path: Path) -> None:
    args = argv(job(command="--privileged"), tmp_path)
    assert "--privileged" not in args[: args.index("--")]
    assert tail(args)[1:] == ["--privileged"]


def test_unsplittable_command(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Cannot parse the command"):
        argv(job(command="echo 'unbalanced"), tmp_path)


def test_volumes_bind_storage_read_only_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "storage" / "alice" / "data").mkdir(parents=True)
    record = job(
        volumes=[
            {"src_storage_uri": "storage://alice/data", "dst_path": "/data", "read_only": True},
            {"src_storage_uri": "storage://alice", "dst_path": "/home", "read_only": False},
        ]
    )
    home = (tmp_path / "storage" / "alice").resolve()
    assert option(argv(record, tmp_path), "--mount") == [
        f"type=bind,src={home / 'data'},dst=/data,ro=true",
        f"type=bind,src={home},dst=/home,ro=false",
    ]


def test_bind_sources_stay_inside_the_owners_storage(tmp_path: Path) -> None:
    home = tmp_path / "storage" / "alice"
    home.mkdir(parents=True)

    def source(uri: str) -> Path:
        return bind_source(tmp_path, "alice", {"src_storage_uri": uri, "read_only": True})

    assert source("storage://alice/x/./y") == (home / "x" / "y").resolve()
    assert source("storage:") == home.resolve()
    (home / "escape").symlink_to("/etc")  # a job with a writable volume can plant this
    with pytest.raises(ValueError, match="Invalid path"):
        source("storage://alice/escape")
    with pytest.raises(ValueError, match="Invalid path"):
        source("storage://alice/escape/passwd")


@pytest.mark.parametrize(
    ("wire", "podman"),
    [
        ("ubuntu", "docker.io/library/ubuntu:latest"),
        ("python:3.11", "docker.io/library/python:3.11"),
        ("library/python:3.11-slim", "docker.io/library/python:3.11-slim"),
        ("registry.localhost/alice/img:v1", "registry.localhost/alice/img:v1"),
        ("registry.localhost/alice/img", "registry.localhost/alice/img:latest"),
        ("localhost:5000/img", "localhost:5000/img:latest"),
        ("localhost/img:1", "localhost/img:1"),
        ("quay.io/a/b@sha256:" + "0" * 64, "quay.io/a/b@sha256:" + "0" * 64),
    ],
)
def test_resolve_image(wire: str, podman: str) -> None:
    assert resolve_image(wire) == podman


def test_env_file() -> None:
    assert env_file_text({"A": "1", "B": " spaced = value "}) == "A=1\nB= spaced = value \n"
    with pytest.raises(ValueError, match="'MULTI'"):
        env_file_text({"MULTI": "a\nb"})


def test_sizes_and_durations() -> None:
    assert parse_size("708.6kB") == pytest.approx(708_600)
    assert parse_size("33.55MB") == pytest.approx(33_550_000)
    assert parse_size("2GiB") == 2 * 1024**3
    assert parse_size("0B") == 0
    assert parse_duration("35.238309ms") == pytest.approx(0.035238309)
    assert parse_duration("1m2.5s") == pytest.approx(62.5)
    assert parse_duration("1h0m0s") == 3600
    for bad_duration in ("", "12", "3 s", "1x"):
        with pytest.raises(ValueError):
            parse_duration(bad_duration)
    for bad_size in ("", "5 parsecs", "MB"):
        with pytest.raises(ValueError):
            parse_size(bad_size)


def test_parse_stats() -> None:
    row = {"cpu_time": "1.5s", "cpu_percent": "50.61%", "mem_usage": "708.6kB / 33.55MB"}
    assert parse_stats([row]) == pytest.approx((1.5, 0.5061, 708_600))
    assert parse_stats([]) is None
    assert parse_stats({"x": 1}) is None
    assert parse_stats([{"cpu_time": "??"}]) is None


def test_usage_samples_cpu_between_two_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))  # podman_cli's clock
    usage = Usage()
    assert usage.sample is None
    first = [{"cpu_time": "1s", "cpu_percent": "40%", "mem_usage": "2MiB / 64MiB"}]
    # As srun gives it: podman clears the (pseudo-)terminal first.
    usage.update(b"\x1b[2J\x1b[H" + json.dumps(first).encode())
    assert usage.sample is not None
    assert (usage.sample["cpu"], usage.sample["memory"]) == (pytest.approx(0.4), 2.0)
    second = [{"cpu_time": "2s", "cpu_percent": "40%", "mem_usage": "3MiB / 64MiB"}]
    usage.update(json.dumps(second).encode())  # 1 cpu second in 2 s: half a CPU, like `top`
    assert (usage.sample["cpu"], usage.sample["memory"]) == (pytest.approx(0.5), 3.0)
    usage.update(b"Error: no container")  # no sample: the last one stays
    assert usage.sample["memory"] == 3.0


def test_oom_kill_records_name_the_container() -> None:
    cid = "dffb112d29d8701c28855ff8c6454fcc8af9d744f144de708a1a254d50ad3a71"
    record = (
        b"6,1234,465438391,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
        b"cpuset=libpod-"
        + cid.encode()
        + b",mems_allowed=0,oom_memcg=/libpod_parent/libpod-"
        + cid.encode()
        + b",task_memcg=/libpod_parent/libpod-"
        + cid.encode()
        + b",task=sh\n"
    )
    assert oom_killed_container(record) == cid
    # Another cgroup's OOM kill (the host's, or a limit above the container) is not ours.
    assert oom_killed_container(b"6,1,2,-;oom-kill:constraint=CONSTRAINT_NONE,oom_memcg=/") is None
    assert oom_killed_container(b"6,1,2,-;Memory cgroup out of memory: Killed process 1") is None


def test_volumes_bind_the_given_sources(tmp_path: Path) -> None:
    record = job(
        volumes=[
            {"src_storage_uri": "storage://alice/a", "dst_path": "/a", "read_only": True},
            {"src_storage_uri": "storage://alice/b", "dst_path": "/b", "read_only": False},
        ]
    )
    pinned = [tmp_path / "mounts" / "0", tmp_path / "mounts" / "1"]
    args = run_argv(
        record, image="img", data_dir=tmp_path, env_file=tmp_path / "env", sources=pinned
    )
    assert option(args, "--mount") == [
        f"type=bind,src={pinned[0]},dst=/a,ro=true",
        f"type=bind,src={pinned[1]},dst=/b,ro=false",
    ]
    with pytest.raises(ValueError, match="one source per volume"):
        run_argv(record, image="img", data_dir=tmp_path, env_file=tmp_path, sources=pinned[:1])


@pytest.mark.parametrize(
    ("wire", "names"),
    [
        ("my-image:dev", ["localhost/my-image:dev", "docker.io/library/my-image:dev"]),
        ("team/img", ["localhost/team/img:latest", "docker.io/team/img:latest"]),
        ("registry.localhost/alice/img:v1", ["registry.localhost/alice/img:v1"]),
        ("localhost/img", ["localhost/img:latest"]),
    ],
)
def test_image_candidates(wire: str, names: list[str]) -> None:
    assert image_candidates(wire) == names


def test_the_walk_never_follows_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "link").symlink_to(outside)
    (root / "file").write_text("")
    for parts in (["a", "link"], ["a", "link", "new"], ["file"], ["file", "x"], [".."]):
        with pytest.raises(NotBeneath):
            open_dir_beneath(root, parts, create=True)
    assert list(outside.iterdir()) == []
    fd = open_dir_beneath(root, ["a", "b", "c"], create=True)
    try:
        (root / "a" / "b").rename(root / "moved")  # the descriptor follows the directory
        assert os.readlink(f"/proc/self/fd/{fd}") == str(root / "moved" / "c")
    finally:
        os.close(fd)
    with pytest.raises(FileNotFoundError):
        open_dir_beneath(root, ["missing"])
