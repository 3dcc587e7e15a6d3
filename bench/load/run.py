"""Load test: the API under gunicorn on a real SecantusDB, at rising concurrency, on loopback.

A manual benchmark (not part of the test suite), bounded and self-stopping: it starts a
throw-away SecantusDB (``scripts/localdb.py``), creates the indexes (``finance.migrations``,
the deploy step), starts ``gunicorn -w 2 --threads 4 'finance:create_app()'`` on a free
127.0.0.1 port, registers one user with one wallet per virtual user (each seeded with a
50-row upload), warms up for 2 s, then runs each step — 1, 4, 8, 16 and 32 closed-loop
virtual users for 8 s each by default, shortened if need be so the whole run fits in
``--budget`` (60 s) (``bench/load/driver.py``: reads, writes, 50-row uploads) — and prints,
per step, throughput, error rate and p50/p99 latency per endpoint class, plus the CPU each
process used (in all, and per request). Everything it started is stopped at the end, and a
watchdog ends the run (exit 2) if it ever takes more than ``--max-seconds``.

Configuration: ``FINANCE_ENV=production`` — the deployed defaults (INFO JSON logs, 1.5 s
database timeouts, pool of 20, no CORS origins) — with ``AUTH_MODE=jwt`` against a JWKS
file of locally minted keys (``tests/support/tokens.py``) instead of Firebase, whose keys
cannot be fetched here. Production config accepts jwt mode (it refuses only ``dev``), so
nothing but the key source differs from a deployment.

    python bench/load/run.py                                   # about 60 s
    python bench/load/run.py --steps 4,8 --seconds 5 --json /tmp/load.json
    python bench/load/run.py --profile /tmp/load-profile       # py-spy during the last step

SecantusDB is a Python MongoDB-wire server on the same two cores as the API and the
driver, far slower than mongod: the figures are end-to-end on this machine, labelled so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(Path(__file__).resolve().parent)]

import localdb  # noqa: E402
from driver import CLASSES, VirtualUser, run_step, summarise  # noqa: E402

DATABASE = "load"
SEED_ROWS = 50
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def start_api(port: int, uri: str, environ: dict[str, str], log_path: Path) -> subprocess.Popen:
    import gunicorn

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "AUTH_"))}
    env.pop("GOOGLE_API_KEY", None)
    env.update(
        environ,
        FINANCE_ENV="production",
        MONGODB_URI=uri,
        MONGODB_DATABASE=DATABASE,
        PYTHONPATH=str(ROOT),
    )
    extra = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                *extra,
                "finance:create_app()",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_http(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early; see its log")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the API did not answer on port {port} within {timeout:.0f} s")


def stop_group(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def profile(pids: dict[str, int], seconds: float, out_dir: Path) -> list[subprocess.Popen]:
    """py-spy (``pip install py-spy``) on each named process: raw folded stacks for the step."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "100",
                "--format",
                "raw",
                "--output",
                str(out_dir / f"{name}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


def summarise_profile(path: Path, top: int = 15) -> None:
    """Own time by function (each folded stack's leaf), and inclusive time in our code."""
    own: dict[str, int] = {}
    ours: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines() if path.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            if "/finance/" in frame:
                ours[frame] = ours.get(frame, 0) + n
    if not samples:
        print(f"\n{path.name}: no samples (is py-spy installed?)")
        return
    print(f"\n{path.stem}: {samples} samples; own time by function:")
    for name, n in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * n / samples:5.1f}%  {name}")
    if ours:
        print(f"{path.stem}: inclusive time in finance/:")
        for name, n in sorted(ours.items(), key=lambda item: -item[1])[:top]:
            print(f"  {100 * n / samples:5.1f}%  {name}")


def print_table(results: list[dict]) -> None:
    print(
        "\n| users | req/s | errors | read p50 / p99 ms | write p50 / p99 ms "
        "| upload p50 / p99 ms | CPU % db / api / driver | CPU ms/req db / api | load avg |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for step in results:
        cells = []
        for kind in CLASSES:
            stats = step["classes"].get(kind)
            cells.append(f"{stats['p50_ms']:.0f} / {stats['p99_ms']:.0f}" if stats else "-")
        cpu, per = step["cpu_percent"], step["cpu_ms_per_request"]
        print(
            f"| {step['users']} | {step['throughput_rps']:.1f} | "
            f"{step['errors']} ({100 * step['error_rate']:.1f}%) | "
            + " | ".join(cells)
            + f" | {cpu['database']:.0f} / {cpu['api']:.0f} / {cpu['driver']:.0f}"
            + f" | {per['database']:.0f} / {per['api']:.0f}"
            + f" | {step['load_average']:.1f} |"
        )
    for step in results:
        if step["error_kinds"]:
            print(f"errors at {step['users']} users: {step['error_kinds']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1,4,8,16,32", help="virtual users per step")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each step")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="the whole run's target length: steps are shortened (to 5 s at least) to fit",
    )
    parser.add_argument("--max-seconds", type=float, default=120.0, help="watchdog")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--profile", type=Path, help="py-spy the API workers in the last step")
    args = parser.parse_args(argv)
    steps = [int(n) for n in args.steps.split(",") if n.strip()]
    if not steps or min(steps) < 1 or max(steps) > 64:
        parser.error("--steps: 1 to 64 users per step")
    if not 1 <= args.seconds <= 15 or len(steps) * args.seconds > 60:
        parser.error("--seconds: 1 to 15 per step, at most 60 s of load in all")

    started = time.monotonic()
    baseline_load = os.getloadavg()  # what else this machine is doing before we start
    db_proc = api_proc = None
    finished = threading.Event()

    def watchdog():
        if not finished.wait(args.max_seconds):
            print(f"watchdog: over {args.max_seconds:.0f} s; stopping", file=sys.stderr)
            stop_group(api_proc)
            if db_proc is not None:
                db_proc.kill()
            os._exit(2)

    threading.Thread(target=watchdog, daemon=True).start()
    workdir = Path(tempfile.mkdtemp(prefix="kartay-load-"))
    try:
        import pymongo

        from finance import migrations
        from tests.support.tokens import TokenFactory

        db_port = localdb.free_port()
        db_proc = localdb.start(":memory:", db_port, workdir / "secantusdb.log")
        localdb.wait_ready(db_proc, db_port)
        uri = f"mongodb://127.0.0.1:{db_port}/"
        with pymongo.MongoClient(uri) as client:
            migrations.upgrade(client[DATABASE])

        tokens = TokenFactory()
        environ = tokens.jwt_environ(workdir)
        api_port = localdb.free_port()
        api_proc = start_api(api_port, uri, environ, workdir / "gunicorn.log")
        wait_http(api_port, api_proc)
        workers = children(api_proc.pid)

        users = [
            VirtualUser(i, api_port, tokens.rs256(sub=f"load-{i}", email=f"load{i}@example.com"))
            for i in range(max(steps))
        ]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(VirtualUser.register, users))
            list(pool.map(lambda u: u.seed(SEED_ROWS), users))
        setup = time.monotonic() - started
        print(
            f"set up in {setup:.1f} s: SecantusDB {version('SecantusDB')} on :{db_port}, "
            f"gunicorn {version('gunicorn')} (2 workers x 4 threads) on :{api_port}, "
            f"{len(users)} users x {SEED_ROWS} seeded transactions; load average before "
            f"the run {baseline_load[0]:.1f} (1 min) / {baseline_load[1]:.1f} (5 min)"
        )
        run_step(users[: min(8, len(users))], 2.0)  # warm-up: connections, key cache, imports
        # Keep 3 s to stop everything, and 1.5 s per step for the requests still in flight
        # at its end (a step ends when they are answered).
        left = args.budget - (time.monotonic() - started) - 3 - 1.5 * len(steps)
        seconds = max(5.0, min(args.seconds, left / len(steps)))
        if seconds < args.seconds:
            print(f"steps shortened to {seconds:.1f} s to fit the {args.budget:.0f} s budget")

        results = []
        processes = {"database": [db_proc.pid], "api": workers, "driver": [os.getpid()]}
        for index, count in enumerate(steps):
            profilers = []
            if args.profile and index == len(steps) - 1:
                named = {"database": db_proc.pid}
                named.update({f"api-worker-{i}": pid for i, pid in enumerate(workers)})
                profilers = profile(named, seconds, args.profile)
            load_before = os.getloadavg()[0]
            before = {k: sum(cpu_seconds(p) for p in pids) for k, pids in processes.items()}
            samples, wall = run_step(users[:count], seconds)
            after = {k: sum(cpu_seconds(p) for p in pids) for k, pids in processes.items()}
            for profiler in profilers:
                profiler.wait(30)
            summary = summarise(samples, wall)
            summary["users"] = count
            summary["load_average"] = round((load_before + os.getloadavg()[0]) / 2, 1)
            summary["cpu_percent"] = {
                k: round(100 * (after[k] - before[k]) / wall, 1) for k in processes
            }
            # CPU per request barely depends on what else the machine runs; latency does.
            summary["cpu_ms_per_request"] = {
                k: round(1000 * (after[k] - before[k]) / max(1, summary["requests"]), 1)
                for k in processes
            }
            results.append(summary)
            print(
                f"  {count:>2} users: {summary['throughput_rps']:.1f} req/s, "
                f"{summary['errors']} errors, read p99 {summary['classes']['read']['p99_ms']} ms"
            )
        print_table(results)
        if args.profile:
            for path in sorted(args.profile.glob("*.txt")):
                summarise_profile(path)
        for user in users:
            user.close()
        report = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} cores, {platform.platform()}",
            "python": platform.python_version(),
            "server": f"SecantusDB {version('SecantusDB')}",
            "gunicorn": version("gunicorn"),
            "config": "FINANCE_ENV=production, AUTH_MODE=jwt (JWKS file)",
            "load_average_before": [round(x, 2) for x in baseline_load],
            "step_seconds": round(seconds, 1),
            "seed_rows_per_wallet": SEED_ROWS,
            "steps": results,
            "total_seconds": round(time.monotonic() - started, 1),
        }
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        print(f"total {report['total_seconds']} s")
        return 0
    finally:
        finished.set()
        stop_group(api_proc)
        if db_proc is not None:
            localdb.stop(db_proc)


if __name__ == "__main__":
    sys.exit(main())
