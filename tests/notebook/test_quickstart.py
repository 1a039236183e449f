"""examples/quickstart.ipynb, executed cell by cell in a real Jupyter kernel (nbclient)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.skipif(shutil.which("ssh") is None, reason="the notebook's exec needs ssh"),
]

NOTEBOOK = Path(__file__).parents[2] / "examples" / "quickstart.ipynb"


def _text(cell: Any) -> str:
    """The stream text (stdout and stderr) of a cell."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _data(cell: Any, mime: str) -> list[str]:
    return [
        o.data[mime]
        for o in cell.outputs
        if o.output_type in ("execute_result", "display_data") and mime in o.data
    ]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The executed notebook's cells by tag; a first, untagged cell reports the kernel.

    `kernel_stderr` is what the kernel process itself wrote to its stderr (outside any cell).
    """
    nb = nbformat.read(NOTEBOOK, as_version=4)
    probe = nbformat.v4.new_code_cell("import json, sys; print(json.dumps(sys.prefix))")
    nb.cells.insert(0, probe)
    work = tmp_path_factory.mktemp("nb")
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(work)}}
    )
    with open(work / "kernel.stderr", "w+b") as stderr:
        client.execute(stderr=stderr)  # handed on to the kernel process
        stderr.seek(0)
        kernel_stderr = stderr.read().decode(errors="replace")
    cells: dict[str, Any] = {"probe": nb.cells[0], "all": nb.cells, "kernel_stderr": kernel_stderr}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            cells[tag] = cell
    return cells


def test_the_kernel_runs_this_venv(executed: dict[str, Any]) -> None:
    assert json.loads(_text(executed["probe"])) == sys.prefix


def test_no_errors_and_no_tracebacks(executed: dict[str, Any]) -> None:
    for cell in executed["all"]:
        if cell.cell_type != "code":
            continue
        assert all(o.output_type != "error" for o in cell.outputs), cell.source
        assert "Traceback" not in _text(cell), cell.source
        for o in cell.outputs:
            for value in getattr(o, "data", {}).values():
                assert "Traceback" not in str(value), cell.source
    assert "Traceback" not in executed["kernel_stderr"]


def test_the_job_shows_as_a_card(executed: dict[str, Any]) -> None:
    (card,) = _data(executed["run"], "text/html")
    assert "<b>Job <code>job-" in card
    assert "quickstart" in card and "ubuntu" in card


def test_the_log_lines(executed: dict[str, Any]) -> None:
    assert _text(executed["logs"]) == "step 1\nstep 2\nstep 3\ndone ✓\n"


def test_wait_finished_the_job(executed: dict[str, Any]) -> None:
    assert "succeeded exit code 0" in _text(executed["wait"])


def test_exec_captured_and_printed(executed: dict[str, Any]) -> None:
    assert _text(executed["exec"]) == "3 hello from inside\n"
    assert "printed in the cell\n" in _text(executed["exec-print"])


def test_the_list_is_an_html_table(executed: dict[str, Any]) -> None:
    (table,) = _data(executed["list"], "text/html")
    assert table.startswith("<table class='neuro-sync-jobs'>")
    assert table.count("<tr>") == 3  # header, the job, the server


def test_kill_ended_the_server(executed: dict[str, Any]) -> None:
    assert _text(executed["kill"]) == "succeeded\n"


def test_exec_in_a_cell_echoes_no_return_value(executed: dict[str, Any]) -> None:
    cell = executed["exec-print"]
    assert [o.output_type for o in cell.outputs] == ["stream"], cell.outputs
    assert _text(cell) == "printed in the cell\n"


def test_wait_leaves_a_readable_final_line(executed: dict[str, Any]) -> None:
    """A saved notebook's static HTML shows how the wait ended, not an empty widget."""
    nbconvert = pytest.importorskip("nbconvert")
    cell = executed["wait"]
    lines = _text(cell).splitlines()
    assert re.fullmatch(r"job-[0-9a-f-]+: succeeded \(exit code 0\) \(\d+\.\d s\)", lines[0]), lines
    nb = nbformat.v4.new_notebook(cells=[cell])
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    text = re.sub(r"<[^>]+>", "", html)
    assert re.search(r"job-[0-9a-f-]+: succeeded \(exit code 0\) \(\d+\.\d s\)", text), text[-2000:]
