"""Run by the Ctrl-C tests as a subprocess: block in one module-level call on a job.

    python blocked.py wait|wait-deadline|logs|monitor|top|exec JOB_ID

Uses the default client (NEUROMATION_CONFIG names the platform). Prints `ready` (and, for the
streams, every item) so that the test knows when the call is blocked; a KeyboardInterrupt is
left uncaught, so the process ends the way Python ends on Ctrl-C.
"""

from __future__ import annotations

import sys

import neuro_sync


def main(mode: str, job_id: str) -> None:
    print("ready", flush=True)
    if mode == "wait":
        neuro_sync.wait(job_id)
    elif mode == "wait-deadline":  # status calls in a helper thread, the main one waiting
        neuro_sync.wait(job_id, timeout=600)
    elif mode == "logs":
        for line in neuro_sync.logs(job_id):
            print(line, flush=True)
    elif mode == "monitor":
        with neuro_sync.default_client().jobs.monitor(job_id, timeout=(5, None)) as log:
            for chunk in log:
                print(chunk.decode(errors="replace"), flush=True)
    elif mode == "top":
        with neuro_sync.top(job_id) as samples:
            for _ in samples:
                print("sample", flush=True)
    elif mode == "exec":
        neuro_sync.exec(job_id, ["sleep", "600"], no_key_check=True)
    print("returned", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
