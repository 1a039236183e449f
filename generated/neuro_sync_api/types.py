"""Shared types for the generated models and endpoints."""

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import IO, BinaryIO, Generic, Literal, TypeVar


class Unset:
    def __bool__(self) -> Literal[False]:
        return False


UNSET: Unset = Unset()

# (connect, read) seconds. requests has no default timeout at all, so a forgotten one would
# hang a notebook forever. Here rather than in `client`, so that it is read without `requests`.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

# What `requests` accepts for one multipart file.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


# Plain dataclasses, not attrs (which the models use): `import neuro_sync` loads this module but
# none of the models, and importing attrs costs more than this module.
@dataclass(slots=True, weakref_slot=True)
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """A tuple requests accepts for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


@dataclass(slots=True, weakref_slot=True)
class Response(Generic[T]):
    """A response from an endpoint.

    `status_code` is a plain int: proxies answer codes such as 520 that `HTTPStatus` lacks.
    """

    status_code: int
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


__all__ = ["UNSET", "File", "FileTypes", "RequestFiles", "Response", "Unset"]
