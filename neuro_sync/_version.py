"""The package version: the one place it is written (pyproject reads it, the User-Agent uses it)."""

__version__ = "0.1.0"
