"""The run command: serve the API on 127.0.0.1:$PORT (default 8000).

In development with no MONGODB_URI/MONGODB_URL, a local SecantusDB server is
started as a separate process with its data under ``instance/db`` (so data
survives restarts), migrations are applied, and the server is stopped cleanly
when the API stops. A set MONGODB_URI always wins.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import localdb

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DB_PORT = 27117


def main() -> int:
    env = dict(os.environ)
    env.setdefault("FINANCE_ENV", "development")
    env.setdefault("FLASK_APP", "finance")
    port = env.get("PORT", "8000")
    db_proc = None
    if env["FINANCE_ENV"] == "development" and not (
        env.get("MONGODB_URI") or env.get("MONGODB_URL")
    ):
        db_port = int(env.get("LOCAL_DB_PORT", LOCAL_DB_PORT))
        if localdb.port_in_use(db_port):
            raise SystemExit(
                f"port {db_port} is taken; is another local database running? "
                "Set LOCAL_DB_PORT to use another."
            )
        instance = ROOT / "instance"
        instance.mkdir(exist_ok=True)
        print(
            f"starting the local database on 127.0.0.1:{db_port} (data in instance/db)", flush=True
        )
        db_proc = localdb.start(str(instance / "db"), db_port, log_path=instance / "localdb.log")
        localdb.wait_ready(db_proc, db_port)
        env["MONGODB_URI"] = f"mongodb://127.0.0.1:{db_port}/"
    flask = [sys.executable, "-m", "flask"]
    try:
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT)
        server = subprocess.Popen(
            [*flask, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"], env=env, cwd=ROOT
        )
        signal.signal(signal.SIGTERM, lambda *_: server.terminate())
        try:
            status = server.wait()
        except KeyboardInterrupt:
            server.terminate()
            status = server.wait()
        # Stopped by Ctrl-C or SIGTERM is the normal way to end a local server.
        return 0 if status < 0 or status == 130 else status
    finally:
        if db_proc is not None:
            print("stopping the local database", flush=True)
            localdb.stop(db_proc)


if __name__ == "__main__":
    sys.exit(main())
