"""template.yaml and the artefact build agree with the code they deploy.

cfn-lint and ``sam validate --lint`` check the template's CloudFormation; these tests check
what they cannot: the handler path exists, the environment the template sets is a valid
production configuration, SAM's makefile targets exist, the Gemini layer is attached exactly
when a key is configured and holds what the app imports only lazily, and the artefact build
ships only runtime code and runtime requirements, pruned, stripped and compiled.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement

from finance import config as finance_config

ROOT = Path(__file__).resolve().parents[3]

# Stand-ins for the values CloudFormation would substitute into the environment.
PARAMETER_VALUES = {
    "FinanceEnv": "production",
    "MongoDbUri": "mongodb+srv://user:pass@cluster0.example.mongodb.net/",
    "MongoDbUriSecret": "",
    "MongoDbDatabase": "financial_tracker",
    "GoogleApiKey": "",
    "GoogleApiKeySecret": "",
    "AllowedOrigins": "https://app.example.com,https://www.example.com",
    "FirebaseProjectId": "kartay-demo",
    "LogLevel": "INFO",
}


def _load_template() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")

    class CfnLoader(yaml.SafeLoader):
        pass

    def tagged(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", tagged)
    return yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=CfnLoader)


def _resolve(value: Any, params: dict[str, str], conditions: dict[str, bool]) -> str:
    """Evaluate the few intrinsics the environment block uses."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return params[value["Ref"]]
    if "Fn::If" in value:
        name, when_true, when_false = value["Fn::If"]
        return _resolve(when_true if conditions[name] else when_false, params, conditions)
    if "Fn::Sub" in value:
        return re.sub(r"\$\{(\w+)\}", lambda m: params[m.group(1)], value["Fn::Sub"])
    raise AssertionError(f"unexpected intrinsic in the environment: {value!r}")


def _condition(template: dict[str, Any], name: str, params: dict[str, str]) -> bool:
    """Evaluate one of the template's Conditions for these parameter values."""

    def evaluate(node: Any) -> Any:
        if isinstance(node, str):
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            return params[argument]
        if function == "Condition":
            return evaluate(template["Conditions"][argument])
        if function == "Fn::Equals":
            return evaluate(argument[0]) == evaluate(argument[1])
        if function == "Fn::Not":
            return not evaluate(argument[0])
        if function == "Fn::Or":
            return any(evaluate(a) for a in argument)
        if function == "Fn::And":
            return all(evaluate(a) for a in argument)
        raise AssertionError(f"unexpected intrinsic in a condition: {node!r}")

    return evaluate(template["Conditions"][name])


def _build_script() -> ModuleType:
    path = ROOT / "scripts" / "build_lambda.py"
    spec = importlib.util.spec_from_file_location("build_lambda", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template():
    return _load_template()


@pytest.fixture(scope="module")
def function(template):
    return template["Resources"]["ApiFunction"]


@pytest.fixture(scope="module")
def layer(template):
    return template["Resources"]["GeminiLayer"]


def test_function_runs_the_wsgi_handler(function):
    props = function["Properties"]
    module_name, attribute = props["Handler"].split(".")
    assert (module_name, attribute) == ("wsgi_handler", "handler")
    assert (ROOT / f"{module_name}.py").is_file()
    assert props["Runtime"] == "python3.13"
    assert props["MemorySize"] == 1024
    assert props["Timeout"] == 30
    assert props["Tracing"] == "Active"
    assert props["Architectures"] in (["arm64"], ["x86_64"])


def test_http_api_uses_default_stage_and_leaves_cors_to_the_app(template, function):
    api = template["Resources"]["HttpApi"]
    assert api["Type"] == "AWS::Serverless::HttpApi"
    props = api["Properties"]
    assert "StageName" not in props  # SAM's $default stage: no stage prefix in rawPath
    assert "CorsConfiguration" not in props  # else API Gateway drops the app's CORS headers
    assert props["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 500,
        "ThrottlingBurstLimit": 1000,
    }
    (event,) = function["Properties"]["Events"].values()
    assert event["Type"] == "HttpApi"
    assert "Path" not in event["Properties"]  # the $default route: every path and method


def test_log_groups_keep_30_days(template):
    groups = [r for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(groups) == 2
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups)


@pytest.mark.parametrize("from_secret", [False, True])
def test_template_environment_is_a_valid_production_config(template, function, from_secret):
    secret = "kartay/prod/mongodb-uri" if from_secret else ""
    params = dict(PARAMETER_VALUES, MongoDbUriSecret=secret)
    conditions = {name: _condition(template, name, params) for name in template["Conditions"]}
    variables = function["Properties"]["Environment"]["Variables"]
    environ = {name: _resolve(value, params, conditions) for name, value in variables.items()}

    if from_secret:
        assert environ["MONGODB_URI"] == "{{resolve:secretsmanager:kartay/prod/mongodb-uri}}"
        return  # CloudFormation substitutes the secret's value before Lambda sees it
    source = Path(finance_config.__file__).read_text(encoding="utf-8")
    unread = [name for name in environ if f'"{name}"' not in source]
    assert not unread, f"finance/config.py never reads {unread}"
    settings = finance_config.load_config(environ)
    assert isinstance(settings, finance_config.ProductionConfig)
    assert settings.AUTH_MODE == "firebase"
    assert settings.ENFORCE_HTTPS is True
    assert settings.CORS_ORIGINS == ("https://app.example.com", "https://www.example.com")
    assert settings.FIREBASE_PROJECT_ID == "kartay-demo"
    assert settings.GOOGLE_API_KEY is None


def _recipe(name: str) -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(rf"^build-{name}:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe, f"no build-{name} target"
    return recipe.group(1)


def test_every_makefile_build_has_its_target_for_the_same_architecture(template):
    built = [
        name
        for name, resource in template["Resources"].items()
        if (resource.get("Metadata") or {}).get("BuildMethod") == "makefile"
    ]
    assert built == ["ApiFunction", "GeminiLayer"]
    for name in built:
        props = template["Resources"][name]["Properties"]
        (architecture,) = props.get("Architectures") or props["CompatibleArchitectures"]
        assert f"--arch {architecture}" in _recipe(name)
    assert "--layer" not in _recipe("ApiFunction")


@pytest.mark.parametrize(
    ("key", "secret", "enabled"),
    [("", "", False), ("AIza-test", "", True), ("", "kartay/prod/google-api-key", True)],
    ids=["no-key", "key", "key-from-secret"],
)
def test_gemini_layer_exists_and_is_attached_only_when_a_key_is_configured(
    template, function, layer, key, secret, enabled
):
    params = dict(PARAMETER_VALUES, GoogleApiKey=key, GoogleApiKeySecret=secret)
    assert _condition(template, "AiEnabled", params) is enabled
    assert layer["Condition"] == "AiEnabled"
    assert function["Properties"]["Layers"] == {
        "Fn::If": ["AiEnabled", [{"Ref": "GeminiLayer"}], {"Ref": "AWS::NoValue"}]
    }
    conditions = {name: _condition(template, name, params) for name in template["Conditions"]}
    variables = function["Properties"]["Environment"]["Variables"]
    # The key reaches the app exactly when the layer is there to use it.
    assert bool(_resolve(variables["GOOGLE_API_KEY"], params, conditions)) is enabled


def test_gemini_layer_is_the_ai_extra_for_the_functions_runtime(function, layer):
    build = _build_script()
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    props = layer["Properties"]
    assert props["CompatibleRuntimes"] == [function["Properties"]["Runtime"]]
    assert props["CompatibleArchitectures"] == function["Properties"]["Architectures"]
    assert props["RetentionPolicy"] == "Delete"
    assert props["ContentUri"] == function["Properties"]["CodeUri"] == "."  # where the Makefile is
    (extra,) = (name for name, spec in build.LAYERS.items() if spec["resource"] == "GeminiLayer")
    assert f"--layer {extra}" in _recipe("GeminiLayer")


def test_the_gemini_sdk_is_an_extra_that_development_still_installs():
    build = _build_script()
    runtime = {Requirement(line).name.lower() for line in build.runtime_requirements()}
    ai = {Requirement(line).name.lower() for line in build.extra_requirements("ai")}
    assert ai == {"google-genai"}
    assert not runtime & ai
    for extra in ("test", "dev"):  # `make install` is .[dev]; the tests import google.genai
        installed = {Requirement(line).name.lower() for line in build.extra_requirements(extra)}
        assert ai <= installed


def test_the_app_imports_layer_modules_only_inside_functions():
    """So the function imports and serves without the layer; ai.py imports the SDK lazily."""
    build = _build_script()
    assert build.eager_layer_imports(ROOT) == {}
    ai_source = (ROOT / "finance" / "imports" / "ai.py").read_text(encoding="utf-8")
    lazy = {n.split(".")[0] for n in build._imports(ast.parse(ai_source))}
    assert build.LAYERS["ai"]["modules"] <= lazy


def test_module_level_imports_skip_function_bodies_and_type_checking():
    tree = ast.parse(
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from google import genai\n"
        "try:\n    import simplejson\nexcept ImportError:\n    pass\n"
        "def lazy():\n    from google.genai import types\n"
        "class Mapper:\n    import pymongo\n    def call(self):\n        import httpx2\n"
        "handler = lambda: __import__('x')\n"
    )

    assert list(_build_script().module_level_imports(tree)) == [
        "json",
        "typing",
        "simplejson",
        "pymongo",
    ]


def test_layer_pins_are_the_joint_resolution_minus_the_functions():
    build = _build_script()
    core = {"flask": "3.1.3", "charset-normalizer": "3.5.3", "cryptography": "50.0.2"}
    joint = {**core, "google-genai": "3.6.1", "pydantic": "2.14.4", "requests": "2.34.2"}

    assert build.layer_pins(core, joint) == {
        "google-genai": "3.6.1",
        "pydantic": "2.14.4",
        "requests": "2.34.2",
    }
    with pytest.raises(SystemExit, match=r"charset-normalizer 3\.5\.3 -> 3\.4\.0"):
        build.layer_pins(core, {**joint, "charset-normalizer": "3.4.0"})


def test_runtime_requirements_come_from_setup_cfg_only():
    requirements = [Requirement(line) for line in _build_script().runtime_requirements()]
    names = {r.name.lower() for r in requirements}
    assert {"flask", "apig-wsgi", "mongoengine", "flask-smorest"} <= names
    assert not names & {"pytest", "mongomock", "secantusdb", "ruff", "cfn-lint", "gunicorn"}
    assert all(r.marker is None for r in requirements)


def test_artefact_code_is_finance_and_the_handler_only(tmp_path):
    build = _build_script()
    build.copy_code(tmp_path)

    shipped = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    expected = {
        p.relative_to(ROOT).as_posix()
        for p in [*(ROOT / "finance").rglob("*"), ROOT / "wsgi_handler.py"]
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert shipped == expected
    assert "wsgi_handler.py" in shipped


def test_prune_drops_what_never_runs(tmp_path):
    names = (
        "bin/flask",
        "tests/test_x.py",
        "docs/conf.py",
        "pkg/__pycache__/m.cpython-311.pyc",
        "pkg/mod.py",
        "pkg/mod.pyi",
        "pkg/py.typed",
        "pkg/_speedups.c",
        "pkg/_speedups.cpython-313-aarch64-linux-gnu.so",
        "pkg/tests/test_mod.py",
        "pkg/sub/tests/__init__.py",
        "pkg/testing.py",
        "pkg/data.json",
        "pkg/include/header.h",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/RECORD",
        "pkg-1.0.dist-info/licenses/LICENSE",
    )
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    _build_script().prune(tmp_path)

    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert left == {
        "pkg/mod.py",
        "pkg/_speedups.cpython-313-aarch64-linux-gnu.so",
        "pkg/testing.py",
        "pkg/data.json",
        "pkg/include/header.h",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/RECORD",
        "pkg-1.0.dist-info/licenses/LICENSE",
    }


def test_dependencies_ship_byte_code_in_place_and_the_app_keeps_its_sources(tmp_path):
    build = _build_script()
    files = {
        "dep/__init__.py": "",
        "dep/mod.py": "VALUE = 42\n",
        "single.py": "from dep.mod import VALUE\n",
        "finance/__init__.py": "from dep.mod import VALUE\n",
        "wsgi_handler.py": "import finance, single\nhandler = finance.VALUE + single.VALUE\n",
        "dep-1.0.dist-info/METADATA": "Name: dep\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    sourceless = build.dependency_paths(tmp_path)
    assert [p.name for p in sourceless] == ["dep", "single.py"]
    build.compile_bytecode(tmp_path, sys.executable, sourceless=sourceless)

    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    tag = sys.implementation.cache_tag
    assert left == {
        "dep/__init__.pyc",
        "dep/mod.pyc",
        "single.pyc",
        "finance/__init__.py",
        f"finance/__pycache__/__init__.{tag}.pyc",
        "wsgi_handler.py",
        f"__pycache__/wsgi_handler.{tag}.pyc",
        "dep-1.0.dist-info/METADATA",
    }
    probe = subprocess.run(  # noqa: S603 (this interpreter, on files the test wrote)
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import wsgi_handler, dep.mod; "
            "print(wsgi_handler.handler, type(dep.mod.__loader__).__name__)",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.split() == ["84", "SourcelessFileLoader"]


def test_elf_machine_reads_the_architecture_of_a_shared_library(tmp_path):
    build = _build_script()
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"  # 64-bit, little-endian
    for arch, machine in build.ELF_MACHINES.items():
        header[18:20] = machine.to_bytes(2, "little")
        (tmp_path / f"{arch}.so").write_bytes(bytes(header))
        assert build.elf_machine(tmp_path / f"{arch}.so") == machine
    (tmp_path / "text.so").write_text("INPUT(-lc)\n")  # a linker script, say
    assert build.elf_machine(tmp_path / "text.so") is None
    assert build.ELF_MACHINES == {"arm64": 183, "x86_64": 62}


def test_sam_local_env_file_matches_the_template(function):
    """`sam local invoke --env-vars` only overrides variables the template declares."""
    example = json.loads((ROOT / "config" / "env.example.json").read_text(encoding="utf-8"))
    ((name, environ),) = example.items()
    assert name == "ApiFunction"
    assert set(environ) == set(function["Properties"]["Environment"]["Variables"])
    settings = finance_config.load_config(environ)
    assert isinstance(settings, finance_config.ProductionConfig)


def test_samconfig_example_holds_placeholders_for_every_required_parameter(template):
    samconfig = tomllib.loads(
        (ROOT / "config" / "samconfig.example.toml").read_text(encoding="utf-8")
    )
    required = {name for name, p in template["Parameters"].items() if "Default" not in p}
    for env in ("default", "dev"):
        deploy = samconfig[env]["deploy"]["parameters"]
        overrides = dict(item.split("=", 1) for item in deploy["parameter_overrides"])
        assert set(overrides) <= set(template["Parameters"])
        assert required <= set(overrides)
        assert overrides.get("MongoDbUri") or overrides.get("MongoDbUriSecret")
        assert "CAPABILITY_IAM" in deploy["capabilities"]
        assert samconfig[env]["build"]["parameters"]["build_in_source"] is True


def test_build_refuses_code_importing_what_the_artefact_lacks(tmp_path):
    (tmp_path / "flask").mkdir()
    (tmp_path / "wsgi_handler.py").write_text("import json\nfrom flask import Flask\n")
    (tmp_path / "finance").mkdir()
    (tmp_path / "finance" / "views.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import models\n"
        "if TYPE_CHECKING:\n    import typeshed_only\n"
        "def lazy():\n    import notinstalled.sub\n    from mongomock import MongoClient\n"
        "def ai():\n    from google import genai\n"  # from the Gemini layer
    )

    missing = _build_script().missing_imports(tmp_path)

    assert missing == {"notinstalled": ["finance/views.py"]}
