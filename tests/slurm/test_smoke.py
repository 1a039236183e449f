from __future__ import annotations

import pytest

import neuro_sync
from neuro_sync import Container, RemoteImage, Resources

pytestmark = [pytest.mark.slurm, pytest.mark.integration]


def test_hello(client: neuro_sync.Client) -> None:
    job = client.jobs.run(Container(RemoteImage("busybox"), Resources(memory_mb=128, cpu=0.5), command="sh -c 'echo hi $SLURM_JOB_ID; hostname; exit 3'"))
    done = client.jobs.wait(job.id, timeout=60)
    print(done)
    with client.jobs.logs(job.id) as lines:
        print(list(lines))
    assert done.history.exit_code == 3
