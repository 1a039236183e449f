"""Image names at submission (issue 19, items 3 and 4), on the process runtime; the podman
runtime answers the same (tests/containers/test_podman_security.py).

Only registry references name an image: a podman transport or store spec would make a
container runtime read an image from the host. A saved image is its owner's.
"""

from __future__ import annotations

import pytest

from .helpers import Api, job_body

REFUSED = [
    "docker-archive:/tmp/image.tar",
    "oci-archive:/tmp/image.tar",
    "oci:/tmp/layout",
    "dir:/etc",
    "containers-storage:[overlay@/var/lib/containers/storage]busybox",
    "containers-storage:busybox",
    "docker-daemon:ubuntu",
    "docker-daemon:ubuntu:latest",
    "docker://ubuntu",
    "[overlay@/var/lib/containers/storage]busybox",
    "--privileged",
    "-v=/:/host",
    "ubuntu --privileged",
    "Ubuntu",
]
ACCEPTED = [
    "ubuntu",
    "python:3.11-slim",
    "docker:dind",  # Docker Hub's `docker` image, not the `docker://` transport
    "library/ubuntu:22.04",
    "quay.io/org/name:v1",
    "localhost:5000/team/img:1",
    "quay.io/org/name@sha256:" + "a" * 64,
]


@pytest.mark.parametrize("image", REFUSED)
def test_a_transport_or_store_is_not_an_image(fresh: Api, image: str) -> None:
    body = job_body()
    body["container"]["image"] = image
    response = fresh.post("/jobs", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "container.image" in error
    assert "is not an image reference" in error
    assert fresh.jobs() == []


@pytest.mark.parametrize("image", ACCEPTED)
def test_registry_references_are_accepted(fresh: Api, image: str) -> None:
    body = job_body()
    body["container"]["image"] = image
    job = fresh.create(body)
    assert job["container"]["image"] == image
    fresh.wait(job["id"])


def test_a_saved_image_runs_only_for_its_owner(fresh: Api, other: Api) -> None:
    registry = fresh.get("/config").json()["registry_url"].split("://", 1)[1]
    body = job_body()
    body["container"]["image"] = f"{registry}/{fresh.user}/saved:v1"
    response = other.post("/jobs", json=body)
    assert response.status_code == 403, response.text
    assert response.json() == {
        "resources": [{"uri": f"image://{fresh.user}/saved:v1", "action": "read"}]
    }
    assert other.jobs() == []
    fresh.wait(fresh.create(body)["id"])  # the owner's own: accepted
