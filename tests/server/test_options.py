"""`neuro-sync-local` options: given before or after the subcommand, the same."""

from __future__ import annotations

import pytest

from neuro_sync.local.__main__ import build_parser


@pytest.mark.parametrize(
    ("flag", "value", "attr", "expected"),
    [
        ("--dialect", "2022", "dialect", "2022"),
        ("--runtime", "process", "runtime", "process"),
        ("--cpus", "2", "cpus", 2.0),
        ("--idle-timeout", "5", "idle_timeout", 5.0),
        ("--image-store", "/store", "image_store", "/store"),
    ],
)
def test_an_option_before_the_subcommand_is_kept(
    flag: str, value: str, attr: str, expected: object
) -> None:
    before = build_parser().parse_args([flag, value, "serve"])
    after = build_parser().parse_args(["serve", flag, value])
    assert str(getattr(before, attr)) == str(getattr(after, attr)) == str(expected)


def test_defaults_come_from_the_top_parser() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.dialect, args.runtime, args.port, args.image_store) == ("2019", "auto", 8080, None)
