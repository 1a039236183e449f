"""`neuro-sync-local` / `python -m neuro_sync.local`: serve, or issue a token."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from . import LocalPlatform, auth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="neuro-sync-local", description="A local, wire-compatible Neuromation jobs platform."
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the server (the default)")
    token = sub.add_parser("token", help="print a token for a user")
    for p in (parser, serve, token):
        p.add_argument("--data-dir", type=Path, default=Path("~/.neuro-sync-local").expanduser())
    for p in (parser, serve):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
        p.add_argument(
            "--runtime",
            choices=("auto", "podman", "process"),
            default="auto",
            help="what runs jobs: podman containers, local processes, or auto (podman if a "
            "trial container runs here, else processes)",
        )
    token.add_argument("--user", required=True)
    args = parser.parse_args(argv)

    if args.command == "token":
        try:
            print(auth.issue_token(auth.load_secret(args.data_dir), args.user))
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        return 0

    platform = LocalPlatform(args.data_dir, host=args.host, port=args.port, runtime=args.runtime)
    try:
        platform.start()
    except RuntimeError as err:
        print(f"neuro-sync-local: {err}", file=sys.stderr)
        return 1
    print(f"neuro-sync local platform: {platform.url} (runtime: {platform.runtime})", flush=True)
    print(f"client config: {platform.config_path}", flush=True)
    print(f"use it: NEUROMATION_CONFIG={platform.config_path} python your_script.py", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
