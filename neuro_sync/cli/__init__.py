"""The `neuro-sync` command line, built on the public `neuro_sync` API only.

`neuro-sync --help` lists the commands; `python -m neuro_sync` is the same program.
"""

from . import account, jobs
from .app import cli, main

__all__ = ["account", "cli", "jobs", "main"]
