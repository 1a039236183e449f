"""The gateway's host key: made once in the data dir (0600), kept across restarts."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from neuro_sync.local import LocalPlatform
from neuro_sync.local.ssh_gateway import HOST_KEY_FILE, load_host_key

from .helpers import GUARD


def scan(platform: LocalPlatform) -> str:
    """The ed25519 key the gateway presents (base64)."""
    done = subprocess.run(
        ["ssh-keyscan", "-t", "ed25519", "-p", str(platform.settings.ssh_port), "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=True,
    )
    (line,) = [x for x in done.stdout.splitlines() if x and not x.startswith("#")]
    return line.split()[2]


@pytest.mark.integration
def test_made_once_and_reused(tmp_path: Path) -> None:
    if shutil.which("ssh-keyscan") is None:
        pytest.skip("no ssh-keyscan")
    path = tmp_path / HOST_KEY_FILE
    with LocalPlatform(tmp_path) as first:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_bytes()
        presented = scan(first)
    public = load_host_key(tmp_path).export_public_key().decode().split()[1]
    assert presented == public
    with LocalPlatform(tmp_path) as second:
        assert scan(second) == presented
    assert path.read_bytes() == content
