"""`neuro_sync.parsing`: image names and volume strings (docs/protocol.md §4.2, §4.3)."""

from __future__ import annotations

import pytest

from neuro_sync import RemoteImage, ValidationError, Volume
from neuro_sync.parsing import Parser, parse_remote_image, parse_volume

from .conftest import REGISTRY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", RemoteImage("ubuntu", "latest")),
        ("ubuntu:18.04", RemoteImage("ubuntu", "18.04")),
        ("library/ubuntu:18.04", RemoteImage("library/ubuntu", "18.04")),
        ("gcr.io/proj/ubuntu:latest", RemoteImage("gcr.io/proj/ubuntu", "latest")),
        ("localhost:5000/ubuntu", RemoteImage("ubuntu", "latest", None, "localhost:5000")),
        ("localhost:5000/ubuntu:v1", RemoteImage("ubuntu", "v1", None, "localhost:5000")),
        ("registry-dev.neu.ro/bob/img:v1", RemoteImage("img", "v1", "bob", REGISTRY)),
        ("registry-dev.neu.ro/bob/img", RemoteImage("img", "latest", "bob", REGISTRY)),
        ("image://bob/img:v1", RemoteImage("img", "v1", "bob", REGISTRY)),
        ("image://bob/team/img", RemoteImage("team/img", "latest", "bob", REGISTRY)),
        ("image://~/img:v1", RemoteImage("img", "v1", "alice", REGISTRY)),
        ("image:img", RemoteImage("img", "latest", "alice", REGISTRY)),
        ("image:img:v3", RemoteImage("img", "v3", "alice", REGISTRY)),
    ],
)
def test_parse_remote_image(text: str, expected: RemoteImage) -> None:
    image = parse_remote_image(text, registry_host=REGISTRY, username="alice")
    assert image == expected


@pytest.mark.parametrize(
    ("image", "display"),
    [
        ("registry-dev.neu.ro/bob/img:v1", "image://bob/img:v1"),
        ("image://~/img", "image://alice/img:latest"),
        ("ubuntu", "ubuntu:latest"),
        ("localhost:5000/ubuntu", "ubuntu:latest"),
    ],
)
def test_parsed_display_form(image: str, display: str) -> None:
    assert str(parse_remote_image(image, registry_host=REGISTRY, username="alice")) == display


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-x",
        ":",
        "x:",
        ":tag",
        "a:b:c",
        "a:b/c",
        "image:latest",
        "image://",
        "image:///img",
        "image://bob:80/img",
        "image://u@bob/img",
        "image://bob/img?x=1",
        "image://bob/img#frag",
        "registry-dev.neu.ro/bob",
        "registry-dev.neu.ro/",
    ],
)
def test_unparsable_images(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid image name"):
        parse_remote_image(text, registry_host=REGISTRY, username="alice")


def test_platform_prefix_needs_the_registry_host() -> None:
    # Without a registry host, a registry-looking prefix is just part of the name.
    image = parse_remote_image("registry-dev.neu.ro/bob/img:v1", registry_host="", username="a")
    assert image == RemoteImage("registry-dev.neu.ro/bob/img", "v1")


def test_parser_defers_the_registry_host() -> None:
    calls: list[int] = []

    def host() -> str:
        calls.append(1)
        return REGISTRY

    parser = Parser(username="alice", registry_host=host)
    assert parser.volume("storage:x:/x") == Volume("storage://alice/x", "/x", False)
    assert calls == []
    assert parser.remote_image("image:img") == RemoteImage("img", "latest", "alice", REGISTRY)
    assert calls == [1]
    with pytest.raises(ValidationError) as info:
        parser.remote_image("")
    assert (info.value.field, str(info.value)) == ("image", "image: Invalid image name ''")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("storage:dir:/mnt", Volume("storage://alice/dir", "/mnt", False)),
        ("storage:dir:/mnt:ro", Volume("storage://alice/dir", "/mnt", True)),
        ("storage:dir:/mnt:rw", Volume("storage://alice/dir", "/mnt", False)),
        ("storage:/bob/dir:/mnt:ro", Volume("storage://bob/dir", "/mnt", True)),
        ("storage://bob/dir:/mnt", Volume("storage://bob/dir", "/mnt", False)),
        ("storage://~/dir:/mnt:rw", Volume("storage://alice/dir", "/mnt", False)),
        ("storage:~/dir:/mnt", Volume("storage://alice/dir", "/mnt", False)),
        ("storage::/mnt", Volume("storage://alice", "/mnt", False)),
        ("storage:~:/mnt", Volume("storage://alice", "/mnt", False)),
        ("storage:/alice/dir/:/mnt", Volume("storage://alice/dir", "/mnt", False)),
        # The CLI's HOME shortcut.
        ("storage://~:/var/storage/home:rw", Volume("storage://alice", "/var/storage/home", False)),
        (
            "storage://neuromation:/var/storage/neuromation:ro",
            Volume("storage://neuromation", "/var/storage/neuromation", True),
        ),
    ],
)
def test_parse_volume(spec: str, expected: Volume) -> None:
    assert parse_volume(spec, username="alice") == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("storage:x", "volume: Invalid volume specification 'storage:x'"),
        ("storage:x:/m:ro:extra", "volume: Invalid volume specification 'storage:x:/m:ro:extra'"),
        ("storage:x:/m:rx", "volume: Wrong ReadWrite/ReadOnly mode spec for 'storage:x:/m:rx'"),
        ("file:/x:/m", "volume: Invalid storage scheme in 'file:/x:/m'"),
        ("storage:~bob/x:/m", "volume: Cannot expand user in 'storage:~bob/x:/m'"),
        ("storage://~bob/x:/m", "volume: Cannot expand user in 'storage://~bob/x:/m'"),
    ],
)
def test_bad_volume_specs(spec: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_volume(spec, username="alice")
    assert str(info.value) == message
