"""Who listens on a loopback port of this machine (Linux), so that the process runtime
serves a job's port only when the job itself listens there (docs/local-platform.md).

Jobs of the process runtime share the host's network: any job can bind any free port,
another job's declared one included. `listening(port)` lists the sockets in the LISTEN state
that a connection to 127.0.0.1:`port` can reach (bound to 127.0.0.1, 0.0.0.0, `::` or their
IPv4-mapped forms) by inode, asked of the kernel over sock_diag netlink; `held_by(pids)` is
the set of socket inodes those processes hold (`/proc/<pid>/fd`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
from collections.abc import Iterable, Iterator

# Linux sock_diag (linux/sock_diag.h, linux/inet_diag.h): the kernel dumps only listening
# sockets (reading /proc/net/tcp walks every socket, TIME_WAIT ones included: tens of ms).
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_DONE, _NLMSG_ERROR = 3, 2
_TCP_LISTEN = 10
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, pid
_REQUEST = struct.Struct("=BBBBI48s")  # inet_diag_req_v2: family, protocol, ext, pad, states
_REPLY = struct.Struct("=BBBB2s2s16s16sI8sIIIII")  # inet_diag_msg
_REACHING_V4 = (socket.inet_pton(socket.AF_INET, "127.0.0.1"), bytes(4))
_REACHING_V6 = (
    bytes(16),  # ::
    socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1"),
    socket.inet_pton(socket.AF_INET6, "::ffff:0.0.0.0"),
)


def listening(port: int) -> frozenset[int]:
    """The inodes of the listening sockets a connection to 127.0.0.1:`port` may reach."""
    found: set[int] = set()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as nl:
        for family, reaching in (
            (socket.AF_INET, _REACHING_V4),
            (socket.AF_INET6, _REACHING_V6),
        ):
            body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN, bytes(48))
            header = _HEADER.pack(
                _HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0
            )
            nl.sendall(header + body)
            size = 4 if family == socket.AF_INET else 16
            for message in _replies(nl):
                fields = _REPLY.unpack_from(message)
                sport, src, inode = fields[4], fields[6][:size], fields[14]
                if int.from_bytes(sport, "big") == port and src in reaching:
                    found.add(inode)
    return frozenset(found)


def _replies(nl: socket.socket) -> Iterator[bytes]:
    """The inet_diag_msg payloads of one dump, until NLMSG_DONE."""
    while True:
        data = nl.recv(1 << 16)
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind = _HEADER.unpack_from(data, offset)[:2]
            if kind == _NLMSG_DONE:
                return
            if kind == _NLMSG_ERROR:
                raise OSError(errno.EIO, "sock_diag refused the dump")
            yield data[offset + _HEADER.size : offset + length]
            offset += (length + 3) & ~3


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
