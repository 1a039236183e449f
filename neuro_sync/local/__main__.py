"""`neuro-sync-local` / `python -m neuro_sync.local`: serve, or issue a token."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from . import DEFAULT_DATA_DIR, LocalPlatform, auth
from .connections import DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT
from .runner import DEFAULT_MAX_JOBS_PER_USER, DEFAULT_MAX_LOG_BYTES, DEFAULT_MAX_PENDING_PER_USER


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text}")
        return value

    return parse


class _Adder(Protocol):
    def __call__(
        self,
        flag: str,
        kind: Callable[[str], Any] | None,
        default: Any,
        text: str | None,
        **kw: Any,
    ) -> None: ...


def _adder(add_argument: Callable[..., object], *, top: bool) -> _Adder:
    """`add(flag, type, default, help)` on the top parser or a subcommand's: only the top
    one has the default (a subcommand's would override an option given before it)."""

    def add(
        flag: str, kind: Callable[[str], Any] | None, default: Any, text: str | None, **kw: Any
    ) -> None:
        if kind is not None:
            kw["type"] = kind
        add_argument(flag, default=default if top else argparse.SUPPRESS, help=text, **kw)

    return add


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuro-sync-local", description="A local, wire-compatible Neuromation jobs platform."
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the server (the default)")
    token = sub.add_parser("token", help="print a token for a user")
    for p in (parser, serve, token):
        # The defaults live on the top parser only: a subcommand's own default would
        # override an option given before it (`--data-dir X token` used the default dir).
        add = _adder(p.add_argument, top=p is parser)
        add(
            "--data-dir",
            Path,
            DEFAULT_DATA_DIR,
            f"the platform's state: secret, jobs, client.nmrc (default: {DEFAULT_DATA_DIR})",
        )
        if p is token:
            continue
        add("--host", str, "127.0.0.1", None)
        add("--port", int, 8080, "0 picks a free port (default: 8080)")
        add(
            "--runtime",
            str,
            "auto",
            "what runs jobs: podman containers, local processes, auto (podman if a "
            "trial container runs here, else processes; the default), or slurm (containers "
            "on a Slurm cluster, see docs/cluster.md)",
            choices=("auto", "podman", "process", "slurm"),
        )
        add("--slurm-conf", Path, None, "the cluster's slurm.conf (default: $SLURM_CONF)")
        add("--slurm-partition", str, None, "the Slurm partition jobs go to")
        add("--slurm-account", str, None, "the Slurm account jobs are charged to")
        for flag, kind, text in (
            ("--cpus", float, "CPUs the jobs share (default: all)"),
            ("--memory-mb", int, "memory the jobs share (default: all)"),
            (
                "--max-pending-per-user",
                int,
                "pending jobs a user may have; more are refused with 400 "
                f"(default: {DEFAULT_MAX_PENDING_PER_USER})",
            ),
            (
                "--max-jobs-per-user",
                int,
                "job records kept per user; past it a user's oldest finished ones are "
                f"dropped (default: {DEFAULT_MAX_JOBS_PER_USER})",
            ),
            (
                "--max-log-mb",
                int,
                "size of a job's log past which its oldest part is dropped "
                f"(default: {DEFAULT_MAX_LOG_BYTES // 2**20})",
            ),
        ):
            add(flag, _positive(kind), None, text)
        limits = _adder(
            p.add_argument_group(
                "connection limits", "defaults: from the open-files limit (docs/local-platform.md)"
            ).add_argument,
            top=p is parser,
        )
        for flag, what in (
            ("--max-connections", "open connections to the API"),
            ("--max-proxy-connections", "open connections to the jobs' http_url addresses"),
            ("--max-ssh-connections", "open SSH gateway connections"),
            ("--max-connections-per-client", "open connections from one client address"),
        ):
            limits(flag, _positive(int), None, f"{what} (default: from the open-files limit)")
        for flag, default, what in (
            (
                "--header-timeout",
                DEFAULT_HEADER_TIMEOUT,
                "a new connection has to send its first request",
            ),
            ("--idle-timeout", DEFAULT_IDLE_TIMEOUT, "a connection may wait between requests"),
        ):
            limits(flag, _positive(float), default, f"seconds {what} (default: {default:g})")
        add(
            "--no-isolation",
            None,
            False,
            "run jobs as this user even as root (see docs/local-platform.md)",
            action="store_true",
        )
        add(
            "--dialect",
            str,
            "2019",
            "the wire spoken: the 2019 Jobs API (default) or its 2022 form, as neuro-sdk "
            "22.7.1 speaks it (see docs/dialects.md)",
            choices=("2019", "2022"),
        )
        add(
            "--image-store",
            Path,
            None,
            "podman runtime: also run images from this host podman storage, read-only "
            "(e.g. /var/lib/containers/storage, where `podman build` puts them as root)",
            metavar="PATH",
        )
    token.add_argument("--user", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.data_dir = args.data_dir.expanduser()

    if args.command == "token":
        try:
            print(auth.issue_token(auth.load_secret(args.data_dir), args.user))
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        return 0

    logging.basicConfig(level=logging.INFO, format="neuro-sync-local: %(levelname)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # one INFO line per connection
    platform = LocalPlatform(
        args.data_dir,
        host=args.host,
        port=args.port,
        cpus=args.cpus,
        memory_mb=args.memory_mb,
        isolate=False if args.no_isolation else None,
        runtime=args.runtime,
        dialect=args.dialect,
        slurm_conf=args.slurm_conf,
        slurm_partition=args.slurm_partition,
        slurm_account=args.slurm_account,
        image_store=args.image_store,
        max_pending_per_user=args.max_pending_per_user,
        max_jobs_per_user=args.max_jobs_per_user,
        max_log_bytes=args.max_log_mb and args.max_log_mb * 1024 * 1024,
        max_connections=args.max_connections,
        max_proxy_connections=args.max_proxy_connections,
        max_ssh_connections=args.max_ssh_connections,
        max_connections_per_client=args.max_connections_per_client,
        header_timeout=args.header_timeout,
        idle_timeout=args.idle_timeout,
    )
    try:
        platform.start()
    except RuntimeError as err:
        print(f"neuro-sync-local: {err}", file=sys.stderr)
        return 1
    where = f"runtime: {platform.runtime}"
    if "cluster" in platform.runtime_info:
        where += f", cluster: {platform.runtime_info['cluster']}"
    if args.dialect != "2019":  # a 2019 platform's line stays as it was
        where += f", dialect: {args.dialect}"
    print(f"neuro-sync local platform: {platform.url} ({where})", flush=True)
    print(f"client config: {platform.config_path}", flush=True)
    print(f"use it: export NEUROMATION_CONFIG={platform.config_path}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
