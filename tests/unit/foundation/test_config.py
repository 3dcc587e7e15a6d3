import pytest

from finance.config import (
    DEV_SECRET_DEFAULT,
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    load_config,
)

PROD = {"MONGODB_URI": "mongodb://db.example:27017/", "FIREBASE_PROJECT_ID": "kartay-prod"}


def test_finance_env_picks_the_class_and_defaults_to_production():
    assert isinstance(load_config({"FINANCE_ENV": "development"}), DevelopmentConfig)
    assert isinstance(load_config({"FINANCE_ENV": "Testing "}), TestingConfig)
    assert isinstance(load_config(PROD), ProductionConfig)


def test_unknown_finance_env_fails_fast_with_the_choices():
    with pytest.raises(
        ConfigError, match="FINANCE_ENV must be one of development, testing, production"
    ):
        load_config({"FINANCE_ENV": "staging"})


def test_defaults_documented_in_the_readme():
    config = ProductionConfig(PROD)
    assert config.MONGODB_DATABASE == "financial_tracker"
    assert config.GENAI_MODEL == "gemini-2.5-flash"
    assert config.ALLOWED_HOSTS == ("*",)
    assert config.ENFORCE_HTTPS is False
    assert config.CORS_ORIGINS == ()
    assert config.AUTH_MODE == "firebase"
    assert config.MAX_UPLOAD_BYTES == 4_000_000
    assert config.MAX_CONTENT_LENGTH == 4_000_000 + 64 * 1024


def test_mongodb_url_is_accepted_as_the_legacy_name_and_uri_wins():
    legacy = {"FIREBASE_PROJECT_ID": "p", "MONGODB_URL": "mongodb://legacy/"}
    assert ProductionConfig(legacy).MONGODB_URI == "mongodb://legacy/"
    both = dict(legacy, MONGODB_URI="mongodb://new/")
    assert ProductionConfig(both).MONGODB_URI == "mongodb://new/"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FIREBASE_PROJECT_ID": "p"}, "MONGODB_URI .* must be set when FINANCE_ENV=production"),
        (dict(PROD, MONGODB_URI="postgres://x"), "must start with mongodb://"),
        (dict(PROD, ENFORCE_HTTPS="maybe"), "ENFORCE_HTTPS must be true or false"),
        (dict(PROD, MAX_UPLOAD_BYTES="ten"), "MAX_UPLOAD_BYTES must be a whole number"),
        (dict(PROD, MAX_UPLOAD_ROWS="0"), "MAX_UPLOAD_ROWS must be at least 1"),
        (dict(PROD, LOG_LEVEL="loud"), "LOG_LEVEL must be one of"),
        (
            dict(PROD, AUTH_MODE="dev", AUTH_DEV_SECRET="x" * 40),
            "refused when FINANCE_ENV=production",
        ),
        (dict(PROD, AUTH_MODE="magic"), "AUTH_MODE must be one of firebase, jwt, dev"),
        ({"MONGODB_URI": "mongodb://x/"}, "FIREBASE_PROJECT_ID must be set"),
        (
            dict(PROD, AUTH_MODE="jwt", AUTH_ISSUER="i"),
            "AUTH_JWKS_URL and AUTH_AUDIENCE must be set",
        ),
        (
            dict(
                PROD,
                AUTH_MODE="jwt",
                AUTH_ISSUER="i",
                AUTH_AUDIENCE="a",
                AUTH_JWKS_URL="k",
                AUTH_ALGORITHMS="HS256",
            ),
            "AUTH_ALGORITHMS may only list RS256 and ES256",
        ),
        (dict(PROD, CORS_ORIGINS="*"), "must list origins explicitly"),
        (dict(PROD, CORS_ORIGINS="example.com"), "must start with http"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message):
        ProductionConfig(environ)


def test_development_defaults_to_dev_tokens_and_local_origins():
    config = DevelopmentConfig({})
    assert config.AUTH_MODE == "dev"
    assert config.AUTH_DEV_SECRET == DEV_SECRET_DEFAULT
    assert "http://localhost:3000" in config.CORS_ORIGINS


def test_dev_mode_needs_a_long_secret():
    with pytest.raises(ConfigError, match="AUTH_DEV_SECRET must be set to at least 32"):
        DevelopmentConfig({"AUTH_DEV_SECRET": "short"})


def test_testing_uses_mongomock_unless_a_server_is_named():
    assert TestingConfig({}).MONGODB_MOCK is True
    assert TestingConfig({"MONGODB_URI": "mongodb://127.0.0.1:1/"}).MONGODB_MOCK is False


def test_lists_are_split_and_trimmed():
    config = ProductionConfig(
        dict(
            PROD, ALLOWED_HOSTS=" api.example.com, .example.org ,", CORS_ORIGINS="https://a.example"
        )
    )
    assert config.ALLOWED_HOSTS == ("api.example.com", ".example.org")
    assert config.CORS_ORIGINS == ("https://a.example",)
