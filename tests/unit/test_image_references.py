"""The client refuses a job whose image is not a registry reference (issue 19, item 3) before
sending anything: the rule is the spec's `ImageReference`, shared with the local platform."""

from __future__ import annotations

import pytest
import responses

import neuro_sync
from neuro_sync import Container, RemoteImage, Resources, ValidationError

from .conftest import BASE, TOKEN


@pytest.mark.parametrize(
    "name",
    ["docker-archive:/tmp/image.tar", "dir:/etc", "oci-archive:/x.tar", "[vfs@/srv]img", "-v"],
)
def test_a_transport_is_refused_before_any_request(
    mocked: responses.RequestsMock, name: str
) -> None:
    with neuro_sync.Client(BASE, TOKEN) as client:
        container = Container(
            image=RemoteImage(name), resources=Resources(memory_mb=16, cpu=0.1), command="true"
        )
        with pytest.raises(ValidationError, match="is not an image reference") as info:
            client.jobs.run(container)
    assert info.value.field == "container.image"
    assert len(mocked.calls) == 0
