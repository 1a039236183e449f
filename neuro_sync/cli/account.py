"""Configuration commands: login-with-token, config show."""

from __future__ import annotations

import click

import neuro_sync

from .app import REDACT, State, cli, pass_state
from .output import table
from .params import read_secret

__all__ = ["config_group", "login_with_token_cmd"]


@cli.command("login-with-token")
@click.argument("token")
@click.argument("url")
@pass_state
def login_with_token_cmd(state: State, token: str, url: str) -> None:
    """Check TOKEN against URL and save both to the config file.

    TOKEN on the command line is visible in the process list: pass `-` to read it
    from stdin, or `@FILE` to read it from a file.
    """
    secret = read_secret(token, "token")
    REDACT.add(secret)
    factory = neuro_sync.Factory(state.config)
    assert secret is not None  # an argument, never None
    with factory.login_with_token(secret, url=url) as client:
        click.echo(f"Logged in to {client.url} as {client.username}; saved to {factory.path}")


@cli.group("config")
def config_group() -> None:
    """Client configuration."""


@config_group.command("show")
@pass_state
def config_show_cmd(state: State) -> None:
    """Show the API URL, the user and the cluster's resource presets (never the token)."""
    client = state.client
    click.echo(f"URL:          {client.url}")
    click.echo(f"User:         {client.username}")
    click.echo(f"Config file:  {neuro_sync.Factory(state.config).path}")
    click.echo("Resource presets:")
    rows = [
        [
            name,
            f"{p.cpu:g}",
            f"{p.memory_mb}",
            f"{p.gpu or ''}" + (f" {p.gpu_model}" if p.gpu_model else ""),
            "yes" if p.is_preemptible else "no",
        ]
        for name, p in client.config.resource_presets.items()
    ]
    for line in table(["NAME", "CPU", "MEMORY(MB)", "GPU", "PREEMPTIBLE"], rows, width=None):
        click.echo("  " + line)
