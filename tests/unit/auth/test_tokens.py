"""Token verification: happy paths per mode and every way a token must be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error

import pytest

from finance.auth.keys import GOOGLE_JWKS_URL
from finance.auth.tokens import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    AuthError,
    Claims,
    TokenVerifier,
    VerifierSettings,
    mint_dev_token,
    parse_authorization_header,
)
from tests.support.tokens import (
    DEFAULT_EMAIL,
    DEFAULT_SUB,
    DEV_SECRET,
    FakeClock,
    RecordingFetcher,
    TokenFactory,
    b64url,
    ec_private_key,
    rsa_private_key,
)


def rejected(verifier: TokenVerifier, token: str, status: int = 401) -> AuthError:
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    error = info.value
    assert error.status == status
    assert isinstance(error.detail, str) and error.detail.endswith(".")
    assert not token.strip() or token not in error.detail
    return error


# ---------------------------------------------------------------------------------------------
# Happy paths


def test_rs256_token_from_a_jwks_file(verifier, factory):
    claims = verifier.verify(factory.rs256(sub="user-42", name="Bob"))

    assert isinstance(claims, Claims)
    assert claims.sub == "user-42"
    assert claims.email == DEFAULT_EMAIL
    assert claims.email_verified is True
    assert claims.name == "Bob"
    assert claims.issuer == factory.issuer
    assert claims.raw["aud"] == factory.audience
    with pytest.raises(TypeError):
        claims.raw["sub"] = "someone-else"  # type: ignore[index]


def test_es256_token_from_a_jwks_file(verifier, factory):
    assert verifier.verify(factory.es256(sub="ec-user")).sub == "ec-user"


def test_optional_profile_claims_may_be_absent(verifier, factory):
    claims = verifier.verify(factory.rs256(omit=("email", "email_verified", "name")))
    assert (claims.email, claims.email_verified, claims.name) == (None, False, None)


def test_email_verified_must_be_a_real_true(verifier, factory):
    assert verifier.verify(factory.rs256(email_verified="true")).email_verified is False


def test_audience_list_containing_ours_is_accepted(verifier, factory):
    assert verifier.verify(factory.rs256(aud=["other-app", factory.audience])).sub == DEFAULT_SUB


def test_small_clock_skew_is_tolerated(verifier, factory):
    now = time.time()
    assert verifier.verify(factory.rs256(exp=int(now) - 10)).sub == DEFAULT_SUB
    assert verifier.verify(factory.rs256(iat=int(now) + 10, auth_time=int(now) + 10))


def test_keys_are_fetched_once_and_reused(factory, fetcher):
    verifier = TokenVerifier(factory.settings("/unused/jwks.json"), fetcher=fetcher)
    for _ in range(5):
        verifier.verify(factory.rs256())
        verifier.verify(factory.es256())
    assert fetcher.count == 1


def test_file_url_source(tmp_path, factory):
    path = factory.write_jwks(tmp_path)
    verifier = TokenVerifier(factory.settings(path.as_uri()))
    assert verifier.verify(factory.rs256()).sub == DEFAULT_SUB


# ---------------------------------------------------------------------------------------------
# x509 certificate map (Google's other key document shape) and Firebase


def test_x509_certificate_map_key_document(tmp_path, factory):
    path = factory.write_x509(tmp_path)
    verifier = TokenVerifier(factory.settings(path))
    assert verifier.verify(factory.rs256(sub="cert-rsa")).sub == "cert-rsa"
    assert verifier.verify(factory.es256(sub="cert-ec")).sub == "cert-ec"


def test_firebase_settings_use_googles_issuer_and_audience():
    settings = VerifierSettings.firebase("my-project")
    assert settings.mode == "firebase"
    assert settings.issuer == "https://securetoken.google.com/my-project"
    assert settings.audience == "my-project"
    assert settings.algorithms == ("RS256",)
    assert settings.jwks_url == GOOGLE_JWKS_URL
    assert settings.leeway == 60


def test_firebase_token_against_x509_certificates(tmp_path, firebase_factory):
    path = firebase_factory.write_x509(tmp_path)
    verifier = TokenVerifier(firebase_factory.settings(path))
    claims = verifier.verify(firebase_factory.rs256(sub="firebase-uid-1"))
    assert claims.sub == "firebase-uid-1"
    assert claims.issuer == "https://securetoken.google.com/kartay-test-project"
    assert claims.raw["firebase"]["sign_in_provider"] == "google.com"


def test_firebase_mode_requires_auth_time(tmp_path, firebase_factory):
    verifier = TokenVerifier(firebase_factory.settings(firebase_factory.write_jwks(tmp_path)))
    error = rejected(verifier, firebase_factory.rs256(omit=("auth_time",)))
    assert "auth_time" in error.detail


def test_firebase_mode_refuses_es256(tmp_path, firebase_factory):
    verifier = TokenVerifier(firebase_factory.settings(firebase_factory.write_jwks(tmp_path)))
    assert "algorithm" in rejected(verifier, firebase_factory.es256()).detail


def test_firebase_token_for_another_project(tmp_path, firebase_factory):
    verifier = TokenVerifier(firebase_factory.settings(firebase_factory.write_jwks(tmp_path)))
    other = TokenFactory.firebase("someone-elses-project")
    rejected(verifier, other.rs256())


# ---------------------------------------------------------------------------------------------
# Time claims


def test_expired_token(verifier, factory):
    error = rejected(verifier, factory.rs256(exp=int(time.time()) - 120))
    assert "expired" in error.detail


def test_iat_in_the_future(verifier, factory):
    future = int(time.time()) + 600
    error = rejected(verifier, factory.rs256(iat=future, exp=future + 3600))
    assert "not valid yet" in error.detail


def test_nbf_in_the_future(verifier, factory):
    error = rejected(verifier, factory.rs256(nbf=int(time.time()) + 600))
    assert "not valid yet" in error.detail


def test_auth_time_in_the_future(verifier, factory):
    error = rejected(verifier, factory.rs256(auth_time=int(time.time()) + 600))
    assert "auth_time" in error.detail and "future" in error.detail


@pytest.mark.parametrize("value", ["yesterday", True, [1], float("nan")])
def test_auth_time_must_be_a_number(verifier, factory, value):
    assert "auth_time" in rejected(verifier, factory.rs256(auth_time=value)).detail


def test_auth_time_is_optional_outside_firebase(verifier, factory):
    assert verifier.verify(factory.rs256(omit=("auth_time",))).sub == DEFAULT_SUB


@pytest.mark.parametrize("value", ["soon", None])
def test_iat_must_be_a_number(verifier, factory, value):
    assert "iat" in rejected(verifier, factory.rs256(iat=value)).detail


def test_iat_as_numeric_string_is_refused(verifier, factory):
    assert "iat" in rejected(verifier, factory.rs256(iat=str(int(time.time())))).detail


def test_exp_must_be_a_number(verifier, factory):
    rejected(verifier, factory.rs256(exp="tomorrow"))


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud"])
def test_required_claims(verifier, factory, claim):
    error = rejected(verifier, factory.rs256(omit=(claim,)))
    assert f"'{claim}'" in error.detail


# ---------------------------------------------------------------------------------------------
# Issuer, audience, subject


def test_wrong_issuer(verifier, factory):
    error = rejected(verifier, factory.rs256(iss="https://evil.example"))
    assert "issuer" in error.detail


def test_wrong_audience(verifier, factory):
    error = rejected(verifier, factory.rs256(aud="another-app"))
    assert "audience" in error.detail


def test_missing_sub(verifier, factory):
    assert "'sub'" in rejected(verifier, factory.rs256(omit=("sub",))).detail


@pytest.mark.parametrize("sub", ["", "   "])
def test_empty_sub(verifier, factory, sub):
    assert "sub" in rejected(verifier, factory.rs256(sub=sub)).detail


def test_non_string_sub(verifier, factory):
    assert "sub" in rejected(verifier, factory.rs256(sub=12345)).detail


def test_sub_longer_than_128_characters(verifier, factory):
    assert verifier.verify(factory.rs256(sub="u" * 128)).sub == "u" * 128
    assert "128" in rejected(verifier, factory.rs256(sub="u" * 129)).detail


# ---------------------------------------------------------------------------------------------
# Signatures and algorithms


def test_signature_from_another_key_with_the_same_kid(verifier, factory):
    forged = factory.rs256(signing_key=rsa_private_key(1))
    assert "signature" in rejected(verifier, forged).detail


def test_ec_signature_from_another_key(verifier, factory):
    assert "signature" in rejected(verifier, factory.es256(signing_key=ec_private_key(1))).detail


def test_tampered_payload(verifier, factory):
    header, _, signature = factory.rs256().split(".")
    evil_payload = b64url(json.dumps(factory.claims(sub="admin")).encode())
    assert "signature" in rejected(verifier, f"{header}.{evil_payload}.{signature}").detail


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none(verifier, factory, alg):
    error = rejected(verifier, factory.unsigned(alg=alg))
    assert "algorithm" in error.detail


def test_alg_none_with_a_copied_signature(verifier, factory):
    signature = factory.rs256().split(".")[2]
    unsigned = factory.unsigned()
    rejected(verifier, unsigned + signature)


def test_hs256_signed_with_the_rsa_public_key_is_refused(verifier, factory):
    """The classic algorithm-confusion attack: HMAC keyed with the (public) RSA key PEM."""
    forged = factory.hmac_with_public_key(sub="admin")
    header_b64, payload_b64, signature_b64 = forged.split(".")
    # The forgery is well-formed: the header names the RSA key and HS256, and the signature
    # really is HMAC-SHA256 keyed with the public PEM a server could load for that kid.
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    assert header == {"alg": "HS256", "typ": "JWT", "kid": factory.rsa_kid}
    expected = hmac.new(
        factory.rsa_public_pem, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256
    ).digest()
    assert signature_b64 == b64url(expected)

    error = rejected(verifier, forged)
    assert "algorithm" in error.detail


def test_hs256_confusion_is_refused_even_if_hs256_slipped_into_the_list(verifier, factory):
    """Defence in depth: keys are bound to their own algorithm, so even a misconfigured
    algorithm list cannot make an RSA public key verify an HMAC."""
    object.__setattr__(verifier.settings, "algorithms", ("RS256", "HS256"))
    error = rejected(verifier, factory.hmac_with_public_key(sub="admin"))
    assert "does not match its key" in error.detail


def test_hs256_confusion_with_the_jwk_and_no_kid(verifier, factory):
    forged = factory.hmac_with_public_key(kid=None)
    rejected(verifier, forged)


def test_token_alg_must_match_the_keys_algorithm(verifier, factory):
    """An ES256 token pointing at the RSA key (or vice versa) is refused."""
    rejected(verifier, factory.es256(kid=factory.rsa_kid))
    rejected(verifier, factory.rs256(kid=factory.ec_kid))


def test_algorithm_outside_the_configured_list(tmp_path, factory):
    rs_only = TokenVerifier(factory.settings(factory.write_jwks(tmp_path), algorithms=("RS256",)))
    assert "RS256" in rejected(rs_only, factory.es256()).detail


def test_token_without_kid(verifier, factory):
    assert "kid" in rejected(verifier, factory.rs256(kid=None)).detail


@pytest.mark.parametrize("kid", [123, ["a"], ""])
def test_non_string_kid(verifier, factory, kid):
    rejected(verifier, factory.rs256(kid=kid))


# ---------------------------------------------------------------------------------------------
# Unknown kid: one refresh, rate-limited


def test_unknown_kid_refreshes_once_then_fails(factory):
    clock = FakeClock()
    fetcher = RecordingFetcher(factory.jwks(), headers={"Cache-Control": "max-age=3600"})
    verifier = TokenVerifier(factory.settings("keys.json"), fetcher=fetcher, clock=clock)
    verifier.verify(factory.rs256())
    assert fetcher.count == 1

    clock.advance(120)
    error = rejected(verifier, factory.rs256(kid="rotated-away"))
    assert "key" in error.detail
    assert fetcher.count == 2  # exactly one refresh for the unknown kid


def test_unknown_kid_spray_is_rate_limited(factory):
    clock = FakeClock()
    fetcher = RecordingFetcher(factory.jwks(), headers={"Cache-Control": "max-age=3600"})
    verifier = TokenVerifier(factory.settings("keys.json"), fetcher=fetcher, clock=clock)
    verifier.verify(factory.rs256())
    clock.advance(120)
    for n in range(50):
        rejected(verifier, factory.rs256(kid=f"random-{n}"))
        clock.advance(0.1)
    assert fetcher.count == 2  # one refresh for the first unknown kid, none for the rest

    clock.advance(60)
    rejected(verifier, factory.rs256(kid="random-after-the-interval"))
    assert fetcher.count == 3


def test_first_request_with_unknown_kid_fetches_only_once(factory):
    fetcher = RecordingFetcher(factory.jwks())
    verifier = TokenVerifier(factory.settings("keys.json"), fetcher=fetcher, clock=FakeClock())
    rejected(verifier, factory.rs256(kid="nope"))
    assert fetcher.count == 1


def test_key_rotation_is_picked_up_by_the_refresh(tmp_path, factory):
    clock = FakeClock()
    fetcher = RecordingFetcher(factory.jwks(), headers={"Cache-Control": "max-age=3600"})
    verifier = TokenVerifier(factory.settings("keys.json"), fetcher=fetcher, clock=clock)
    verifier.verify(factory.rs256())

    rotated = TokenFactory(rsa_kid="rotated-1")
    fetcher.document = rotated.jwks()
    clock.advance(45)
    assert verifier.verify(rotated.rs256(sub="after-rotation")).sub == "after-rotation"
    assert fetcher.count == 2


# ---------------------------------------------------------------------------------------------
# Key source unavailable -> 503


def test_unreachable_key_source_is_503(factory):
    fetcher = RecordingFetcher(error=urllib.error.URLError("connection refused"))
    verifier = TokenVerifier(factory.settings("https://keys.invalid/jwks"), fetcher=fetcher)
    error = rejected(verifier, factory.rs256(), status=503)
    assert error.reason == "temporarily_unavailable"
    assert "keys.invalid" not in error.detail


def test_missing_key_file_is_503(tmp_path, factory):
    verifier = TokenVerifier(factory.settings(tmp_path / "absent.json"))
    rejected(verifier, factory.rs256(), status=503)


def test_garbage_key_document_is_503(tmp_path, factory):
    path = tmp_path / "jwks.json"
    path.write_text("<html>Service Unavailable</html>")
    verifier = TokenVerifier(factory.settings(path))
    rejected(verifier, factory.rs256(), status=503)


def test_malformed_token_is_401_even_when_keys_are_unreachable(factory):
    fetcher = RecordingFetcher(error=TimeoutError())
    verifier = TokenVerifier(factory.settings("keys.json"), fetcher=fetcher)
    rejected(verifier, "not-a-token")
    rejected(verifier, factory.unsigned())
    assert fetcher.count == 0


# ---------------------------------------------------------------------------------------------
# Garbled tokens


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "Bearer",
        "eyJhbGciOiJSUzI1NiJ9",
        b64url(b"[1,2]") + ".e30.sig",
        b64url(b"not json") + ".e30.sig",
        "\u00e9\u00e9.\u00e9\u00e9.\u00e9\u00e9",
    ],
)
def test_garbled_token(verifier, token):
    error = rejected(verifier, token)
    assert error.status == 401


def test_garbled_payload_under_a_valid_header(verifier, factory):
    header = factory.rs256().split(".")[0]
    rejected(verifier, f"{header}.{b64url(b'not json')}.c2ln")
    rejected(verifier, f"{header}.{b64url(b'[1]')}.c2ln")


def test_empty_and_oversized_tokens(verifier):
    rejected(verifier, "")
    rejected(verifier, "   ")
    rejected(verifier, "a" * 20_000)


def test_non_string_token(verifier):
    with pytest.raises(AuthError):
        verifier.verify(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Authorization header


@pytest.mark.parametrize(
    "template",
    ["Bearer {}", "bearer {}", "BEARER {}", "Bearer  {}", "  Bearer {}  ", "Bearer\t{}"],
)
def test_authorization_header_forms(verifier, factory, template):
    token = factory.rs256()
    assert verifier.from_authorization_header(template.format(token)).sub == DEFAULT_SUB


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "no Authorization header"),
        ("", "no Authorization header"),
        ("   ", "no Authorization header"),
        ("Basic dXNlcjpwYXNz", "Bearer scheme"),
        ("Token abc.def.ghi", "Bearer scheme"),
        ("abc.def.ghi", "Bearer scheme"),
        ("Bearer", "no token"),
        ("Bearer   ", "no token"),
        ("Bearer a.b.c extra", "malformed"),
    ],
)
def test_bad_authorization_headers(verifier, value, fragment):
    with pytest.raises(AuthError) as info:
        verifier.from_authorization_header(value)
    assert info.value.status == 401
    assert info.value.reason == "invalid_request"
    assert fragment in info.value.detail


def test_parse_authorization_header_returns_the_token():
    assert parse_authorization_header("Bearer abc.def.ghi") == "abc.def.ghi"


def test_header_with_a_bad_token_is_invalid_token(verifier, factory):
    with pytest.raises(AuthError) as info:
        verifier.from_authorization_header("Bearer " + factory.rs256(exp=1))
    assert info.value.reason == "invalid_token"


# ---------------------------------------------------------------------------------------------
# Dev mode


def test_dev_mode_mint_and_verify():
    verifier = TokenVerifier(VerifierSettings.dev(DEV_SECRET))
    token = mint_dev_token(DEV_SECRET, "dev-user", "dev@example.com", name="Dev")
    claims = verifier.from_authorization_header(f"Bearer {token}")
    assert claims.sub == "dev-user"
    assert claims.email == "dev@example.com"
    assert claims.email_verified is True
    assert claims.name == "Dev"
    assert claims.issuer == DEV_ISSUER
    assert claims.raw["aud"] == DEV_AUDIENCE
    assert verifier.key_store is None


def test_dev_mode_custom_issuer_audience_and_ttl():
    settings = VerifierSettings.dev(DEV_SECRET, issuer="me", audience="my-app")
    verifier = TokenVerifier(settings)
    token = mint_dev_token(DEV_SECRET, "u", None, "me", "my-app", 60)
    claims = verifier.verify(token)
    assert claims.email is None
    assert claims.raw["exp"] - claims.raw["iat"] == 60
    rejected(verifier, mint_dev_token(DEV_SECRET, "u", None, "me", "other-app", 60))


def test_dev_mode_expired_token():
    verifier = TokenVerifier(VerifierSettings.dev(DEV_SECRET))
    token = mint_dev_token(DEV_SECRET, "u", ttl=60, now=time.time() - 3600)
    assert "expired" in rejected(verifier, token).detail


def test_dev_mode_wrong_secret():
    verifier = TokenVerifier(VerifierSettings.dev(DEV_SECRET))
    token = mint_dev_token("another-secret-that-is-long-enough-000", "u")
    assert "signature" in rejected(verifier, token).detail


def test_dev_mode_refuses_asymmetric_and_unsigned_tokens():
    factory = TokenFactory(DEV_ISSUER, DEV_AUDIENCE)
    verifier = TokenVerifier(VerifierSettings.dev(DEV_SECRET))
    rejected(verifier, factory.rs256())
    rejected(verifier, factory.unsigned())
    assert verifier.verify(factory.hs256(sub="hand-made")).sub == "hand-made"


def test_jwt_mode_refuses_dev_tokens(verifier, factory):
    token = mint_dev_token(DEV_SECRET, "u", issuer=factory.issuer, audience=factory.audience)
    assert "algorithm" in rejected(verifier, token).detail


def test_mint_dev_token_validates_its_input():
    with pytest.raises(ValueError, match="32 bytes"):
        mint_dev_token("short", "u")
    with pytest.raises(ValueError, match="sub"):
        mint_dev_token(DEV_SECRET, "")
    with pytest.raises(ValueError, match="sub"):
        mint_dev_token(DEV_SECRET, "x" * 129)
    with pytest.raises(ValueError, match="ttl"):
        mint_dev_token(DEV_SECRET, "u", ttl=0)


# ---------------------------------------------------------------------------------------------
# Settings


def test_settings_from_mapping_firebase():
    settings = VerifierSettings.from_mapping(
        {"AUTH_MODE": "firebase", "FIREBASE_PROJECT_ID": " proj-1 ", "AUTH_LEEWAY_SECONDS": 30}
    )
    assert settings == VerifierSettings.firebase("proj-1", leeway=30)


def test_settings_from_mapping_defaults_to_firebase():
    settings = VerifierSettings.from_mapping({"FIREBASE_PROJECT_ID": "p"})
    assert settings.mode == "firebase"
    assert settings.jwks_url == GOOGLE_JWKS_URL


def test_settings_from_mapping_jwt():
    settings = VerifierSettings.from_mapping(
        {
            "AUTH_MODE": "jwt",
            "AUTH_JWKS_URL": "https://idp.example/.well-known/jwks.json",
            "AUTH_ISSUER": "https://idp.example/",
            "AUTH_AUDIENCE": "api",
            "AUTH_ALGORITHMS": "RS256, ES256",
        }
    )
    assert settings.algorithms == ("RS256", "ES256")
    assert settings.leeway == 60
    assert VerifierSettings.from_mapping(
        {
            "AUTH_MODE": "jwt",
            "AUTH_JWKS_URL": "keys.json",
            "AUTH_ISSUER": "i",
            "AUTH_AUDIENCE": "a",
        }
    ).algorithms == ("RS256",)


def test_settings_from_mapping_dev_ignores_algorithms():
    settings = VerifierSettings.from_mapping(
        {"AUTH_MODE": "dev", "AUTH_DEV_SECRET": DEV_SECRET, "AUTH_ALGORITHMS": ("RS256",)}
    )
    assert settings.algorithms == ("HS256",)
    assert (settings.issuer, settings.audience) == (DEV_ISSUER, DEV_AUDIENCE)
    assert DEV_SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "magic"}, "AUTH_MODE"),
        ({"issuer": ""}, "issuer"),
        ({"audience": " "}, "audience"),
        ({"algorithms": ("HS256",)}, "AUTH_ALGORITHMS"),
        ({"algorithms": ("RS256", "none")}, "AUTH_ALGORITHMS"),
        ({"jwks_url": None}, "AUTH_JWKS_URL"),
        ({"jwks_url": "http://idp.example/jwks"}, "https"),
        ({"leeway": -1}, "leeway"),
        ({"leeway": float("inf")}, "leeway"),
    ],
)
def test_invalid_jwt_settings(kwargs, message):
    base = {"mode": "jwt", "issuer": "i", "audience": "a", "jwks_url": "https://idp/jwks"}
    with pytest.raises(ValueError, match=message):
        VerifierSettings(**{**base, **kwargs})


def test_invalid_dev_settings():
    with pytest.raises(ValueError, match="AUTH_DEV_SECRET"):
        VerifierSettings.dev("")
    with pytest.raises(ValueError, match="32 bytes"):
        VerifierSettings.dev("too-short")
    with pytest.raises(ValueError, match="HS256"):
        VerifierSettings(
            mode="dev", issuer="i", audience="a", dev_secret=DEV_SECRET, algorithms=("RS256",)
        )


def test_invalid_firebase_settings():
    with pytest.raises(ValueError, match="FIREBASE_PROJECT_ID"):
        VerifierSettings.firebase("")
    with pytest.raises(ValueError, match="FIREBASE_PROJECT_ID"):
        VerifierSettings.from_mapping({"AUTH_MODE": "firebase"})
    with pytest.raises(ValueError, match="AUTH_LEEWAY_SECONDS"):
        VerifierSettings.from_mapping({"FIREBASE_PROJECT_ID": "p", "AUTH_LEEWAY_SECONDS": "x"})


def test_auth_error_shape():
    error = AuthError("Nope.")
    assert (error.detail, error.status, error.reason, str(error)) == (
        "Nope.",
        401,
        "invalid_token",
        "Nope.",
    )
    assert "503" in repr(AuthError("Down.", status=503))


# ---------------------------------------------------------------------------------------------
# Cold start


def test_importing_the_module_does_not_import_pyjwt_or_cryptography():
    code = (
        "import sys, finance.auth.tokens, finance.auth.keys\n"
        "names = ('jwt', 'cryptography', 'urllib.request', 'ssl')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    imported_by_us = set(filter(None, result.stdout.strip().split(",")))
    # The parent package (the app factory) may import some of these itself; measure ours alone.
    baseline = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, finance\n"
            "print(','.join(m for m in ('jwt', 'cryptography', 'urllib.request', 'ssl')"
            " if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported_by_us == set(filter(None, baseline.stdout.strip().split(",")))


def test_base64_helper_matches_pyjwt():
    assert b64url(b"\xff\xfe") == base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")


# ---------------------------------------------------------------------------------------------
# Odds and ends


def test_weak_rsa_key_in_the_key_set_is_refused_without_a_warning(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - on purpose
    from jwt.algorithms import RSAAlgorithm

    factory = TokenFactory(rsa_kid="weak")

    weak_jwk = {**RSAAlgorithm.to_jwk(weak.public_key(), as_dict=True), "kid": "weak"}
    (tmp_path / "weak.json").write_text(json.dumps({"keys": [weak_jwk]}))
    verifier = TokenVerifier(factory.settings(tmp_path / "weak.json"))
    error = rejected(verifier, factory.rs256(signing_key=weak))
    assert "signing key" in error.detail


def test_oversized_authorization_header(verifier):
    with pytest.raises(AuthError, match="too long"):
        verifier.from_authorization_header("Bearer " + "a" * 20_000)


def test_mint_dev_token_extra_claims():
    token = mint_dev_token(DEV_SECRET, "u", extra_claims={"roles": ["admin"]})
    claims = TokenVerifier(VerifierSettings.dev(DEV_SECRET)).verify(token)
    assert claims.raw["roles"] == ["admin"]


def test_injected_key_store(factory):
    from finance.auth.keys import KeyStore

    fetcher = RecordingFetcher(factory.jwks())
    store = KeyStore("https://keys.example/jwks", fetcher=fetcher)
    verifier = TokenVerifier(factory.settings("https://ignored.example/jwks"), key_store=store)
    assert verifier.key_store is store
    assert verifier.verify(factory.rs256()).sub == DEFAULT_SUB
    assert fetcher.calls[0][0] == "https://keys.example/jwks"
