"""A job as a Kubernetes Pod manifest, built with the official `kubernetes` client's models
(the `kube` extra): what a Kubernetes runtime would submit, and what `podman kube play` runs
here (docs/cluster.md). No cluster is needed to render it.

The mapping is the podman runtime's (`podman_cli.run_argv`), in Pod terms: `entrypoint` is the
container's `command` (it replaces the image's ENTRYPOINT), `command` its `args`, both split
like a shell; the job's own variables only; `memory_mb` and `cpu` as equal requests and
limits (a Guaranteed pod, as a podman container's hard limits), `gpu` as `nvidia.com/gpu`;
`shm` as a memory-backed `/dev/shm`; volumes as host paths under the owner's storage.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .podman_cli import LABEL_JOB, LABEL_OWNER, bind_source, container_name, resolve_image
from .store import JobRecord

if TYPE_CHECKING:
    from kubernetes.client import V1Pod

__all__ = ["pod_manifest", "pod_yaml"]

CONTAINER = "job"


def pod_manifest(job: JobRecord, data_dir: Path) -> V1Pod:
    """The Pod of a job. Raises ValueError for an unsplittable command or a bad volume."""
    from kubernetes.client import (
        V1Container,
        V1EmptyDirVolumeSource,
        V1EnvVar,
        V1HostPathVolumeSource,
        V1ObjectMeta,
        V1Pod,
        V1PodSpec,
        V1ResourceRequirements,
        V1Volume,
        V1VolumeMount,
    )

    c = job.container
    r = c["resources"]
    try:
        command = shlex.split(c["entrypoint"]) if "entrypoint" in c else None
        args = shlex.split(c["command"]) if "command" in c else None
    except ValueError as err:
        raise ValueError(f"Cannot parse the command: {err}") from None
    amounts = {"memory": f"{int(r['memory_mb'])}Mi", "cpu": f"{float(r['cpu']):g}"}
    if r.get("gpu"):
        amounts["nvidia.com/gpu"] = str(int(r["gpu"]))
    volumes, mounts = [], []
    if r.get("shm"):
        volumes.append(
            V1Volume(
                name="shm",
                empty_dir=V1EmptyDirVolumeSource(medium="Memory", size_limit=amounts["memory"]),
            )
        )
        mounts.append(V1VolumeMount(name="shm", mount_path="/dev/shm"))  # noqa: S108 - in the pod
    for i, v in enumerate(c.get("volumes", [])):
        name = f"volume-{i}"
        src = bind_source(data_dir, job.owner, v)
        volumes.append(
            V1Volume(name=name, host_path=V1HostPathVolumeSource(path=str(src), type="Directory"))
        )
        mounts.append(
            V1VolumeMount(
                name=name, mount_path=v["dst_path"], read_only=bool(v.get("read_only", True))
            )
        )
    container = V1Container(
        name=CONTAINER,
        image=resolve_image(c["image"]),
        image_pull_policy="IfNotPresent",
        command=command,
        args=args,
        env=[V1EnvVar(name=k, value=v) for k, v in c.get("env", {}).items()] or None,
        resources=V1ResourceRequirements(limits=amounts, requests=dict(amounts)),
        volume_mounts=mounts or None,
    )
    return V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=V1ObjectMeta(
            name=container_name(job.id),
            labels={LABEL_JOB: job.id, LABEL_OWNER: job.owner},
        ),
        spec=V1PodSpec(
            containers=[container],
            restart_policy="Never",
            hostname=job.id,
            volumes=volumes or None,
            termination_grace_period_seconds=3,  # the podman runtime's stop timeout
        ),
    )


def pod_yaml(job: JobRecord, data_dir: Path) -> str:
    """The Pod manifest of a job as YAML (what `kubectl apply -f` and `podman kube play` read)."""
    import yaml
    from kubernetes.client import ApiClient

    client: Any = ApiClient()  # untyped: its plain-data form of a model, as the API server reads it
    data: dict[str, Any] = client.sanitize_for_serialization(pod_manifest(job, data_dir))
    return yaml.safe_dump(data, sort_keys=False)
