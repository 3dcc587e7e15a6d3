"""Start, wait for and stop a local SecantusDB server as a separate process.

SecantusDB is GPL-2.0-only, so it is only ever run as its own process (local
development and tests), never imported by the ``finance`` package.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def executable() -> str:
    found = shutil.which(
        "secantusd-py",
        path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    if not found:
        raise SystemExit("secantusd-py is not installed; run the set-up step (make install).")
    return found


def start(storage: str, port: int, log_path: Path | None = None) -> subprocess.Popen:
    """Launch the server; ``storage`` is a directory, or ":memory:" for a throw-away one.

    A directory's data must survive a hard kill of the server, so its commits are
    synced to disk (throw-away servers skip that cost).
    """
    durability = []
    if storage != ":memory:":
        Path(storage).mkdir(parents=True, exist_ok=True)
        durability = ["--sync-on-commit"]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [
            executable(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            storage,
            "--log-level",
            "WARNING",
            *durability,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(proc: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    import pymongo

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the local database exited early with status {proc.returncode}")
        try:
            client = pymongo.MongoClient(
                f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300
            )
            client.admin.command("ping")
            client.close()
            return
        except pymongo.errors.PyMongoError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"the local database did not answer on port {port} within {timeout:.0f} s")


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM and wait, so the WiredTiger lock is released before the directory is reused."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
