"""The load driver: closed-loop virtual users over keep-alive HTTP/1.1, and their statistics.

Each virtual user is one registered user with one wallet, on its own thread and its own
``http.client`` connection to 127.0.0.1 (nothing else is ever addressed). It sends its next
request as soon as the previous one is answered (no think time), picking by weight:

* reads — ``GET /api/wallets``, ``GET /api/transactions?wallet_id=&limit=100``,
  ``GET /api/stats?wallet_id=``;
* writes — ``POST /api/transactions`` (one DEPOSIT or WITHDRAWAL);
* uploads — ``POST /api/transactions/upload`` of a 50-row CSV whose rows are new each time
  (so every upload stores 50 transactions, none is a duplicate).

A request counts as an error if it raises (connection refused, reset, timeout) or answers
with anything but its success status. Everything is bounded: a step ends at its deadline
(requests in flight then finish, each under a socket timeout), and the caller stops it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"  # loopback only
REQUEST_TIMEOUT_S = 30.0
UPLOAD_ROWS = 50

#: (endpoint, class, weight): the mix of one virtual user's requests.
MIX = (
    ("GET /api/wallets", "read", 25),
    ("GET /api/transactions", "read", 25),
    ("GET /api/stats", "read", 20),
    ("POST /api/transactions", "write", 20),
    ("POST /api/transactions/upload", "upload", 10),
)
CLASSES = ("read", "write", "upload")


@dataclass
class Sample:
    endpoint: str
    kind: str
    started: float
    latency: float
    ok: bool
    status: str


@dataclass
class VirtualUser:
    index: int
    port: int
    token: str
    user_id: str = ""
    wallet_id: str = ""
    uploads: int = 0
    writes: int = 0
    rng: random.Random = field(default_factory=random.Random)
    connection: http.client.HTTPConnection | None = None

    # -- HTTP ---------------------------------------------------------------------------------

    def headers(self, content_type: str = "application/json") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        if self.user_id:
            headers["X-User-ID"] = self.user_id
        return headers

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type=None
    ) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_S)
        headers = self.headers(content_type or "application/json")
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except Exception:
            self.close()
            raise

    def call_json(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        status, raw = self.request(method, path, body)
        return status, json.loads(raw) if raw else None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # -- set-up -------------------------------------------------------------------------------

    def register(self) -> None:
        status, body = self.call_json(
            "POST",
            "/api/users/register",
            {
                "email": f"load{self.index}@example.com",
                "username": f"load{self.index}",
                "oauth_provider": "google.com",
                "oauth_id": f"load-{self.index}",
            },
        )
        if status != 200:
            raise RuntimeError(f"registration failed: {status} {body}")
        self.user_id = body["user_id"]
        status, body = self.call_json("POST", "/api/wallets", {"name": f"Load {self.index}"})
        if status != 201:
            raise RuntimeError(f"wallet creation failed: {status} {body}")
        self.wallet_id = body["id"]
        self.rng.seed(self.index)

    def seed(self, rows: int) -> None:
        self.close()  # idle since registering: the server may have closed it (keep-alive)
        status, body = self.upload(rows)
        if status != 200:
            raise RuntimeError(f"seed upload failed: {status} {body[:300]!r}")

    # -- the mix ------------------------------------------------------------------------------

    def upload(self, rows: int = UPLOAD_ROWS) -> tuple[int, bytes]:
        self.uploads += 1
        start = dt.date(2024, 1, 1)
        lines = ["Date,Type,Amount,Currency,Description"]
        for i in range(rows):
            day = start + dt.timedelta(days=(self.uploads * 7 + i) % 700)
            tag = f"u{self.index}-{self.uploads}-{i}"
            if i % 4 == 3:
                lines.append(f"{day},WITHDRAWAL,-{i % 90 + 1}.{i % 100:02d},EUR,Card {tag}")
            else:
                lines.append(f"{day},DEPOSIT,{i * 13 % 900 + 1}.{i % 100:02d},EUR,Salary {tag}")
        data = ("\n".join(lines) + "\n").encode()
        boundary = f"----load-{uuid.uuid4().hex}"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="wallet_id"\r\n\r\n'
                f"{self.wallet_id}\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="statement.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.request(
            "POST",
            "/api/transactions/upload",
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    def one(self, endpoint: str) -> tuple[int, int]:
        """Send one request of ``endpoint``; (status, the status that means success)."""
        if endpoint == "GET /api/wallets":
            return self.request("GET", "/api/wallets")[0], 200
        if endpoint == "GET /api/transactions":
            path = f"/api/transactions?wallet_id={self.wallet_id}&limit=100"
            return self.request("GET", path)[0], 200
        if endpoint == "GET /api/stats":
            return self.request("GET", f"/api/stats?wallet_id={self.wallet_id}")[0], 200
        if endpoint == "POST /api/transactions":
            self.writes += 1
            n = self.writes
            payload = {
                "wallet_id": self.wallet_id,
                "date": (dt.date(2024, 6, 1) + dt.timedelta(days=n % 300)).isoformat(),
                "transaction_type": "DEPOSIT" if n % 3 else "WITHDRAWAL",
                "transaction_amount": round((n % 500 + 1) * (1 if n % 3 else -1) + 0.25, 2),
                "currency": "EUR",
                "description": f"load {self.index}-{n}",
            }
            return self.request("POST", "/api/transactions", json.dumps(payload).encode())[0], 201
        if endpoint == "POST /api/transactions/upload":
            return self.upload()[0], 200
        raise ValueError(endpoint)

    def pick(self) -> tuple[str, str]:
        endpoints = [(e, k) for e, k, _ in MIX]
        return self.rng.choices(endpoints, weights=[w for *_, w in MIX])[0]

    def run(self, until: float, samples: list[Sample], lock: threading.Lock) -> None:
        # A connection idle since the last step may have been closed by the server's
        # keep-alive timeout (gunicorn: 2 s); a browser would silently retry, so start afresh.
        self.close()
        own: list[Sample] = []
        while time.monotonic() < until:
            endpoint, kind = self.pick()
            started = time.monotonic()
            try:
                status, expected = self.one(endpoint)
                ok, text = status == expected, str(status)
            except Exception as exc:  # a failed request is a data point, not a crash
                ok, text = False, type(exc).__name__
            own.append(Sample(endpoint, kind, started, time.monotonic() - started, ok, text))
        with lock:
            samples.extend(own)


def run_step(users: list[VirtualUser], seconds: float) -> tuple[list[Sample], float]:
    """All ``users`` at once for ``seconds``; the samples and the step's wall time."""
    samples: list[Sample] = []
    lock = threading.Lock()
    started = time.monotonic()
    until = started + seconds
    threads = [
        threading.Thread(target=u.run, args=(until, samples, lock), daemon=True) for u in users
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT_S + 5)
    return samples, time.monotonic() - started


# -- statistics -----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted or not); NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(samples: list[Sample], wall: float) -> dict[str, Any]:
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
        by_endpoint[sample.endpoint].append(sample)
    errors = [s for s in samples if not s.ok]
    error_kinds: dict[str, int] = defaultdict(int)
    for sample in errors:
        error_kinds[f"{sample.endpoint} -> {sample.status}"] += 1

    def latency(group: list[Sample]) -> dict[str, float]:
        values = [s.latency * 1000 for s in group]
        return {
            "count": len(group),
            "p50_ms": round(percentile(values, 0.50), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "max_ms": round(max(values), 1) if values else math.nan,
        }

    return {
        "requests": len(samples),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(samples) / wall, 1) if wall else 0.0,
        "errors": len(errors),
        "error_rate": round(len(errors) / len(samples), 4) if samples else 0.0,
        "error_kinds": dict(error_kinds),
        "classes": {kind: latency(by_kind[kind]) for kind in CLASSES if by_kind[kind]},
        "endpoints": {name: latency(group) for name, group in sorted(by_endpoint.items())},
    }
