"""Where `exec` output goes: captured (`ExecResult`), or into redirected `sys.stdout`/
`sys.stderr` (Jupyter, `contextlib.redirect_stdout`). Ctrl-C during an exec is tested with the
other blocking calls in tests/integration/test_everyday.py."""

from __future__ import annotations

import contextlib
import io

import pytest

import neuro_sync
from neuro_sync import ExecResult, JobDescription

pytestmark = pytest.mark.integration

SCRIPT = "printf 'out é\\n'; printf 'err ✓\\n' >&2; exit 4"


def test_capture_output(
    client: neuro_sync.Client, sleeper: JobDescription, capfd: pytest.CaptureFixture[str]
) -> None:
    result = client.jobs.exec(
        sleeper.id, ["sh", "-c", SCRIPT], no_key_check=True, capture_output=True
    )
    assert result == ExecResult(4, "out é\n".encode(), "err ✓\n".encode())
    assert capfd.readouterr() == ("", "")  # nothing leaked to the process's fds


def test_capture_output_of_a_large_output(
    client: neuro_sync.Client, sleeper: JobDescription
) -> None:
    # More than a pipe buffer on both streams at once: neither may block the other.
    script = "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"
    result = client.jobs.exec(
        sleeper.id, ["sh", "-c", script], no_key_check=True, capture_output=True
    )
    assert (result.returncode, len(result.stdout), len(result.stderr)) == (0, 300000, 200000)


def test_redirected_stdout_gets_the_output_as_text(
    client: neuro_sync.Client, sleeper: JobDescription, capfd: pytest.CaptureFixture[str]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = client.jobs.exec(sleeper.id, ["sh", "-c", SCRIPT], no_key_check=True)
    assert code == 4
    assert out.getvalue() == "out é\n"
    assert err.getvalue() == "err ✓\n"
    assert capfd.readouterr() == ("", "")
