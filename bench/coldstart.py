"""Cold start: how long ``import wsgi_handler`` takes, and how big the Lambda artefact is.

Runs ``python -B -X importtime -c "import wsgi_handler"`` in a fresh process N times (after
one untimed warm-up run that may write byte-code caches, like the ``.pyc`` files the artefact
ships), with a production configuration made of dummy values (no database connection is made
at import), and reports the median cumulative import time of ``wsgi_handler``, the median wall
time of the whole process, the bare interpreter's start-up for comparison, and the slowest
imports. ``-B`` because Lambda's ``/var/task`` is read-only: nothing is cached at run time.

Then measures the artefact (``.aws-sam/build/ApiFunction`` after ``sam build``, or
``build/lambda`` after ``make artifact``): unzipped and zipped size and the largest packages.

    python bench/coldstart.py                          # the checkout, with this interpreter
    python bench/coldstart.py --python python3.13 --path build/lambda   # the built artefact
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_CANDIDATES = (ROOT / ".aws-sam" / "build" / "ApiFunction", ROOT / "build" / "lambda")
ENVIRONMENT = {
    "FINANCE_ENV": "production",
    "MONGODB_URI": "mongodb://127.0.0.1:1/",
    "FIREBASE_PROJECT_ID": "demo",
    "AUTH_MODE": "firebase",
    "CORS_ORIGINS": "https://app.example.com",
    "ENFORCE_HTTPS": "true",
    "LOG_LEVEL": "INFO",
}
# The import, timed from inside too: CPU time (process_time) is what the import costs when the
# process has a core to itself, so it stays meaningful on a busy machine where wall time doesn't.
IMPORT_CODE = (
    "import sys, time; wall, cpu = time.perf_counter(), time.process_time(); import wsgi_handler; "
    "print('BENCH', time.perf_counter() - wall, time.process_time() - cpu, file=sys.stderr)"
)
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)\s*$")


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, self µs, cumulative µs, depth) for every line of ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            own, cumulative, indent, name = match.groups()
            rows.append((name, int(own), int(cumulative), len(indent) // 2))
    return rows


def package_of(module: str) -> str:
    """Where an import's self time is charged: its top-level package (for finance, two levels)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "finance" else parts[0]


def run_once(python: str, cwd: Path, code: str, *, cache: bool) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stderr of one fresh interpreter."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(ENVIRONMENT)
    args = [python, "-X", "importtime", "-c", code]
    if not cache:
        args.insert(1, "-B")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"import failed ({result.returncode}):\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stderr


def measure_imports(python: str, path: Path, runs: int, top: int) -> dict:
    run_once(python, path, IMPORT_CODE, cache=True)  # warm-up: page cache, .pyc files
    baseline = [run_once(python, path, "pass", cache=False)[0] for _ in range(runs)]
    walls, cpus, totals, import_cpus = [], [], [], []
    own_times: dict[str, list[int]] = defaultdict(list)
    cumulative_times: dict[str, list[int]] = defaultdict(list)
    package_times: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        wall, cpu, stderr = run_once(python, path, IMPORT_CODE, cache=False)
        marker = [line.split() for line in stderr.splitlines() if line.startswith("BENCH ")]
        import_cpus.append(float(marker[-1][2]))
        rows = parse_importtime(stderr)
        handler = [cum for name, _own, cum, depth in rows if name == "wsgi_handler" and depth == 0]
        if not handler:
            raise SystemExit("no top-level wsgi_handler line in the -X importtime output")
        walls.append(wall)
        cpus.append(cpu)
        totals.append(handler[-1])
        per_package: dict[str, int] = defaultdict(int)
        for name, own, cumulative, _depth in rows:
            own_times[name].append(own)
            cumulative_times[name].append(cumulative)
            per_package[package_of(name)] += own
        for package, own in per_package.items():
            package_times[package].append(own)
    slowest = sorted(
        ((name, statistics.median(own), statistics.median(cumulative_times[name]))
         for name, own in own_times.items()),
        key=lambda row: row[1], reverse=True,
    )[:top]
    packages = sorted(
        ((package, statistics.median(times)) for package, times in package_times.items()),
        key=lambda row: row[1], reverse=True,
    )[:top]
    return {
        "packages": packages,
        "python": subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip(),
        "path": str(path),
        "runs": runs,
        "import_ms": statistics.median(totals) / 1000,
        "import_ms_all": [t / 1000 for t in totals],
        "import_cpu_ms": statistics.median(import_cpus) * 1000,
        "import_cpu_ms_all": [t * 1000 for t in import_cpus],
        "wall_ms": statistics.median(walls) * 1000,
        "cpu_ms": statistics.median(cpus) * 1000,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "interpreter_ms": statistics.median(baseline) * 1000,
        "slowest": slowest,
    }


def _owners(artifact: Path) -> dict[str, str]:
    """Artefact-relative file path → "name version" of the distribution that installed it."""
    owners: dict[str, str] = {}
    for record in artifact.glob("*.dist-info/RECORD"):
        name, _, version = record.parent.name.removesuffix(".dist-info").rpartition("-")
        dist = f"{name} {version}"
        for line in record.read_text(encoding="utf-8").splitlines():
            path = line.split(",", 1)[0]
            if path and not path.startswith(".."):
                owners[path] = dist
    return owners


def _owner(relative: Path, owners: dict[str, str]) -> str:
    key = relative.as_posix()
    if key in owners:
        return owners[key]
    if relative.suffix == ".pyc" and relative.parent.name == "__pycache__":
        source = relative.parent.parent / (relative.name.split(".", 1)[0] + ".py")
        if source.as_posix() in owners:
            return owners[source.as_posix()]
    return f"(app code) {relative.parts[0]}"


def measure_artifact(artifact: Path, top: int) -> dict:
    files = [p for p in artifact.rglob("*") if p.is_file()]
    unzipped = sum(p.stat().st_size for p in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.write(path, path.relative_to(artifact).as_posix())
    owners = _owners(artifact)
    by_package: dict[str, int] = defaultdict(int)
    for path in files:
        by_package[_owner(path.relative_to(artifact), owners)] += path.stat().st_size
    pyc = sum(p.stat().st_size for p in files if p.suffix == ".pyc")
    return {
        "path": str(artifact),
        "unzipped_mb": unzipped / 1e6,
        "zipped_mb": len(buffer.getvalue()) / 1e6,
        "pyc_mb": pyc / 1e6,
        "files": len(files),
        "largest": sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)[:top],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    parser.add_argument("--path", type=Path, default=ROOT,
                        help="directory holding wsgi_handler.py (default: the checkout)")
    parser.add_argument("--artifact", type=Path,
                        help="artefact directory (default: .aws-sam/build/ApiFunction or "
                             "build/lambda, whichever exists)")
    parser.add_argument("--top", type=int, default=15, help="how many slowest imports to list")
    args = parser.parse_args(argv)

    result = measure_imports(args.python, args.path.resolve(), args.runs, args.top)
    print(f"Python {result['python']}, wsgi_handler from {result['path']}, "
          f"{result['runs']} fresh processes (median)")
    walls = ", ".join(f"{t:.0f}" for t in result["import_ms_all"])
    cpus = ", ".join(f"{t:.0f}" for t in result["import_cpu_ms_all"])
    print(f"  import wsgi_handler, wall (importtime): {result['import_ms']:.0f} ms")
    print(f"      runs: {walls}")
    print(f"  import wsgi_handler, CPU time:          {result['import_cpu_ms']:.0f} ms")
    print(f"      runs: {cpus}")
    print(f"  whole process: wall {result['wall_ms']:.0f} ms, CPU {result['cpu_ms']:.0f} ms; "
          f"bare interpreter start-up (wall): {result['interpreter_ms']:.0f} ms")
    load = ", ".join(f"{value:.2f}" for value in result["load_average"])
    print(f"  machine: {result['cpus']} CPUs, load average {load} (other work inflates all of it)")
    print(f"\n  {args.top} slowest imports (self time; cumulative includes what they import):")
    print(f"  {'module':<44} {'self ms':>8} {'cumul. ms':>10}")
    for name, own, cumulative in result["slowest"]:
        print(f"  {name:<44} {own / 1000:>8.1f} {cumulative / 1000:>10.1f}")

    print(f"\n  {args.top} most expensive packages (sum of their modules' self time; "
          "wsgi_handler's own is create_app()):")
    for package, own in result["packages"]:
        print(f"  {package:<44} {own / 1000:>8.1f}")

    artifact = args.artifact or next((p for p in ARTIFACT_CANDIDATES if p.is_dir()), None)
    if artifact is None or not artifact.is_dir():
        print("\nno artefact found: run `sam build --build-in-source` or `make artifact`")
        return 0
    size = measure_artifact(artifact, 10)
    print(f"\nArtefact {size['path']}: {size['unzipped_mb']:.1f} MB unzipped "
          f"({size['pyc_mb']:.1f} MB of it .pyc), {size['zipped_mb']:.1f} MB zipped, "
          f"{size['files']} files")
    print("  largest packages (unzipped, incl. .pyc):")
    for name, bytes_ in size["largest"]:
        print(f"  {name:<44} {bytes_ / 1e6:>6.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
