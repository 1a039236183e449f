"""Bearer JWT (HS256) with a secret kept in the data dir; the user is the `identity` claim."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import jwt

from .files import open_private, private_dir
from .validation import is_user_name

SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


def load_secret(data_dir: Path) -> bytes:
    """The signing secret, created (mode 0600) on first start."""
    path = data_dir / SECRET_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        private_dir(data_dir)
        value = secrets.token_hex(32).encode()
        with open_private(path, "wb", exclusive=True) as f:
            f.write(value)
        return value


def issue_token(secret: bytes, user: str) -> str:
    if not is_user_name(user):
        raise ValueError(f"invalid user name {user!r}: 3-21 lower-case letters, digits, dashes")
    return jwt.encode({"identity": user, "iat": int(time.time())}, secret, algorithm="HS256")


def user_from_header(secret: bytes, header: str | None) -> str | None:
    """The user of a valid `Authorization: Bearer <jwt>` header, else None."""
    if not header or not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(header[len("Bearer ") :].strip(), secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    user = claims.get("identity")
    if isinstance(user, str) and is_user_name(user):
        return user
    return None


def signed_elsewhere(secret: bytes, header: str | None) -> bool:
    """True for a well-formed token of ours whose signature is not this data dir's: a
    `client.nmrc` written by the platform when it ran with another `--data-dir`."""
    if not header or not header.startswith("Bearer "):
        return False
    token = header[len("Bearer ") :].strip()
    try:
        claims = jwt.decode(token, options={"verify_signature": False}, algorithms=["HS256"])
        jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.InvalidSignatureError:
        return isinstance(claims.get("identity"), str)
    except jwt.PyJWTError:
        return False
    return False
