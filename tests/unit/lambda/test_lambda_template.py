"""template.yaml and the artefact build agree with the code they deploy.

cfn-lint and ``sam validate --lint`` check the template's CloudFormation; these tests check
what they cannot: the handler path exists, the environment the template sets is a valid
production configuration, SAM's makefile target exists, and the artefact build ships only
runtime code and runtime requirements.
"""

from __future__ import annotations

import importlib.util
import json
import re
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
        return {f"Fn::{suffix}" if suffix != "Ref" else "Ref": value}

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
def test_template_environment_is_a_valid_production_config(function, from_secret):
    secret = "kartay/prod/mongodb-uri" if from_secret else ""
    params = dict(PARAMETER_VALUES, MongoDbUriSecret=secret)
    conditions = {
        "MongoDbUriFromSecret": params["MongoDbUriSecret"] != "",
        "GoogleApiKeyFromSecret": params["GoogleApiKeySecret"] != "",
    }
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


def test_every_makefile_build_has_its_target_for_the_same_architecture(template):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    built = [
        name for name, resource in template["Resources"].items()
        if (resource.get("Metadata") or {}).get("BuildMethod") == "makefile"
    ]
    assert built == ["ApiFunction"]
    for name in built:
        recipe = re.search(rf"^build-{name}:.*\n\t(.+)$", makefile, re.MULTILINE)
        assert recipe, f"no build-{name} target"
        (architecture,) = template["Resources"][name]["Properties"]["Architectures"]
        assert f"--arch {architecture}" in recipe.group(1)


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
    names = ("bin/flask", "tests/test_x.py", "docs/conf.py", "pkg/__pycache__/m.cpython-311.pyc",
             "pkg/mod.py", "pkg/data.json", "pkg-1.0.dist-info/METADATA")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    _build_script().prune(tmp_path)

    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert left == {"pkg/mod.py", "pkg/data.json", "pkg-1.0.dist-info/METADATA"}


def test_sam_local_env_file_matches_the_template(function):
    """`sam local invoke --env-vars` only overrides variables the template declares."""
    example = json.loads((ROOT / "config" / "env.example.json").read_text(encoding="utf-8"))
    (name, environ), = example.items()
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
    )

    missing = _build_script().missing_imports(tmp_path)

    assert missing == {"notinstalled": ["finance/views.py"]}
