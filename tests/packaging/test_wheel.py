"""The release artifacts as a user gets them: build the sdist and the wheel (the wheel from the
sdist, so a file missing from the sdist fails here), check them with twine, install the wheel
with the `[local]` extra into a fresh venv outside the source tree, and use it from there:
start `neuro-sync-local`, run a job end to end, type-check a downstream script.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
GUARD = 90  # seconds: a hung subprocess fails the test instead of holding the suite


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    python: Path  # the fresh venv's interpreter
    bin: Path
    work: Path  # a directory outside the source tree, the cwd of everything run from the venv


def source_version() -> str:
    text = (ROOT / "neuro_sync" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    assert match, "neuro_sync/_version.py has no __version__ line"
    return match.group(1)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that could point the venv back at the source tree."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "NEURO_SYNC_URL", "NEURO_SYNC_TOKEN", "NEUROMATION_CONFIG"}
        and not k.startswith("VIRTUAL_ENV")
    }
    env.update(extra)
    return env


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    dist = tmp_path_factory.mktemp("dist")
    # No build isolation: hatchling is pinned in the dev extra, and an isolated build would
    # install it again on every run.
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT], cwd=dist)
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", venv], cwd=venv)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", f"{wheel}[local]"], cwd=venv)
    work = tmp_path_factory.mktemp("work")
    assert ROOT not in work.parents and ROOT not in venv.parents
    return Installed(wheel, sdist, python, venv / "bin", work)


def test_twine_check_passes(installed: Installed) -> None:
    out = run(
        [sys.executable, "-m", "twine", "check", "--strict", installed.wheel, installed.sdist],
        cwd=installed.work,
    ).stdout
    assert out.count("PASSED") == 2, out


def test_wheel_contents(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        metadata = whl.read(f"neuro_sync-{source_version()}.dist-info/METADATA").decode()
    assert {"neuro_sync/py.typed", "neuro_sync_api/py.typed"} <= names
    assert {"neuro_sync/local/__main__.py", "neuro_sync_api/client.py"} <= names
    assert f"neuro_sync-{source_version()}.dist-info/licenses/LICENSE" in names
    # Only the two packages: no tests, docs, generator inputs or the `generated/` prefix.
    tops = {n.split("/")[0] for n in names}
    assert tops == {"neuro_sync", "neuro_sync_api", f"neuro_sync-{source_version()}.dist-info"}
    assert f"\nVersion: {source_version()}\n" in metadata
    assert "dateutil" not in metadata.lower()
    assert "\nLicense-Expression: Apache-2.0\n" in metadata


def test_sdist_can_regenerate_and_test(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    expected = {"openapi/jobs.yaml", "generated/neuro_sync_api/client.py", "Makefile", "LICENSE"}
    assert expected <= names
    assert any(n.startswith("tests/unit/") for n in names)
    assert not any(n.startswith((".venv/", ".hypothesis/")) for n in names)


def test_installed_version_and_location(installed: Installed) -> None:
    code = (
        "import sys, neuro_sync, neuro_sync_api, neuro_sync.local\n"
        "print(neuro_sync.__version__)\n"
        "print(neuro_sync.__file__)\n"
        "print(neuro_sync_api.__file__)\n"
        "print(neuro_sync.local.__file__)\n"
    )
    version, *files = run([installed.python, "-c", code], cwd=installed.work).stdout.split()
    assert version == source_version()
    for f in files:
        assert "site-packages" in f and not Path(f).is_relative_to(ROOT), f


CLIENT_SCRIPT = """\
import neuro_sync
from neuro_sync import Container, JobStatus, RemoteImage, Resources

with neuro_sync.get() as client:
    job = client.jobs.run(
        Container(RemoteImage("ubuntu"), Resources(32, 0.1), command="echo from-the-wheel")
    )
    done = client.jobs.wait(job.id, timeout=60)
    with client.jobs.monitor(job.id) as log:
        text = b"".join(log).decode()
    assert done.status == JobStatus.SUCCEEDED, done
    assert done.history.exit_code == 0, done.history
    print("log:", text.strip())
    print(job.id)
"""


@pytest.fixture
def local_server(installed: Installed, tmp_path: Path) -> Iterator[Path]:
    """`neuro-sync-local` from the venv's console script; yields its client config path."""
    server = subprocess.Popen(
        # Host processes: the job's image ("ubuntu") cannot be pulled on an offline machine.
        [
            installed.bin / "neuro-sync-local",
            "--data-dir",
            tmp_path / "data",
            "--port",
            "0",
            "--runtime",
            "process",
        ],
        cwd=installed.work,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        config = None
        for line in server.stdout:  # ends at EOF if the server dies
            if line.startswith("client config: "):
                config = Path(line.removeprefix("client config: ").strip())
                break
        assert config is not None and config.is_file(), "neuro-sync-local did not start"
        yield config
    finally:
        server.terminate()
        server.wait(GUARD)


def test_local_platform_runs_a_job_from_the_installed_wheel(
    installed: Installed, local_server: Path
) -> None:
    script = installed.work / "first_job.py"
    script.write_text(CLIENT_SCRIPT, encoding="utf-8")
    out = run([installed.python, script], cwd=installed.work, NEUROMATION_CONFIG=str(local_server))
    log_line, job_id = out.stdout.strip().splitlines()
    assert log_line == "log: from-the-wheel"
    # The `neuro-sync` console script of the wheel sees the same job.
    cli = [installed.bin / "neuro-sync"]
    version = run([*cli, "--version"], cwd=installed.work).stdout
    assert version.split()[-1] == source_version()
    ps = run([*cli, "ps", "--all", "-q"], cwd=installed.work, NEUROMATION_CONFIG=str(local_server))
    assert ps.stdout.split() == [job_id]


DOWNSTREAM_OK = """\
import neuro_sync
from neuro_sync import Container, JobDescription, JobStatus, RemoteImage, Resources


def first_running(client: neuro_sync.Client) -> JobDescription | None:
    for job in client.jobs.list(statuses={JobStatus.RUNNING}):
        return job
    return None


def submit(client: neuro_sync.Client) -> str:
    container = Container(RemoteImage("ubuntu"), Resources(memory_mb=16, cpu=0.1), command="true")
    return client.jobs.run(container, name="typed").id


VERSION: str = neuro_sync.__version__
"""

DOWNSTREAM_BAD = """\
from neuro_sync import Resources

resources = Resources(memory_mb="a lot", cpu=0.1)
"""


def mypy(installed: Installed, name: str, source: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on a script, resolving imports in the fresh venv (PEP 561), not the tree."""
    script = installed.work / name
    script.write_text(source, encoding="utf-8")
    args = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    args += ["--python-executable", str(installed.python), "--config-file", os.devnull, name]
    return subprocess.run(
        args,
        cwd=installed.work,
        env=clean_env(MYPYPATH=""),
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )


def test_downstream_mypy_strict_passes(installed: Installed) -> None:
    result = mypy(installed, "downstream_ok.py", DOWNSTREAM_OK)
    assert result.returncode == 0, result.stdout + result.stderr


def test_downstream_mypy_sees_the_types(installed: Installed) -> None:
    # The counter-check: were the package untyped (no py.typed), this would pass silently.
    result = mypy(installed, "downstream_bad.py", DOWNSTREAM_BAD)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Argument "memory_mb" to "Resources" has incompatible type "str"' in result.stdout
