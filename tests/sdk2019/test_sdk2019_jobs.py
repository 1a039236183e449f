"""The 2019 SDK against the local platform's default (2019) dialect: unchanged by the 2022
dialect's arrival (docs/dialects.md)."""

from __future__ import annotations

import uuid

from ..support.released_sdk import Sdk

FINISHED = ["succeeded", "failed"]


def test_run_status_logs_list(sdk: Sdk) -> None:
    name = f"old-{uuid.uuid4().hex[:8]}"
    job = sdk.call("run", command="sh -c 'echo from 2019; exit 2'", name=name)
    assert (job["status"], job["memory_mb"]) == ("pending", 64)
    done = sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert (done["status"], done["exit_code"]) == ("failed", 2)
    assert sdk.call("logs", id=job["id"])["text"] == "from 2019\n"
    listed = sdk.call("list", name=name)["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert sdk.call("list", name=name, statuses=["running"])["jobs"] == []


def test_kill_ends_succeeded_and_names_are_not_ids(sdk: Sdk) -> None:
    name = f"old-{uuid.uuid4().hex[:8]}"
    job = sdk.call("run", command="sleep 600", name=name)
    sdk.call("wait", id=job["id"], statuses=["running"])
    refused = sdk.fails("status", id=name)
    assert refused["error"] == "IllegalArgumentError"
    assert "no such job" in refused["message"]
    sdk.call("kill", id=job["id"])
    done = sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert (done["status"], done["reason"]) == ("succeeded", None)
