"""The platform never follows a job's symlinks with its own privileges (issue 19, item 2),
on the process runtime: not when it saves the job, not when it removes its directory. The
podman runtime's volumes: tests/containers/test_podman_security.py."""

from __future__ import annotations

import tarfile
from pathlib import Path
from urllib.parse import urlsplit

from .helpers import GATE, Api, release, sh, wait_for, work_dir


def test_a_save_stores_a_planted_symlink_not_what_it_points_to(fresh: Api, data_dir: Path) -> None:
    secret = data_dir / "jwt-secret"  # the platform's, not the job's
    job = fresh.create(sh(f"ln -s {secret} link; ln -s / root; touch planted; {GATE}"))
    work = work_dir(data_dir, job["id"])
    wait_for((work / "planted").exists, "the links")
    registry = urlsplit(fresh.get("/config").json()["registry_url"]).netloc
    body = {"container": {"image": f"{registry}/{fresh.user}/links:v1"}}
    with fresh.post(f"/jobs/{job['id']}/save", json=body, timeout=60) as response:
        assert b"CommitFinished" in response.content
    release(data_dir, job["id"])
    archive = data_dir / "images" / fresh.user / "links" / "v1.tar.gz"
    with tarfile.open(archive) as tar:
        link, root = tar.getmember("./link"), tar.getmember("./root")
        assert (link.issym(), link.linkname) == (True, str(secret))
        assert (root.issym(), root.linkname) == (True, "/")
        assert sorted(tar.getnames()) == [".", "./link", "./planted", "./root"]
    assert secret.read_bytes() not in archive.read_bytes()


def test_removing_a_job_directory_never_follows_its_symlinks(
    fresh: Api, data_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "keep").write_text("kept\n")
    job = fresh.create(sh(f"ln -s {outside} dir-link; ln -s {outside}/inner/keep file-link"))
    assert fresh.wait(job["id"])["status"] == "succeeded"
    wait_for(lambda: not work_dir(data_dir, job["id"]).exists(), "the job's directory to go")
    assert (outside / "inner" / "keep").read_text() == "kept\n"
