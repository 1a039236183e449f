"""The per-call HTTP timeout: one type, one check, one meaning of `None`.

Where neuro-sync takes `None` for a duration it means "no limit" (`jobs.wait`, `jobs.exec`). An
HTTP request always has a connect timeout, so an HTTP `timeout` is never None: `(connect, None)`
waits between bytes without limit. The client's own timeout is asked for with `CLIENT_DEFAULT`,
the default of every per-call `timeout=` parameter.
"""

from __future__ import annotations

import enum
from typing import TypeAlias

from neuro_sync_api.types import DEFAULT_TIMEOUT

from .errors import ValidationError

__all__ = ["CLIENT_DEFAULT", "DEFAULT_TIMEOUT", "ClientDefault", "Timeout", "check_timeout"]

Timeout: TypeAlias = float | tuple[float, float] | tuple[float, None]
"""Seconds, or a `(connect, read)` pair of seconds; `read=None` waits between bytes forever."""


class ClientDefault(enum.Enum):
    """The type of `CLIENT_DEFAULT`: "use the timeout the client was made with"."""

    CLIENT_DEFAULT = "CLIENT_DEFAULT"

    def __repr__(self) -> str:
        return "CLIENT_DEFAULT"


CLIENT_DEFAULT = ClientDefault.CLIENT_DEFAULT


def _seconds(value: object, allow_none: bool) -> bool:
    if value is None:
        return allow_none
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def check_timeout(timeout: object, field: str = "timeout") -> Timeout:
    """A valid HTTP timeout, normalised to floats.

    Raises:
        ValidationError: not seconds > 0 or a `(connect, read)` pair (only read may be None).
    """
    if isinstance(timeout, tuple) and len(timeout) == 2:
        connect, read = timeout
        if _seconds(connect, False) and _seconds(read, True):
            return (float(connect), None) if read is None else (float(connect), float(read))
    elif _seconds(timeout, False):
        return float(timeout)  # type: ignore[arg-type]
    raise ValidationError(
        field, "must be seconds > 0 or a (connect, read) pair; only read may be None"
    )
