"""Build the Lambda deployment artefacts: the function, and the optional Gemini layer.

Used by ``sam build`` (template.yaml ``BuildMethod: makefile`` → ``make build-ApiFunction`` and
``make build-GeminiLayer``, which pass SAM's ``$ARTIFACTS_DIR``) and by ``make artifact``
(``build/lambda`` and ``build/gemini-layer``, each with a zip).

The function artefact holds:

* ``finance/`` copied as-is, without ``__pycache__``/``*.pyc`` (copied rather than installed
  from a wheel, so a sub-package without ``__init__.py`` can never silently go missing);
* ``wsgi_handler.py``;
* the runtime requirements, read from ``setup.cfg`` ``[options] install_requires`` (the one
  list; never duplicated here), resolved once for Linux/CPython 3.13 on the target
  architecture (``pip install --dry-run --report``) and installed at exactly those versions
  from binary wheels only, so the build works from any machine;
* byte-code compiled by a CPython of the runtime's version (``python3.13`` on PATH, or
  ``LAMBDA_PYTHON``): Lambda's ``/var/task`` is read-only, so without shipped ``.pyc`` files
  every cold start compiles every imported module again (measured: importing wsgi_handler took
  ~2 s instead of ~0.4 s). ``finance/`` and ``wsgi_handler.py`` keep their sources (with
  ``__pycache__`` byte-code, ``--invalidation-mode unchecked-hash``), so the app's own frames
  in a traceback show their code; the dependencies ship byte-code only, next to where the
  source was (``compileall -b``), which halves their size — their traceback frames still name
  the file and line, without the line's text. ``--keep-sources`` ships their sources too.

The Gemini layer (``--layer ai``) holds, under ``python/`` (Lambda adds ``/opt/python`` to
``sys.path``, after ``/var/task``), what setup.cfg's ``ai`` extra needs and the function does
not: the extra's dependency closure resolved together with install_requires, minus the closure
of install_requires alone, at the versions of that joint resolution. The app imports the SDK
lazily and only with ``GOOGLE_API_KEY`` set, so the function works without the layer.

Both leave out console scripts (``bin/``), test suites and docs some wheels ship, type stubs
(``*.pyi``, ``py.typed``), C sources of compiled extensions and anything the host's pip
compiled; they strip the shared libraries' symbol tables (``llvm-strip``, or
``aarch64-linux-gnu-strip``/``x86_64-linux-gnu-strip``, or ``strip`` for the host's own
architecture; ``LAMBDA_STRIP`` names another). ``.dist-info`` directories stay
(``importlib.metadata.version`` reads them: flask, werkzeug, markupsafe...).

On a machine of the target architecture with CPython 3.13, a smoke test runs the artefact
alone (``-I -S``, no site-packages): GET /health through the handler, every compiled
extension imported, RS256/ES256 tokens verified through PyJWT and an XLSX written by openpyxl
read back by python-calamine; for the layer, the app's Gemini client built on top of the
function artefact (``--function DIR``).
"""

from __future__ import annotations

import argparse
import ast
import configparser
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_CODE = ("finance", "wsgi_handler.py")
PLATFORMS = {
    # The python3.13 runtime is Amazon Linux 2023 (glibc 2.34): every manylinux tag up to 2_34.
    "arm64": ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": (
        "manylinux_2_34_x86_64",
        "manylinux_2_28_x86_64",
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    ),
}
# Top-level directories some wheels ship beside their package (ofxtools: tests/, docs/) and
# pip's console scripts: never imported at run time.
PRUNE_TOP_LEVEL = ("bin", "tests", "docs")
# Directories never imported at run time, wherever they are: byte-code of the host's Python
# and test suites inside packages (simplejson/tests, certifi/tests, google/genai/tests).
PRUNE_DIRS = ("__pycache__", "tests")
# Files never read at run time: host byte-code, type stubs and markers, C sources of the
# compiled extensions shipped next to them.
PRUNE_SUFFIXES = (".pyc", ".pyo", ".pyi", ".c")
PRUNE_NAMES = ("py.typed",)
# Imported by finance/ only on paths that never run on Lambda (db.py's test-suite fake).
TEST_ONLY_IMPORTS = {"mongomock"}
# Layers: setup.cfg extra → where its modules come from. finance/ may import these only
# inside functions (tests/unit/lambda checks it), so the app runs without the layer.
LAYERS = {"ai": {"modules": {"google"}, "resource": "GeminiLayer"}}
MACHINES = {"arm64": ("aarch64", "arm64"), "x86_64": ("x86_64", "amd64")}
ELF_MACHINES = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
STRIP_TOOLS = {
    "arm64": ("llvm-strip", "aarch64-linux-gnu-strip"),
    "x86_64": ("llvm-strip", "x86_64-linux-gnu-strip"),
}
SMOKE_ENVIRONMENT = {
    "FINANCE_ENV": "production",
    "MONGODB_URI": "mongodb://127.0.0.1:1/",
    "FIREBASE_PROJECT_ID": "smoke-test",
    "AUTH_MODE": "firebase",
    "CORS_ORIGINS": "https://app.example.com",
    "ENFORCE_HTTPS": "true",
    "LOG_LEVEL": "WARNING",
}
HEALTH_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {
        "host": "example.execute-api.eu-central-1.amazonaws.com",
        "x-forwarded-proto": "https",
    },
    "requestContext": {
        "http": {
            "method": "GET",
            "path": "/health",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.1",
        },
        "stage": "$default",
    },
    "isBase64Encoded": False,
}
# Run as `python -I -S -B -c SMOKE_PRELUDE+... EVENT DIR [DIR...]`: only the artefact on sys.path.
SMOKE_PRELUDE = """\
import importlib, json, pathlib, sys
sys.path[:0] = sys.argv[2:]
for root in map(pathlib.Path, sys.argv[2:]):
    for path in sorted(root.rglob("*.so")):
        parts = path.relative_to(root).with_suffix("").parts
        if not any(part.endswith(".libs") for part in parts):  # auditwheel's vendored libraries
            name = ".".join(parts).split(".cpython-")[0].removesuffix(".abi3")
            importlib.import_module(name)
"""
SMOKE_FUNCTION = (
    SMOKE_PRELUDE
    + """\
import wsgi_handler
response = wsgi_handler.handler(json.loads(sys.argv[1]), None)
assert response["statusCode"] == 200, response
import bson, pymongo
assert bson.has_c() and pymongo.has_c(), "bson/pymongo fell back to pure Python"
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
for key, algorithm in ((rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
                       (ec.generate_private_key(ec.SECP256R1()), "ES256")):
    token = jwt.encode({"sub": "smoke"}, key, algorithm=algorithm)
    assert jwt.decode(token, key.public_key(), algorithms=[algorithm]) == {"sub": "smoke"}
import io, openpyxl, python_calamine
book = openpyxl.Workbook()
book.active.append(["Datum", "Betrag"])
book.active.append(["02.01.2024", 12.5])
data = io.BytesIO()
book.save(data)
sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data.getvalue()))
assert sheet.get_sheet_by_index(0).to_python() == [["Datum", "Betrag"], ["02.01.2024", 12.5]]
"""
)
SMOKE_LAYER = (
    SMOKE_PRELUDE
    + """\
from finance.imports.ai import GeminiMapper, gemini_client
mapper = GeminiMapper(gemini_client("smoke-test-key"))
config = mapper._config("instructions", {"type": "object"}, 5.0)
assert config.response_mime_type == "application/json", config
"""
)


# -- requirements ------------------------------------------------------------------------------


def _setup_cfg(setup_cfg: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(setup_cfg, encoding="utf-8")
    return parser


def _lines(raw: str) -> list[str]:
    requirements = []
    for line in raw.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirements.append(line)
    return requirements


def runtime_requirements(setup_cfg: Path = ROOT / "setup.cfg") -> list[str]:
    """``[options] install_requires`` exactly as setuptools reads it (one per line, no comments)."""
    parser = _setup_cfg(setup_cfg)
    requirements = _lines(parser.get("options", "install_requires", raw=True, fallback=""))
    if not requirements:
        raise SystemExit(f"no install_requires found in {setup_cfg}")
    return requirements


def extra_requirements(extra: str, setup_cfg: Path = ROOT / "setup.cfg") -> list[str]:
    """``[options.extras_require] <extra>``, interpolated as setuptools does (``%(ai)s``)."""
    requirements = _lines(_setup_cfg(setup_cfg).get("options.extras_require", extra, fallback=""))
    if not requirements:
        raise SystemExit(f"no extra {extra!r} in {setup_cfg} [options.extras_require]")
    return requirements


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_platform_args(arch: str, python_version: str) -> list[str]:
    platforms = [arg for tag in PLATFORMS[arch] for arg in ("--platform", tag)]
    return [
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        *platforms,
    ]


def resolve(requirements: list[str], arch: str, python_version: str) -> dict[str, str]:
    """Canonical name → version of everything pip would install for the Lambda runtime."""
    with tempfile.TemporaryDirectory() as scratch:
        listing = Path(scratch) / "requirements.txt"
        listing.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        report = Path(scratch) / "report.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--disable-pip-version-check",
                "--report",
                str(report),
                "--target",
                str(Path(scratch) / "target"),
                *_pip_platform_args(arch, python_version),
                "-r",
                str(listing),
            ],
            check=True,
        )
        installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


def layer_pins(core: dict[str, str], joint: dict[str, str]) -> dict[str, str]:
    """What a layer adds to the function: the joint resolution minus the function's own.

    The function ships ``core`` (install_requires resolved alone); if adding the extra made
    pip choose another version of something the function already has, the layer could not
    fix that (``/var/task`` comes first on ``sys.path``), so the build stops.
    """
    changed = {
        name: (core[name], joint[name])
        for name in core
        if name in joint and joint[name] != core[name]
    }
    if changed:
        details = ", ".join(f"{n} {old} -> {new}" for n, (old, new) in sorted(changed.items()))
        raise SystemExit(
            f"build_lambda: the layer's extra needs other versions of what the "
            f"function ships ({details}); pin them in install_requires."
        )
    return {name: version for name, version in sorted(joint.items()) if name not in core}


def install_pinned(target: Path, pins: dict[str, str], arch: str, python_version: str) -> None:
    """Exactly these distributions and versions (``--no-deps``: the closure is already in)."""
    with tempfile.TemporaryDirectory() as scratch:
        listing = Path(scratch) / "requirements.txt"
        listing.write_text(
            "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())), encoding="utf-8"
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--no-deps",
                "--disable-pip-version-check",
                "--root-user-action=ignore",
                "--upgrade",
                "--target",
                str(target),
                *_pip_platform_args(arch, python_version),
                "-r",
                str(listing),
            ],
            check=True,
        )


# -- the tree ----------------------------------------------------------------------------------


def copy_code(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    for name in RUNTIME_CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / name)


def prune(target: Path) -> None:
    for name in PRUNE_TOP_LEVEL:
        shutil.rmtree(target / name, ignore_errors=True)
    for path in sorted(target.rglob("*"), reverse=True):
        if not path.exists():
            continue  # inside a directory already removed
        if path.is_dir() and path.name in PRUNE_DIRS and ".dist-info" not in path.parent.name:
            shutil.rmtree(path)
        elif path.is_file() and (path.suffix in PRUNE_SUFFIXES or path.name in PRUNE_NAMES):
            path.unlink()


def shared_libraries(target: Path) -> list[Path]:
    return sorted(p for p in target.rglob("*") if p.is_file() and re.search(r"\.so(\.|$)", p.name))


def elf_machine(path: Path) -> int | None:
    """The ELF header's e_machine, or None for a file that is not a little-endian ELF."""
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF" or header[5] != 1:
        return None
    return int.from_bytes(header[18:20], "little")


def strip_tool(arch: str) -> str | None:
    """A ``strip`` that understands the target architecture's ELF files, if there is one."""
    candidates = [os.environ.get("LAMBDA_STRIP"), *STRIP_TOOLS[arch]]
    if platform.machine().lower() in MACHINES[arch]:
        candidates.append("strip")
    return next((tool for tool in candidates if tool and shutil.which(tool)), None)


def strip_libraries(target: Path, arch: str) -> tuple[int, int]:
    """``--strip-unneeded`` every shared library (drops symbols nothing links against).

    Returns the libraries' total size before and after."""
    libraries = shared_libraries(target)
    before = sum(p.stat().st_size for p in libraries)
    tool = strip_tool(arch)
    if tool is None:
        print(
            f"build_lambda: shared libraries NOT stripped: no llvm-strip or "
            f"{STRIP_TOOLS[arch][1]} on PATH (apt-get install llvm, or set LAMBDA_STRIP)"
        )
        return before, before
    for library in libraries:
        if elf_machine(library) != ELF_MACHINES[arch]:
            raise SystemExit(f"build_lambda: {library} is not an {arch} ELF library")
        subprocess.run([tool, "--strip-unneeded", str(library)], check=True)
        if elf_machine(library) != ELF_MACHINES[arch]:
            raise SystemExit(f"build_lambda: {tool} damaged {library}")
    return before, sum(p.stat().st_size for p in libraries)


# -- byte-code ---------------------------------------------------------------------------------


def find_python(version: str) -> str | None:
    """A CPython whose byte-code matches the runtime's (``.pyc`` magic is per minor version)."""
    wanted = os.environ.get("LAMBDA_PYTHON") or shutil.which(f"python{version}")
    candidates = [wanted] if wanted else []
    if sys.version_info[:2] == tuple(int(p) for p in version.split(".")):
        candidates.append(sys.executable)
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def bytecode_python(version: str) -> str:
    python = find_python(version)
    if python is None:
        raise SystemExit(
            f"build_lambda: no CPython {version} found to compile byte-code: put python{version} "
            "on PATH or set LAMBDA_PYTHON, or pass --no-bytecode to ship sources only (every "
            "cold start then compiles them: about 2 s instead of 0.4 s to import, measured here)."
        )
    return python


def compile_bytecode(target: Path, python: str, *, sourceless: tuple[Path, ...] = ()) -> None:
    """``__pycache__`` byte-code for everything; for ``sourceless`` paths, ``.pyc`` in place.

    ``compileall -b`` writes ``module.pyc`` beside ``module.py``; with the source removed,
    CPython imports that file directly (SourcelessFileLoader).
    """
    sourceless = tuple(p.resolve() for p in sourceless)
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    with_sources = [
        p
        for p in sorted(target.iterdir())
        if p.resolve() not in sourceless and (p.is_dir() or p.suffix == ".py")
    ]
    if with_sources:
        subprocess.run([*command, *map(str, with_sources)], check=True)
    if sourceless:
        subprocess.run([*command, "-b", *map(str, sourceless)], check=True)
        for root in sourceless:
            sources = [root] if root.is_file() else root.rglob("*.py")
            for source in sources:
                if source.with_suffix(".pyc").is_file():
                    source.unlink()
                else:  # compileall skipped it (a Python 2 leftover, say): keep the source
                    print(f"build_lambda: kept {source.relative_to(target)} (not compiled)")


def dependency_paths(target: Path) -> tuple[Path, ...]:
    """Everything in the artefact that is not the app's code and may hold Python modules."""
    return tuple(
        p
        for p in sorted(target.iterdir())
        if p.name not in RUNTIME_CODE
        and not p.name.endswith(".dist-info")
        and (p.is_dir() or p.suffix == ".py")
    )


# -- checks ------------------------------------------------------------------------------------


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, *, eager: bool = False):
    """Absolute imports in ``node``, skipping ``if TYPE_CHECKING:`` blocks; with ``eager``,
    only those that run when the module is imported (none inside a function or lambda)."""
    for child in ast.iter_child_nodes(node):
        if eager and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.If) and _is_type_checking(child):
            for statement in child.orelse:
                yield from _imports_of(statement, eager=eager)
            continue
        yield from _imports_of(child, eager=eager)


def _imports_of(node: ast.AST, *, eager: bool):
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        yield node.module
    yield from _imports(node, eager=eager)


def module_level_imports(tree: ast.Module):
    """Imports that run when the module is imported (not inside a function or a class body's
    methods): the statements of the module body, its ``if``/``try``/``with`` blocks included."""
    return _imports(tree, eager=True)


def layer_modules() -> set[str]:
    return {module for layer in LAYERS.values() for module in layer["modules"]}


def missing_imports(target: Path) -> dict[str, list[str]]:
    """Top-level modules the shipped code imports that neither the artefact, Python nor a
    layer has."""
    available = {path.name.split(".")[0] for path in target.iterdir()}
    available |= set(sys.stdlib_module_names) | {"__future__"} | TEST_ONLY_IMPORTS
    available |= layer_modules()
    missing: dict[str, list[str]] = {}
    for source in [target / "wsgi_handler.py", *sorted((target / "finance").rglob("*.py"))]:
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
        for name in _imports(tree):
            top = name.split(".")[0]
            if top not in available:
                missing.setdefault(top, []).append(source.relative_to(target).as_posix())
    return missing


def eager_layer_imports(root: Path = ROOT) -> dict[str, list[str]]:
    """Layer modules the app imports at module level (it must not: it runs without layers)."""
    found: dict[str, list[str]] = {}
    for source in [root / "wsgi_handler.py", *sorted((root / "finance").rglob("*.py"))]:
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
        for name in module_level_imports(tree):
            if name.split(".")[0] in layer_modules():
                found.setdefault(name, []).append(source.relative_to(root).as_posix())
    return found


def smoke_test(code: str, paths: list[Path], arch: str, version: str, what: str) -> None:
    """On a matching machine, run ``code`` with only ``paths`` on sys.path (no site-packages)."""
    python = find_python(version)
    if platform.machine().lower() not in MACHINES[arch] or python is None:
        print(
            f"build_lambda: {what} smoke test skipped (needs an {arch} machine with "
            f"python{version})"
        )
        return
    env = {"PATH": os.environ.get("PATH", ""), **SMOKE_ENVIRONMENT}
    subprocess.run(
        [python, "-I", "-S", "-B", "-c", code, json.dumps(HEALTH_EVENT), *map(str, paths)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"build_lambda: {what} smoke test passed")


# -- output ------------------------------------------------------------------------------------


def write_zip(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.unlink(missing_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source).as_posix())


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_function(target: Path, args: argparse.Namespace, python: str | None) -> None:
    pins = resolve(runtime_requirements(), args.arch, args.python_version)
    install_pinned(target, pins, args.arch, args.python_version)
    prune(target)
    before, after = strip_libraries(target, args.arch)
    print(f"build_lambda: shared libraries {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    copy_code(target)
    missing = missing_imports(target)
    if missing:
        details = "; ".join(f"{name} (in {', '.join(files)})" for name, files in missing.items())
        raise SystemExit(
            f"build_lambda: the artefact lacks modules the code imports: {details}. "
            "Add them to setup.cfg install_requires."
        )
    if python:
        sourceless = () if args.keep_sources else dependency_paths(target)
        compile_bytecode(target, python, sourceless=sourceless)
    smoke_test(
        SMOKE_FUNCTION,
        [target],
        args.arch,
        args.python_version,
        "function (GET /health, native extensions, RS256/ES256, XLSX)",
    )


def build_layer(target: Path, args: argparse.Namespace, python: str | None) -> None:
    core = runtime_requirements()
    pins = layer_pins(
        resolve(core, args.arch, args.python_version),
        resolve(core + extra_requirements(args.layer), args.arch, args.python_version),
    )
    print(f"build_lambda: layer {args.layer!r}: " + ", ".join(f"{n} {v}" for n, v in pins.items()))
    site = target / "python"
    site.mkdir()
    install_pinned(site, pins, args.arch, args.python_version)
    prune(site)
    before, after = strip_libraries(site, args.arch)
    print(f"build_lambda: shared libraries {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    if python:
        compile_bytecode(site, python)  # with sources: the layer's size is not the constraint
    if args.function:
        smoke_test(
            SMOKE_LAYER,
            [args.function.resolve(), site],
            args.arch,
            args.python_version,
            f"layer {args.layer!r} (on {args.function}: the Gemini client and request)",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("target", type=Path, help="output directory (emptied first)")
    parser.add_argument(
        "--arch",
        choices=sorted(PLATFORMS),
        default=os.environ.get("LAMBDA_ARCH", "arm64"),
        help="Lambda architecture (default: arm64, as in template.yaml)",
    )
    parser.add_argument("--python-version", default="3.13", help="Lambda runtime's Python")
    parser.add_argument("--no-bytecode", action="store_true", help="ship sources only")
    parser.add_argument(
        "--keep-sources",
        action="store_true",
        help="ship the dependencies' .py sources beside their byte-code",
    )
    parser.add_argument(
        "--layer",
        choices=sorted(LAYERS),
        help="build this setup.cfg extra's layer instead of the function",
    )
    parser.add_argument(
        "--function",
        type=Path,
        help="with --layer: a function artefact of the same architecture to "
        "smoke-test the layer on",
    )
    parser.add_argument("--zip", type=Path, help="also write this zip of the artefact")
    args = parser.parse_args(argv)

    python = None if args.no_bytecode else bytecode_python(args.python_version)
    target: Path = args.target.resolve()
    if target == ROOT or ROOT.is_relative_to(target):
        raise SystemExit(f"refusing to empty {target}")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)

    if args.layer:
        build_layer(target, args, python)
    else:
        build_function(target, args, python)
    size = tree_size(target)
    what = f"layer {args.layer!r}" if args.layer else "function"
    print(
        f"build_lambda: {what} {target} ({args.arch}, python{args.python_version}): "
        f"{size / 1e6:.1f} MB unzipped"
    )
    if args.zip:
        write_zip(target, args.zip.resolve())
        print(f"build_lambda: {args.zip} {args.zip.stat().st_size / 1e6:.1f} MB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
