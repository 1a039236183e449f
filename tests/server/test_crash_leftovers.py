"""A server killed with SIGKILL in the middle of a save leaves nothing the next start does
not clean (issue 19, item 12), on the process runtime: the half-written archive, the save's
tar, the job's processes and working directory. The podman runtime's counterpart is in
tests/containers/test_podman_crash.py."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests
import yaml

from neuro_sync.local import LocalPlatform
from neuro_sync.local.runtime import JOB_MARKER

from .helpers import GATE, Api, sh, wait_for, work_dir
from .test_restart import server_argv

BIG = 64_000_000  # bytes of random data: gzip takes a while over it


def partials(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "images").rglob("*") if p.name.endswith(".partial")]


def marked(job_id: str) -> list[int]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(JOB_MARKER) == job_id and proc.status() != "zombie":
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def test_a_server_killed_during_save_leaves_nothing_a_restart_does_not_clean(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    server = subprocess.Popen(server_argv(data_dir), stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # the URL line: the config file is written by then
        config = yaml.safe_load((data_dir / "client.nmrc").read_text())
        api = Api(config["url"], config["auth_token"]["token"], "user")
        job = api.create(sh(f"head -c {BIG} /dev/urandom > big.tmp; mv big.tmp big; {GATE}"))
        work = work_dir(data_dir, job["id"])
        wait_for((work / "big").exists, "the job's data")
        registry = urlsplit(config["cluster_config"]["registry_url"]).netloc
        body = {"container": {"image": f"{registry}/user/crashed:v1"}}

        def save() -> None:
            try:
                api.post(f"/jobs/{job['id']}/save", json=body, timeout=60).close()
            except requests.RequestException:
                pass  # the server dies under it

        saving = threading.Thread(target=save, daemon=True)
        saving.start()
        wait_for(lambda: bool(partials(data_dir)), "the save to start writing")
    finally:
        server.kill()  # a crash: no shutdown hooks run
        server.wait()
        assert server.stdout is not None
        server.stdout.close()
    saving.join(30)
    assert partials(data_dir)  # what the crash left: the archive half-written, ...
    assert work.exists()  # ... the job's directory and its processes
    assert marked(job["id"])
    with LocalPlatform(data_dir):
        assert partials(data_dir) == []
        assert not work.exists()
        wait_for(lambda: marked(job["id"]) == [], "the job's processes and the tar to end")
    assert os.listdir(data_dir / "images" / "user" / "crashed") == []
