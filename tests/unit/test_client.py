"""`neuro_sync.Client`: construction, user name from the JWT, timeouts, the lazily fetched
cluster config, headers, closing and secrecy of the token."""

from __future__ import annotations

import base64
import inspect
import typing
from typing import Any

import pytest
import responses
from yarl import URL

import neuro_sync
from neuro_sync import (
    AuthenticationError,
    ClusterConfig,
    ConfigError,
    Preset,
    RemoteImage,
    ValidationError,
)
from neuro_sync._transport import Transport

from .conftest import (
    BASE,
    MONITORING,
    REGISTRY,
    REGISTRY_URL,
    TOKEN,
    JWTBuilder,
    config_payload,
    make_job,
    sent_timeout,
)

# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "url",
    ["", "dev.neu.ro/api/v1", "ftp://dev.neu.ro/api/v1", "http://", "https:///api/v1", None, 42],
)
def test_bad_url_is_a_config_error(url: Any) -> None:
    with pytest.raises(ConfigError) as info:
        neuro_sync.Client(url, TOKEN)
    assert str(info.value) == (
        f"url must be an http(s) API base URL like https://dev.neu.ro/api/v1, got {url!r}"
    )


@pytest.mark.parametrize("token", ["", "   ", None])
def test_missing_token_is_a_config_error(token: Any) -> None:
    with pytest.raises(ConfigError) as info:
        neuro_sync.Client(BASE, token)
    assert str(info.value) == (
        "A token is required: pass token=..., set $NEURO_SYNC_TOKEN, "
        "or log in (Factory().login_with_token)"
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-jwt", "The token is not a JWT (expected three dot-separated parts)"),
        ("a.b", "The token is not a JWT (expected three dot-separated parts)"),
        ("a.%%%.c", "The token's JWT claims cannot be decoded"),
        ("a.bm90IGpzb24.c", "The token's JWT claims cannot be decoded"),  # b64("not json")
    ],
)
def test_unusable_token(token: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        neuro_sync.Client(BASE, token)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("claims", "user"),
    [
        ({"identity": "bob"}, "bob"),
        ({"https://platform.neuromation.io/user": "carol"}, "carol"),
        ({"identity": "bob", "https://platform.neuromation.io/user": "carol"}, "bob"),
        ({"identity": "", "https://platform.neuromation.io/user": "carol"}, "carol"),
        ({"identity": "dave", "sub": "auth0|123", "exp": 2000000000}, "dave"),
    ],
)
def test_user_name_from_jwt_claims(jwt: JWTBuilder, claims: dict[str, object], user: str) -> None:
    with neuro_sync.Client(BASE, jwt(claims)) as c:
        assert c.username == user
        assert repr(c.jobs) == f"<Jobs user={user!r}>"


@pytest.mark.parametrize("claims", [{}, {"sub": "auth0|123"}, {"identity": 5}, {"identity": None}])
def test_jwt_without_user_claim(jwt: JWTBuilder, claims: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        neuro_sync.Client(BASE, jwt(claims))
    assert str(info.value) == ("JWT Claims structure is not correct: no user identity in the token")


def test_jwt_claims_that_are_not_an_object() -> None:
    payload = base64.urlsafe_b64encode(b'["alice"]').rstrip(b"=").decode()
    with pytest.raises(ConfigError, match="JWT Claims structure is not correct"):
        neuro_sync.Client(BASE, f"x.{payload}.y")


@pytest.mark.parametrize("max_retries", [-1, True, 1.5, "2"])
def test_bad_max_retries(max_retries: Any) -> None:
    with pytest.raises(ValidationError) as info:
        neuro_sync.Client(BASE, TOKEN, max_retries=max_retries)
    assert info.value.field == "max_retries"


@pytest.mark.parametrize("timeout", [0, -5, (10,), (None, 10), (0, 10), "10", (1, "2")])
def test_bad_client_timeout(timeout: Any) -> None:
    with pytest.raises(ValidationError) as info:
        neuro_sync.Client(BASE, TOKEN, timeout=timeout)
    assert info.value.field == "timeout"


def test_construction_sends_nothing(mocked: responses.RequestsMock) -> None:
    with neuro_sync.Client(BASE, TOKEN) as c:
        assert c.url == URL(BASE)
        assert c.username == "alice"
    assert len(mocked.calls) == 0


def test_url_may_be_a_yarl_url(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    with neuro_sync.Client(URL(BASE), TOKEN) as c:
        assert c.url == URL(BASE)
        assert c.config.monitoring_url == URL(MONITORING)


def test_url_trailing_slash_is_tolerated(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    with neuro_sync.Client(BASE + "/", TOKEN) as c:
        c.jobs.list()
    assert [call.request.url for call in mocked.calls] == [f"{BASE}/config", f"{BASE}/jobs"]


# --------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize(
    ("timeout", "sent"),
    [
        (5, 5.0),
        (2.5, 2.5),
        ((3, 30), (3.0, 30.0)),
        ((3, None), (3.0, None)),
    ],
)
def test_client_timeout_is_used_for_every_request(
    mocked: responses.RequestsMock, timeout: Any, sent: Any
) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    mocked.get(f"{BASE}/jobs/job-1", json=make_job(id="job-1"))
    with neuro_sync.Client(BASE, TOKEN, timeout=timeout) as c:
        c.jobs.status("job-1")
    assert [sent_timeout(call) for call in mocked.calls] == [sent, sent]


def test_per_call_timeout_overrides_the_client_timeout(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/job-1", json=make_job(id="job-1"))
    client.jobs.status("job-1", timeout=1)
    client.jobs.status("job-1")
    client.jobs.status("job-1", timeout=neuro_sync.CLIENT_DEFAULT)
    client.jobs.status("job-1", timeout=(5, None))
    assert [sent_timeout(call) for call in mocked.calls] == [
        1.0,
        (10.0, 60.0),
        (10.0, 60.0),
        (5.0, None),
    ]
    # None is "no limit" where neuro-sync takes it; an HTTP request always has a connect limit.
    with pytest.raises(neuro_sync.ValidationError, match="timeout"):
        client.jobs.status("job-1", timeout=None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- /config


def test_config_is_fetched_lazily_once(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    with neuro_sync.Client(BASE, TOKEN) as c:
        assert len(mocked.calls) == 0
        c.jobs.list()
        c.jobs.list()
        config = c.config
    urls = [call.request.url for call in mocked.calls]
    assert urls == [f"{BASE}/config", f"{BASE}/jobs", f"{BASE}/jobs"]
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert config == ClusterConfig(
        registry_url=URL(REGISTRY_URL),
        storage_url=URL(f"{BASE}/storage"),
        users_url=URL(f"{BASE}/users"),
        monitoring_url=URL(MONITORING),
        resource_presets={
            "gpu-small": Preset(7.0, 30720, 1, "nvidia-tesla-k80", False),
            "gpu-large": Preset(7.0, 61440, 1, "nvidia-tesla-v100", False),
            "cpu-small": Preset(2.0, 2048, None, None, False),
            "cpu-large": Preset(3.0, 14336, None, None, False),
        },
    )
    assert config.registry_host == REGISTRY


def test_config_registry_host_keeps_an_explicit_port(mocked: responses.RequestsMock) -> None:
    payload = config_payload()
    payload["registry_url"] = "http://127.0.0.1:5000"
    mocked.get(f"{BASE}/config", json=payload)
    mocked.get(f"{BASE}/jobs/job-1", json=make_job(id="job-1", image="127.0.0.1:5000/bob/img:v1"))
    with neuro_sync.Client(BASE, TOKEN) as c:
        assert c.config.registry_host == "127.0.0.1:5000"
        image = c.jobs.status("job-1").container.image
    assert image == RemoteImage("img", "v1", "bob", "127.0.0.1:5000")


def test_config_without_the_cluster_part_means_a_rejected_token(
    mocked: responses.RequestsMock,
) -> None:
    # The server swallows the 401 on /config and answers only the OAuth part
    # (docs/protocol.md §1.4, §7.16).
    mocked.get(f"{BASE}/config", json=config_payload(authorized=False))
    with neuro_sync.Client(BASE, TOKEN) as c:
        with pytest.raises(AuthenticationError) as info:
            c.jobs.list()
    assert str(info.value) == "Cannot authorize user: the server did not accept the token"
    assert info.value.status == 401
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not json", "Malformed /config reply: Expecting value: line 1 column 1 (char 0)"),
        (
            [1, 2],
            "Malformed /config reply: cannot convert dictionary update sequence element #0 "
            "to a sequence",
        ),
        (
            {**config_payload(), "resource_presets": [{"name": "broken", "memory_mb": 1}]},
            "Malformed /config reply: missing field 'cpu'",
        ),
        (
            {
                **config_payload(),
                "resource_presets": [{"name": "x", "cpu": "lots", "memory_mb": 1}],
            },
            "Malformed cluster configuration: could not convert string to float: 'lots'",
        ),
    ],
)
def test_malformed_config(mocked: responses.RequestsMock, payload: Any, message: str) -> None:
    if isinstance(payload, str):
        mocked.get(f"{BASE}/config", body=payload)
    else:
        mocked.get(f"{BASE}/config", json=payload)
    with neuro_sync.Client(BASE, TOKEN) as c:
        with pytest.raises(neuro_sync.ResponseValidationError) as info:
            c.jobs.list()
    assert str(info.value) == message


def test_given_cluster_config_skips_the_request(mocked: responses.RequestsMock) -> None:
    cluster = ClusterConfig(
        registry_url=URL(REGISTRY_URL),
        storage_url=URL(f"{BASE}/storage"),
        users_url=URL(f"{BASE}/users"),
        monitoring_url=URL("http://elsewhere.test/jobs"),
    )
    mocked.get("http://elsewhere.test/jobs/job-1/log", body=b"ok")
    with neuro_sync.Client(BASE, TOKEN, cluster_config=cluster) as c:
        assert c.config is cluster
        with c.jobs.monitor("job-1") as log:
            assert log.read() == b"ok"
    assert [call.request.url for call in mocked.calls] == ["http://elsewhere.test/jobs/job-1/log"]


def test_parse_remote_image_uses_the_cluster_registry(
    client: neuro_sync.Client,
) -> None:
    assert client.parse.remote_image("image://~/img:v1") == RemoteImage(
        "img", "v1", "alice", REGISTRY
    )
    assert client.parse.remote_image("registry-dev.neu.ro/bob/img") == RemoteImage(
        "img", "latest", "bob", REGISTRY
    )
    assert client.parse.remote_image("ubuntu") == RemoteImage("ubuntu", "latest")
    with pytest.raises(ValidationError) as info:
        client.parse.remote_image("ubuntu:a:b")
    assert str(info.value) == "image: Invalid image name 'ubuntu:a:b': bad tag"


def test_parse_volume_uses_the_user(client: neuro_sync.Client) -> None:
    assert client.parse.volume("storage:data:/data:ro") == neuro_sync.Volume(
        "storage://alice/data", "/data", True
    )


# --------------------------------------------------------------------------- headers, closing


def test_every_request_carries_the_bearer_token_and_user_agent(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    mocked.delete(f"{BASE}/jobs/job-1", status=204)
    mocked.get(f"{MONITORING}/job-1/log", body=b"")
    with neuro_sync.Client(BASE, TOKEN, headers={"X-Request-Source": "tests"}) as c:
        c.jobs.list()
        c.jobs.kill("job-1")
        c.jobs.monitor("job-1").read()
    assert len(mocked.calls) == 4
    for call in mocked.calls:
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert call.request.headers["User-Agent"] == f"neuro-sync/{neuro_sync.__version__}"
        assert call.request.headers["X-Request-Source"] == "tests"


def test_redirects_are_not_followed(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(
        f"{BASE}/jobs/job-1", status=302, headers={"Location": "http://evil.test/steal"}, body=""
    )
    with pytest.raises(neuro_sync.ResponseValidationError):
        client.jobs.status("job-1")
    assert [call.request.url for call in mocked.calls] == [f"{BASE}/jobs/job-1"]


def test_context_manager_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Transport] = []
    original = Transport.close

    def spy(self: Transport) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(Transport, "close", spy)
    with neuro_sync.Client(BASE, TOKEN) as c:
        assert closed == []
    assert len(closed) == 1
    c.close()  # closing twice is harmless
    assert len(closed) == 2


def test_context_manager_closes_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Transport] = []
    monkeypatch.setattr(Transport, "close", lambda self: closed.append(self))
    with pytest.raises(RuntimeError):
        with neuro_sync.Client(BASE, TOKEN):
            raise RuntimeError("boom")
    assert len(closed) == 1


def test_enter_returns_the_client() -> None:
    c = neuro_sync.Client(BASE, TOKEN)
    with c as entered:
        assert entered is c


def test_token_is_not_in_reprs(client: neuro_sync.Client) -> None:
    assert repr(client) == f"<neuro_sync.Client url='{BASE}' user='alice'>"
    for text in (repr(client), str(client), repr(client.jobs), repr(client.config)):
        assert TOKEN not in text


def test_two_clients_share_nothing(mocked: responses.RequestsMock, jwt: JWTBuilder) -> None:
    other_base = "http://other.test/api/v1"
    other_token = jwt({"identity": "bob"})
    mocked.get(f"{BASE}/config", json=config_payload())
    mocked.get(f"{other_base}/config", json=config_payload(base=other_base))
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    mocked.get(f"{other_base}/jobs", json={"jobs": []})
    with neuro_sync.Client(BASE, TOKEN) as a, neuro_sync.Client(other_base, other_token) as b:
        a.jobs.list()
        b.jobs.list()
        assert (a.username, b.username) == ("alice", "bob")
    auth = {call.request.url: call.request.headers["Authorization"] for call in mocked.calls}
    assert auth == {
        f"{BASE}/config": f"Bearer {TOKEN}",
        f"{BASE}/jobs": f"Bearer {TOKEN}",
        f"{other_base}/config": f"Bearer {other_token}",
        f"{other_base}/jobs": f"Bearer {other_token}",
    }


def test_client_options_are_the_client_keywords() -> None:
    # `get(**kwargs)` and `Factory` are typed with ClientOptions: it must list exactly the
    # keyword arguments of Client, with their types.
    hints = typing.get_type_hints(neuro_sync.Client.__init__)
    keywords = {
        name
        for name, p in inspect.signature(neuro_sync.Client.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    options = typing.get_type_hints(neuro_sync.ClientOptions)
    assert set(options) == keywords
    assert all(options[name] == hints[name] for name in keywords)
