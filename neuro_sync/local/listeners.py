"""Who listens on a loopback port of this machine (Linux `/proc`), so that the process runtime
serves a job's port only when the job itself listens there (docs/local-platform.md).

Jobs of the process runtime share the host's network: any job can bind any free port,
another job's declared one included. `listening(port)` lists the sockets in the LISTEN state
that a connection to 127.0.0.1:`port` can reach (bound to 127.0.0.1, 0.0.0.0, `::` or their
IPv4-mapped forms) by inode; `held_by(pids)` is the set of socket inodes those processes hold.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

_LISTEN = "0A"
# Local addresses (as /proc/net/tcp{,6} print them) that a connection to 127.0.0.1 reaches.
_REACHING = frozenset(
    {
        "0100007F",  # 127.0.0.1
        "00000000",  # 0.0.0.0
        "00000000000000000000000000000000",  # ::
        "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1
        "0000000000000000FFFF000000000000",  # ::ffff:0.0.0.0
    }
)


def listening(port: int) -> frozenset[int]:
    """The inodes of the listening sockets a connection to 127.0.0.1:`port` may reach."""
    wanted = f":{port:04X}"
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f, None)  # the header line
            for line in f:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state != _LISTEN or not local.endswith(wanted):
                    continue
                if local[: -len(wanted)] in _REACHING:
                    found.add(int(fields[9]))
    return frozenset(found)


def held_by(pids: Iterable[int]) -> set[int]:
    """The socket inodes held open by these processes (those gone or not ours are skipped)."""
    inodes = set()
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        with contextlib.suppress(OSError):
            for fd in os.listdir(fd_dir):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"{fd_dir}/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(int(target[8:-1]))
    return inodes
