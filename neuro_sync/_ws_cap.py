"""The one module that reaches into websocket-client beyond its documented interface: a bound
on the size of a message read from a server.

websocket-client has no such option: it reads the whole payload a frame header announces (up
to 2**63 bytes) and joins continuation frames without limit, so a hostile server could make a
reader buffer gigabytes. `CappedWebSocket` (given to `create_connection` through its public
`class_` argument) counts the bytes read from the socket for one message and raises
`MessageTooLarge` past `MAX_MESSAGE` (plus the frame headers' share), before buffering more.

What is used, and why it is pinned (`websocket-client>=1.6,<2` in pyproject.toml, checked by
tests/unit/test_ws_cap.py): the `frame_buffer` attribute of a `WebSocket` and the `recv`
function it reads the socket with (replaced by a counting one); `recv_data_frame`, public,
which starts a message (where the count restarts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import websocket

__all__ = ["MAX_MESSAGE", "CappedWebSocket", "MessageTooLarge"]

# What aiohttp (the real platform's and neuro-sdk's WebSocket library) accepts by default; the
# local platform sends at most 64 KiB at a time.
MAX_MESSAGE = 4 * 1024 * 1024
# Frame headers (at most 14 bytes each) and the socket reads' overshoot (16 KiB at most).
_SLACK = 64 * 1024


class MessageTooLarge(websocket.WebSocketPayloadException):
    """The server sent (or announced) a message larger than the limit."""


class CappedWebSocket(websocket.WebSocket):
    """A `websocket.WebSocket` that reads at most `max_message` bytes for one message."""

    max_message = MAX_MESSAGE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._count = 0
        read: Callable[[int], bytes] = self.frame_buffer.recv

        def counted(bufsize: int) -> bytes:
            if self._count > self.max_message + _SLACK:
                raise MessageTooLarge(f"a message larger than {self.max_message} bytes")
            data = read(bufsize)
            self._count += len(data)
            return data

        self.frame_buffer.recv = counted

    def recv_data_frame(self, control_frame: bool = False) -> tuple[int, Any]:
        self._count = 0  # a new message
        return super().recv_data_frame(control_frame)
