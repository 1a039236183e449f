"""`python -m neuro_sync.local.slurm_relay <pid file> <port>`: run on a job's node (an srun
step of the job) by the Slurm runtime's `connect`, it joins the network namespace of the
job's container and relays its stdin/stdout to 127.0.0.1:<port> there. It writes one zero
byte once connected, so the platform can tell a refused port from a connection."""

from __future__ import annotations

import os
import selectors
import sys
from pathlib import Path

from .podman_cli import connect_in_netns

CHUNK = 65536


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main(argv: list[str]) -> int:
    pid = int(Path(argv[0]).read_text().strip())
    try:
        sock = connect_in_netns(pid, int(argv[1]), timeout=10.0)
    except OSError as err:
        print(f"slurm_relay: {err}", file=sys.stderr)
        return 1
    out = sys.stdout.fileno()
    os.write(out, b"\x00")
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    sel.register(sock, selectors.EVENT_READ)
    open_ends = 2
    while open_ends:
        for key, _ in sel.select():
            if key.fileobj == 0:
                data = os.read(0, CHUNK)
                if not data:
                    sel.unregister(0)
                    sock.shutdown(1)  # SHUT_WR: the client is done sending
                    open_ends -= 1
                else:
                    sock.sendall(data)
            else:
                data = sock.recv(CHUNK)
                if not data:
                    sel.unregister(sock)
                    open_ends = 0
                else:
                    _write_all(out, data)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
