"""The gateway's host key: made once in the data dir (0600), kept across restarts."""

from __future__ import annotations

import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import neuro_sync
from neuro_sync.local import KNOWN_HOSTS_FILE, LocalPlatform
from neuro_sync.local.ssh_gateway import HOST_KEY_FILE, load_host_key

from .helpers import GUARD, start_job


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


@pytest.mark.integration
def test_the_client_config_names_the_published_key(tmp_path: Path) -> None:
    if shutil.which("ssh-keyscan") is None:
        pytest.skip("no ssh-keyscan")
    with LocalPlatform(tmp_path) as platform:
        config = yaml.safe_load(platform.config_path.read_text())
        known_hosts = Path(config["ssh_known_hosts"])
        assert known_hosts == tmp_path / KNOWN_HOSTS_FILE
        assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o600
        (line,) = known_hosts.read_text().splitlines()
        address, kind, key = line.split()
        assert address == f"[127.0.0.1]:{platform.settings.ssh_port}"
        assert (kind, key) == ("ssh-ed25519", scan(platform))


@pytest.mark.integration
def test_exec_verifies_the_key_and_a_mismatch_is_typed(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path / "platform") as platform:
        with neuro_sync.Factory(platform.config_path).get() as client:
            job = start_job(client, "sleep 600")
            try:
                done = client.jobs.exec(job.id, ["echo", "checked"], capture_output=True)
                assert (done.returncode, done.stdout, done.stderr) == (0, b"checked\n", b"")
                # Another platform's key for this address: refused, and nothing ran.
                with LocalPlatform(tmp_path / "other") as other:
                    other_key = other.config_path.with_name(KNOWN_HOSTS_FILE).read_text()
                wrong = tmp_path / "wrong_known_hosts"
                wrong.write_text(
                    f"[127.0.0.1]:{platform.settings.ssh_port} {other_key.split(' ', 1)[1]}"
                )
                with neuro_sync.Client(platform.url, platform.token, known_hosts=wrong) as c:
                    with pytest.raises(neuro_sync.HostKeyMismatch) as info:
                        c.jobs.exec(job.id, ["touch", "ran"], capture_output=True)
                    assert f"not the one in {wrong}" in str(info.value)
                    assert platform.token not in str(info.value)
                    # An unknown key without a known_hosts file: the same error, other advice.
                    with neuro_sync.Client(platform.url, platform.token) as bare:
                        with pytest.raises(neuro_sync.HostKeyMismatch, match="known_hosts"):
                            bare.jobs.exec(job.id, ["touch", "ran"], capture_output=True)
                listed = client.jobs.exec(job.id, ["ls"], capture_output=True).stdout
                assert b"ran" not in listed.split()
            finally:
                client.jobs.kill(job.id)


@pytest.mark.integration
def test_port_forward_with_a_wrong_key_says_why(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path / "platform") as platform:
        with neuro_sync.Factory(platform.config_path).get() as client:
            job = start_job(client, "sleep 600")
            with LocalPlatform(tmp_path / "other") as other:
                other_key = other.config_path.with_name(KNOWN_HOSTS_FILE).read_text()
            wrong = tmp_path / "wrong_known_hosts"
            wrong.write_text(
                f"[127.0.0.1]:{platform.settings.ssh_port} {other_key.split(' ', 1)[1]}"
            )
            try:
                with (
                    neuro_sync.Client(platform.url, platform.token, known_hosts=wrong) as c,
                    c.jobs.port_forward(job.id, 0, 9) as fwd,
                ):
                    assert fwd.error is None
                    with socket.create_connection(("127.0.0.1", fwd.local_port), GUARD) as s:
                        s.settimeout(GUARD)
                        assert s.recv(1) == b""  # closed: nothing was forwarded
                    deadline = time.monotonic() + GUARD
                    while fwd.error is None and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert isinstance(fwd.error, neuro_sync.HostKeyMismatch)
                    assert f"not the one in {wrong}" in str(fwd.error)
            finally:
                client.jobs.kill(job.id)
