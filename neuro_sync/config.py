"""Configuration: the cluster part of `/config`, the 2019 `~/.nmrc` file, and token claims."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yarl import URL

from .errors import ConfigError, ValidationError
from .models import Resources

if TYPE_CHECKING:
    import yaml

__all__ = [
    "DIALECTS",
    "ENV_DIALECT",
    "ENV_TOKEN",
    "ENV_URL",
    "ClusterConfig",
    "Preset",
    "config_file_path",
    "load_config_file",
    "username_from_token",
    "write_config_file",
]

ENV_URL = "NEURO_SYNC_URL"
ENV_TOKEN = "NEURO_SYNC_TOKEN"  # noqa: S105 - a variable name, not a secret
ENV_CONFIG = "NEUROMATION_CONFIG"
ENV_DIALECT = "NEURO_SYNC_DIALECT"
# The wire forms of the Jobs API this client speaks (docs/dialects.md); the first is the default.
DIALECTS = ("2019", "2022")


def check_dialect(value: object, source: str | None = None) -> str:
    """A dialect name, or a typed error naming it: `ValidationError` for an argument,
    `ConfigError` naming `source` (a variable or a file) for configuration."""
    if isinstance(value, str) and value in DIALECTS:
        return value
    problem = f"must be one of {', '.join(map(repr, DIALECTS))}, got {value!r}"
    if source is None:
        raise ValidationError("dialect", problem)
    raise ConfigError(f"{source}: the dialect {problem}")


USER_CLAIMS = ("identity", "https://platform.neuromation.io/user")


@dataclass(frozen=True)
class Preset:
    """A resource preset of the cluster."""

    cpu: float
    memory_mb: int
    gpu: int | None = None
    gpu_model: str | None = None
    is_preemptible: bool = False

    # The one encoding of a preset, for `/config` replies and the config file alike (the
    # `ResourcePreset` schema of openapi/jobs.yaml, without its name).
    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Preset:
        """A preset from its wire object. Raises KeyError, TypeError, ValueError if malformed."""
        gpu, gpu_model = data.get("gpu"), data.get("gpu_model")
        return cls(
            cpu=float(data["cpu"]),
            memory_mb=int(data["memory_mb"]),
            gpu=None if gpu is None else int(gpu),
            gpu_model=None if gpu_model is None else str(gpu_model),
            is_preemptible=bool(data.get("is_preemptible", False)),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire object (absent rather than null for no GPU)."""
        item: dict[str, Any] = {"cpu": self.cpu, "memory_mb": self.memory_mb}
        if self.gpu is not None:
            item["gpu"] = self.gpu
        if self.gpu_model is not None:
            item["gpu_model"] = self.gpu_model
        item["is_preemptible"] = self.is_preemptible
        return item

    def resources(
        self,
        *,
        cpu: float | None = None,
        memory_mb: int | None = None,
        gpu: int | None = None,
        gpu_model: str | None = None,
        shm: bool | None = None,
    ) -> Resources:
        """The preset's `Resources`, with the values given instead of the preset's.

        With another `gpu`, the preset's GPU model comes along only when that asks for GPUs
        (`gpu=0` means none, and no model).
        """
        if gpu is None:
            gpu = self.gpu
            gpu_model = self.gpu_model if gpu_model is None else gpu_model
        else:
            gpu_model = self.gpu_model if gpu_model is None and gpu else gpu_model
            gpu = gpu or None
        return Resources(
            memory_mb=self.memory_mb if memory_mb is None else memory_mb,
            cpu=self.cpu if cpu is None else cpu,
            gpu=gpu,
            gpu_model=gpu_model,
            shm=shm,
        )


@dataclass(frozen=True)
class ClusterConfig:
    """The cluster part of `GET /config`."""

    registry_url: URL
    storage_url: URL
    users_url: URL
    monitoring_url: URL
    resource_presets: Mapping[str, Preset] = field(default_factory=dict)

    @property
    def registry_host(self) -> str:
        """host[:explicit port] of the registry, the prefix of platform image names."""
        host = self.registry_url.host or ""
        if self.registry_url.explicit_port is not None:
            return f"{host}:{self.registry_url.explicit_port}"
        return host

    def preset(self, name: str | None = None) -> tuple[str, Preset]:
        """A resource preset by name; `None` gives the cluster's default (its first) preset.

        Raises:
            ValidationError: no such preset (the message lists the known ones), or the cluster
                has none.
        """
        if name is None:
            if not self.resource_presets:
                raise ValidationError("preset", "the cluster has no resource presets")
            name = next(iter(self.resource_presets))
        found = self.resource_presets.get(name)
        if found is None:
            known = ", ".join(self.resource_presets) or "none"
            raise ValidationError("preset", f"unknown preset {name!r} (known: {known})")
        return name, found

    def preset_resources(self, name: str | None = None, *, shm: bool | None = None) -> Resources:
        """The `Resources` of a preset (see `preset`), e.g. for `Container(resources=...)`."""
        return self.preset(name)[1].resources(shm=shm)

    def to_yaml_dict(self) -> dict[str, Any]:
        presets = {name: p.to_wire() for name, p in self.resource_presets.items()}
        return {
            "registry_url": str(self.registry_url),
            "storage_url": str(self.storage_url),
            "users_url": str(self.users_url),
            "monitoring_url": str(self.monitoring_url),
            "resource_presets": presets,
        }

    @classmethod
    def from_yaml_dict(cls, data: Mapping[str, Any]) -> ClusterConfig:
        try:
            presets = {
                str(name): Preset.from_wire(p)
                for name, p in (data.get("resource_presets") or {}).items()
            }
            return cls(
                registry_url=URL(str(data["registry_url"])),
                storage_url=URL(str(data["storage_url"])),
                users_url=URL(str(data["users_url"])),
                monitoring_url=URL(str(data["monitoring_url"])),
                resource_presets=presets,
            )
        except KeyError as err:
            # The key is one of ours; a value is never quoted (it might be the token).
            raise ConfigError(
                f"Malformed cluster_config in the config file: no {err.args[0]!r}"
            ) from None
        except (TypeError, ValueError, AttributeError) as err:
            raise ConfigError(
                "Malformed cluster_config in the config file: a value of the wrong type "
                f"({type(err).__name__})"
            ) from None


def username_from_token(token: str) -> str:
    """The user name from the token's JWT claims (unverified), as the 2019 SDK derives it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ConfigError("The token is not a JWT (expected three dot-separated parts)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        raise ConfigError("The token's JWT claims cannot be decoded") from None
    if isinstance(claims, dict):
        for claim in USER_CLAIMS:
            name = claims.get(claim)
            if isinstance(name, str) and name:
                return name
    raise ConfigError("JWT Claims structure is not correct: no user identity in the token")


def config_file_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The config file: the argument, else `$NEUROMATION_CONFIG`, else `~/.nmrc`."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    return Path("~/.nmrc").expanduser()


@dataclass(frozen=True)
class FileConfig:
    url: str
    token: str
    cluster: ClusterConfig | None
    known_hosts: str | None = None  # the SSH gateway's host keys (`ssh_known_hosts`)
    dialect: str | None = None  # `dialect`, when the file names one

    def __repr__(self) -> str:
        return f"FileConfig(url={self.url!r}, token=<hidden>)"


def load_config_file(path: Path) -> FileConfig:
    """Read a 2019 `.nmrc` YAML file (`url`, `auth_token.token`, `cluster_config`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"Cannot read the config file {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"The config file {path} is not UTF-8 text (a bad byte at offset {err.start})"
        ) from None
    import yaml  # only when a config file is read or written: slow to import

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(
            f"The config file {path} is not valid YAML: {_yaml_problem(err)}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"The config file {path} is not a YAML mapping")
    url = data.get("url")
    auth = data.get("auth_token")
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(url, str) or not url:
        raise ConfigError(f"The config file {path} has no `url`")
    if not isinstance(token, str) or not token:
        raise ConfigError(f"The config file {path} has no `auth_token.token`; log in again")
    cluster_data = data.get("cluster_config")
    cluster = ClusterConfig.from_yaml_dict(cluster_data) if isinstance(cluster_data, dict) else None
    known_hosts = data.get("ssh_known_hosts")
    if known_hosts is not None and (not isinstance(known_hosts, str) or not known_hosts):
        raise ConfigError(f"The config file {path}: `ssh_known_hosts` must be a file path")
    if known_hosts is not None:  # relative to the config file
        known_hosts = str(path.parent / Path(known_hosts).expanduser())
    dialect = data.get("dialect")
    if dialect is not None:
        dialect = check_dialect(dialect, f"The config file {path}")
    return FileConfig(
        url=url, token=token, cluster=cluster, known_hosts=known_hosts, dialect=dialect
    )


# Quoted parts of a YAML error: the text it found, which may be the token.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _yaml_problem(err: yaml.YAMLError) -> str:
    """What is wrong and where, without the file's text.

    str() of a YAML error quotes the offending line (and the scanned value), which in a
    config file is likely the token's line.
    """
    problem = getattr(err, "problem", None)
    text = _QUOTED.sub("...", problem) if isinstance(problem, str) else "unreadable YAML"
    mark = getattr(err, "problem_mark", None)
    if mark is not None:
        text += f" (line {mark.line + 1}, column {mark.column + 1})"
    return text


def write_config_file(
    path: Path, *, url: str, token: str, cluster: ClusterConfig, dialect: str = DIALECTS[0]
) -> None:
    """Write a 2019-format `.nmrc` with mode 0600 (the token is a secret); a `dialect` key
    only for a dialect other than the default."""
    data = {
        "url": url,
        "auth_config": {},
        "cluster_config": cluster.to_yaml_dict(),
        "auth_token": {
            "token": token,
            # login_with_token treats the token as valid for three years.
            "expiration_time": int(time.time()) + 3 * 365 * 24 * 3600,
            "refresh_token": "",
        },
        "pypi": {},
        "cookie_session": {},
        "version": "neuro-sync",
    }
    if dialect != DIALECTS[0]:
        data["dialect"] = dialect
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, default_flow_style=False, sort_keys=False)
    os.replace(tmp, path)
