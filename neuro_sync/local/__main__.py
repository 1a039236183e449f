"""`neuro-sync-local` / `python -m neuro_sync.local`: serve, or issue a token."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="neuro-sync-local", description="A local, wire-compatible Neuromation jobs platform."
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the server (the default)")
    token = sub.add_parser("token", help="print a token for a user")
    for p in (parser, serve, token):
        # The defaults live on the top parser only: a subcommand's own default would
        # override an option given before it (`--data-dir X token` used the default dir).
        top = p is parser
        p.add_argument(
            "--data-dir",
            type=Path,
            default=DEFAULT_DATA_DIR if top else argparse.SUPPRESS,
            help=f"the platform's state: secret, jobs, client.nmrc (default: {DEFAULT_DATA_DIR})",
        )
        if p is token:
            continue
        p.add_argument("--host", default="127.0.0.1" if top else argparse.SUPPRESS)
        p.add_argument(
            "--port",
            type=int,
            default=8080 if top else argparse.SUPPRESS,
            help="0 picks a free port (default: 8080)",
        )
        p.add_argument(
            "--runtime",
            choices=("auto", "podman", "process", "slurm"),
            default="auto" if top else argparse.SUPPRESS,
            help="what runs jobs: podman containers, local processes, auto (podman if a "
            "trial container runs here, else processes; the default), or slurm (containers "
            "on a Slurm cluster, see docs/cluster.md)",
        )
        for flag, kind, text in (
            ("--slurm-conf", Path, "the cluster's slurm.conf (default: $SLURM_CONF)"),
            ("--slurm-partition", str, "the Slurm partition jobs go to"),
            ("--slurm-account", str, "the Slurm account jobs are charged to"),
        ):
            p.add_argument(flag, type=kind, default=None if top else argparse.SUPPRESS, help=text)
        p.add_argument(
            "--cpus",
            type=_positive(float),
            default=None if top else argparse.SUPPRESS,
            help="CPUs the jobs share (default: all)",
        )
        p.add_argument(
            "--memory-mb",
            type=_positive(int),
            default=None if top else argparse.SUPPRESS,
            help="memory the jobs share (default: all)",
        )
        p.add_argument(
            "--max-pending-per-user",
            type=_positive(int),
            default=None if top else argparse.SUPPRESS,
            help="pending jobs a user may have; more are refused with 400 "
            f"(default: {DEFAULT_MAX_PENDING_PER_USER})",
        )
        p.add_argument(
            "--max-jobs-per-user",
            type=_positive(int),
            default=None if top else argparse.SUPPRESS,
            help="job records kept per user; past it a user's oldest finished ones are "
            f"dropped (default: {DEFAULT_MAX_JOBS_PER_USER})",
        )
        p.add_argument(
            "--max-log-mb",
            type=_positive(int),
            default=None if top else argparse.SUPPRESS,
            help="size of a job's log past which its oldest part is dropped "
            f"(default: {DEFAULT_MAX_LOG_BYTES // 2**20})",
        )
        limits = p.add_argument_group(
            "connection limits", "defaults: from the open-files limit (docs/local-platform.md)"
        )
        for flag, what in (
            ("--max-connections", "open connections to the API"),
            ("--max-proxy-connections", "open connections to the jobs' http_url addresses"),
            ("--max-ssh-connections", "open SSH gateway connections"),
            ("--max-connections-per-client", "open connections from one client address"),
        ):
            limits.add_argument(
                flag,
                type=_positive(int),
                default=None if top else argparse.SUPPRESS,
                help=f"{what} (default: from the open-files limit)",
            )
        limits.add_argument(
            "--header-timeout",
            type=_positive(float),
            default=DEFAULT_HEADER_TIMEOUT if top else argparse.SUPPRESS,
            help="seconds a new connection has to send its first request "
            f"(default: {DEFAULT_HEADER_TIMEOUT:g})",
        )
        limits.add_argument(
            "--idle-timeout",
            type=_positive(float),
            default=DEFAULT_IDLE_TIMEOUT if top else argparse.SUPPRESS,
            help="seconds a connection may wait between requests "
            f"(default: {DEFAULT_IDLE_TIMEOUT:g})",
        )
        p.add_argument(
            "--no-isolation",
            action="store_true",
            default=False if top else argparse.SUPPRESS,
            help="run jobs as this user even as root (see docs/local-platform.md)",
        )
        p.add_argument(
            "--dialect",
            choices=("2019", "2022"),
            default="2019",
            help="the wire spoken: the 2019 Jobs API (default) or its 2022 form, as neuro-sdk "
            "22.7.1 speaks it (see docs/dialects.md)",
        )
        p.add_argument(
            "--image-store",
            type=Path,
            metavar="PATH",
            help="podman runtime: also run images from this host podman storage, read-only "
            "(e.g. /var/lib/containers/storage, where `podman build` puts them as root)",
        )
    token.add_argument("--user", required=True)
    args = parser.parse_args(argv)
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
