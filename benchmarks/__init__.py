"""Benchmarks of neuro-sync against bare `requests` (and optionally the 2019 SDK).

`python -m benchmarks.run` (or `make bench`) runs them; see benchmarks/README.md.
Modules here import only the standard library at import time, so that `benchmarks._measure`
can also be used by the 2019 SDK's driver in its own virtualenv.
"""
