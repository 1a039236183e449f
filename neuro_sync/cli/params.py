"""Parsers of command-line values: memory sizes, durations, env pairs, ports, token sources."""

from __future__ import annotations

import datetime
import math
import os
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import click

__all__ = [
    "Duration",
    "MemorySize",
    "Moment",
    "PortPair",
    "command_line",
    "parse_env",
    "read_secret",
    "strip_dashes",
]

# Binary units, as the 2019 `neuro` CLI read `-m 1G`; a bare number is megabytes.
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:ib|i|b)?\s*$", re.IGNORECASE)
_MEMORY_FACTOR_MB = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}
# A bare number of seconds, or numbers with units in any order: `90`, `1h30m`, `3600s`.
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$|^(?:\s*\d+(?:\.\d+)?\s*[smhd])+\s*$", re.I)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_DURATION_FACTOR = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class MemorySize(click.ParamType[int]):
    """`512M`, `1G`, `1.5GB`, `2Gi` or a bare number of megabytes -> whole megabytes."""

    name = "memory"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        match = _MEMORY.match(str(value))
        if match is None:
            self.fail(f"{value!r} is not a memory size like 512M or 1G", param, ctx)
        mb = float(match.group(1)) * _MEMORY_FACTOR_MB[match.group(2).lower()]
        return math.ceil(mb)


class Duration(click.ParamType[float]):
    """Seconds, or numbers with units: `90`, `30s`, `10m`, `2h`, `1d`, `1h30m`."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        match = _DURATION.match(str(value))
        if match is None:
            self.fail(f"{value!r} is not a duration like 90, 30s, 10m, 2h or 1h30m", param, ctx)
        if match.group(1) is not None:
            return float(match.group(1))
        parts = _DURATION_PART.findall(str(value))
        return sum(float(n) * _DURATION_FACTOR[unit.lower()] for n, unit in parts)


class Moment(click.ParamType[datetime.datetime]):
    """A time: ISO 8601 (`2022-07-01T12:00`, local time without a zone) or a duration ago
    (`10m`, `1h30m`, `2d`)."""

    name = "time"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime.datetime:
        if isinstance(value, datetime.datetime):
            return value
        text = str(value).strip()
        match = _DURATION.match(text)
        if match is not None and match.group(1) is None:  # a bare number is no time ago
            ago = Duration().convert(text, param, ctx)
            return datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=ago)
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a time like 2022-07-01T12:00 or 10m (ago)", param, ctx)
        # Without a zone: this machine's local time, as a user typing it means.
        return moment if moment.tzinfo is not None else moment.astimezone()


class PortPair(click.ParamType[tuple[int, int]]):
    """`LOCAL:REMOTE` port numbers."""

    name = "local:remote"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        local, sep, remote = str(value).partition(":")
        if not sep or not local.isdigit() or not remote.isdigit():
            self.fail(f"{value!r} is not LOCAL:REMOTE, e.g. 8080:80", param, ctx)
        return int(local), int(remote)


def _env_pair(item: str, where: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    name = name.strip()
    if not _ENV_NAME.match(name):
        raise click.BadParameter(f"{where}: {name!r} is not a variable name")
    if not sep:
        # `-e NAME` copies the variable from this environment: a secret stays off argv.
        if name not in os.environ:
            raise click.BadParameter(f"{where}: {name} is not set in this environment")
        return name, os.environ[name]
    return name, value


def parse_env(items: Iterable[str], env_file: Path | None) -> dict[str, str]:
    """`--env-file` lines, then `-e` items (later ones win). Files skip blanks and `#` lines."""
    env: dict[str, str] = {}
    if env_file is not None:
        try:
            lines = env_file.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise click.BadParameter(f"cannot read {env_file}: {err.strerror}") from None
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if text and not text.startswith("#"):
                key, value = _env_pair(text, f"{env_file}:{number}")
                env[key] = value
    for item in items:
        key, value = _env_pair(item, "--env")
        env[key] = value
    return env


def strip_dashes(args: Sequence[str]) -> list[str]:
    """CMD without the `--` that ends the options (click keeps it once IMAGE/ID is read)."""
    return list(args[1:] if args and args[0] == "--" else args)


def command_line(args: Sequence[str]) -> str | None:
    """The job's command string: one argument is taken as a whole command line (as the 2019
    CLI did), several are quoted word by word so that `sh -c 'exit 3'` survives."""
    args = strip_dashes(args)
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return shlex.join(args)


def read_secret(value: str | None, what: str) -> str | None:
    """A token given as `-` (first line of stdin) or `@FILE` (its first line), else literal."""
    if value is None:
        return None
    if value == "-":
        line = sys.stdin.readline().strip()
        if not line:
            raise click.BadParameter(f"no {what} on standard input")
        return line
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise click.BadParameter(
                f"cannot read the {what} file {path}: {err.strerror}"
            ) from None
        if not text:
            raise click.BadParameter(f"the {what} file {path} is empty")
        return text.splitlines()[0].strip()
    return value
