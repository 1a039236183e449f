"""`make demo`: start the local platform in a temporary data dir, run the quickstart, stop.

The quickstart talks to the server over a real socket, configured only through
$NEUROMATION_CONFIG (the client config file the local platform writes), as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from neuro_sync.local import LocalPlatform

HERE = Path(__file__).resolve().parent


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="neuro-sync-demo-") as data_dir:
        with LocalPlatform(data_dir) as platform:
            print(f"local platform: {platform.url} (data dir {data_dir})")
            env = dict(os.environ, NEUROMATION_CONFIG=str(platform.config_path))
            env.pop("NEURO_SYNC_URL", None)
            env.pop("NEURO_SYNC_TOKEN", None)
            result = subprocess.run(
                [sys.executable, str(HERE / "quickstart.py")], env=env, check=False
            )
        print("local platform stopped")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
