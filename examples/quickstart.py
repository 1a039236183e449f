"""neuro-sync quickstart: a real job on a platform, end to end, blocking calls only.

Run against the local platform with `make demo`, or against any 2019-protocol platform with
NEURO_SYNC_URL / NEURO_SYNC_TOKEN (or a ~/.nmrc) set:  python examples/quickstart.py
"""

from __future__ import annotations

import sys
import time

import neuro_sync
from neuro_sync import Container, JobStatus, RemoteImage, Resources


def main() -> int:
    with neuro_sync.get() as client:
        print(f"connected to {client.url} as {client.username!r}")
        resources = Resources(memory_mb=64, cpu=0.1)

        # 1. Run a short job, wait for it, read its log.
        job = client.jobs.run(
            Container(
                image=RemoteImage("busybox"),
                resources=resources,
                command="sh -c 'echo hello from $GREETING; i=1; while [ $i -le 3 ]; do "
                "echo step $i; i=$((i+1)); sleep 0.2; done'",
                env={"GREETING": "neuro-sync"},
            ),
            name=f"quickstart-{int(time.time())}",
            description="neuro-sync quickstart",
        )
        print(f"submitted {job.id} (name {job.name!r}), status {job.status}")
        with client.jobs.monitor(job.id) as log:
            pending = b""
            for chunk in log:  # bytes, as they arrive; print whole lines
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    print("  log |", line.decode(errors="replace"))
            if pending:
                print("  log |", pending.decode(errors="replace"))
        done = client.jobs.wait(job.id, timeout=60)
        print(f"{done.id} finished: {done.status}, exit code {done.history.exit_code}")
        if done.status is not JobStatus.SUCCEEDED:
            print("unexpected final status", file=sys.stderr)
            return 1

        # 2. A failing job reports its exit code and the log tail.
        failing = client.jobs.run(
            Container(
                image=RemoteImage("busybox"),
                resources=resources,
                command="sh -c 'echo something went wrong >&2; exit 3'",
            )
        )
        failed = client.jobs.wait(failing.id, timeout=60)
        print(
            f"{failed.id}: {failed.status} ({failed.history.reason}), "
            f"exit code {failed.history.exit_code}, "
            f"description {failed.history.description.strip()!r}"
        )

        # 3. A long job: watch its telemetry for a few seconds, then kill it.
        long_job = client.jobs.run(
            Container(
                image=RemoteImage("busybox"),
                resources=resources,
                command="sh -c 'while true; do sleep 0.1; done'",
            )
        )
        client.jobs.wait(long_job.id, statuses={JobStatus.RUNNING}, timeout=30)
        with client.jobs.top(long_job.id) as top:
            for i, sample in enumerate(top):
                print(f"  top | cpu {sample.cpu:.2f} memory {sample.memory:.1f} MB")
                if i == 2:
                    break
        client.jobs.kill(long_job.id)
        killed = client.jobs.wait(long_job.id, timeout=30)
        print(f"{killed.id} killed: {killed.status}")

        # 4. List with filters.
        running = client.jobs.list(statuses={JobStatus.RUNNING})
        finished = client.jobs.list(statuses={JobStatus.SUCCEEDED, JobStatus.FAILED})
        named = client.jobs.list(name=job.name)
        print(f"{len(running)} running, {len(finished)} finished, {len(named)} named {job.name!r}")
        if [j.id for j in named] != [job.id]:
            print("the name filter did not find the job", file=sys.stderr)
            return 1

        # 5. Errors are typed: an unknown job is JobNotFound (the server answers 400).
        try:
            client.jobs.status("job-00000000-0000-0000-0000-000000000000")
        except neuro_sync.JobNotFound as err:
            print(f"as expected: {type(err).__name__}: {err}")
    print("demo finished OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
