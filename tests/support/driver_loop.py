"""The loop of the released-SDK drivers (tests/sdk2019/driver.py, tests/sdk2022/driver.py),
which run INSIDE an SDK's own venv: standard library only.

The first stdin line is `{"url": ..., "token": ...}` (the token never on a command line);
`connect(url, token, workdir)` logs the SDK in and returns its client; then every stdin line
is `{"op": name, ...arguments}`, answered by one JSON line: the op's result, or
`{"error": class name, "message": text}` when the SDK raised.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

Op = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]
OP_TIMEOUT = 60.0  # seconds: a hang guard for one op


def ops_of(namespace: Mapping[str, Any]) -> dict[str, Op]:
    """The `op_<name>` functions of a module, by name."""
    return {name[3:]: func for name, func in namespace.items() if name.startswith("op_")}


async def _serve(connect: Callable[[str, str, Path], Awaitable[Any]], ops: dict[str, Op]) -> None:
    loop = asyncio.get_running_loop()
    credentials = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    with tempfile.TemporaryDirectory(prefix="released-sdk-") as workdir:
        client = await connect(credentials["url"], credentials["token"], Path(workdir))
        print(json.dumps({"ready": True}), flush=True)
        try:
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                command = json.loads(line)
                op = command.pop("op")
                try:
                    result = await asyncio.wait_for(ops[op](client, command), OP_TIMEOUT)
                except Exception as err:  # noqa: BLE001 - reported to the test
                    result = {"error": type(err).__name__, "message": str(err)}
                print(json.dumps(result), flush=True)
        finally:
            await client.close()


def run(connect: Callable[[str, str, Path], Awaitable[Any]], ops: dict[str, Op]) -> int:
    asyncio.run(_serve(connect, ops))
    return 0
