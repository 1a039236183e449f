"""Benchmarks of neuro-sync against bare `requests` (and optionally the 2019 SDK).

`python -m benchmarks.run` (or `make bench`) runs them; see benchmarks/README.md.
Modules here import only the standard library at import time, so that `benchmarks._measure`
can also be used by the 2019 SDK's driver in its own virtualenv.

`CODE_ENV` (set by `benchmarks.run --code DIR`) names another checkout whose `neuro_sync` and
`neuro_sync_api` the measuring processes import in place of this tree's: the same harness
measures an older version of the package in the same run conditions.
"""

import os
import sys

CODE_ENV = "NEURO_SYNC_BENCH_CODE"


def use_code(code: str | None = None) -> None:
    """Put the checkout named by `code` (default: `$NEURO_SYNC_BENCH_CODE`) first on sys.path."""
    code = code or os.environ.get(CODE_ENV)
    if code:
        for path in (os.path.join(code, "generated"), code):
            if path not in sys.path[:2]:
                sys.path.insert(0, path)


use_code()
