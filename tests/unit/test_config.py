"""`neuro_sync.get()` resolution (arguments, environment, 2019 config file) and
`Factory.login_with_token` (the only thing that writes the file).

The autouse `_isolated_env` fixture points HOME at an empty temporary folder and clears the
NEURO_SYNC_* / NEUROMATION_CONFIG variables for every test.
"""

from __future__ import annotations

import os
import stat
import traceback
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml
from yarl import URL

import neuro_sync
from neuro_sync import AuthenticationError, ClusterConfig, ConfigError, Factory, Preset, Resources

from .conftest import (
    BASE,
    MONITORING,
    REGISTRY_URL,
    TOKEN,
    JWTBuilder,
    config_payload,
    sent_timeout,
)

FILE_URL = "http://file.test/api/v1"
ENV_URL = "http://env.test/api/v1"
ARG_URL = "http://arg.test/api/v1"

FILE_CLUSTER = {
    "registry_url": REGISTRY_URL,
    "storage_url": f"{FILE_URL}/storage",
    "users_url": f"{FILE_URL}/users",
    "monitoring_url": f"{FILE_URL}/jobs",
    "resource_presets": {
        "cpu-small": {"cpu": 2, "memory_mb": 2048, "is_preemptible": False},
        "gpu-small": {
            "cpu": 7,
            "memory_mb": 30720,
            "gpu": 1,
            "gpu_model": "nvidia-tesla-k80",
            "is_preemptible": True,
        },
    },
}


def write_nmrc(path: Path, token: str, *, url: str = FILE_URL, cluster: bool = True) -> Path:
    """A config file as the 2019 CLI writes it (docs/protocol.md §1.4)."""
    data: dict[str, Any] = {
        "url": url,
        "auth_config": {"auth_url": "https://dev-neuromation.auth0.com/authorize"},
        "auth_token": {
            "token": token,
            "expiration_time": 1893456000,
            "refresh_token": "refresh-secret",
        },
        "pypi": {"check_timestamp": 0, "pypi_version": "0.0.0"},
        "cookie_session": {"cookie": "", "timestamp": 0},
        "version": "19.8.23",
    }
    if cluster:
        data["cluster_config"] = FILE_CLUSTER
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _home() -> Path:
    return Path(os.environ["HOME"])


def test_explicit_arguments(monkeypatch: pytest.MonkeyPatch, jwt: JWTBuilder) -> None:
    monkeypatch.setenv("NEURO_SYNC_URL", ENV_URL)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", jwt({"identity": "env-user"}))
    write_nmrc(_home() / ".nmrc", jwt({"identity": "file-user"}))
    with neuro_sync.get(url=ARG_URL, token=TOKEN) as c:
        assert (str(c.url), c.username) == (ARG_URL, "alice")


def test_environment(monkeypatch: pytest.MonkeyPatch, jwt: JWTBuilder) -> None:
    monkeypatch.setenv("NEURO_SYNC_URL", ENV_URL)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", jwt({"identity": "env-user"}))
    write_nmrc(_home() / ".nmrc", jwt({"identity": "file-user"}))
    with neuro_sync.get() as c:
        assert (str(c.url), c.username) == (ENV_URL, "env-user")


@pytest.mark.parametrize("given", ["url", "token"])
def test_half_the_arguments_is_an_error_whatever_else_is_set(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, jwt: JWTBuilder, given: str
) -> None:
    # The other half is available from the environment and the file; neither may be used.
    monkeypatch.setenv("NEURO_SYNC_URL", ENV_URL)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", jwt({"identity": "env-user"}))
    write_nmrc(_home() / ".nmrc", jwt({"identity": "file-user"}))
    missing = "token" if given == "url" else "url"
    with pytest.raises(ConfigError, match=rf"was given {given}= but no {missing}=: pass both"):
        if given == "url":
            neuro_sync.get(url=ARG_URL)
        else:
            neuro_sync.get(token=TOKEN)
    assert len(mocked.calls) == 0


def test_arguments_and_a_path_are_an_error(tmp_path: Path) -> None:
    path = write_nmrc(tmp_path / "nmrc", TOKEN)
    with pytest.raises(ConfigError, match="not both"):
        neuro_sync.get(path, url=ARG_URL, token=TOKEN)


def test_path_argument_beats_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jwt: JWTBuilder
) -> None:
    monkeypatch.setenv("NEURO_SYNC_URL", ENV_URL)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", jwt({"identity": "env-user"}))
    path = write_nmrc(tmp_path / "nmrc", jwt({"identity": "file-user"}))
    with neuro_sync.get(path) as c:
        assert (str(c.url), c.username) == (FILE_URL, "file-user")


def test_home_nmrc_with_its_cluster_config(mocked: responses.RequestsMock, jwt: JWTBuilder) -> None:
    write_nmrc(_home() / ".nmrc", jwt({"identity": "file-user"}))
    with neuro_sync.get() as c:
        assert (str(c.url), c.username) == (FILE_URL, "file-user")
        # The file's cluster config is used: no /config request.
        assert c.config.monitoring_url == URL(f"{FILE_URL}/jobs")
        assert c.config.resource_presets == {
            "cpu-small": Preset(2.0, 2048, None, None, False),
            "gpu-small": Preset(7.0, 30720, 1, "nvidia-tesla-k80", True),
        }
    assert len(mocked.calls) == 0


def test_file_without_cluster_config_fetches_it(
    mocked: responses.RequestsMock, jwt: JWTBuilder
) -> None:
    token = jwt({"identity": "file-user"})
    write_nmrc(_home() / ".nmrc", token, cluster=False)
    mocked.get(f"{FILE_URL}/config", json=config_payload(base=FILE_URL))
    with neuro_sync.get() as c:
        assert c.config.monitoring_url == URL(MONITORING)
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {token}"


def test_neuromation_config_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jwt: JWTBuilder
) -> None:
    write_nmrc(_home() / ".nmrc", jwt({"identity": "home-user"}), url="http://home.test/api")
    custom = write_nmrc(tmp_path / "custom.yml", jwt({"identity": "custom-user"}))
    monkeypatch.setenv("NEUROMATION_CONFIG", str(custom))
    with neuro_sync.get() as c:
        assert (str(c.url), c.username) == (FILE_URL, "custom-user")


def test_path_argument_beats_neuromation_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jwt: JWTBuilder
) -> None:
    other = write_nmrc(tmp_path / "other.yml", jwt({"identity": "other-user"}))
    explicit = write_nmrc(tmp_path / "explicit.yml", jwt({"identity": "explicit-user"}))
    monkeypatch.setenv("NEUROMATION_CONFIG", str(other))
    with neuro_sync.get(explicit) as c:
        assert c.username == "explicit-user"
    with neuro_sync.get(str(explicit)) as c:
        assert c.username == "explicit-user"


@pytest.mark.parametrize(
    ("variable", "missing"),
    [("NEURO_SYNC_URL", "NEURO_SYNC_TOKEN"), ("NEURO_SYNC_TOKEN", "NEURO_SYNC_URL")],
)
def test_half_the_environment_never_borrows_from_the_file(
    mocked: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    jwt: JWTBuilder,
    variable: str,
    missing: str,
) -> None:
    # The file's token belongs to the file's URL: it must not go to $NEURO_SYNC_URL.
    write_nmrc(_home() / ".nmrc", jwt({"identity": "file-user"}))
    monkeypatch.setenv(variable, ENV_URL if variable == "NEURO_SYNC_URL" else TOKEN)
    with pytest.raises(ConfigError) as info:
        neuro_sync.get()
    assert str(info.value) == (
        f"${variable} is set but ${missing} is not: set both, or unset ${variable} to use "
        f"the config file {_home() / '.nmrc'}"
    )
    assert len(mocked.calls) == 0


def test_an_empty_variable_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, jwt: JWTBuilder
) -> None:
    write_nmrc(_home() / ".nmrc", jwt({"identity": "file-user"}))
    monkeypatch.setenv("NEURO_SYNC_URL", "")
    monkeypatch.setenv("NEURO_SYNC_TOKEN", "")
    with neuro_sync.get() as c:
        assert (str(c.url), c.username) == (FILE_URL, "file-user")


def test_kwargs_reach_the_client(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    with neuro_sync.get(url=BASE, token=TOKEN, timeout=3) as c:
        assert c.config.registry_host == "registry-dev.neu.ro"
    assert sent_timeout(mocked.calls[0]) == 3.0


def test_nothing_configured() -> None:
    with pytest.raises(ConfigError) as info:
        neuro_sync.get()
    nmrc = _home() / ".nmrc"
    assert str(info.value) == (
        "No url and token: pass neuro_sync.get(url=..., token=...), set "
        "$NEURO_SYNC_URL and $NEURO_SYNC_TOKEN, or create the config file "
        f"{nmrc} (neuro_sync.Factory().login_with_token(token, url=...))"
    )
    assert not nmrc.exists()


def test_only_the_url_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEURO_SYNC_URL", ENV_URL)
    with pytest.raises(
        ConfigError, match=r"^\$NEURO_SYNC_URL is set but \$NEURO_SYNC_TOKEN is not"
    ):
        neuro_sync.get()


def test_get_never_writes_the_config_file(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, jwt: JWTBuilder
) -> None:
    home = _home()
    nmrc = write_nmrc(home / ".nmrc", jwt({"identity": "file-user"}))
    before = nmrc.read_bytes(), nmrc.stat().st_mtime_ns
    with neuro_sync.get() as c:
        assert c.config.monitoring_url == URL(f"{FILE_URL}/jobs")
    monkeypatch.setenv("NEURO_SYNC_URL", BASE)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", TOKEN)
    mocked.get(f"{BASE}/config", json=config_payload())
    with neuro_sync.get() as c:
        assert c.config.monitoring_url == URL(MONITORING)
    assert (nmrc.read_bytes(), nmrc.stat().st_mtime_ns) == before
    assert sorted(p.name for p in home.iterdir()) == [".nmrc"]


def test_env_only_creates_no_file(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEURO_SYNC_URL", BASE)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", TOKEN)
    mocked.get(f"{BASE}/config", json=config_payload())
    with neuro_sync.get() as c:
        assert c.config.monitoring_url == URL(MONITORING)
    assert list(_home().iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url: [unclosed", "is not valid YAML"),
        ("- a list\n", "is not a YAML mapping"),
        ("auth_token:\n  token: abc\n", "has no `url`"),
        ("url: http://x.test/api/v1\n", "has no `auth_token.token`; log in again"),
        ("url: http://x.test/api/v1\nauth_token: tok\n", "has no `auth_token.token`"),
        (
            "url: http://x.test/api/v1\nauth_token:\n  token: a.b.c\n"
            "cluster_config:\n  registry_url: https://r.test\n",
            "Malformed cluster_config in the config file: no 'storage_url'",
        ),
    ],
)
def test_malformed_config_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "nmrc"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        neuro_sync.get(path)
    assert message in str(info.value)


# A token whose every part is also a valid YAML alias or tag name, so that it can land inside
# the quoted "found ..." part of an error as well as in the quoted line.
SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJpZGVudGl0eSI6ImFsaWNlIn0.S3cr3tS1gnatureCANARY"
SECRET_PART = "S3cr3tS1gnatureCANARY"


@pytest.mark.parametrize(
    "text",
    [
        f"url: http://x.test\nauth_token:\n\ttoken: {SECRET_TOKEN}\n",  # a tab indent
        f'url: http://x.test\nauth_token:\n  token: "{SECRET_TOKEN}\n',  # an open quote
        f"url: http://x.test\nauth_token:\n  token: {SECRET_TOKEN}: x\n",  # a stray colon
        f"url: http://x.test\nauth_token:\n    token: {SECRET_TOKEN}\n  refresh: 1\n",  # indent
        f"url: http://x.test\nauth_token:\n  token: *{SECRET_PART}\n",  # an unknown alias
        f"url: http://x.test\nauth_token: !{SECRET_PART} {{token: {SECRET_TOKEN}}}\n",  # a tag
        f"url: http://x.test\nauth_token:\n  token: {SECRET_TOKEN}\n  {SECRET_PART}: [\n",
        f"url: http://x.test\nauth_token:\n  token: {SECRET_TOKEN}\x07\n",  # a control char
        f"auth_token:\n  token: a.b.c\ncluster_config:\n  registry_url: r\n  storage_url: s\n"
        f"  users_url: u\n  monitoring_url: m\n  resource_presets:\n"
        f"    p: {{cpu: {SECRET_TOKEN}, memory_mb: 1}}\nurl: http://x.test\n",  # a bad value
    ],
    ids=[
        "tab",
        "open-quote",
        "stray-colon",
        "indent",
        "alias",
        "tag",
        "open-flow",
        "control-char",
        "bad-value",
    ],
)
def test_a_broken_config_file_never_shows_its_token(tmp_path: Path, text: str) -> None:
    path = tmp_path / "nmrc"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        neuro_sync.get(path)
    err = info.value
    shown = "".join(traceback.format_exception(err)) + repr(err)
    assert "config file" in str(err)
    # No part of it: YAML's quoted line is cut to 75 characters, often mid-token.
    assert not [part for part in SECRET_TOKEN.split(".") if part in shown]


def test_a_yaml_error_says_where(tmp_path: Path) -> None:
    path = tmp_path / "nmrc"
    path.write_text(f"url: http://x.test\nauth_token:\n\ttoken: {SECRET_TOKEN}\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML: .*\(line 3, column 1\)$"):
        neuro_sync.get(path)


def test_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "nmrc"
    path.write_bytes(
        b"url: http://x.test\nauth_token:\n  token: " + SECRET_TOKEN.encode() + b"\xff\n"
    )
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        neuro_sync.get(path)
    assert SECRET_PART not in str(info.value)


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^Cannot read the config file .*: Is a directory$"):
        neuro_sync.get(tmp_path)


# --------------------------------------------------------------------------- Factory


def test_login_with_token_writes_the_file(mocked: responses.RequestsMock, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "nmrc"
    mocked.get(f"{BASE}/config", json=config_payload())
    with Factory(path).login_with_token(TOKEN, url=BASE) as c:
        assert c.username == "alice"
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["url"] == BASE
    assert data["auth_token"]["token"] == TOKEN
    assert data["cluster_config"] == {
        "registry_url": REGISTRY_URL,
        "storage_url": f"{BASE}/storage",
        "users_url": f"{BASE}/users",
        "monitoring_url": MONITORING,
        "resource_presets": {
            "gpu-small": {
                "cpu": 7.0,
                "memory_mb": 30720,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-k80",
                "is_preemptible": False,
            },
            "gpu-large": {
                "cpu": 7.0,
                "memory_mb": 61440,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-v100",
                "is_preemptible": False,
            },
            "cpu-small": {"cpu": 2.0, "memory_mb": 2048, "is_preemptible": False},
            "cpu-large": {"cpu": 3.0, "memory_mb": 14336, "is_preemptible": False},
        },
    }
    assert not list(path.parent.glob("*.tmp"))
    # Nothing was written to the real home.
    assert list(_home().iterdir()) == []

    # Read back without any request.
    mocked.calls.reset()
    with Factory(path).get() as again:
        assert (str(again.url), again.username) == (BASE, "alice")
        assert again.config.monitoring_url == URL(MONITORING)
    with neuro_sync.get(path) as again:
        assert again.config.registry_host == "registry-dev.neu.ro"
    assert len(mocked.calls) == 0


def test_login_with_token_defaults_to_home_nmrc(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    Factory().login_with_token(TOKEN, url=BASE).close()
    assert (_home() / ".nmrc").exists()
    with neuro_sync.get() as c:
        assert str(c.url) == BASE


def test_login_with_a_rejected_token_writes_nothing(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    path = tmp_path / "nmrc"
    mocked.get(f"{BASE}/config", json=config_payload(authorized=False))
    with pytest.raises(AuthenticationError):
        Factory(path).login_with_token(TOKEN, url=BASE)
    assert not path.exists()


def test_factory_repr(tmp_path: Path) -> None:
    assert repr(Factory(tmp_path / "x")) == f"<neuro_sync.Factory path='{tmp_path / 'x'}'>"


def test_cluster_config_yaml_round_trip() -> None:
    config = ClusterConfig.from_yaml_dict(FILE_CLUSTER)
    assert ClusterConfig.from_yaml_dict(config.to_yaml_dict()) == config


def test_factory_get_without_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Factory(tmp_path / "missing").get()
    assert str(info.value) == (
        f"Cannot read the config file {tmp_path / 'missing'}: No such file or directory"
    )


# --------------------------------------------------------------------------- presets


def _cluster_with_presets(**presets: neuro_sync.Preset) -> neuro_sync.ClusterConfig:
    base = URL("http://127.0.0.1:1/")
    return neuro_sync.ClusterConfig(
        registry_url=base,
        storage_url=base,
        users_url=base,
        monitoring_url=base,
        resource_presets=presets,
    )


def test_preset_by_name_and_the_default_is_the_first() -> None:
    small = neuro_sync.Preset(cpu=0.5, memory_mb=512)
    gpu = neuro_sync.Preset(cpu=4, memory_mb=8192, gpu=1, gpu_model="nvidia-tesla-k80")
    cluster = _cluster_with_presets(**{"cpu-small": small, "gpu-k80": gpu})
    assert cluster.preset() == ("cpu-small", small)
    assert cluster.preset("gpu-k80") == ("gpu-k80", gpu)
    assert cluster.preset_resources("gpu-k80", shm=True) == neuro_sync.Resources(
        memory_mb=8192, cpu=4, gpu=1, gpu_model="nvidia-tesla-k80", shm=True
    )


def test_unknown_preset_names_the_known_ones() -> None:
    cluster = _cluster_with_presets(**{"cpu-small": neuro_sync.Preset(cpu=0.5, memory_mb=512)})
    with pytest.raises(neuro_sync.ValidationError, match="known: cpu-small") as info:
        cluster.preset("cpu-huge")
    assert info.value.field == "preset"
    with pytest.raises(neuro_sync.ValidationError, match="no resource presets"):
        _cluster_with_presets().preset()


def test_the_config_file_keeps_the_servers_preset_order(tmp_path: Path) -> None:
    # The default preset is the first one: sorting keys on write would change which it is.
    from neuro_sync.config import load_config_file, write_config_file

    presets = {n: neuro_sync.Preset(cpu=1, memory_mb=1024) for n in ("zeta", "alpha", "mid")}
    path = tmp_path / "nmrc"
    write_config_file(
        path, url="http://127.0.0.1:1/api/v1", token="t", cluster=_cluster_with_presets(**presets)
    )
    loaded = load_config_file(path)
    assert loaded.cluster is not None
    assert list(loaded.cluster.resource_presets) == ["zeta", "alpha", "mid"]
    assert loaded.cluster.preset()[0] == "zeta"


def test_a_preset_has_one_wire_encoding() -> None:
    gpu = Preset(cpu=7.0, memory_mb=30720, gpu=1, gpu_model="nvidia-tesla-k80")
    cpu = Preset(cpu=0.1, memory_mb=128, is_preemptible=True)
    assert gpu.to_wire() == {
        "cpu": 7.0,
        "memory_mb": 30720,
        "gpu": 1,
        "gpu_model": "nvidia-tesla-k80",
        "is_preemptible": False,
    }
    assert cpu.to_wire() == {"cpu": 0.1, "memory_mb": 128, "is_preemptible": True}
    for preset in (gpu, cpu):
        assert Preset.from_wire(preset.to_wire()) == preset
    # The /config reply (through the generated model) and the config file read the same way.
    from neuro_sync_api.models import ResourcePreset

    wire = {"name": "gpu-small", **gpu.to_wire()}
    assert Preset.from_wire(ResourcePreset.from_dict(wire).to_dict()) == gpu


def test_preset_resources_with_overrides() -> None:
    gpu = Preset(cpu=7.0, memory_mb=30720, gpu=1, gpu_model="nvidia-tesla-k80")
    assert gpu.resources() == Resources(30720, 7.0, 1, "nvidia-tesla-k80")
    assert gpu.resources(cpu=2, shm=True) == Resources(30720, 2, 1, "nvidia-tesla-k80", True)
    assert gpu.resources(gpu=2) == Resources(30720, 7.0, 2, "nvidia-tesla-k80")
    assert gpu.resources(gpu=0) == Resources(30720, 7.0, None, None)
    cpu = Preset(cpu=0.1, memory_mb=128)
    assert cpu.resources(memory_mb=256, gpu=1, gpu_model="v100") == Resources(256, 0.1, 1, "v100")
