"""Image-name and volume-string parsing with the 2019 SDK's rules (docs/protocol.md §4.2, §4.3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from .errors import ValidationError
from .models import RemoteImage, Volume

__all__ = ["Parser", "parse_remote_image", "parse_volume"]

# Placeholder for an image the server echoed that cannot be parsed (as the 2019 SDK does).
INVALID_IMAGE_NAME = "INVALID-IMAGE-NAME"
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d+$")


def _split_tag(ref: str, image: str) -> tuple[str, str]:
    if not ref or ref.startswith(":") or ref.endswith(":"):
        raise ValueError(f"Invalid image name {image!r}")
    name, sep, tag = ref.partition(":")
    if not sep:
        return name, "latest"
    if ":" in tag or "/" in tag:
        raise ValueError(f"Invalid image name {image!r}: bad tag")
    return name, tag


def parse_remote_image(image: str, *, registry_host: str, username: str) -> RemoteImage:
    """Parse an image reference as the server echoes it.

    `image:name`, `image://owner/name` and `{registry_host}/owner/name` are platform images;
    anything else is a plain Docker name. A missing tag becomes `latest`.

    Raises:
        ValueError: the name cannot be parsed.
    """
    if not image or image.startswith("-"):
        raise ValueError(f"Invalid image name {image!r}")
    if image.startswith("image:"):
        if image == "image:latest":
            raise ValueError(f"Invalid image name {image!r}")
        parts = urlsplit(image)
        if parts.query or parts.fragment or "@" in parts.netloc or ":" in parts.netloc:
            raise ValueError(f"Invalid image name {image!r}")
        if image.startswith("image://"):
            owner = parts.netloc
            ref = parts.path.lstrip("/")
        else:
            owner, ref = "~", parts.path
        if owner == "~":
            owner = username
        if not owner:
            raise ValueError(f"Invalid image name {image!r}: no owner")
        name, tag = _split_tag(ref, image)
        return RemoteImage(name=name, tag=tag, owner=owner, registry=registry_host)
    if registry_host and image.startswith(registry_host + "/"):
        owner, _, ref = image[len(registry_host) + 1 :].partition("/")
        if not owner or not ref:
            raise ValueError(f"Invalid image name {image!r}")
        name, tag = _split_tag(ref, image)
        return RemoteImage(name=name, tag=tag, owner=owner, registry=registry_host)
    registry: str | None = None
    first, slash, rest = image.partition("/")
    if slash and _HOST_PORT.match(first):
        registry, image_ref = first, rest
    else:
        image_ref = image
    name, tag = _split_tag(image_ref, image)
    return RemoteImage(name=name, tag=tag, registry=registry)


def _normalize_storage(uri: str, username: str, spec: str) -> str:
    if not uri.startswith("storage:"):
        raise ValidationError("volume", f"Invalid storage scheme in {spec!r}")
    rest = uri[len("storage:") :]
    if rest.startswith("//"):
        host, _, path = rest[2:].partition("/")
        if host == "~":
            host = username
        elif host.startswith("~"):
            raise ValidationError("volume", f"Cannot expand user in {spec!r}")
        parts = [host] + [p for p in path.split("/") if p]
    elif rest.startswith("/"):
        parts = [p for p in rest.split("/") if p]
    else:
        if rest.startswith("~"):
            if rest != "~" and not rest.startswith("~/"):
                raise ValidationError("volume", f"Cannot expand user in {spec!r}")
            rest = rest[1:]
        parts = [username] + [p for p in rest.split("/") if p]
    if not parts:
        parts = [username]
    return "storage://" + "/".join(parts)


def parse_volume(spec: str, *, username: str) -> Volume:
    """Parse `storage:<path>:<container path>[:ro|rw]` into a `Volume` (default read-write).

    Raises:
        ValidationError: the string is malformed.
    """
    parts = spec.split(":")
    if len(parts) == 4:
        mode = parts[3]
        if mode not in ("ro", "rw"):
            raise ValidationError("volume", f"Wrong ReadWrite/ReadOnly mode spec for {spec!r}")
        read_only = mode == "ro"
    elif len(parts) == 3:
        read_only = False
    else:
        raise ValidationError("volume", f"Invalid volume specification {spec!r}")
    storage = _normalize_storage(f"{parts[0]}:{parts[1]}", username, spec)
    return Volume(storage_path=storage, container_path=parts[2], read_only=read_only)


class Parser:
    """String parsers bound to a client's user and registry (`client.parse`)."""

    def __init__(self, *, username: str, registry_host: str | Callable[[], str]) -> None:
        self._username = username
        # A callable defers the /config request until an image is actually parsed.
        self._registry_host = registry_host

    def remote_image(self, image: str) -> RemoteImage:
        """Parse an image name (`ubuntu`, `image://~/img:v1`, ...) into a `RemoteImage`.

        Raises:
            ValidationError: the name cannot be parsed.
        """
        try:
            return parse_remote_image(image, registry_host=self._host(), username=self._username)
        except ValueError as err:
            raise ValidationError("image", str(err)) from None

    def _host(self) -> str:
        host = self._registry_host
        return host if isinstance(host, str) else host()

    def volume(self, spec: str) -> Volume:
        """Parse `storage:<path>:<container path>[:ro|rw]` into a `Volume`."""
        return parse_volume(spec, username=self._username)
