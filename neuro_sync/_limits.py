"""The transport's size limit, apart from the transport: `Client`'s signature shows it as a
default, and `import neuro_sync` does not load `requests` (the transport loads with a client).
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_REPLY_BYTES"]

DEFAULT_MAX_REPLY_BYTES = 256 * 1024 * 1024
