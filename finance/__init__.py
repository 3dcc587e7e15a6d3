"""KarTay Finance API: the application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import coldstart

coldstart.import_marshmallow()

from flask import Flask  # noqa: E402 - after marshmallow's deferred regexes

from .config import BaseConfig, load_config  # noqa: E402


def create_app(config: BaseConfig | Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, logging, database, errors, extensions, blueprints — nothing else.

    ``config`` may be a config object, a mapping of overrides applied on top of the
    environment's config, or ``None`` to configure from the environment alone.
    """
    from . import db, edge, errors, extensions
    from .auth import current
    from .common.routing import LazyBuilderRule
    from .json import FinanceJSONProvider
    from .observability import configure_logging

    if isinstance(config, BaseConfig):
        settings = config.as_flask_config()
    else:
        settings = load_config().as_flask_config()
        settings.update(config or {})

    # A JSON API: no static folder (and no /static route).
    app = Flask(__name__, instance_relative_config=False, static_folder=None)
    app.url_rule_class = LazyBuilderRule
    app.config.update(settings)
    app.json = FinanceJSONProvider(app)
    app.url_map.strict_slashes = False

    configure_logging(app.config["LOG_LEVEL"])
    db.init_app(app)
    edge.init_app(app)
    current.init_app(app)
    api = extensions.init_app(app)
    errors.init_app(app)
    _register_blueprints(api)
    _register_cli(app)
    return app


BLUEPRINT_MODULES = (
    "health",
    "users",
    "wallets",
    "transactions",
    "stats",
    "assets",
    "imports",
    "mappings",
    "logs",
)


def _register_blueprints(api) -> None:
    from importlib import import_module

    for name in BLUEPRINT_MODULES:
        api.register_blueprint(import_module(f".{name}.views", __name__).blp)


def _register_cli(app: Flask) -> None:
    from .cli import register

    register(app)
