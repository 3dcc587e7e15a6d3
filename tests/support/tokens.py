"""Signing keys and token minting for the whole test suite.

One RSA-2048 and one EC P-256 key pair are generated once per test session (per process;
:func:`rsa_private_key`/:func:`ec_private_key` take a ``slot`` for a second, different pair).
:class:`TokenFactory` writes them out as a JWKS file or as a Google-style ``{kid: PEM
certificate}`` file, and mints RS256/ES256/HS256/unsigned tokens with any claims and headers,
including deliberately broken ones (the HS256-signed-with-the-public-key confusion attack).

Typical use::

    factory = TokenFactory()
    jwks = factory.write_jwks(tmp_path)
    verifier = TokenVerifier(factory.settings(jwks))
    claims = verifier.from_authorization_header(factory.bearer(factory.rs256(sub="u-1")))

``TokenFactory.firebase("my-project")`` mints tokens shaped like Firebase ID tokens and its
``settings(path)`` are ``VerifierSettings.firebase("my-project", jwks_url=path)``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

if TYPE_CHECKING:
    from finance.auth.tokens import VerifierSettings

TEST_ISSUER = "https://issuer.kartay.test"
TEST_AUDIENCE = "kartay-finance-test"
TEST_FIREBASE_PROJECT = "kartay-test-project"
RSA_KID = "test-rsa-1"
EC_KID = "test-ec-1"
#: A development (HS256) secret long enough for the verifier's 32-byte minimum.
DEV_SECRET = "kartay-dev-secret-for-tests-only-0123456789"
DEFAULT_SUB = "user-0001"
DEFAULT_EMAIL = "alice@example.com"

_DEFAULT = object()


@functools.cache
def rsa_private_key(slot: int = 0) -> rsa.RSAPrivateKey:
    """An RSA-2048 key, generated once per process per ``slot``."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_private_key(slot: int = 0) -> ec.EllipticCurvePrivateKey:
    """An EC P-256 key, generated once per process per ``slot``."""
    return ec.generate_private_key(ec.SECP256R1())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_segment(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def public_pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def self_signed_certificate_pem(private_key: Any, common_name: str) -> str:
    """A self-signed X.509 certificate for ``private_key``, like Google's securetoken certs."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=14))
        .sign(private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


class TokenFactory:
    """Mints tokens for one issuer/audience, signed with the session's test keys."""

    def __init__(
        self,
        issuer: str = TEST_ISSUER,
        audience: str = TEST_AUDIENCE,
        *,
        rsa_kid: str = RSA_KID,
        ec_kid: str = EC_KID,
        dev_secret: str = DEV_SECRET,
        firebase_project: str | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.rsa_kid = rsa_kid
        self.ec_kid = ec_kid
        self.dev_secret = dev_secret
        self.firebase_project = firebase_project

    @classmethod
    def firebase(cls, project_id: str = TEST_FIREBASE_PROJECT, **kwargs: Any) -> TokenFactory:
        """Tokens shaped like Firebase ID tokens for ``project_id``."""
        return cls(
            f"https://securetoken.google.com/{project_id}",
            project_id,
            firebase_project=project_id,
            **kwargs,
        )

    # -- keys -----------------------------------------------------------------------------------

    @property
    def rsa_key(self) -> rsa.RSAPrivateKey:
        return rsa_private_key()

    @property
    def ec_key(self) -> ec.EllipticCurvePrivateKey:
        return ec_private_key()

    @property
    def rsa_public_pem(self) -> bytes:
        return public_pem(self.rsa_key)

    @property
    def ec_public_pem(self) -> bytes:
        return public_pem(self.ec_key)

    def rsa_jwk(self, kid: str | None = None, **extra: Any) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.rsa_key.public_key(), as_dict=True)
        jwk.update({"kid": kid or self.rsa_kid, "alg": "RS256", "use": "sig"}, **extra)
        return jwk

    def ec_jwk(self, kid: str | None = None, **extra: Any) -> dict[str, Any]:
        jwk = ECAlgorithm.to_jwk(self.ec_key.public_key(), as_dict=True)
        jwk.update({"kid": kid or self.ec_kid, "alg": "ES256", "use": "sig"}, **extra)
        return jwk

    def jwks(
        self, *, rsa: bool = True, ec: bool = True, extra: Iterable[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        keys: list[dict[str, Any]] = []
        if rsa:
            keys.append(self.rsa_jwk())
        if ec:
            keys.append(self.ec_jwk())
        keys.extend(dict(k) for k in extra)
        return {"keys": keys}

    def write_jwks(self, directory: Path | str, name: str = "jwks.json", **kwargs: Any) -> Path:
        """Write :meth:`jwks` (same keyword arguments) to ``directory/name``; return the path."""
        path = Path(directory) / name
        path.write_text(json.dumps(self.jwks(**kwargs)), encoding="utf-8")
        return path

    def jwt_environ(self, directory: Path | str) -> dict[str, str]:
        """The ``AUTH_*`` environment of an app that trusts this factory's keys (JWKS file)."""
        return {
            "AUTH_MODE": "jwt",
            "AUTH_JWKS_URL": str(self.write_jwks(directory)),
            "AUTH_ISSUER": self.issuer,
            "AUTH_AUDIENCE": self.audience,
            "AUTH_ALGORITHMS": "RS256,ES256",
        }

    def x509_document(self, *, rsa: bool = True, ec: bool = True) -> dict[str, str]:
        """Google's other key-document shape: ``{kid: PEM certificate}``."""
        document: dict[str, str] = {}
        if rsa:
            document[self.rsa_kid] = _certificate(self.rsa_key, "securetoken.test")
        if ec:
            document[self.ec_kid] = _certificate(self.ec_key, "securetoken-ec.test")
        return document

    def write_x509(self, directory: Path | str, name: str = "certs.json", **kwargs: Any) -> Path:
        path = Path(directory) / name
        path.write_text(json.dumps(self.x509_document(**kwargs)), encoding="utf-8")
        return path

    # -- verifier settings ------------------------------------------------------------------------

    def settings(
        self,
        jwks_url: Path | str,
        *,
        algorithms: tuple[str, ...] = ("RS256", "ES256"),
        leeway: float = 60,
    ) -> VerifierSettings:
        """Settings under which this factory's good tokens verify against ``jwks_url``."""
        from finance.auth.tokens import VerifierSettings

        if self.firebase_project:
            return VerifierSettings.firebase(
                self.firebase_project, jwks_url=str(jwks_url), leeway=leeway
            )
        return VerifierSettings(
            mode="jwt",
            issuer=self.issuer,
            audience=self.audience,
            jwks_url=str(jwks_url),
            algorithms=algorithms,
            leeway=leeway,
        )

    def dev_settings(self, *, leeway: float = 60) -> VerifierSettings:
        from finance.auth.tokens import VerifierSettings

        return VerifierSettings.dev(
            self.dev_secret, issuer=self.issuer, audience=self.audience, leeway=leeway
        )

    # -- claims -----------------------------------------------------------------------------------

    def claims(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        omit: Iterable[str] = (),
        now: float | None = None,
        ttl: int = 3600,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Good claims for a user, updated with ``claims`` and ``overrides``, minus ``omit``."""
        issued = int(time.time() if now is None else now)
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": DEFAULT_SUB,
            "iat": issued,
            "auth_time": issued,
            "exp": issued + ttl,
            "email": DEFAULT_EMAIL,
            "email_verified": True,
            "name": "Alice Example",
        }
        if self.firebase_project:
            payload["firebase"] = {"identities": {}, "sign_in_provider": "google.com"}
        payload.update(claims or {})
        payload.update(overrides)
        if self.firebase_project and "user_id" not in payload and "sub" in payload:
            payload["user_id"] = payload["sub"]
        for name in omit:
            payload.pop(name, None)
        return payload

    # -- minting ----------------------------------------------------------------------------------

    def rs256(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        omit: Iterable[str] = (),
        headers: Mapping[str, Any] | None = None,
        kid: Any = _DEFAULT,
        signing_key: rsa.RSAPrivateKey | None = None,
        **overrides: Any,
    ) -> str:
        """An RS256 token; ``kid=None`` leaves the kid header out; ``signing_key`` overrides."""
        payload = self.claims(claims, omit=omit, **overrides)
        header = self._header("RS256", self.rsa_kid if kid is _DEFAULT else kid, headers)
        return self.sign(payload, header, signing_key or self.rsa_key)

    def es256(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        omit: Iterable[str] = (),
        headers: Mapping[str, Any] | None = None,
        kid: Any = _DEFAULT,
        signing_key: ec.EllipticCurvePrivateKey | None = None,
        **overrides: Any,
    ) -> str:
        payload = self.claims(claims, omit=omit, **overrides)
        header = self._header("ES256", self.ec_kid if kid is _DEFAULT else kid, headers)
        return self.sign(payload, header, signing_key or self.ec_key)

    def hs256(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        secret: str | bytes | None = None,
        omit: Iterable[str] = (),
        headers: Mapping[str, Any] | None = None,
        kid: Any = None,
        **overrides: Any,
    ) -> str:
        """An HS256 token signed with ``secret`` (default: the dev secret), built by hand so
        short or PEM-shaped secrets work (PyJWT refuses those on purpose)."""
        payload = self.claims(claims, omit=omit, **overrides)
        header = self._header("HS256", kid, headers)
        key = secret if secret is not None else self.dev_secret
        return self.sign(payload, header, key.encode() if isinstance(key, str) else key)

    def unsigned(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        alg: str = "none",
        omit: Iterable[str] = (),
        headers: Mapping[str, Any] | None = None,
        kid: Any = _DEFAULT,
        **overrides: Any,
    ) -> str:
        """An ``alg: none`` token (empty signature); ``alg`` may vary the spelling."""
        payload = self.claims(claims, omit=omit, **overrides)
        header = self._header(alg, self.rsa_kid if kid is _DEFAULT else kid, headers)
        return f"{encode_segment(header)}.{encode_segment(payload)}."

    def hmac_with_public_key(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        public_key_pem: bytes | None = None,
        kid: Any = _DEFAULT,
        **overrides: Any,
    ) -> str:
        """The algorithm-confusion attack: an HS256 token whose HMAC secret is the verifier's
        own RSA public key PEM (public knowledge), naming the RSA key's kid. A verifier that
        lets the token pick the algorithm would "verify" it with the public key."""
        return self.hs256(
            claims,
            secret=public_key_pem or self.rsa_public_pem,
            kid=self.rsa_kid if kid is _DEFAULT else kid,
            **overrides,
        )

    def sign(self, payload: Mapping[str, Any], header: Mapping[str, Any], key: Any) -> str:
        """Sign ``payload`` under ``header`` (whose ``alg`` decides how) with ``key``."""
        signing_input = f"{encode_segment(dict(header))}.{encode_segment(dict(payload))}"
        alg = header["alg"]
        if alg == "HS256":
            signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        elif alg == "RS256":
            signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input.encode(), key)
        elif alg == "ES256":
            signature = ECAlgorithm(ECAlgorithm.SHA256).sign(signing_input.encode(), key)
        else:
            raise ValueError(f"TokenFactory cannot sign {alg!r}")
        return f"{signing_input}.{b64url(signature)}"

    @staticmethod
    def bearer(token: str) -> str:
        return f"Bearer {token}"

    @staticmethod
    def _header(alg: str, kid: Any, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
        if kid is not None:
            header["kid"] = kid
        header.update(extra or {})
        return header


@functools.cache
def _certificate(private_key: Any, common_name: str) -> str:
    return self_signed_certificate_pem(private_key, common_name)


class FakeClock:
    """A controllable monotonic clock for ``KeyStore(clock=...)``."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingFetcher:
    """A fake key-document fetcher that counts calls.

    Serves ``document`` (a mapping is JSON-encoded; bytes are served as they are) with
    ``headers``; if ``error`` is set, raises it instead. Change the attributes between calls
    to simulate key rotation or an outage.
    """

    def __init__(
        self,
        document: Mapping[str, Any] | bytes | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.document = document
        self.headers = dict(headers or {})
        self.error = error
        self.calls: list[tuple[str, float]] = []

    @property
    def count(self) -> int:
        return len(self.calls)

    def __call__(self, source: str, timeout: float) -> Any:
        from finance.auth.keys import FetchedDocument

        self.calls.append((source, timeout))
        if self.error is not None:
            raise self.error
        body = self.document
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return FetchedDocument(body=body, headers=dict(self.headers))
