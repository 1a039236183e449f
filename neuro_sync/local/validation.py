"""Request validation with the real server's rules and error texts (POST /jobs, GET /jobs, save).

The rules themselves are the generated schemas of `openapi/jobs.yaml`
(`neuro_sync_api.validation`), shared with the client. What stays here is server behaviour the
spec does not describe: numeric strings coerced for cpu/memory_mb (the platform's trafaret did
that), the error text shapes, the cluster's GPU models (runtime configuration), hostname vs
name/owner in the list query (a rule between parameters), and the save image reference.
Errors become 400 `{"error": ...}` in the handlers.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema
from neuro_sync_api import validation as rules

# Docker reference grammar after the domain: path components, then an optional tag.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_PATH_RE = re.compile(
    rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::\w[\w.-]{{0,127}})?", re.ASCII
)


class InvalidRequest(ValueError):
    """A request the server answers with 400."""


def _fail(path: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{{'{path}': DataError({message})}}")


def _load(schema: Schema, data: object) -> dict[str, Any]:
    """Load `data` with a generated schema; the first error as the real server words it.

    Schema errors come first (the real server runs its schema before the checks whose texts
    stand alone, such as volume paths).
    """
    try:
        loaded: dict[str, Any] = schema.load(data)  # type: ignore[arg-type]
    except rules.ValidationError as err:
        found = list(rules.errors(err.messages))
        first = min(found, key=lambda e: e.standalone)
        if first.standalone:
            raise InvalidRequest(first.message) from None
        raise _fail(first.path, first.message) from None
    return loaded


def _coerce(value: object, kind: type[int] | type[float], path: str) -> object:
    """The real server's Int()/Float() took numeric strings (and Float() booleans)."""
    if kind is float and isinstance(value, bool | str):
        try:
            return float(value)
        except ValueError:
            raise _fail(path, "value can't be converted to float") from None
    if kind is int and isinstance(value, str):
        try:
            return int(value)
        except ValueError:  # also beyond int()'s digit limit
            raise _fail(path, "value can't be converted to int") from None
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _coerced(data: object) -> object:
    """A copy of the body with cpu/memory_mb coerced; anything malformed is left to the schema."""
    if not isinstance(data, dict) or not isinstance(data.get("container"), dict):
        return data
    resources = data["container"].get("resources")
    if not isinstance(resources, dict):
        return data
    resources = dict(resources)
    path = "container.resources"
    for key, kind in (("cpu", float), ("memory_mb", int)):
        if key in resources:
            resources[key] = _coerce(resources[key], kind, f"{path}.{key}")
    return {**data, "container": {**data["container"], "resources": resources}}


_USER_NAME = rules.user_name()


def is_user_name(value: object) -> bool:
    """Whether `value` is a valid platform user name (the spec's UserName)."""
    try:
        _USER_NAME.deserialize(value)
    except rules.ValidationError:
        return False
    return True


# One instance per dialect: a 2019 schema lacks the 2022 keys (refused, or for queries
# ignored, as the 2019 server did).
_JOB_REQUEST = rules.for_dialect(rules.JobRequest, "2019")
_LIST_QUERY = rules.for_dialect(rules.ListJobsQuery, "2019")
_JOB_REQUEST_2022 = rules.for_dialect(rules.JobRequest, "2022")
_LIST_QUERY_2022 = rules.for_dialect(rules.ListJobsQuery, "2022")
_LOG_QUERY = rules.for_dialect(rules.GetJobLogQuery, "2022")
_LIFE_SPAN = rules.for_dialect(rules.LifeSpanRequest, "2022")
_SAVE_REQUEST = rules.SaveRequest()
# Statuses a 2022 server lists by (the spec's JobStatusFilter is the 2019 list).
_LATER_STATUSES = ("cancelled", "suspended")
MIB = 2**20


def _memory_in_bytes(data: object) -> object:
    """A 2022 body may give `resources.memory` (bytes) instead of `memory_mb`: derive it."""
    if not isinstance(data, dict) or not isinstance(data.get("container"), dict):
        return data
    resources = data["container"].get("resources")
    if not isinstance(resources, dict) or "memory_mb" in resources:
        return data
    memory = resources.get("memory")
    if isinstance(memory, bool) or not isinstance(memory, int):
        return data
    resources = {**resources, "memory_mb": -(-memory // MIB)}
    return {**data, "container": {**data["container"], "resources": resources}}


def job_request(
    data: object, *, gpu_models: tuple[str, ...], dialect: str = "2019"
) -> dict[str, Any]:
    """Validate a POST /jobs body; return it normalised (coerced numbers, defaults filled)."""
    if dialect != "2019":
        data = _memory_in_bytes(data)
    body = _load(_JOB_REQUEST if dialect == "2019" else _JOB_REQUEST_2022, _coerced(data))
    container = body["container"]
    resources = container["resources"]
    model = resources.get("gpu_model")
    if model is not None and model not in gpu_models:
        raise _fail(
            "container.resources.gpu_model", f"value doesn't match any variant {list(gpu_models)}"
        )
    resources["cpu"] = float(resources["cpu"])
    container.setdefault("env", {})
    container.setdefault("volumes", [])
    if "schedule_timeout" in body:
        body["schedule_timeout"] = float(body["schedule_timeout"])
    if body.get("name") is None:
        body.pop("name", None)
    return body


def save_request(data: object, registry_host: str) -> str:
    """Validate a save body; return the image reference."""
    image: str = _load(_SAVE_REQUEST, data)["container"]["image"]
    domain, slash, rest = image.partition("/")
    if not slash or not IMAGE_PATH_RE.fullmatch(rest):
        raise InvalidRequest(f"invalid reference format: {image}")
    if domain != registry_host:
        raise InvalidRequest(f"Unknown registry host: {domain}")
    return image


def platform_image(image: str, registry_host: str) -> tuple[str, str] | None:
    """(owner, `image://owner/rest` URI) of an image in the platform's registry
    (`<registry host>/<owner>/<name>[:tag]`), or None for any other image."""
    domain, slash, rest = image.partition("/")
    if not slash or domain.lower() != registry_host.lower():
        return None
    owner = re.split(r"[/:@]", rest, maxsplit=1)[0]
    return owner, f"image://{rest}"


def list_filters(query: Mapping[str, Any], dialect: str = "2019") -> dict[str, Any]:
    """Validate GET /jobs query parameters (a MultiDict-like mapping with getall)."""
    getall = query.getall  # type: ignore[attr-defined]
    raw: dict[str, Any] = {"status": list(getall("status", [])), "owner": list(getall("owner", []))}
    later: set[str] = set()
    if dialect != "2019":
        later = {s for s in raw["status"] if s in _LATER_STATUSES}
        raw["status"] = [s for s in raw["status"] if s not in _LATER_STATUSES]
        raw["tag"] = list(getall("tag", []))
        raw["cluster_name"] = list(getall("cluster_name", []))
    for key in ("name", "hostname", "since", "until", "reverse", "limit"):
        if key in query:
            raw[key] = query[key]
    loaded = _load(_LIST_QUERY if dialect == "2019" else _LIST_QUERY_2022, raw)
    out: dict[str, Any] = {
        "statuses": set(loaded["status"]) | later,
        "owners": set(loaded["owner"]),
    }
    if dialect != "2019":
        out["tags"] = set(loaded.get("tag", []))
        for key in ("since", "until"):
            if key in loaded:
                out[key] = _instant(key, loaded[key])
        out["reverse"] = loaded.get("reverse") in ("1", "true")
        if "limit" in loaded:
            out["limit"] = int(loaded["limit"])
    if "name" in loaded:
        out["name"] = loaded["name"]
    if "hostname" in loaded:
        # A rule between parameters, which a parameter schema cannot state.
        if "name" in loaded or loaded["owner"]:
            raise InvalidRequest("Invalid request")
        out["hostname"] = loaded["hostname"]
    return out


def _instant(key: str, text: str) -> datetime.datetime:
    """An ISO 8601 time; one without a zone is UTC."""
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{key}: {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def log_params(query: Mapping[str, Any]) -> dict[str, Any]:
    """The 2022 log query (`since`, `timestamps`); other parameters are ignored."""
    raw = {key: query[key] for key in ("since", "timestamps") if key in query}
    loaded = _load(_LOG_QUERY, raw)
    out: dict[str, Any] = {"timestamps": loaded.get("timestamps") in ("1", "true")}
    if "since" in loaded:
        out["since"] = _instant("since", loaded["since"])
    return out


def life_span_request(data: object) -> dict[str, Any]:
    """A life span bump body: exactly one of its two keys."""
    body = _load(_LIFE_SPAN, data)
    if len(body) != 1:
        raise InvalidRequest(
            "exactly one of max_run_time_minutes and additional_max_run_time_minutes"
        )
    return body
