"""The test command's core: a throw-away SecantusDB server around one pytest run.

Unit tests use mongomock; integration tests (marked ``integration``) use the
server through TEST_MONGODB_URI. The server is stopped whatever happens, and
the exit status is pytest's own (with "no tests ran" counted as a failure).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import localdb

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    port = localdb.free_port()
    proc = localdb.start(":memory:", port)
    try:
        localdb.wait_ready(proc, port)
        env = dict(os.environ, TEST_MONGODB_URI=f"mongodb://127.0.0.1:{port}/")
        result = subprocess.run([sys.executable, "-m", "pytest", *argv], env=env, cwd=ROOT)
        return 1 if result.returncode == 5 else result.returncode
    finally:
        localdb.stop(proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
