"""`import neuro_sync` leaves the slow imports to the first call that needs them.

Each check runs in a fresh interpreter (a module once imported stays in `sys.modules`), which
reports after each step which of the heavy modules are loaded. Nothing here is timed: import
speed is measured by `make bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Loaded by some calls only, never by the import.
HEAVY = (
    "marshmallow",  # validation of run / list
    "neuro_sync_api.validation",
    "neuro_sync_api.models",  # the generated models: request bodies, /config, errors
    "neuro_sync_api.api",  # the generated endpoints, which import the models
    "attrs",  # used by the generated models only
    "msgspec",  # the compiled decoder of job replies (list, status)
    "neuro_sync_api.structs",
    "yaml",  # reading or writing a config file
    "websockets",  # `top`, exec, attach, port forwarding
    "tqdm",  # progress bars
    "IPython",
    "aiohttp",  # the local platform
    "neuro_sync.local",
    "neuro_sync.cli",
)
# Loaded by the first client's transport, never by the import (nor by `neuro-sync --help`).
TRANSPORT = (
    "requests",
    "urllib3",
    "neuro_sync_api.client",  # the generated endpoints' transport core, on requests
    "neuro_sync._transport",
)

# Steps of one session, each followed by a report of the heavy modules then loaded.
_STEPS = """
import json, os, socket, sys, tempfile

HEAVY = {heavy!r}
TRANSPORT = {transport!r}
report = {{}}

def step(name):
    report[name] = sorted(m for m in HEAVY if m in sys.modules)
    report["transport: " + name] = sorted(m for m in TRANSPORT if m in sys.modules)

import neuro_sync
step("import")

from tests.support.wire import TOKEN, cluster_config

with socket.socket() as s:  # a loopback port nobody listens on: connections are refused
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
base = f"http://127.0.0.1:{{port}}/api/v1"
client = neuro_sync.Client(
    base, TOKEN, max_retries=0, cluster_config=cluster_config(base, base + "/jobs")
)
step("client")

try:
    client.jobs.status(" ")
except neuro_sync.ValidationError as err:
    assert err.field == "id", err
step("job id check")

bad = neuro_sync.Container(
    neuro_sync.RemoteImage("ubuntu"), neuro_sync.Resources(memory_mb=256, cpu=0.5)
)
try:
    client.jobs.run(bad, name="Not A Name")
except neuro_sync.ValidationError as err:
    assert err.field == "name", err
step("run validated")

path = os.path.join(tempfile.mkdtemp(), "nmrc")
with open(path, "w") as f:
    f.write("url: [")
try:
    neuro_sync.Factory(path).get()
except neuro_sync.ConfigError:
    pass
step("config file read")

try:
    client.jobs.top("job-1")
except neuro_sync.APIConnectionError:
    pass
step("top")
print(json.dumps(report))
"""


def _run(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    """Step name -> the heavy modules loaded after it (one fresh interpreter)."""
    result: dict[str, list[str]] = _run(_STEPS.format(heavy=HEAVY, transport=TRANSPORT))
    return result


def test_import_loads_none_of_the_heavy_modules(loaded: dict[str, list[str]]) -> None:
    assert loaded["import"] == []
    assert loaded["client"] == []


def test_import_loads_no_transport_the_first_client_does(loaded: dict[str, list[str]]) -> None:
    assert loaded["transport: import"] == []
    # The generated endpoints (and their client) load with the first call that uses them.
    assert loaded["transport: client"] == ["neuro_sync._transport", "requests", "urllib3"]
    assert loaded["transport: top"] == sorted(TRANSPORT)


def test_the_default_client_works_after_a_lazy_import() -> None:
    """`neuro_sync.get()` makes the transport on first use and sends through it."""
    code = textwrap.dedent(
        """
        import json, sys
        import neuro_sync
        before = "requests" in sys.modules

        import responses
        from tests.support.wire import BASE, JOB_ID, TOKEN, cluster_config, make_job

        with responses.RequestsMock() as mock:
            mock.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="running"))
            client = neuro_sync.get(url=BASE, token=TOKEN, cluster_config=cluster_config())
            job = client.jobs.status(JOB_ID)
        print(json.dumps([before, job.id == JOB_ID, job.status, "requests" in sys.modules]))
        """
    )
    assert _run(code) == [False, True, "running", True]


@pytest.mark.parametrize(
    "argv", [["--help"], ["no-such-command"], ["status", "--format", "xml", "job-1"]]
)
def test_the_command_line_needs_no_transport_for_help_or_a_usage_error(argv: list[str]) -> None:
    code = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from neuro_sync.cli import main

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                main({argv!r})
            except SystemExit as exit:
                code = exit.code
        print(json.dumps([code, sorted(m for m in {TRANSPORT!r} if m in sys.modules)]))
        """
    )
    assert _run(code) == [0 if argv == ["--help"] else 2, []]


def test_a_job_id_check_needs_no_schema(loaded: dict[str, list[str]]) -> None:
    assert loaded["job id check"] == []


def test_the_first_validated_call_loads_the_schemas(loaded: dict[str, list[str]]) -> None:
    # The request body is built from the generated models, then checked: nothing is sent.
    assert loaded["run validated"] == [
        "attrs",
        "marshmallow",
        "neuro_sync_api.models",
        "neuro_sync_api.validation",
    ]


def test_yaml_loads_with_a_config_file(loaded: dict[str, list[str]]) -> None:
    assert "yaml" not in loaded["run validated"]
    assert "yaml" in loaded["config file read"]


def test_websocket_loads_with_top(loaded: dict[str, list[str]]) -> None:
    assert "websockets" not in loaded["config file read"]
    assert "websockets" in loaded["top"]


def test_no_call_loads_the_local_platform_the_cli_or_display_extras(
    loaded: dict[str, list[str]],
) -> None:
    never = {"neuro_sync.local", "neuro_sync.cli", "aiohttp", "tqdm", "IPython"}
    assert never.isdisjoint(loaded["top"])


def test_first_use_from_many_threads_at_once() -> None:
    """Threads racing to the first validated call all get the same, complete check."""
    code = textwrap.dedent(
        """
        import json, threading
        import neuro_sync
        from tests.support.wire import BASE, TOKEN, cluster_config

        client = neuro_sync.Client(BASE, TOKEN, cluster_config=cluster_config())
        bad = neuro_sync.Container(
            neuro_sync.RemoteImage("ubuntu"), neuro_sync.Resources(memory_mb=256, cpu=0.5)
        )
        start = threading.Barrier(8)
        fields = []

        def first_call():
            start.wait()
            try:
                client.jobs.run(bad, name="Not A Name")
            except neuro_sync.ValidationError as err:
                fields.append(err.field)
            except Exception as err:
                fields.append(repr(err))

        threads = [threading.Thread(target=first_call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps(fields))
        """
    )
    assert _run(code) == ["name"] * 8
