"""The token never reaches the ssh command line; the JSON command survives ssh_config."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import neuro_sync
from neuro_sync import JobDescription
from neuro_sync._ssh import _remote_command
from neuro_sync.local import LocalPlatform

from .helpers import GUARD


@dataclass
class SshCall:
    argv: list[str]
    config: str
    config_path: Path
    config_mode: int


@pytest.fixture
def ssh_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SshCall]]:
    """Records every `ssh` started through `subprocess.Popen` (and still starts it)."""
    calls: list[SshCall] = []
    real_popen = subprocess.Popen

    def recording_popen(argv: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(argv, list) and argv and os.path.basename(str(argv[0])) == "ssh":
            path = Path(argv[argv.index("-F") + 1])
            calls.append(
                SshCall([str(a) for a in argv], path.read_text(), path, path.stat().st_mode)
            )
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    yield calls


def check_call(call: SshCall, token: str, method: str) -> None:
    assert token not in " ".join(call.argv)
    assert stat.S_IMODE(call.config_mode) == 0o600
    lines = [line.strip() for line in call.config.splitlines()]
    (remote,) = [line for line in lines if line.startswith("RemoteCommand ")]
    request = json.loads(remote.removeprefix("RemoteCommand "))
    assert request["token"] == token
    assert request["method"] == method
    assert not call.config_path.exists()  # removed once ssh has exited


@pytest.mark.integration
def test_exec(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    sleeper: JobDescription,
    ssh_calls: list[SshCall],
) -> None:
    assert client.jobs.exec(sleeper.id, ["true"], no_key_check=True) == 0
    (call,) = ssh_calls
    check_call(call, platform.token, "job_exec")


@pytest.mark.integration
def test_port_forward(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    http_job: tuple[JobDescription, int],
    ssh_calls: list[SshCall],
) -> None:
    job, port = http_job
    with client.jobs.port_forward(job.id, 0, port, no_key_check=True) as fwd:
        requests.get(f"http://127.0.0.1:{fwd.local_port}/", timeout=GUARD)
    (call,) = ssh_calls
    check_call(call, platform.token, "job_port_forward")


@pytest.mark.parametrize(
    "value",
    ["plain", "100%", "%h %p %%", "${HOME} $HOME", "# not a comment", '"q" \\ \'', "é ✓", "\t\n"],
)
def test_remote_command_is_inert_for_ssh(value: str) -> None:
    payload = {"method": "job_exec", "token": "t", "params": {"job": "j", "command": [value]}}
    line = _remote_command(payload)
    assert json.loads(line) == payload
    assert line.isascii() and line.isprintable()
    assert not set(line) & set("%$#")
