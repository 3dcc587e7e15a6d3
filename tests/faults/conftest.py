"""Fault injection: database servers and API processes that these tests start, kill and restart.

Every SecantusDB server here has its own free port and storage directory, so a test can
SIGKILL it and start it again on the same files. They run with ``--sync-on-commit``:
without it SecantusDB flushes its log lazily (like mongod with ``j: false``) and loses
transactions committed in the moment before a SIGKILL, so "data written before the kill is
still there" would test the server's flush timer, not the API. Production MongoDB
acknowledges writes with the default ``w: "majority"``, which is journaled.

Everything started here is stopped in a finalizer, whatever the test did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId

from finance.db import disconnect
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import localdb  # noqa: E402

#: pymongo checks a waiting server selection every 0.5 s (its minimum heartbeat interval),
#: so an unreachable database is reported between the timeout and the timeout + 0.5 s.
SELECTION_POLL_S = 0.5
#: Room for a loaded machine (CI) on top of that.
SLACK_S = 0.5


def outage_bound(app) -> float:
    """The longest a request may take to answer 503 once the database is unreachable."""
    return app.config["MONGODB_TIMEOUT_MS"] / 1000 + SELECTION_POLL_S + SLACK_S


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class DatabaseServer:
    """One SecantusDB process on a fixed port and storage directory, restartable."""

    def __init__(self, storage: Path, port: int, log_path: Path):
        self.storage = storage
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 30.0) -> DatabaseServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.storage.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
                [
                    localdb.executable(),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--storage-path",
                    str(self.storage),
                    "--log-level",
                    "WARNING",
                    "--sync-on-commit",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"SecantusDB exited early:\n{self.log()}")
            try:
                with pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=300) as client:
                    client.admin.command("ping")
                return self
            except pymongo.errors.PyMongoError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"SecantusDB did not answer within {timeout:.0f} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL, then wait for the exit (its WiredTiger lock goes with the process)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)

    def stop(self) -> None:
        if self.proc is not None:
            localdb.stop(self.proc)

    def client(self) -> pymongo.MongoClient:
        return pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=5000, tz_aware=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


@pytest.fixture
def database_server(tmp_path):
    """``database_server()``: a stopped server on a free port with its own storage dir."""
    servers: list[DatabaseServer] = []

    def make() -> DatabaseServer:
        index = len(servers)
        server = DatabaseServer(
            tmp_path / f"db{index}", localdb.free_port(), tmp_path / f"db{index}.log"
        )
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()


@pytest.fixture
def outage_app(auth_environ):
    """``outage_app(uri)``: an app on a real server (up or not), built without touching it."""

    def build(uri: str, database: str = "faults", **overrides):
        return make_app(
            environ=auth_environ,
            indexes=False,
            MONGODB_URI=uri,
            MONGODB_DATABASE=database,
            MONGODB_MOCK=False,
            **overrides,
        )

    yield build
    disconnect()


# -- the API as a separate process ------------------------------------------------------------


def gunicorn_extra_args() -> list[str]:
    """gunicorn 27 opens a control socket at one fixed path in $HOME; these servers need none."""
    import gunicorn

    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []


class ApiProcess:
    """The service under gunicorn (one worker, so one SIGKILL of the group ends it all)."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path):
        self.env = env
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> ApiProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    *gunicorn_extra_args(),
                    "finance:create_app()",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited early:\n{self.log()}")
            with contextlib.suppress(OSError):
                if self.request("GET", "/health", timeout=1)[0] == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the API did not answer within {timeout:.0f} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (gunicorn's arbiter and its worker) and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(15)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 60,
    ) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw, parse_float=Decimal) if raw else None
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


@pytest.fixture
def api_process(tmp_path, auth_environ):
    """``api_process(mongodb_uri, database)``: a started API process on a free port."""
    processes: list[ApiProcess] = []

    def start(uri: str, database: str) -> ApiProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "AUTH_"))}
        env.update(
            auth_environ,
            FINANCE_ENV="testing",
            MONGODB_URI=uri,
            MONGODB_DATABASE=database,
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        env.pop("GOOGLE_API_KEY", None)
        index = len(processes)
        process = ApiProcess(env, localdb.free_port(), tmp_path / f"api{index}.log")
        processes.append(process)
        return process.start()

    yield start
    for process in processes:
        process.kill()


def multipart(fields: dict[str, str], file_name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body (the fields and one ``file``) and its content type."""
    boundary = f"----kartay-{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# -- statements and the totals they must leave ------------------------------------------------

STATEMENT_HEADER = "Date,Type,Amount,Currency,Description"


def statement_csv(rows: int) -> bytes:
    """A CSV the heuristics map confidently; every row distinct (so none is a duplicate)."""

    start = dt.date(2020, 1, 1)
    lines = [STATEMENT_HEADER]
    for i in range(rows):
        day = start + dt.timedelta(days=i % 1500)
        if i % 3 == 2:
            lines.append(f"{day},WITHDRAWAL,-{i % 97 + 1}.{i % 100:02d},EUR,Rent {i}")
        else:
            lines.append(f"{day},DEPOSIT,{i % 1000 + 1}.{i % 100:02d},EUR,Salary {i}")
    return ("\n".join(lines) + "\n").encode()


def kept_and_recomputed(db, wallet_id) -> tuple[dict[str, Any], dict[str, Any]]:
    """The wallet's kept totals, and the same figures recomputed from its stored transactions
    (plain Decimal arithmetic over every row, not the code under test)."""
    wallet_id = ObjectId(wallet_id)
    rows = list(
        db.transactions.find(
            {"wallet": wallet_id}, {"transaction_amount": 1, "transaction_type": 1, "date": 1}
        )
    )
    amounts = [row["transaction_amount"].to_decimal() for row in rows]
    by_month: dict[str, int] = {}
    for row in rows:
        month = row["date"].strftime("%Y-%m")
        by_month[month] = by_month.get(month, 0) + 1
    recomputed = {
        "count": len(rows),
        "balance": sum(amounts, Decimal(0)),
        "deposits": sum((a for a in amounts if a > 0), Decimal(0)),
        "withdrawals": -sum((a for a in amounts if a < 0), Decimal(0)),
        "months": by_month,
    }
    totals = (db.wallets.find_one({"_id": wallet_id}) or {}).get("totals", {})

    def money(name):
        value = totals.get(name)
        return Decimal(0) if value is None else value.to_decimal()

    kept = {
        "count": totals.get("count", 0),
        "balance": money("balance"),
        "deposits": money("deposits"),
        "withdrawals": money("withdrawals"),
        "months": {
            doc["month"]: doc["count"]
            for doc in db.monthly_totals.find({"wallet": wallet_id})
            if doc.get("count")
        },
    }
    return kept, recomputed
