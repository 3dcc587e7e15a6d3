"""Cold start: how long ``import wsgi_handler`` takes, and how big the Lambda artefact is.

Runs ``python -B -X importtime -c "import wsgi_handler"`` in a fresh process N times (after
one untimed warm-up run that may write byte-code caches, like the ``.pyc`` files the artefact
ships), with a production configuration made of dummy values (no database connection is made
at import), and reports the median cumulative import time of ``wsgi_handler``, the median wall
time of the whole process, the bare interpreter's start-up for comparison, and the slowest
imports. ``-B`` because Lambda's ``/var/task`` is read-only: nothing is cached at run time.

Then measures the artefact (``.aws-sam/build/ApiFunction`` after ``sam build``, or
``build/lambda`` after ``make artifact``): unzipped and zipped size and the largest packages;
and the same for the optional Gemini layer (``.aws-sam/build/GeminiLayer`` or
``build/gemini-layer``). With ``--layer`` and a built artefact as ``--path``, it also times what
the first upload that asks Gemini pays on top: importing the SDK from the layer and building
the client and a request configuration (no network).

    python bench/coldstart.py                          # the checkout, with this interpreter
    python bench/coldstart.py --python python3.13 --path build/lambda \
        --layer build/gemini-layer                     # the built artefacts
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
LAYER_CANDIDATES = (ROOT / ".aws-sam" / "build" / "GeminiLayer", ROOT / "build" / "gemini-layer")
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
# The first Gemini-mapped upload: the SDK from the layer (after the function on sys.path, as
# Lambda's /opt/python comes after /var/task), the client and one request configuration.
SDK_CODE = (
    "import sys, time; sys.path.append(sys.argv[1]); "
    "wall, cpu = time.perf_counter(), time.process_time(); "
    "from finance.imports.ai import GeminiMapper, gemini_client; "
    "GeminiMapper(gemini_client('bench-key'))._config('x', {'type': 'object'}, 5.0); "
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


def run_once(
    python: str, cwd: Path, code: str, *, cache: bool, argv: tuple[str, ...] = ()
) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stderr of one fresh interpreter."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(ENVIRONMENT)
    args = [python, "-X", "importtime", "-c", code, *argv]
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
        (
            (name, statistics.median(own), statistics.median(cumulative_times[name]))
            for name, own in own_times.items()
        ),
        key=lambda row: row[1],
        reverse=True,
    )[:top]
    packages = sorted(
        ((package, statistics.median(times)) for package, times in package_times.items()),
        key=lambda row: row[1],
        reverse=True,
    )[:top]
    return {
        "packages": packages,
        "python": subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),
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


def measure_sdk_import(python: str, path: Path, layer: Path, runs: int) -> dict:
    """Wall and CPU ms (medians) of the Gemini SDK's first use, the layer after the function."""
    argv = (str(layer.resolve()),)
    run_once(python, path, SDK_CODE, cache=True, argv=argv)  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        _wall, _cpu, stderr = run_once(python, path, SDK_CODE, cache=False, argv=argv)
        marker = [line.split() for line in stderr.splitlines() if line.startswith("BENCH ")]
        walls.append(float(marker[-1][1]) * 1000)
        cpus.append(float(marker[-1][2]) * 1000)
    return {
        "wall_ms": statistics.median(walls),
        "cpu_ms": statistics.median(cpus),
        "wall_ms_all": walls,
        "cpu_ms_all": cpus,
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
    if relative.suffix == ".pyc":
        if relative.parent.name == "__pycache__":
            source = relative.parent.parent / (relative.name.split(".", 1)[0] + ".py")
        else:  # byte-code in place of its source (build_lambda.py compiles dependencies so)
            source = relative.with_suffix(".py")
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
    parser.add_argument(
        "--path",
        type=Path,
        default=ROOT,
        help="directory holding wsgi_handler.py (default: the checkout)",
    )
    parser.add_argument(
        "--artifact",
        type=Path,
        help="artefact directory (default: .aws-sam/build/ApiFunction or "
        "build/lambda, whichever exists)",
    )
    parser.add_argument(
        "--layer",
        type=Path,
        help="Gemini layer directory, holding python/ (default: .aws-sam/build/GeminiLayer or "
        "build/gemini-layer, whichever exists, sized only); given with a built --path, the "
        "SDK's first use is timed too",
    )
    parser.add_argument("--top", type=int, default=15, help="how many slowest imports to list")
    args = parser.parse_args(argv)

    result = measure_imports(args.python, args.path.resolve(), args.runs, args.top)
    print(
        f"Python {result['python']}, wsgi_handler from {result['path']}, "
        f"{result['runs']} fresh processes (median)"
    )
    walls = ", ".join(f"{t:.0f}" for t in result["import_ms_all"])
    cpus = ", ".join(f"{t:.0f}" for t in result["import_cpu_ms_all"])
    print(f"  import wsgi_handler, wall (importtime): {result['import_ms']:.0f} ms")
    print(f"      runs: {walls}")
    print(f"  import wsgi_handler, CPU time:          {result['import_cpu_ms']:.0f} ms")
    print(f"      runs: {cpus}")
    print(
        f"  whole process: wall {result['wall_ms']:.0f} ms, CPU {result['cpu_ms']:.0f} ms; "
        f"bare interpreter start-up (wall): {result['interpreter_ms']:.0f} ms"
    )
    load = ", ".join(f"{value:.2f}" for value in result["load_average"])
    print(f"  machine: {result['cpus']} CPUs, load average {load} (other work inflates all of it)")
    print(f"\n  {args.top} slowest imports (self time; cumulative includes what they import):")
    print(f"  {'module':<44} {'self ms':>8} {'cumul. ms':>10}")
    for name, own, cumulative in result["slowest"]:
        print(f"  {name:<44} {own / 1000:>8.1f} {cumulative / 1000:>10.1f}")

    print(
        f"\n  {args.top} most expensive packages (sum of their modules' self time; "
        "wsgi_handler's own is create_app()):"
    )
    for package, own in result["packages"]:
        print(f"  {package:<44} {own / 1000:>8.1f}")

    layer = args.layer or next((p for p in LAYER_CANDIDATES if p.is_dir()), None)
    if args.layer and args.path.resolve() != ROOT:  # a built layer on a built function
        sdk = measure_sdk_import(args.python, args.path.resolve(), layer / "python", args.runs)
        print(
            f"\n  first Gemini-mapped upload, on top (SDK from {layer}, client, request config): "
            f"wall {sdk['wall_ms']:.0f} ms, CPU {sdk['cpu_ms']:.0f} ms (median of {args.runs})"
        )
        print(
            "      runs (wall): "
            + ", ".join(f"{t:.0f}" for t in sdk["wall_ms_all"])
            + "; (CPU): "
            + ", ".join(f"{t:.0f}" for t in sdk["cpu_ms_all"])
        )

    artifact = args.artifact or next((p for p in ARTIFACT_CANDIDATES if p.is_dir()), None)
    if artifact is None or not artifact.is_dir():
        print("\nno artefact found: run `sam build --build-in-source` or `make artifact`")
        return 0
    for title, directory in (("Artefact", artifact), ("Gemini layer", layer)):
        if directory is None or not directory.is_dir():
            print(f"\nno {title.lower()} found")
            continue
        # A layer's packages are under python/ (its RECORD paths are relative to that).
        size = measure_artifact(directory / "python" if title != "Artefact" else directory, 10)
        print(
            f"\n{title} {directory}: {size['unzipped_mb']:.1f} MB unzipped "
            f"({size['pyc_mb']:.1f} MB of it .pyc), {size['zipped_mb']:.1f} MB zipped, "
            f"{size['files']} files"
        )
        print("  largest packages (unzipped, incl. .pyc):")
        for name, bytes_ in size["largest"]:
            print(f"  {name:<44} {bytes_ / 1e6:>6.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
