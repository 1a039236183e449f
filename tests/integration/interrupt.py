"""Ctrl-C for real: a subprocess blocked in a call on a live job gets SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from neuro_sync.local import LocalPlatform

BLOCKED = Path(__file__).with_name("blocked.py")
# A hang guard, not a speed expectation: the brief allows "a second or two", a blocked read
# that waits for data would take the job's 600 s.
PROMPT = 5.0


def interrupt_blocked_call(platform: LocalPlatform, mode: str, job_id: str, marker: str) -> str:
    """Start `blocked.py mode job_id`, wait for the `marker` line, give the call a moment to
    block, send SIGINT; assert that it ends by KeyboardInterrupt promptly. Returns stderr."""
    env = {**os.environ, "NEUROMATION_CONFIG": str(platform.config_path)}
    for var in ("NEURO_SYNC_URL", "NEURO_SYNC_TOKEN"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, str(BLOCKED), mode, job_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line.rstrip("\n"))
            if line.rstrip("\n") == marker:
                break
        assert marker in seen, (seen, proc.stderr.read() if proc.stderr else "")
        time.sleep(1.0)  # into the blocking read / sleep / process wait
        assert proc.poll() is None, "the call returned by itself"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=PROMPT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "returned" not in out
    assert "KeyboardInterrupt" in err, err
    # An uncaught KeyboardInterrupt ends CPython by SIGINT itself.
    assert proc.returncode == -signal.SIGINT, (proc.returncode, err)
    return err
