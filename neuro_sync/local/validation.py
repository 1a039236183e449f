"""Request validation with the real server's rules (wire-2019 §2.2, §2.3, §3.3).

Like the platform's trafaret schemas: unknown keys are rejected at every level, strings are
non-blank, numbers are range-checked. Numeric strings are coerced where the real server coerced
them (cpu, memory_mb). Errors become 400 `{"error": ...}` in the handlers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

JOB_NAME_RE = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
USER_NAME_RE = re.compile(r"^[a-z0-9](?:-?[a-z0-9])*$")
STATUSES = ("pending", "running", "succeeded", "failed")
MAX_SCHEDULE_TIMEOUT = 30 * 24 * 3600
# Docker reference grammar after the domain: path components, then an optional tag.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_PATH_RE = re.compile(
    rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::\w[\w.-]{{0,127}})?", re.ASCII
)


class InvalidRequest(ValueError):
    """A request the server answers with 400."""


def _fail(path: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{{'{path}': DataError({message})}}")


def _keys(data: object, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(path, "value is not a dict")
    for key in data:
        if key not in required and key not in optional:
            raise _fail(f"{path}.{key}" if path else str(key), f"{key} is not allowed key")
    for key in required:
        if key not in data:
            raise _fail(f"{path}.{key}" if path else key, "is required")
    return data


def _non_blank(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, "value is not a string")
    if not value.strip():
        raise _fail(path, "blank value is not allowed")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "value should be True or False")
    return value


def _number(value: object, path: str) -> float:
    # The real server's Float() coerces numeric strings and booleans.
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:  # an int beyond float range
            raise _fail(path, "value is not a finite number") from None
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise _fail(path, "value can't be converted to float") from None
    else:
        raise _fail(path, "value is not float")
    if not math.isfinite(result):
        raise _fail(path, "value is not a finite number")
    return result


def _int(value: object, path: str, *, coerce: bool = False) -> int:
    if isinstance(value, bool):
        raise _fail(path, "value is not int")
    if isinstance(value, int):
        return value
    if coerce and isinstance(value, float) and value.is_integer():
        return int(value)
    if coerce and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise _fail(path, "value can't be converted to int") from None
    raise _fail(path, "value is not int")


def _range(value: float, path: str, low: float, high: float | None = None) -> None:
    if value < low:
        raise _fail(path, f"value is less than {low:g}")
    if high is not None and value > high:
        raise _fail(path, f"value is greater than {high:g}")


def job_name(value: object, path: str = "name") -> str:
    name = _non_blank(value, path)
    if not 3 <= len(name) <= 40:
        raise _fail(path, "length should be between 3 and 40")
    # fullmatch: `$` alone would accept a trailing newline ("abc\n").
    if not JOB_NAME_RE.fullmatch(name):
        raise _fail(path, f"does not match pattern {JOB_NAME_RE.pattern}")
    return name


def user_name(value: object, path: str = "owner") -> str:
    name = _non_blank(value, path)
    if not 3 <= len(name) <= 21 or not USER_NAME_RE.fullmatch(name):
        raise _fail(path, f"does not match pattern {USER_NAME_RE.pattern}")
    return name


def _resources(data: object, gpu_models: tuple[str, ...]) -> dict[str, Any]:
    path = "container.resources"
    r = _keys(data, path, {"cpu", "memory_mb"}, {"shm", "gpu", "gpu_model", "tpu"})
    if "tpu" in r:
        raise _fail(f"{path}.tpu", "tpu is not allowed key")
    out: dict[str, Any] = {}
    out["cpu"] = _number(r["cpu"], f"{path}.cpu")
    _range(out["cpu"], f"{path}.cpu", 0.1, 128)
    out["memory_mb"] = _int(r["memory_mb"], f"{path}.memory_mb", coerce=True)
    _range(out["memory_mb"], f"{path}.memory_mb", 16)
    if "gpu" in r:
        # null is rejected like any other non-int (the real server's Int check).
        out["gpu"] = _int(r["gpu"], f"{path}.gpu")
        _range(out["gpu"], f"{path}.gpu", 0, 128)
    if "gpu_model" in r:
        if "gpu" not in r or r["gpu"] is None:
            raise _fail(f"{path}.gpu_model", "gpu_model is allowed only together with gpu")
        model = _non_blank(r["gpu_model"], f"{path}.gpu_model")
        if model not in gpu_models:
            raise _fail(f"{path}.gpu_model", f"value doesn't match any variant {list(gpu_models)}")
        out["gpu_model"] = model
    if "shm" in r:
        out["shm"] = _bool(r["shm"], f"{path}.shm")
    return out


def _port(value: object, path: str) -> int:
    port = _int(value, path)
    _range(port, path, 0, 65535)
    return port


def _has_dotdot(path: str) -> bool:
    return ".." in path.split("/")


def _volume(data: object, i: int) -> dict[str, Any]:
    path = f"container.volumes.{i}"
    v = _keys(data, path, {"src_storage_uri", "dst_path"}, {"read_only"})
    src = _non_blank(v["src_storage_uri"], f"{path}.src_storage_uri")
    if not src.startswith("storage:"):
        raise InvalidRequest(f"Invalid URI scheme: {src}")
    if _has_dotdot(src[len("storage:") :]):
        raise InvalidRequest(f"Invalid path: {src}")
    dst = _non_blank(v["dst_path"], f"{path}.dst_path")
    if not dst.startswith("/"):
        raise InvalidRequest(f"Mount path must be absolute: {dst}")
    if _has_dotdot(dst):
        raise InvalidRequest(f"Invalid path: {dst}")
    read_only = _bool(v["read_only"], f"{path}.read_only") if "read_only" in v else True
    return {"src_storage_uri": src, "dst_path": dst, "read_only": read_only}


def job_request(data: object, *, gpu_models: tuple[str, ...]) -> dict[str, Any]:
    """Validate a POST /jobs body; return it normalised (coerced numbers, defaults filled)."""
    body = _keys(
        data, "", {"container"}, {"name", "description", "is_preemptible", "schedule_timeout"}
    )
    c = _keys(
        body["container"],
        "container",
        {"image", "resources"},
        {"entrypoint", "command", "env", "http", "ssh", "volumes"},
    )
    container: dict[str, Any] = {"image": _non_blank(c["image"], "container.image")}
    for key in ("entrypoint", "command"):
        if key in c:
            container[key] = _non_blank(c[key], f"container.{key}")
    env = c.get("env", {})
    if not isinstance(env, dict):
        raise _fail("container.env", "value is not a dict")
    for key, value in env.items():
        _non_blank(key, "container.env")
        if not isinstance(value, str):
            raise _fail(f"container.env.{key}", "value is not a string")
    container["env"] = dict(env)
    container["resources"] = _resources(c["resources"], gpu_models)
    if "http" in c:
        h = _keys(c["http"], "container.http", {"port"}, {"health_check_path", "requires_auth"})
        container["http"] = {
            "port": _port(h["port"], "container.http.port"),
            "health_check_path": _non_blank(
                h.get("health_check_path", "/"), "container.http.health_check_path"
            ),
            "requires_auth": _bool(h.get("requires_auth", False), "container.http.requires_auth"),
        }
    if "ssh" in c:
        s = _keys(c["ssh"], "container.ssh", {"port"}, set())
        container["ssh"] = {"port": _port(s["port"], "container.ssh.port")}
    volumes = c.get("volumes", [])
    if not isinstance(volumes, list):
        raise _fail("container.volumes", "value is not a list")
    container["volumes"] = [_volume(v, i) for i, v in enumerate(volumes)]
    dsts = [v["dst_path"] for v in container["volumes"]]
    if len(set(dsts)) != len(dsts):
        raise _fail("container.volumes", "destination paths must be unique")

    out: dict[str, Any] = {"container": container}
    name = body.get("name")
    if name is not None:
        out["name"] = job_name(name)
    if "description" in body:
        out["description"] = _non_blank(body["description"], "description")
    out["is_preemptible"] = (
        _bool(body["is_preemptible"], "is_preemptible") if "is_preemptible" in body else False
    )
    if "schedule_timeout" in body:
        timeout = _number(body["schedule_timeout"], "schedule_timeout")
        if not 1 <= timeout < MAX_SCHEDULE_TIMEOUT:
            raise _fail("schedule_timeout", f"value should be >= 1 and < {MAX_SCHEDULE_TIMEOUT}")
        out["schedule_timeout"] = timeout
    return out


def save_request(data: object, registry_host: str) -> str:
    """Validate a save body; return the image reference."""
    body = _keys(data, "", {"container"}, set())
    c = _keys(body["container"], "container", {"image"}, set())
    image = _non_blank(c["image"], "container.image")
    domain, slash, rest = image.partition("/")
    if not slash or not IMAGE_PATH_RE.fullmatch(rest):
        raise InvalidRequest(f"invalid reference format: {image}")
    if domain != registry_host:
        raise InvalidRequest(f"Unknown registry host: {domain}")
    return image


def list_filters(query: Mapping[str, Any]) -> dict[str, Any]:
    """Validate GET /jobs query parameters (a MultiDict-like mapping with getall)."""
    statuses = list(query.getall("status", []))  # type: ignore[attr-defined]
    for status in statuses:
        if status not in STATUSES:
            raise InvalidRequest(f"'{status}' is not a valid JobStatus")
    out: dict[str, Any] = {"statuses": set(statuses)}
    if "name" in query:
        out["name"] = job_name(query["name"])
    owners = list(query.getall("owner", []))  # type: ignore[attr-defined]
    out["owners"] = {user_name(o) for o in owners}
    if "hostname" in query:
        if "name" in query or owners:
            raise InvalidRequest("Invalid request")
        out["hostname"] = str(query["hostname"])
    return out
