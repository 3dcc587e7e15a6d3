"""API latency: our overhead above the raw pymongo time of the same queries, in the same run.

Starts a throw-away SecantusDB (``scripts/localdb.py``), builds the app on it exactly as the
tests do (``finance.create_app(TestingConfig(...))``, RS256 tokens checked against a JWKS
file), registers a user, and loads two wallets — 10,000 and 100,000 generated transactions
(``tests/support/data.py``) — through the write path's own mechanics: ``insert_many`` in
batches of 1,000, each with ``totals.apply`` in the same transaction.

Then, through the Flask test client (in process: no HTTP server, no network), it measures the
median latency of

* ``GET /api/transactions?wallet_id=&limit=1000`` beside the raw
  ``find({owner, wallet}).sort([(date, -1), (_id, -1)]).limit(1000)``, fully iterated;
* ``GET /api/stats?wallet_id=`` beside the raw ``find_one`` of the wallet;
* ``GET /api/stats/allocation?wallet_id=`` beside the raw wallet ``find_one`` + holdings
  ``find`` + latest-prices aggregation,

app and raw calls interleaved so that load on the machine hits both alike, and prints the
``explain()`` winning plan of every hot query (an ``IXSCAN`` on the intended index, never a
``COLLSCAN``). With ``--profile`` (or when an overhead target is missed) it profiles one call
of each endpoint with cProfile and prints where the time goes.

    python bench/api_bench.py                      # 10k (50 calls) and 100k (10 calls)
    python bench/api_bench.py --large 0            # the 10k wallet only (about a minute)
    python bench/api_bench.py --profile

SecantusDB is a Python server: its reads cost about 15 µs per *matched* document whatever
the limit (it fetches every match, sorts, then limits), so raw times grow with the wallet
while our overhead must not — and a *hinted* query costs in proportion to the whole
collection, so each wallet is measured right after it is loaded, before the next one grows
the collection. Label results as measured against it.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import localdb  # noqa: E402
from bson import Decimal128, ObjectId  # noqa: E402
from machine import machine  # noqa: E402

TARGETS_MS = {"listing": 30.0, "stats": 10.0, "allocation": 10.0}


def build_app(uri: str, database: str, keys_dir: Path):
    """The app as tests build it: jwt mode, a JWKS file, the real server; plus indexes."""
    from finance import create_app
    from finance.config import TestingConfig
    from finance.db import get_db
    from finance.indexes import ensure_indexes
    from tests.support.tokens import TokenFactory

    tokens = TokenFactory()
    environ = {
        **tokens.jwt_environ(keys_dir),
        "LOG_LEVEL": "WARNING",  # no access-log line per request in the timings
        # The Python server answers heartbeats late while it works through 100k documents;
        # the default 1.5 s would have pymongo reset the pool mid-query.
        "MONGODB_TIMEOUT_MS": "60000",
    }
    app = create_app(
        TestingConfig(environ, MONGODB_URI=uri, MONGODB_DATABASE=database, MONGODB_MOCK=False)
    )
    ensure_indexes(get_db())
    return app, tokens


def register(client, tokens) -> tuple[ObjectId, dict[str, str]]:
    token = tokens.rs256(sub="bench-uid", email="bench@example.com")
    response = client.post(
        "/api/users/register",
        json={
            "email": "bench@example.com",
            "username": "bench",
            "oauth_provider": "google.com",
            "oauth_id": "bench-uid",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.json
    user_id = response.json["user_id"]
    headers = {
        "Authorization": f"Bearer {token}",
        "X-User-ID": user_id,
        "Content-Type": "application/json",
    }
    return ObjectId(user_id), headers


def load_wallet(owner: ObjectId, name: str, count: int, months: int, assets, seed: int):
    from finance.wallets.models import Wallet
    from tests.support import data

    wallet = Wallet(owner=owner, name=name).save()
    rows = data.generate(
        owner, wallet.id, count, seed=seed, assets=assets, months=months, start=dt.date(2015, 1, 1)
    )
    started = time.perf_counter()
    data.load(rows, size=1000)
    elapsed = time.perf_counter() - started
    print(
        f"  loaded {name}: {count:,} transactions in {elapsed:.1f} s "
        f"({count / elapsed:,.0f}/s, insert_many + totals.apply per batch of 1,000)"
    )
    return wallet


def add_prices(assets) -> None:
    """Daily prices for 120 days for the linked assets but one (which stays at cost)."""
    from finance.assets.models import Asset, AssetPrice
    from tests.support import data

    Asset._get_collection().insert_many(data.asset_documents(assets))
    linked = [a for a in assets if a.id is not None][:-1]
    now = dt.datetime.now(dt.UTC)
    docs = []
    for asset in linked:
        for day in range(120):
            price = asset.spec.price * (1 + Decimal(day % 50) / 1000)
            docs.append(
                {
                    "asset": asset.id,
                    "price": Decimal128(price.quantize(Decimal("0.01"))),
                    "date": dt.datetime(2024, 9, 1, tzinfo=dt.UTC) + dt.timedelta(day),
                    "currency": asset.spec.currency,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    AssetPrice._get_collection().insert_many(docs)


# -- the raw queries each endpoint issues ------------------------------------------------------


def raw_listing(owner, wallet_id, hint: bool = True):
    """The listing's find, fully iterated; the service names its index (``hint``) too."""
    from finance.transactions.models import Transaction
    from finance.transactions.service import LISTING_PROJECTION

    query = {"owner": owner, "wallet": wallet_id}
    cursor = Transaction._get_collection().find(query, LISTING_PROJECTION)
    cursor = cursor.sort([("date", -1), ("_id", -1)]).limit(1000)
    return list(cursor.hint("wallet_date") if hint else cursor)


def raw_wallet(owner, wallet_id):
    from finance.wallets.models import Wallet

    cursor = Wallet._get_collection().find({"_id": wallet_id, "owner": owner}).hint("_id_")
    return next(iter(cursor.limit(1)), None)


def raw_allocation(owner, wallet_id):
    from finance.assets.models import AssetPrice
    from finance.stats.models import Holding
    from finance.stats.service import latest_prices_pipeline

    wallet = raw_wallet(owner, wallet_id)
    holdings = list(Holding._get_collection().find({"owner": owner, "wallet": wallet_id}))
    ids = [h["asset"] for h in holdings if h.get("asset")]
    prices = list(AssetPrice._get_collection().aggregate(latest_prices_pipeline(ids)))
    return wallet, holdings, prices


# -- measuring ---------------------------------------------------------------------------------


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def timed_both(call) -> tuple[float, float]:
    """Wall ms and this process's CPU ms of one call (the server is another process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def measure(client, headers, path, raw, calls: int) -> dict[str, float]:
    """The endpoint beside its raw queries, interleaved in pairs, after one warm-up each.

    ``overhead_ms`` is the median of the paired differences (app minus raw of the same
    round), which cancels most of the server's own variance; ``cpu_overhead_ms`` the
    same in this process's CPU time — our code, Flask, pymongo's decoding, without
    any waiting for the server (the extra user/wallet look-ups are server time and
    appear only in the wall figure).
    """

    def endpoint():
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.json)

    endpoint()
    raw()
    app, base = [], []
    for _ in range(calls):
        app.append(timed_both(endpoint))
        base.append(timed_both(raw))
    return {
        "app_ms": statistics.median(a[0] for a in app),
        "raw_ms": statistics.median(b[0] for b in base),
        "overhead_ms": statistics.median(a[0] - b[0] for a, b in zip(app, base, strict=True)),
        "cpu_overhead_ms": statistics.median(
            a[1] - b[1] for a, b in zip(app, base, strict=True)
        ),
    }


def _package(filename: str, function: str) -> str:
    if "recv_into" in function or "sendall" in function:
        return "waiting for the server (socket)"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/finance/" in filename:
        return "finance (our code)"
    if filename == "~":
        return "builtins (" + function.split("'")[1] + ")" if "'" in function else "builtins"
    return "python stdlib"


def profile(client, headers, path, top: int = 12) -> str:
    """cProfile of one call: own time summed per package, then the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path, headers=headers)
    profiler.disable()
    stats = pstats.Stats(profiler)
    per_package: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        package = _package(filename, function)
        per_package[package] = per_package.get(package, 0.0) + own
    total = sum(per_package.values()) or 1.0
    lines = [f"total {total * 1000:.0f} ms (under the profiler); own time per package:"]
    for package, own in sorted(per_package.items(), key=lambda item: -item[1])[:10]:
        lines.append(f"  {own * 1000:8.1f} ms {own / total:6.1%}  {package}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    body = out.getvalue()
    lines.append(body[body.find("   ncalls") :].rstrip())
    return "\n".join(lines)


# -- explain -----------------------------------------------------------------------------------


def plan_chain(plan) -> str:
    stages = []
    while plan:
        name = plan.get("stage", "?")
        if plan.get("indexName"):
            name += f"({plan['indexName']})"
        stages.append(name)
        plan = plan.get("inputStage")
    return " <- ".join(stages)


def explain_all(owner, wallet_id, assets) -> list[tuple[str, str, str]]:
    from finance.assets.models import AssetPrice
    from finance.db import get_db
    from finance.stats.models import Holding, MonthlyTotal
    from finance.stats.service import latest_prices_pipeline
    from finance.transactions.models import Transaction
    from finance.wallets.models import Wallet

    def find_plan(cursor):
        return plan_chain(cursor.explain()["queryPlanner"]["winningPlan"])

    def aggregate_plan(collection, pipeline):
        explained = get_db().command(
            "explain", {"aggregate": collection.name, "pipeline": pipeline, "cursor": {}}
        )
        stages = explained.get("stages")
        planner = stages[0]["$cursor"]["queryPlanner"] if stages else explained["queryPlanner"]
        return plan_chain(planner["winningPlan"])

    transactions = Transaction._get_collection()
    linked = [a.id for a in assets if a.id is not None]
    return [
        (
            "listing page",
            "wallet_date",
            find_plan(
                transactions.find({"owner": owner, "wallet": wallet_id})
                .sort([("date", -1), ("_id", -1)])
                .limit(1000)
                .hint("wallet_date")
            ),
        ),
        (
            "listing, no hint",
            "wallet_date",
            find_plan(
                transactions.find({"owner": owner, "wallet": wallet_id})
                .sort([("date", -1), ("_id", -1)])
                .limit(1000)
            ),
        ),
        (
            "wallet by owner+id",
            "_id_",
            find_plan(
                Wallet._get_collection().find({"_id": wallet_id, "owner": owner}).hint("_id_")
            ),
        ),
        (
            "holdings",
            "owner_wallet",
            find_plan(Holding._get_collection().find({"owner": owner, "wallet": wallet_id})),
        ),
        (
            "latest prices",
            "uniq_asset_date",
            aggregate_plan(AssetPrice._get_collection(), latest_prices_pipeline(linked)),
        ),
        (
            "balance history",
            "owner_wallet_month",
            find_plan(
                MonthlyTotal._get_collection()
                .find({"owner": owner, "wallet": wallet_id})
                .sort("month", 1)
            ),
        ),
    ]


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="transactions, small wallet")
    parser.add_argument(
        "--large", type=int, default=100_000, help="transactions, large wallet (0: skip it)"
    )
    parser.add_argument("--calls", type=int, default=50, help="calls per endpoint, small")
    parser.add_argument("--large-calls", type=int, default=10, help="calls per endpoint, large")
    parser.add_argument("--storage", default=":memory:", help="server storage (dir or :memory:)")
    parser.add_argument("--profile", action="store_true", help="always profile one call each")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}; Python {platform.python_version()}")
    print(
        f"server: SecantusDB {version('SecantusDB')} (a Python MongoDB-wire server), "
        f"storage {args.storage}; client: Flask test client, in process"
    )
    port = localdb.free_port()
    server = localdb.start(args.storage, port)
    results: dict = {"date": f"{dt.date.today()}", "machine": machine(), "wallets": {}}
    missed = False
    try:
        localdb.wait_ready(server, port)
        with tempfile.TemporaryDirectory() as keys:
            app, tokens = build_app(f"mongodb://127.0.0.1:{port}/", "bench", Path(keys))
            client = app.test_client()
            owner, headers = register(client, tokens)

            from tests.support import data

            assets = data.make_assets(random.Random(5))
            add_prices(assets)
            plan = [("10k", args.small, args.calls, 60)]
            if args.large:
                plan.append(("100k", args.large, args.large_calls, 120))
            # Each wallet is measured right after it is loaded: the test server's cost of a
            # hinted query grows with the whole collection, not only with the wallet.
            for seed, (label, count, calls, months) in enumerate(plan, start=1):
                print(f"\nloading wallet {label}:")
                wallet = load_wallet(owner, f"bench {label}", count, months, assets, seed)
                wid = wallet.id
                print(f"explain (winning plans) on wallet {label}:")
                for what, wanted, chain in explain_all(owner, wid, assets):
                    verdict = "ok" if f"IXSCAN({wanted})" in chain else "UNEXPECTED"
                    print(f"  {what:<20} {chain:<42} want {wanted}: {verdict}")
                    results.setdefault("explain", {}).setdefault(label, {})[what] = chain
                endpoints = [
                    (
                        "listing",
                        f"/api/transactions?wallet_id={wid}&limit=1000",
                        lambda wid=wid: raw_listing(owner, wid),
                    ),
                    (
                        "stats",
                        f"/api/stats?wallet_id={wid}",
                        lambda wid=wid: raw_wallet(owner, wid),
                    ),
                    (
                        "allocation",
                        f"/api/stats/allocation?wallet_id={wid}",
                        lambda wid=wid: raw_allocation(owner, wid),
                    ),
                ]
                print(f"wallet {label} ({count:,} transactions), median of {calls} calls:")
                print(
                    f"  {'endpoint':<12}{'app ms':>10}{'raw ms':>10}{'overhead':>10}"
                    f"{'cpu':>8}{'target':>9}"
                )
                for name, path, raw in endpoints:
                    figures = measure(client, headers, path, raw, calls)
                    overhead = figures["overhead_ms"]
                    target = TARGETS_MS[name]
                    ok = overhead <= target
                    missed |= not ok
                    print(
                        f"  {name:<12}{figures['app_ms']:>10.1f}{figures['raw_ms']:>10.1f}"
                        f"{overhead:>10.1f}{figures['cpu_overhead_ms']:>8.1f}"
                        f"{'<= ' + str(int(target)):>9} {'ok' if ok else 'MISSED'}"
                    )
                    results["wallets"].setdefault(label, {})[name] = {
                        key: round(value, 2) for key, value in figures.items()
                    }
                    if args.profile or not ok:
                        print(f"\n  profile of one call of {path}:")
                        print("    " + profile(client, headers, path).replace("\n", "\n    "))
                unhinted = statistics.median(
                    timed(lambda wid=wid: raw_listing(owner, wid, hint=False))
                    for _ in range(max(3, calls // 5))
                )
                print(f"  (raw listing without the hint, as the planner picks: {unhinted:.1f} ms)")
                results["wallets"][label]["listing"]["raw_unhinted_ms"] = round(unhinted, 2)
    finally:
        localdb.stop(server)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
