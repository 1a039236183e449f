"""The root `neuro-sync` command, its shared state, and how errors become exit codes."""

from __future__ import annotations

import errno
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

import neuro_sync
from neuro_sync.config import ENV_TOKEN, ENV_URL

from .params import read_secret

__all__ = [
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_STARTED",
    "EXIT_USAGE",
    "REDACT",
    "State",
    "cli",
    "describe_error",
    "main",
    "pass_state",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_NOT_STARTED = 125
EXIT_INTERRUPTED = 130

# Anything shaped like a JWT is hidden from error text and logs, whatever its source.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_MAX_MESSAGE = 600


class Redactor:
    """Hides the tokens this process knows of (flag, environment) and any JWT-shaped text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "<token>")
        return _JWT.sub("<token>", text)


REDACT = Redactor()


class _RedactLogs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = REDACT(record.getMessage()), None
        return True


class State:
    """Global options and the lazily created client (closed when the command ends)."""

    def __init__(
        self,
        ctx: click.Context,
        *,
        url: str | None,
        token: str | None,
        config: Path | None,
        dialect: str | None = None,
    ) -> None:
        self._ctx = ctx
        self.url = url
        self.token = token
        self.config = config
        self.dialect = dialect
        self._client: neuro_sync.Client | None = None

    @property
    def client(self) -> neuro_sync.Client:
        if self._client is None:
            self._check_sources()
            # Without --dialect the library chooses: $NEURO_SYNC_DIALECT, the config file, 2019.
            options: dict[str, Any] = {} if self.dialect is None else {"dialect": self.dialect}
            if self.url is not None:  # both flags (checked): the config file is not read
                try:
                    self._client = neuro_sync.get(url=self.url, token=self.token, **options)
                except neuro_sync.ConfigError as err:
                    # The library names its argument (`url must be ...`): name the flag.
                    field, _, rest = str(err).partition(" ")
                    if field in ("url", "token"):
                        raise click.BadParameter(rest, param_hint=f"--{field}") from None
                    raise
            else:
                self._client = neuro_sync.get(self.config, **options)
            self._ctx.call_on_close(self._client.close)
        return self._client

    def require_2022(self, flag: str) -> None:
        """A usage error naming `flag` unless the client speaks 2022 (checked before anything
        of the command is sent: a 2019 server refuses or silently ignores such input)."""
        if self.client.dialect == "2019":
            raise click.UsageError(
                f"{flag} needs --dialect 2022 (or $NEURO_SYNC_DIALECT=2022): "
                "the 2019 Jobs API has no such thing"
            )

    def _check_sources(self) -> None:
        """The library's rules for where URL and token come from, said in flags and commands:
        a CLI user never typed `neuro_sync.get(url=...)`."""
        if (self.url is None) != (self.token is None):
            given, missing = ("--url", "--token") if self.url is not None else ("--token", "--url")
            raise click.UsageError(
                f"{given} needs {missing} too: a token is only sent to the URL given with it"
            )
        if self.url is not None and self.config is not None:
            raise click.UsageError("pass either --url and --token or --config, not both")
        if self.url is not None or os.environ.get(ENV_URL) or os.environ.get(ENV_TOKEN):
            return  # the library's own messages name the environment variables
        path = neuro_sync.Factory(self.config).path
        if not path.exists():
            raise neuro_sync.ConfigError(
                f"No URL and token: pass --url and --token, set ${ENV_URL} and ${ENV_TOKEN}, "
                f"or log in with `neuro-sync login-with-token TOKEN URL` (it writes {path}). "
                "For the local platform: export NEUROMATION_CONFIG=<its data dir>/client.nmrc"
            )


pass_state = click.make_pass_decorator(State)


class _Group(click.Group):
    """Lists the job commands first (in the order they were added), and knows the 2019 `ls`
    alias."""

    ALIASES = {"ls": "ps"}
    LAST = ("login-with-token", "config")

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands, key=lambda name: name in self.LAST)

    def invoke(self, ctx: click.Context) -> Any:
        """Runs the command; its errors become one line on stderr and an exit code."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            sys.stderr.write("\nInterrupted.\n")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except OSError as err:
            if err.errno == errno.EPIPE:
                raise  # click quiets a closed stdout (`neuro-sync ps | head`)
            _report(err, bool(ctx.params.get("verbose")))
            raise click.exceptions.Exit(EXIT_API) from None
        except neuro_sync.ValidationError as err:
            _report(err, bool(ctx.params.get("verbose")))
            raise click.exceptions.Exit(EXIT_USAGE) from None
        except Exception as err:  # noqa: BLE001 - the CLI's last line: one message, no traceback
            _report(err, bool(ctx.params.get("verbose")))
            raise click.exceptions.Exit(EXIT_API) from None


HELP = """Run and manage jobs of the Neuromation platform (2019 Jobs API; the
2022 one with --dialect 2022).

\b
Configuration, first found wins: --url / --token; then $NEURO_SYNC_URL /
$NEURO_SYNC_TOKEN; then the config file (--config, else $NEUROMATION_CONFIG,
else ~/.nmrc; `neuro-sync login-with-token` writes it).

\b
A --token on the command line is visible to every user in the process list:
prefer $NEURO_SYNC_TOKEN or the config file, or pass `--token -` (read from
stdin) or `--token @FILE`. neuro-sync never prints the token.

\b
Exit codes:
  0    success
  1    API, network or configuration error (one line on stderr)
  2    usage error: bad options or input
  N    `run` (attached) and `wait`: the job's own exit code
  125  `run` and `wait`: the job failed without starting (the reason goes to stderr)
  130  interrupted by Ctrl-C (an attached `run` detaches; the job keeps running)
"""


@click.group(cls=_Group, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", metavar="URL", help="API base URL, e.g. https://dev.neu.ro/api/v1.")
@click.option(
    "--token",
    metavar="TOKEN",
    help="Access token; `-` reads it from stdin, `@FILE` from a file (see above).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $NEUROMATION_CONFIG, else ~/.nmrc).",
)
@click.option(
    "--dialect",
    type=click.Choice(["2019", "2022"]),
    help="Jobs API dialect (default: $NEURO_SYNC_DIALECT, else the config file's, else 2019).",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logs and tracebacks (token hidden).")
@click.version_option(neuro_sync.__version__, "--version", prog_name="neuro-sync")
@click.pass_context
def cli(
    ctx: click.Context,
    url: str | None,
    token: str | None,
    config: Path | None,
    dialect: str | None,
    verbose: bool,
) -> None:
    token = read_secret(token, "token")
    REDACT.add(token)
    REDACT.add(os.environ.get(ENV_TOKEN))
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_RedactLogs())
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG, handlers=[handler], force=True)
    ctx.obj = State(ctx, url=url, token=token, config=config, dialect=dialect)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text


def describe_error(err: BaseException) -> str:
    """One line: what went wrong (with the server's message) and what to do about it."""
    msg = _one_line(str(err)) or type(err).__name__
    if isinstance(err, neuro_sync.AuthenticationError):
        return (
            f"The server rejected the token ({msg}). Log in again with "
            "`neuro-sync login-with-token`, or check $NEURO_SYNC_TOKEN."
        )
    if isinstance(err, neuro_sync.AuthorizationError):
        missing = ", ".join(f"{m.action} {m.uri}" for m in err.missing)
        extra = f" (missing: {missing})" if missing else ""
        return f"Permission denied: {msg}{extra}. Ask the owner to share the resource."
    if isinstance(err, neuro_sync.JobNotFound):
        return f"{msg}. List your jobs with `neuro-sync ps -a`."
    if isinstance(err, neuro_sync.ResourceNotFound):
        return f"{msg}. Check the URL (--url, $NEURO_SYNC_URL or the config file)."
    if isinstance(err, neuro_sync.HostKeyMismatch):
        return (
            f"{msg}. (--no-key-check skips the check, and lets anyone in between read the token.)"
        )
    if isinstance(err, neuro_sync.ServerError):
        return f"The server failed ({msg}). Try again later."
    if isinstance(err, neuro_sync.JobSubmissionUncertain):
        return msg
    if isinstance(err, neuro_sync.APIConnectionError):
        return (
            f"{msg}. Check the URL (--url, $NEURO_SYNC_URL or the config file) "
            "and that the server is up."
        )
    if isinstance(err, neuro_sync.ClientError):
        return msg
    return f"Unexpected {type(err).__name__}: {msg} (run with --verbose for details)."


def _report(err: BaseException, verbose: bool) -> None:
    if verbose:
        text = "".join(traceback.format_exception(err))
        sys.stderr.write(REDACT(text))
    sys.stderr.write(REDACT(f"Error: {describe_error(err)}") + "\n")
    sys.stderr.flush()


def main(args: Sequence[str] | None = None) -> None:
    """Console-script entry point (exits with the documented code)."""
    cli.main(args, prog_name="neuro-sync")
